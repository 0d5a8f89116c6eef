//! The text Docker's legacy builder records for each step (an image's history `CreatedBy`,
//! and what its build cache matches a step by), as moby's `builder/dockerfile` writes it:
//! metadata steps are a no-op command, `/bin/sh -c #(nop)  CMD ["sh"]`; `COPY`/`ADD` name a
//! digest of their sources, `/bin/sh -c #(nop) COPY file:<sha256> in /dst `; `RUN` is its
//! command line, after `|N K=V…` when build arguments are in scope. Pure functions.

use porthole_core::config::ImageConfig;
use porthole_core::dockerfile::DEFAULT_SHELL;
use porthole_core::health::Healthcheck;

fn shell_of(config: &ImageConfig) -> Vec<String> {
    match &config.shell {
        Some(shell) if !shell.is_empty() => shell.clone(),
        _ => DEFAULT_SHELL.iter().map(|s| s.to_string()).collect(),
    }
}

/// moby's `withCmdComment`: the shell, `#(nop) ` and the comment as separate words, joined by
/// spaces (hence the two spaces of `#(nop)  CMD`).
pub fn nop(config: &ImageConfig, comment: &str) -> String {
    let mut words = shell_of(config);
    words.push("#(nop) ".into());
    words.push(comment.into());
    words.join(" ")
}

/// moby's `withCmdCommentString` (WORKDIR, COPY, ADD): `#(nop) ` and the comment as one word.
pub fn nop_string(config: &ImageConfig, comment: &str) -> String {
    let mut words = shell_of(config);
    words.push(format!("#(nop) {comment}"));
    words.join(" ")
}

/// `COPY file:<sha256> in /dst ` (with its trailing space, as moby writes it).
pub fn copy(config: &ImageConfig, instruction: &str, source_hash: &str, dest: &str) -> String {
    nop_string(config, &format!("{instruction} {source_hash} in {dest} "))
}

/// A `RUN` step's command, with the build arguments in scope in front as `|N K=V…` (sorted),
/// so a different argument value misses the cache, as moby's `prependEnvOnCmd` does.
pub fn run(argv: &[String], build_args: &[(String, String)]) -> String {
    let mut words = Vec::new();
    if !build_args.is_empty() {
        let mut pairs: Vec<String> = build_args.iter().map(|(k, v)| format!("{k}={v}")).collect();
        pairs.sort();
        words.push(format!("|{}", pairs.len()));
        words.extend(pairs);
    }
    words.extend(argv.iter().cloned());
    words.join(" ")
}

/// Go's `%q` of a `[]string`: `["sh" "-c" "echo hi"]`.
pub fn go_quoted_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| go_quote(s)).collect();
    format!("[{}]", quoted.join(" "))
}

/// Go's `%v` of a `[]string`: `[/data /logs]`.
pub fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `%+v` of moby's `*HealthConfig`, which `HEALTHCHECK` steps record.
pub fn healthcheck(h: &Healthcheck) -> String {
    format!(
        "&{{Test:{} Interval:{} Timeout:{} StartPeriod:{} StartInterval:{} Retries:{}}}",
        go_list(&h.test),
        go_duration(h.interval),
        go_duration(h.timeout),
        go_duration(h.start_period),
        go_duration(h.start_interval),
        h.retries
    )
}

/// Go's `time.Duration` text for the whole-second and sub-second values a Dockerfile gives.
fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let (h, rest) = (nanos / 3_600_000_000_000, nanos % 3_600_000_000_000);
    let (m, rest) = (rest / 60_000_000_000, rest % 60_000_000_000);
    let secs = rest as f64 / 1e9;
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&format!("{secs}s"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_as_moby_writes_them() {
        let config = ImageConfig::default();
        let sh = vec!["sh".to_string()];
        assert_eq!(nop(&config, &format!("CMD {}", go_quoted_list(&sh))), r#"/bin/sh -c #(nop)  CMD ["sh"]"#);
        assert_eq!(nop_string(&config, "WORKDIR /app"), "/bin/sh -c #(nop) WORKDIR /app");
        assert_eq!(copy(&config, "COPY", "file:ab12", "/x"), "/bin/sh -c #(nop) COPY file:ab12 in /x ");
        assert_eq!(
            nop(&config, &format!("VOLUME {}", go_list(&["/a".into(), "/b".into()]))),
            "/bin/sh -c #(nop)  VOLUME [/a /b]"
        );
        let argv: Vec<String> = ["/bin/sh", "-c", "echo $V"].iter().map(|s| s.to_string()).collect();
        assert_eq!(run(&argv, &[]), "/bin/sh -c echo $V");
        let args = [("V".to_string(), "2".to_string()), ("A".to_string(), "x y".to_string())];
        assert_eq!(run(&argv, &args), "|2 A=x y V=2 /bin/sh -c echo $V");
        let bash = ImageConfig { shell: Some(vec!["/bin/bash".into(), "-c".into()]), ..Default::default() };
        assert_eq!(nop(&bash, "USER web"), "/bin/bash -c #(nop)  USER web");
        assert_eq!(go_quoted_list(&["a\"b".into(), "c\\d".into()]), r#"["a\"b" "c\\d"]"#);
    }

    #[test]
    fn healthchecks_as_go_prints_them() {
        let h = Healthcheck {
            test: vec!["CMD-SHELL".into(), "true".into()],
            interval: 30_000_000_000,
            timeout: 1_500_000_000,
            retries: 3,
            ..Default::default()
        };
        assert_eq!(
            healthcheck(&h),
            "&{Test:[CMD-SHELL true] Interval:30s Timeout:1.5s StartPeriod:0s StartInterval:0s Retries:3}"
        );
        assert_eq!(go_duration(90_000_000_000), "1m30s");
    }
}
