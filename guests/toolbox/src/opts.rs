//! Command-line options the way busybox's getopt reads them: single-letter flags that may be
//! bundled (`-la`), options taking a value (`-n 3` or `-n3`), `--` ending options, `-` alone as
//! an operand, and options allowed after operands (`ls /data -l`).

/// Parsed options: the flags seen, option values in order, and the operands.
#[derive(Debug, Default)]
pub struct Opts {
    flags: Vec<char>,
    values: Vec<(char, String)>,
    pub operands: Vec<String>,
}

/// Why the arguments do not fit the option spec.
#[derive(Debug, PartialEq, Eq)]
pub enum OptError {
    Unknown(char),
    MissingValue(char),
}

impl std::fmt::Display for OptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OptError::Unknown(c) => write!(f, "unrecognized option: {c}"),
            OptError::MissingValue(c) => write!(f, "option requires an argument: {c}"),
        }
    }
}

impl Opts {
    /// Parses `args` by `spec`: each letter is a flag, a letter followed by `:` takes a value.
    pub fn parse(args: &[String], spec: &str) -> Result<Opts, OptError> {
        let mut opts = Opts::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            if arg == "--" {
                opts.operands.extend(it.by_ref().cloned());
                break;
            }
            let Some(letters) = arg.strip_prefix('-').filter(|l| !l.is_empty()) else {
                opts.operands.push(arg.clone());
                continue;
            };
            for (i, c) in letters.char_indices() {
                match takes_value(spec, c) {
                    None => return Err(OptError::Unknown(c)),
                    Some(false) => opts.flags.push(c),
                    Some(true) => {
                        let rest = &letters[i + c.len_utf8()..];
                        let value = if rest.is_empty() {
                            it.next().cloned().ok_or(OptError::MissingValue(c))?
                        } else {
                            rest.to_string()
                        };
                        opts.values.push((c, value));
                        break;
                    }
                }
            }
        }
        Ok(opts)
    }

    pub fn has(&self, c: char) -> bool {
        self.flags.contains(&c)
    }

    /// The last value given for option `c`.
    pub fn value(&self, c: char) -> Option<&str> {
        self.values.iter().rev().find(|(k, _)| *k == c).map(|(_, v)| v.as_str())
    }

    /// Every value given for option `c`, in order.
    pub fn values(&self, c: char) -> impl Iterator<Item = &str> {
        self.values.iter().filter(move |(k, _)| *k == c).map(|(_, v)| v.as_str())
    }
}

/// `Some(takes a value)` when `c` is in `spec`.
fn takes_value(spec: &str, c: char) -> Option<bool> {
    if c == ':' {
        return None;
    }
    let at = spec.find(c)?;
    Some(spec[at + c.len_utf8()..].starts_with(':'))
}
