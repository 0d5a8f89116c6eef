//! `find [PATH...] [TEST...]`: a pre-order walk that does not follow symlinks, entries in name
//! order (deterministic, where Linux gives directory order). Tests are ANDed and may be negated
//! with `!`: `-name`/`-iname GLOB`, `-type f|d|l`, `-maxdepth N`, `-mindepth N`, `-print`,
//! `-exec CMD {} ;` (the command runs as a process and is true when it exits 0).

use std::io::{self, Write};

use crate::ctx::Ctx;
use crate::fsx;
use crate::glob;
use crate::sys::{self, Kind};

enum Test {
    Name { pattern: String, icase: bool },
    Type(Kind),
    Exec(Vec<String>),
    Print,
    Not(Box<Test>),
}

struct Find {
    tests: Vec<Test>,
    min_depth: usize,
    max_depth: usize,
    /// Whether an explicit action (-print, -exec) replaces the default printing.
    has_action: bool,
    status: i32,
}

pub fn find(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let split = args.iter().position(|a| a.starts_with('-') && a.len() > 1 || a == "!").unwrap_or(args.len());
    let (paths, expr) = args.split_at(split);
    let mut f = match parse(expr) {
        Ok(f) => f,
        Err(msg) => return Ok(ctx.usage(msg)),
    };
    let paths = if paths.is_empty() { vec![".".to_string()] } else { paths.to_vec() };
    let mut out = ctx.io.stdout.clone();
    for path in &paths {
        match sys::lstat(path) {
            Ok(stat) => f.walk(ctx, &mut out, path, fsx::basename(path), stat.kind, 0)?,
            Err(e) => f.status = ctx.fail(path, &e),
        }
    }
    Ok(f.status)
}

fn parse(expr: &[String]) -> Result<Find, String> {
    let mut f = Find { tests: Vec::new(), min_depth: 0, max_depth: usize::MAX, has_action: false, status: 0 };
    let mut it = expr.iter();
    let mut negate = false;
    while let Some(word) = it.next() {
        let mut value = |what: &str| it.next().cloned().ok_or_else(|| format!("{what}: requires an argument"));
        let test = match word.as_str() {
            "!" | "-not" => {
                negate = !negate;
                continue;
            }
            "-a" | "-and" => continue,
            "-name" => Test::Name { pattern: value(word)?, icase: false },
            "-iname" => Test::Name { pattern: value(word)?.to_lowercase(), icase: true },
            "-type" => Test::Type(match value(word)?.as_str() {
                "f" => Kind::File,
                "d" => Kind::Dir,
                "l" => Kind::Symlink,
                "c" => Kind::CharDevice,
                "b" => Kind::BlockDevice,
                "p" => Kind::Fifo,
                "s" => Kind::Socket,
                other => return Err(format!("invalid argument '{other}' to '-type'")),
            }),
            "-maxdepth" | "-mindepth" => {
                let n = value(word)?.parse().map_err(|_| format!("invalid argument to '{word}'"))?;
                if word == "-maxdepth" {
                    f.max_depth = n
                } else {
                    f.min_depth = n
                }
                continue;
            }
            "-print" => {
                f.has_action = true;
                Test::Print
            }
            "-exec" => {
                let cmd: Vec<String> = it.by_ref().take_while(|a| *a != ";" && *a != "+").cloned().collect();
                if cmd.is_empty() {
                    return Err("-exec: requires an argument".into());
                }
                f.has_action = true;
                Test::Exec(cmd)
            }
            other => return Err(format!("unrecognized: {other}")),
        };
        f.tests.push(if std::mem::take(&mut negate) { Test::Not(Box::new(test)) } else { test });
    }
    Ok(f)
}

impl Find {
    fn walk(
        &mut self,
        ctx: &Ctx,
        out: &mut impl Write,
        path: &str,
        name: &str,
        kind: Kind,
        depth: usize,
    ) -> io::Result<()> {
        if depth >= self.min_depth {
            let mut hit = true;
            for test in &self.tests {
                hit = hit && eval(test, ctx, out, path, name, kind)?;
            }
            if hit && !self.has_action {
                writeln!(out, "{path}")?;
            }
        }
        if kind != Kind::Dir || depth >= self.max_depth {
            return Ok(());
        }
        let names = match fsx::sorted_entries(path) {
            Ok(n) => n,
            Err(e) => {
                self.status = ctx.fail(path, &e);
                return Ok(());
            }
        };
        for child in names {
            let child_path = fsx::join(path, &child);
            match sys::lstat(&child_path) {
                Ok(stat) => self.walk(ctx, out, &child_path, &child, stat.kind, depth + 1)?,
                Err(e) => self.status = ctx.fail(&child_path, &e),
            }
        }
        Ok(())
    }
}

fn eval(test: &Test, ctx: &Ctx, out: &mut impl Write, path: &str, name: &str, kind: Kind) -> io::Result<bool> {
    Ok(match test {
        Test::Name { pattern, icase: false } => glob::matches(pattern, name),
        Test::Name { pattern, icase: true } => glob::matches(pattern, &name.to_lowercase()),
        Test::Type(k) => *k == kind,
        Test::Print => {
            writeln!(out, "{path}")?;
            true
        }
        Test::Exec(cmd) => {
            let argv: Vec<String> = cmd.iter().map(|a| a.replace("{}", path)).collect();
            out.flush()?;
            crate::spawn::run(ctx, &argv, &ctx.env, &ctx.io) == 0
        }
        Test::Not(inner) => !eval(inner, ctx, out, path, name, kind)?,
    })
}
