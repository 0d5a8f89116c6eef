//! `printf FORMAT [ARG...]`: C-style conversions (`%s %b %c %d %i %u %o %x %X %f %e %%` with
//! flags, width and precision), the format reused while arguments remain, as the shell's
//! printf does.

use std::io::{self, Write};

use super::echo::{Octal, unescape};
use crate::ctx::Ctx;

pub fn printf(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some((format, mut rest)) = args.split_first() else {
        return Ok(ctx.usage("usage: printf FORMAT [ARGUMENT]..."));
    };
    let mut run = Run { ctx, out: Vec::new(), status: 0 };
    loop {
        let before = rest.len();
        let stopped = run.format(format, &mut rest);
        if stopped || rest.is_empty() || rest.len() == before {
            break;
        }
    }
    run.ctx.io.stdout.clone().write_all(&run.out)?;
    Ok(run.status)
}

struct Run<'c> {
    ctx: &'c Ctx,
    out: Vec<u8>,
    status: i32,
}

/// One `%` conversion's flags, width and precision.
#[derive(Default)]
struct Spec {
    left: bool,
    zero: bool,
    plus: bool,
    space: bool,
    width: usize,
    precision: Option<usize>,
}

impl Run<'_> {
    /// Formats once, consuming arguments; `true` when `\c` or `%b`'s `\c` stopped output.
    fn format(&mut self, format: &str, args: &mut &[String]) -> bool {
        let chars: Vec<char> = format.chars().collect();
        let mut i = 0;
        let mut literal = String::new();
        while i < chars.len() {
            if chars[i] != '%' {
                literal.push(chars[i]);
                i += 1;
                continue;
            }
            if self.literal(&std::mem::take(&mut literal)) {
                return true;
            }
            let (spec, conv, next) = parse_spec(&chars, i + 1);
            i = next;
            let Some(conv) = conv else {
                self.out.push(b'%');
                continue;
            };
            if conv == '%' {
                self.out.push(b'%');
                continue;
            }
            let arg = match args.split_first() {
                Some((first, rest)) => {
                    *args = rest;
                    first.as_str()
                }
                None => "",
            };
            if self.convert(&spec, conv, arg) {
                return true;
            }
        }
        self.literal(&literal)
    }

    fn literal(&mut self, text: &str) -> bool {
        let (bytes, stop) = unescape(text, Octal::Plain);
        self.out.extend(bytes);
        stop
    }

    fn convert(&mut self, spec: &Spec, conv: char, arg: &str) -> bool {
        let text = match conv {
            's' => {
                let s: String = match spec.precision {
                    Some(p) => arg.chars().take(p).collect(),
                    None => arg.to_string(),
                };
                pad(spec, s, false)
            }
            'b' => {
                let (bytes, stop) = unescape(arg, Octal::AfterZero);
                let s = String::from_utf8_lossy(&bytes).into_owned();
                self.out.extend(pad(spec, s, false).into_bytes());
                return stop;
            }
            'c' => pad(spec, arg.chars().next().map(String::from).unwrap_or_default(), false),
            'd' | 'i' => {
                let n = self.number(arg);
                let sign = if n < 0 {
                    "-"
                } else if spec.plus {
                    "+"
                } else if spec.space {
                    " "
                } else {
                    ""
                };
                pad(spec, format!("{sign}{}", n.unsigned_abs()), true)
            }
            'u' | 'o' | 'x' | 'X' => {
                let n = self.number(arg) as u64;
                let s = match conv {
                    'o' => format!("{n:o}"),
                    'x' => format!("{n:x}"),
                    'X' => format!("{n:X}"),
                    _ => n.to_string(),
                };
                pad(spec, s, true)
            }
            'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
                let v = self.float(arg);
                let p = spec.precision.unwrap_or(6);
                let s = match conv {
                    'e' | 'E' => exponent(v, p, conv == 'E'),
                    'g' | 'G' => {
                        let s = format!("{v:.p$}");
                        if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
                    }
                    _ => format!("{v:.p$}"),
                };
                let sign = if v >= 0.0 && spec.plus { "+" } else { "" };
                pad(spec, format!("{sign}{s}"), true)
            }
            other => {
                self.ctx.warn(format_args!("%{other}: invalid format"));
                self.status = 1;
                return true;
            }
        };
        self.out.extend(text.into_bytes());
        false
    }

    /// An integer argument as C's strtol with base 0 reads it; `'c` gives a character's code.
    fn number(&mut self, arg: &str) -> i64 {
        if let Some(c) = arg.strip_prefix(['\'', '"']).and_then(|s| s.chars().next()) {
            return c as i64;
        }
        let t = arg.trim();
        let (neg, digits) = match t.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let parsed = if let Some(hex) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
            i64::from_str_radix(hex, 16)
        } else if digits.len() > 1 && digits.starts_with('0') {
            i64::from_str_radix(&digits[1..], 8)
        } else {
            digits.parse()
        };
        match parsed {
            Ok(n) => {
                if neg {
                    -n
                } else {
                    n
                }
            }
            Err(_) if t.is_empty() => 0,
            Err(_) => {
                self.ctx.warn(format_args!("invalid number '{arg}'"));
                self.status = 1;
                0
            }
        }
    }

    fn float(&mut self, arg: &str) -> f64 {
        if arg.trim().is_empty() {
            return 0.0;
        }
        arg.trim().parse().unwrap_or_else(|_| {
            self.ctx.warn(format_args!("invalid number '{arg}'"));
            self.status = 1;
            0.0
        })
    }
}

/// Parses flags, width, precision and the conversion letter after a `%` at `at`.
fn parse_spec(chars: &[char], mut at: usize) -> (Spec, Option<char>, usize) {
    let mut spec = Spec::default();
    while let Some(&c) = chars.get(at) {
        match c {
            '-' => spec.left = true,
            '0' => spec.zero = true,
            '+' => spec.plus = true,
            ' ' => spec.space = true,
            '#' => {}
            _ => break,
        }
        at += 1;
    }
    let number = |at: &mut usize| {
        let start = *at;
        while chars.get(*at).is_some_and(char::is_ascii_digit) {
            *at += 1;
        }
        chars[start..*at].iter().collect::<String>().parse::<usize>().unwrap_or(0)
    };
    spec.width = number(&mut at);
    if chars.get(at) == Some(&'.') {
        at += 1;
        spec.precision = Some(number(&mut at));
    }
    let conv = chars.get(at).copied();
    (spec, conv, at + usize::from(conv.is_some()))
}

/// Pads `s` to the width: left-aligned, zero-filled after any sign (numbers only), or right.
fn pad(spec: &Spec, s: String, numeric: bool) -> String {
    let len = s.chars().count();
    if len >= spec.width {
        return s;
    }
    let fill = spec.width - len;
    if spec.left {
        format!("{s}{}", " ".repeat(fill))
    } else if spec.zero && numeric {
        let sign_len = usize::from(s.starts_with(['-', '+', ' ']));
        format!("{}{}{}", &s[..sign_len], "0".repeat(fill), &s[sign_len..])
    } else {
        format!("{}{s}", " ".repeat(fill))
    }
}

/// `%e`: `d.ddddde+XX`.
fn exponent(v: f64, precision: usize, upper: bool) -> String {
    let s = format!("{v:.precision$e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let e = if upper { 'E' } else { 'e' };
    format!("{mantissa}{e}{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
}
