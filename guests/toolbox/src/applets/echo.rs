//! `echo` and the backslash escapes it shares with `printf`.

use std::io::{self, Write};

use crate::ctx::Ctx;

/// `echo [-neE] [ARG...]`: options are only leading words made entirely of those letters.
pub fn echo(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let (mut newline, mut escapes) = (true, false);
    let mut words = args;
    while let Some(first) = words.first() {
        let Some(letters) = first.strip_prefix('-').filter(|l| !l.is_empty() && l.chars().all(|c| "neE".contains(c)))
        else {
            break;
        };
        for c in letters.chars() {
            match c {
                'n' => newline = false,
                'e' => escapes = true,
                _ => escapes = false,
            }
        }
        words = &words[1..];
    }
    let mut text = Vec::new();
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            text.push(b' ');
        }
        if escapes {
            let (bytes, stop) = unescape(word, Octal::AfterZero);
            text.extend(bytes);
            if stop {
                return ctx.io.stdout.write_all(&text).map(|_| 0);
            }
        } else {
            text.extend_from_slice(word.as_bytes());
        }
    }
    if newline {
        text.push(b'\n');
    }
    ctx.io.stdout.write_all(&text)?;
    Ok(0)
}

/// How octal escapes are written: `\0NNN` (echo, printf's `%b`) or `\NNN` (printf formats).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Octal {
    AfterZero,
    Plain,
}

/// Decodes `\n`, `\t`, `\\`, `\xHH`, octal and friends; `true` when `\c` asked to stop output.
pub fn unescape(s: &str, octal: Octal) -> (Vec<u8>, bool) {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 == b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = b[i + 1];
        i += 2;
        let simple = match c {
            b'a' => Some(7),
            b'b' => Some(8),
            b'e' => Some(27),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(11),
            b'\\' => Some(b'\\'),
            _ => None,
        };
        if let Some(byte) = simple {
            out.push(byte);
        } else if c == b'c' {
            return (out, true);
        } else if c == b'x' {
            let (value, used) = digits(&b[i..], 16, 2);
            if used == 0 {
                out.extend_from_slice(b"\\x");
            } else {
                out.push(value);
                i += used;
            }
        } else if c == b'0' && octal == Octal::AfterZero || (b'0'..=b'7').contains(&c) && octal == Octal::Plain {
            let start = if octal == Octal::Plain { i - 1 } else { i };
            let (value, used) = digits(&b[start..], 8, 3);
            out.push(value);
            i = start + used;
        } else {
            out.push(b'\\');
            out.push(c);
        }
    }
    (out, false)
}

/// Up to `max` digits in `radix` at the start of `b`: their value (as a byte) and count.
fn digits(b: &[u8], radix: u32, max: usize) -> (u8, usize) {
    let mut value: u32 = 0;
    let mut used = 0;
    while used < max {
        let Some(d) = b.get(used).and_then(|&c| (c as char).to_digit(radix)) else { break };
        value = value * radix + d;
        used += 1;
    }
    (value as u8, used)
}
