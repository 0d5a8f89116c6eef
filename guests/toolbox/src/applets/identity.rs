//! Who and where the container is: `hostname`, `id`, `whoami`. A container runs as
//! root (WASI has no users), and its name is the engine-written `/etc/hostname`.

use std::io::{self, Write};

use crate::ctx::Ctx;

/// The container's host name: `/etc/hostname`'s first line, else `$HOSTNAME`, else `localhost`.
fn host_name(ctx: &Ctx) -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .and_then(|t| t.lines().next().map(|l| l.trim().to_string()))
        .filter(|h| !h.is_empty())
        .or_else(|| ctx.env.get("HOSTNAME").map(str::to_string))
        .unwrap_or_else(|| "localhost".to_string())
}

pub fn hostname(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "sfdiF:") else { return Ok(2) };
    if !o.operands.is_empty() || o.value('F').is_some() {
        ctx.warn("sethostname: Operation not permitted");
        return Ok(1);
    }
    let name = host_name(ctx);
    let shown = if o.has('s') { name.split('.').next().unwrap_or(&name) } else { &name };
    writeln!(ctx.io.stdout, "{shown}")?;
    Ok(0)
}

pub fn id(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "ugGnr") else { return Ok(2) };
    if let Some(user) = o.operands.first().filter(|u| *u != "root" && *u != "0") {
        ctx.warn(format_args!("unknown user {user}"));
        return Ok(1);
    }
    let single = o.has('u') || o.has('g') || o.has('G');
    let text = match (single, o.has('n')) {
        (true, true) => "root",
        (true, false) => "0",
        (false, _) => "uid=0(root) gid=0(root) groups=0(root)",
    };
    writeln!(ctx.io.stdout, "{text}")?;
    Ok(0)
}

pub fn whoami(ctx: &mut Ctx, _args: &[String]) -> io::Result<i32> {
    writeln!(ctx.io.stdout, "root")?;
    Ok(0)
}
