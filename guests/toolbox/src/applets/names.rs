//! `pwd`, the shell's builtin (`basename` and `dirname` are the userland's).

use std::io::{self, Write};

use crate::ctx::Ctx;
use crate::fsx;

pub fn pwd(ctx: &mut Ctx, _args: &[String]) -> io::Result<i32> {
    writeln!(ctx.io.stdout, "{}", fsx::cwd())?;
    Ok(0)
}
