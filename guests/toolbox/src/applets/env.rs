//! The environment: `env [-i] [-u NAME] [NAME=VALUE...] [COMMAND [ARG...]]` prints it or runs an
//! applet with a changed one; `printenv` prints values; `which` finds commands.

use std::io::{self, Write};

use crate::ctx::{Ctx, Env};
use crate::fsx;

pub fn env(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let mut env = ctx.env.clone();
    let mut rest = args;
    while let Some(first) = rest.first() {
        match first.as_str() {
            "-i" | "-" => env = Env::default(),
            "-u" if rest.len() > 1 => {
                env.remove(&rest[1]);
                rest = &rest[1..];
            }
            "--" => {
                rest = &rest[1..];
                break;
            }
            _ => break,
        }
        rest = &rest[1..];
    }
    while let Some((name, value)) = rest.first().and_then(|a| a.split_once('=')) {
        env.set(name, value);
        rest = &rest[1..];
    }
    if rest.is_empty() {
        let mut out = ctx.io.stdout.clone();
        for (k, v) in env.iter() {
            writeln!(out, "{k}={v}")?;
        }
        return Ok(0);
    }
    let mut inner = Ctx::new(&ctx.name, ctx.io.clone(), env);
    Ok(super::call_in(&mut inner, rest))
}

pub fn printenv(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let mut out = ctx.io.stdout.clone();
    if args.is_empty() {
        for (k, v) in ctx.env.iter() {
            writeln!(out, "{k}={v}")?;
        }
        return Ok(0);
    }
    let mut status = 0;
    for name in args {
        match ctx.env.get(name) {
            Some(v) => writeln!(out, "{v}")?,
            None => status = 1,
        }
    }
    Ok(status)
}

/// `which NAME...`: applets live in `/bin` (as links to this program); other names are looked
/// up in `$PATH`.
pub fn which(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let mut out = ctx.io.stdout.clone();
    let mut status = 0;
    for name in args {
        let found = if name.contains('/') {
            fsx::exists(name).then(|| name.clone())
        } else if super::find(name).is_some() {
            Some(format!("/bin/{name}"))
        } else {
            fsx::search_path(ctx.env.get("PATH"), name)
        };
        match found {
            Some(p) => writeln!(out, "{p}")?,
            None => status = 1,
        }
    }
    Ok(status)
}
