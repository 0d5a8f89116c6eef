//! Command lines of both guests: `--flag value` pairs with defaults, parsed into plain structs.

use std::path::PathBuf;

pub const WORKER_USAGE: &str =
    "usage: pulp-worker [--upstream DIR] [--repo NAME]... [--content DIR] [--www DIR] [--interval SECONDS]
  --upstream DIR     where repositories are, one directory each with a MANIFEST (default /srv/upstream)
  --repo NAME        repository to sync (repeatable; default: every directory under --upstream with a MANIFEST)
  --content DIR      content store, one file per sha256 (default /var/lib/pulp/content)
  --www DIR          web root; links go to DIR/pub/NAME/... (default /var/www)
  --interval SECONDS sync again every SECONDS (default: sync once and exit)";

pub const HTTPD_USAGE: &str = "usage: httpd [--root DIR] [--timeout SECONDS]
  --root DIR         document root (default /var/www)
  --timeout SECONDS  close a connection idle or stalled this long (default 30)
  listens on the sockets handed in: LISTEN_FDS of them from LISTEN_FD (publish a port with -p)";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerOptions {
    pub upstream: PathBuf,
    pub repos: Vec<String>,
    pub content: PathBuf,
    pub www: PathBuf,
    pub interval: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpdOptions {
    pub root: PathBuf,
    pub timeout_secs: u64,
}

/// Why a command line was refused; the binary prints it with the usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionsError {
    Unknown(String),
    MissingValue(String),
    BadNumber(String, String),
    BadRepo(String),
    Help,
}

impl std::fmt::Display for OptionsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OptionsError::Unknown(a) => write!(f, "unknown argument: {a}"),
            OptionsError::MissingValue(a) => write!(f, "{a} needs a value"),
            OptionsError::BadNumber(a, v) => write!(f, "{a} needs a positive number of seconds, not {v:?}"),
            OptionsError::BadRepo(r) => write!(f, "invalid repository name: {r:?}"),
            OptionsError::Help => write!(f, "help requested"),
        }
    }
}

/// Walks `--flag value` pairs (also `--flag=value`), handing each to `set`.
fn pairs(args: &[String], mut set: impl FnMut(&str, String) -> Result<(), OptionsError>) -> Result<(), OptionsError> {
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "-h" || arg == "--help" {
            return Err(OptionsError::Help);
        }
        if !arg.starts_with("--") {
            return Err(OptionsError::Unknown(arg.clone()));
        }
        let (flag, value) = match arg.split_once('=') {
            Some((f, v)) => (f, v.to_string()),
            None => (arg.as_str(), it.next().ok_or_else(|| OptionsError::MissingValue(arg.clone()))?.clone()),
        };
        set(flag, value)?;
    }
    Ok(())
}

fn seconds(flag: &str, v: &str) -> Result<u64, OptionsError> {
    match v.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(OptionsError::BadNumber(flag.into(), v.into())),
    }
}

impl WorkerOptions {
    pub fn parse(args: &[String]) -> Result<WorkerOptions, OptionsError> {
        let mut o = WorkerOptions {
            upstream: "/srv/upstream".into(),
            repos: Vec::new(),
            content: "/var/lib/pulp/content".into(),
            www: "/var/www".into(),
            interval: None,
        };
        pairs(args, |flag, v| {
            match flag {
                "--upstream" => o.upstream = v.into(),
                "--content" => o.content = v.into(),
                "--www" => o.www = v.into(),
                "--interval" => o.interval = Some(seconds(flag, &v)?),
                // A repository name is one path component: it names a directory in two places.
                "--repo" if v.is_empty() || v == "." || v == ".." || v.contains(['/', '\0']) => {
                    return Err(OptionsError::BadRepo(v));
                }
                "--repo" => o.repos.push(v),
                _ => return Err(OptionsError::Unknown(flag.into())),
            }
            Ok(())
        })?;
        Ok(o)
    }
}

impl HttpdOptions {
    pub fn parse(args: &[String]) -> Result<HttpdOptions, OptionsError> {
        let mut o = HttpdOptions { root: "/var/www".into(), timeout_secs: 30 };
        pairs(args, |flag, v| {
            match flag {
                "--root" => o.root = v.into(),
                "--timeout" => o.timeout_secs = seconds(flag, &v)?,
                _ => return Err(OptionsError::Unknown(flag.into())),
            }
            Ok(())
        })?;
        Ok(o)
    }
}

/// The listening descriptors the host handed in, as Porthole tells them (systemd's socket
/// activation with a start that moves, because the preopened mounts come first): `LISTEN_FDS`
/// of them (1 if unset), consecutive from `LISTEN_FD`.
pub fn listen_fds(first: Option<&str>, count: Option<&str>) -> Result<Vec<u32>, String> {
    let Some(first) = first.filter(|v| !v.trim().is_empty()) else {
        return Err("no listening socket was handed in (LISTEN_FD is not set); publish a port with -p, e.g. docker run -p 8080:80 ...".into());
    };
    let first: u32 = first.trim().parse().map_err(|_| format!("LISTEN_FD is not a descriptor number: {first:?}"))?;
    let count: u32 = match count {
        None => 1,
        Some(c) => c.trim().parse().map_err(|_| format!("LISTEN_FDS is not a number: {c:?}"))?,
    };
    Ok((first..first.saturating_add(count)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn worker_defaults_and_flags() {
        let o = WorkerOptions::parse(&[]).unwrap();
        assert_eq!((o.upstream.to_str(), o.repos.len(), o.interval), (Some("/srv/upstream"), 0, None));
        let o =
            WorkerOptions::parse(&args("--repo a --repo=b --interval 5 --www /w --content /c --upstream /u")).unwrap();
        assert_eq!(
            o,
            WorkerOptions {
                upstream: "/u".into(),
                repos: vec!["a".into(), "b".into()],
                content: "/c".into(),
                www: "/w".into(),
                interval: Some(5)
            }
        );
    }

    #[test]
    fn bad_worker_command_lines_say_why() {
        let err = |s| WorkerOptions::parse(&args(s)).unwrap_err().to_string();
        assert_eq!(err("--repo ../x"), "invalid repository name: \"../x\"");
        assert_eq!(err("--repo .."), "invalid repository name: \"..\"");
        assert_eq!(err("--interval 0"), "--interval needs a positive number of seconds, not \"0\"");
        assert_eq!(err("--interval"), "--interval needs a value");
        assert_eq!(err("--bogus 1"), "unknown argument: --bogus");
        assert_eq!(err("stray"), "unknown argument: stray");
    }

    #[test]
    fn httpd_flags_and_listen_fds() {
        assert_eq!(
            HttpdOptions::parse(&args("--root /srv --timeout 2")).unwrap(),
            HttpdOptions { root: "/srv".into(), timeout_secs: 2 }
        );
        assert_eq!(listen_fds(Some("4"), None), Ok(vec![4]));
        assert_eq!(listen_fds(Some("7"), Some("2")), Ok(vec![7, 8]));
        assert!(listen_fds(None, Some("1")).unwrap_err().contains("publish a port with -p"));
        assert_eq!(listen_fds(Some("x"), None).unwrap_err(), "LISTEN_FD is not a descriptor number: \"x\"");
        assert_eq!(listen_fds(Some("4"), Some("two")).unwrap_err(), "LISTEN_FDS is not a number: \"two\"");
    }
}
