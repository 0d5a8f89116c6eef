//! `test EXPR` and `[ EXPR ]`: file tests, string and integer comparisons, `!`, `-a`, `-o`
//! and parentheses, with POSIX's rules for short argument lists. Permission tests (`-r -w -x`)
//! are existence tests: WASI has no permissions to check.

use std::io;

use crate::ctx::Ctx;
use crate::sys::{self, Kind};

pub fn test(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    Ok(outcome(ctx, args))
}

pub fn bracket(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    match args.split_last() {
        Some((last, inner)) if last == "]" => Ok(outcome(ctx, inner)),
        _ => Ok(ctx.usage("missing ]")),
    }
}

fn outcome(ctx: &Ctx, args: &[String]) -> i32 {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match evaluate(&words) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(msg) => ctx.usage(msg),
    }
}

/// Evaluates a whole expression.
pub fn evaluate(w: &[&str]) -> Result<bool, String> {
    match *w {
        [] => Ok(false),
        [s] => Ok(!s.is_empty()),
        ["!", a] => Ok(a.is_empty()),
        [op, a] if is_unary(op) => unary(op, a),
        [a, op, b] if is_binary(op) => binary(a, op, b),
        ["!", ..] if w.len() <= 4 => evaluate(&w[1..]).map(|v| !v),
        ["(", ref inner @ .., ")"] if w.len() <= 4 => evaluate(inner),
        _ => {
            let mut p = Parser { w, at: 0 };
            let v = p.or()?;
            match p.w.get(p.at) {
                None => Ok(v),
                Some(extra) => Err(format!("{extra}: unexpected operator")),
            }
        }
    }
}

struct Parser<'a> {
    w: &'a [&'a str],
    at: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self, n: usize) -> Option<&'a str> {
        self.w.get(self.at + n).copied()
    }

    fn or(&mut self) -> Result<bool, String> {
        let mut v = self.and()?;
        while self.peek(0) == Some("-o") {
            self.at += 1;
            v = self.and()? || v;
        }
        Ok(v)
    }

    fn and(&mut self) -> Result<bool, String> {
        let mut v = self.not()?;
        while self.peek(0) == Some("-a") {
            self.at += 1;
            v = self.not()? && v;
        }
        Ok(v)
    }

    fn not(&mut self) -> Result<bool, String> {
        if self.peek(0) == Some("!") {
            self.at += 1;
            return self.not().map(|v| !v);
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<bool, String> {
        let Some(first) = self.peek(0) else { return Err("argument expected".into()) };
        if first == "(" {
            self.at += 1;
            let v = self.or()?;
            if self.peek(0) != Some(")") {
                return Err("missing )".into());
            }
            self.at += 1;
            return Ok(v);
        }
        if let (Some(op), Some(b)) = (self.peek(1), self.peek(2))
            && is_binary(op)
        {
            self.at += 3;
            return binary(first, op, b);
        }
        if is_unary(first)
            && let Some(a) = self.peek(1)
        {
            self.at += 2;
            return unary(first, a);
        }
        self.at += 1;
        Ok(!first.is_empty())
    }
}

fn is_unary(op: &str) -> bool {
    matches!(
        op,
        "-e" | "-f"
            | "-d"
            | "-h"
            | "-L"
            | "-s"
            | "-r"
            | "-w"
            | "-x"
            | "-n"
            | "-z"
            | "-b"
            | "-c"
            | "-p"
            | "-S"
            | "-t"
            | "-g"
            | "-u"
            | "-k"
            | "-O"
            | "-G"
    )
}

fn is_binary(op: &str) -> bool {
    matches!(op, "=" | "==" | "!=" | "<" | ">" | "-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge" | "-nt" | "-ot" | "-ef")
}

fn unary(op: &str, a: &str) -> Result<bool, String> {
    let kind = |follow: bool| if follow { sys::stat(a) } else { sys::lstat(a) }.map(|s| s.kind).ok();
    Ok(match op {
        "-n" => !a.is_empty(),
        "-z" => a.is_empty(),
        "-t" => sys::isatty(number(a)? as i32),
        "-e" | "-r" | "-w" | "-x" | "-O" | "-G" => kind(true).is_some(),
        "-f" => kind(true) == Some(Kind::File),
        "-d" => kind(true) == Some(Kind::Dir),
        "-h" | "-L" => kind(false) == Some(Kind::Symlink),
        "-b" => kind(true) == Some(Kind::BlockDevice),
        "-c" => kind(true) == Some(Kind::CharDevice),
        "-p" => kind(true) == Some(Kind::Fifo),
        "-S" => kind(true) == Some(Kind::Socket),
        "-s" => sys::stat(a).is_ok_and(|s| s.size > 0),
        _ => false,
    })
}

fn binary(a: &str, op: &str, b: &str) -> Result<bool, String> {
    let mtime = |p: &str| sys::stat(p).ok().map(|s| (s.mtime.secs, s.mtime.nanos));
    Ok(match op {
        "=" | "==" => a == b,
        "!=" => a != b,
        "<" => a < b,
        ">" => a > b,
        "-nt" => mtime(a) > mtime(b),
        "-ot" => mtime(b) > mtime(a),
        "-ef" => match (sys::stat(a), sys::stat(b)) {
            (Ok(x), Ok(y)) => x.dev == y.dev && x.ino == y.ino,
            _ => false,
        },
        _ => {
            let (x, y) = (number(a)?, number(b)?);
            match op {
                "-eq" => x == y,
                "-ne" => x != y,
                "-lt" => x < y,
                "-le" => x <= y,
                "-gt" => x > y,
                _ => x >= y,
            }
        }
    })
}

fn number(s: &str) -> Result<i64, String> {
    s.trim().parse().map_err(|_| format!("{s}: bad number"))
}
