//! Path names: `basename`, `dirname`, `pwd`.

use std::io::{self, Write};

use crate::ctx::Ctx;
use crate::fsx;

pub fn basename(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let (path, suffix) = match args {
        [path] => (path, None),
        [path, suffix] => (path, Some(suffix.as_str())),
        _ => return Ok(ctx.usage("usage: basename FILE [SUFFIX]")),
    };
    let base = fsx::basename(path);
    let base = match suffix {
        Some(s) if base != s => base.strip_suffix(s).unwrap_or(base),
        _ => base,
    };
    writeln!(ctx.io.stdout, "{base}")?;
    Ok(0)
}

pub fn dirname(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let [path] = args else { return Ok(ctx.usage("usage: dirname FILENAME")) };
    writeln!(ctx.io.stdout, "{}", fsx::dirname(path))?;
    Ok(0)
}

pub fn pwd(ctx: &mut Ctx, _args: &[String]) -> io::Result<i32> {
    writeln!(ctx.io.stdout, "{}", fsx::cwd())?;
    Ok(0)
}
