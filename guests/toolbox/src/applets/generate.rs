//! `true` and `false`, the shell's builtins.

use std::io;

use crate::ctx::Ctx;

pub fn r#true(_ctx: &mut Ctx, _args: &[String]) -> io::Result<i32> {
    Ok(0)
}

pub fn r#false(_ctx: &mut Ctx, _args: &[String]) -> io::Result<i32> {
    Ok(1)
}
