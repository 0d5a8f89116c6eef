//! getopt-style parsing for the applets written here: clustered short options (`-czf out`),
//! options that take a value (attached or next), long names mapped onto short ones
//! (`--file=out`, `--gzip`), `--` ending options, and operands anywhere (as GNU allows).

/// One applet's options.
pub struct Spec<'a> {
    /// Letters that are plain flags.
    pub flags: &'a str,
    /// Letters that take a value.
    pub valued: &'a str,
    /// Long names and the letter each stands for.
    pub long: &'a [(&'a str, char)],
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Options in the order given, each with its value when it takes one.
    pub opts: Vec<(char, Option<String>)>,
    pub operands: Vec<String>,
}

impl Parsed {
    pub fn has(&self, c: char) -> bool {
        self.opts.iter().any(|(o, _)| *o == c)
    }

    /// The last value given for `c`.
    pub fn value(&self, c: char) -> Option<&str> {
        self.opts.iter().rev().find(|(o, _)| *o == c).and_then(|(_, v)| v.as_deref())
    }
}

/// Parses `args` (without the program name). Errors are worded as GNU getopt's.
pub fn parse(spec: &Spec, args: &[String]) -> Result<Parsed, String> {
    let mut out = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            out.operands.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let &(_, c) =
                spec.long.iter().find(|(n, _)| *n == name).ok_or_else(|| format!("unrecognized option '--{name}'"))?;
            let value = match (spec.valued.contains(c), attached) {
                (false, _) => None,
                (true, Some(v)) => Some(v),
                (true, None) => {
                    i += 1;
                    Some(args.get(i - 1).cloned().ok_or_else(|| format!("option '--{name}' requires an argument"))?)
                }
            };
            out.opts.push((c, value));
            continue;
        }
        let Some(cluster) = arg.strip_prefix('-').filter(|c| !c.is_empty()) else {
            out.operands.push(arg.clone());
            continue;
        };
        for (at, c) in cluster.char_indices() {
            if spec.valued.contains(c) {
                let rest = &cluster[at + c.len_utf8()..];
                let value = if rest.is_empty() {
                    i += 1;
                    args.get(i - 1).cloned().ok_or_else(|| format!("option requires an argument -- '{c}'"))?
                } else {
                    rest.to_string()
                };
                out.opts.push((c, Some(value)));
                break;
            }
            if !spec.flags.contains(c) {
                return Err(format!("invalid option -- '{c}'"));
            }
            out.opts.push((c, None));
        }
    }
    Ok(out)
}

/// `--help` (or one of `help`) prints `usage`, `--version` (or one of `version`) the applet's
/// version line; gives the exit status when either was asked for.
pub fn info(name: &str, args: &[String], usage: &str, help: &[&str], version: &[&str]) -> Option<i32> {
    let asked = |names: &[&str], long: &str| args.iter().any(|a| a == long || names.contains(&a.as_str()));
    if asked(help, "--help") {
        println!("{usage}");
        Some(0)
    } else if asked(version, "--version") {
        println!("{name} (Porthole userland) {}", env!("CARGO_PKG_VERSION"));
        Some(0)
    } else {
        None
    }
}

/// The arguments after the program name as strings (the applets here take UTF-8 names).
pub fn strings(args: &[std::ffi::OsString]) -> Vec<String> {
    args.iter().skip(1).map(|a| a.to_string_lossy().into_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: Spec = Spec { flags: "czv", valued: "fC", long: &[("file", 'f'), ("gzip", 'z')] };

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn clusters_values_and_longs() {
        let p = parse(&SPEC, &args("-czf out.tgz dir --gzip --file=x -Cdest two")).unwrap();
        assert!(p.has('c') && p.has('z') && !p.has('v'));
        assert_eq!(p.value('f'), Some("x"));
        assert_eq!(p.value('C'), Some("dest"));
        assert_eq!(p.operands, ["dir", "two"]);
    }

    #[test]
    fn errors_read_like_getopt() {
        assert_eq!(parse(&SPEC, &args("-q")).unwrap_err(), "invalid option -- 'q'");
        assert_eq!(parse(&SPEC, &args("-f")).unwrap_err(), "option requires an argument -- 'f'");
        assert_eq!(parse(&SPEC, &args("--nope")).unwrap_err(), "unrecognized option '--nope'");
        assert_eq!(parse(&SPEC, &args("-- -c")).unwrap().operands, ["-c"]);
    }
}
