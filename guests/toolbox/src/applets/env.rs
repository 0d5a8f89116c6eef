//! The environment: `env [-i] [-u NAME] [NAME=VALUE...] [COMMAND [ARG...]]` prints it or runs a
//! program with a changed one; `which` finds programs. (`printenv` is the userland's.)

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
    Ok(crate::spawn::run(ctx, rest, &env, &ctx.io))
}

/// `which NAME...`: the program a command runs, found as the shell finds it.
pub fn which(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let mut out = ctx.io.stdout.clone();
    let mut status = 0;
    for name in args {
        let found = match name.contains('/') {
            true => fsx::exists(name).then(|| name.clone()),
            false => crate::spawn::find_program(name, ctx.env.get("PATH")),
        };
        match found {
            Some(p) => writeln!(out, "{p}")?,
            None => status = 1,
        }
    }
    Ok(status)
}
