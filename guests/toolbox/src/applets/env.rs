//! `env [-i] [-u NAME] [NAME=VALUE...] [COMMAND [ARG...]]`: prints the exported environment, or
//! runs an applet with a changed one.

use std::io::{self, Write};

use crate::ctx::{Ctx, Env};

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
