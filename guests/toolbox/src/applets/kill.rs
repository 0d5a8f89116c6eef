//! `kill [-s SIG | -SIG] PID...` and `kill -l`: sends a signal through Porthole's process
//! interface. The shell's `kill` builtin shares the parsing and adds job numbers (`%1`).

use std::io;

use crate::ctx::Ctx;

/// Signal names by number, as `kill -l` lists them (Linux's numbers).
const SIGNALS: &[(u32, &str)] = &[
    (1, "HUP"),
    (2, "INT"),
    (3, "QUIT"),
    (6, "ABRT"),
    (9, "KILL"),
    (10, "USR1"),
    (12, "USR2"),
    (13, "PIPE"),
    (14, "ALRM"),
    (15, "TERM"),
    (17, "CHLD"),
    (18, "CONT"),
    (19, "STOP"),
    (20, "TSTP"),
];

/// A signal given by name (with or without `SIG`, any case) or number.
pub fn number(name: &str) -> Option<u32> {
    if let Ok(n) = name.parse::<u32>() {
        return (n == 0 || SIGNALS.iter().any(|(k, _)| *k == n)).then_some(n);
    }
    let upper = name.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    SIGNALS.iter().find(|(_, n)| *n == bare).map(|(k, _)| *k)
}

/// A signal's name without `SIG`.
pub fn name(signal: u32) -> Option<&'static str> {
    SIGNALS.iter().find(|(k, _)| *k == signal).map(|(_, n)| *n)
}

/// What a `kill` command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    /// `kill -l [N]`: the text to print.
    List(String),
    Send {
        signal: u32,
        targets: Vec<String>,
    },
}

/// Parses `kill`'s arguments; errors are busybox's texts (without `kill: `).
pub fn parse(args: &[String]) -> Result<Request, String> {
    let mut signal = 15;
    let mut rest = args;
    match args.first().map(String::as_str) {
        Some("-l" | "-L") => {
            let text = match args.get(1) {
                Some(n) => match n.parse::<u32>().ok().map(|n| n & 0x7f).and_then(name) {
                    Some(name) => format!("{name}\n"),
                    None => return Err(format!("bad signal name '{n}'")),
                },
                None => SIGNALS.iter().map(|(k, n)| format!("{k:2}) {n}\n")).collect(),
            };
            return Ok(Request::List(text));
        }
        Some("-s" | "-n") => {
            let given = args.get(1).ok_or("option requires an argument -- s")?;
            signal = number(given).ok_or_else(|| format!("bad signal name '{given}'"))?;
            rest = &args[2..];
        }
        Some("--") => rest = &args[1..],
        Some(opt) if opt.starts_with('-') && opt.len() > 1 && !opt[1..].starts_with('-') => {
            signal = number(&opt[1..]).ok_or_else(|| format!("bad signal name '{}'", &opt[1..]))?;
            rest = &args[1..];
        }
        _ => {}
    }
    if rest.first().is_some_and(|a| a == "--") {
        rest = &rest[1..];
    }
    if rest.is_empty() {
        return Err("usage: kill [-s SIG | -SIG] PID...".into());
    }
    Ok(Request::Send { signal, targets: rest.to_vec() })
}

/// The message for a target that is neither a pid nor a job.
pub fn bad_target(target: &str) -> String {
    format!("invalid number '{target}'")
}

pub fn kill(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let (signal, targets) = match parse(args) {
        Ok(Request::List(text)) => {
            ctx.io.stdout.note(&text);
            return Ok(0);
        }
        Ok(Request::Send { signal, targets }) => (signal, targets),
        Err(msg) => return Ok(ctx.usage(msg)),
    };
    let mut status = 0;
    for target in &targets {
        match target.parse::<u32>() {
            Ok(pid) => {
                if let Err(e) = porthole_sys::kill(pid, signal) {
                    ctx.warn(format_args!("can't kill pid {pid}: {}", crate::sys::describe(&e)));
                    status = 1;
                }
            }
            Err(_) => {
                ctx.warn(bad_target(target));
                status = 1;
            }
        }
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(args: &[&str]) -> String {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        format!("{:?}", parse(&args))
    }

    #[test]
    fn signals_by_option_name_and_number() {
        let cases: &[(&[&str], &str)] = &[
            (&["12"], r#"Ok(Send { signal: 15, targets: ["12"] })"#),
            (&["-9", "12"], r#"Ok(Send { signal: 9, targets: ["12"] })"#),
            (&["-INT", "%1"], r#"Ok(Send { signal: 2, targets: ["%1"] })"#),
            (&["-s", "sigterm", "3", "4"], r#"Ok(Send { signal: 15, targets: ["3", "4"] })"#),
            (&["-s", "HUP", "--", "5"], r#"Ok(Send { signal: 1, targets: ["5"] })"#),
            (&["-0", "7"], r#"Ok(Send { signal: 0, targets: ["7"] })"#),
            (&["-l", "130"], r#"Ok(List("INT\n"))"#),
            (&["-FOO", "1"], r#"Err("bad signal name 'FOO'")"#),
            (&["-9"], r#"Err("usage: kill [-s SIG | -SIG] PID...")"#),
        ];
        for (args, want) in cases {
            assert_eq!(check(args), *want, "{args:?}");
        }
    }
}
