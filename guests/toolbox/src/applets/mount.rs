//! `mount` (listing only: a WASI guest cannot mount) and `df`, both over the engine-written
//! `/proc/mounts`, and `du`, which walks directories the way `df` walks mounts.

use std::io::{self, Write};

use crate::ctx::Ctx;
use crate::fsx;
use crate::mounts::{self, MountEntry};
use crate::sys;

pub fn mount(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "t:o:O:arwvfniL:U:") else { return Ok(2) };
    if let [.., target] = o.operands.as_slice() {
        let source = o.operands.first().filter(|_| o.operands.len() > 1).map_or("", String::as_str);
        ctx.warn(format_args!("mounting {source} on {target} failed: Operation not permitted"));
        return Ok(1);
    }
    let Some(table) = read_table(ctx) else { return Ok(1) };
    let mut out = ctx.io.stdout.clone();
    for m in table.iter().filter(|m| o.value('t').is_none_or(|t| t == m.fstype)) {
        writeln!(out, "{} on {} type {} ({})", m.source, m.target, m.fstype, m.options)?;
    }
    Ok(0)
}

/// The mount table, or `None` after saying why not.
fn read_table(ctx: &Ctx) -> Option<Vec<MountEntry>> {
    match mounts::read() {
        Ok(t) => Some(t),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            ctx.warn(format_args!("no {}", mounts::PROC_MOUNTS));
            None
        }
        Err(e) => {
            ctx.fail(mounts::PROC_MOUNTS, &e);
            None
        }
    }
}

/// `df [-hkmP] [PATH...]`. WASI preview1 has no `statvfs`, so a mount's size and free space are
/// unknown (shown as `-`); the used space is computed by walking the mount and adding up file
/// sizes (in 4 KiB units), without descending into the other mounts below it.
pub fn df(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "hkmaPT") else { return Ok(2) };
    let Some(table) = read_table(ctx) else { return Ok(1) };
    let targets: Vec<&str> = table.iter().map(|m| m.target.as_str()).collect();
    let mut status = 0;
    let mut shown: Vec<&MountEntry> = Vec::new();
    if o.operands.is_empty() {
        shown.extend(table.iter());
    }
    for path in &o.operands {
        if let Err(e) = sys::stat(path) {
            status = ctx.fail(path, &e);
            continue;
        }
        let abs = fsx::canonicalize(path).unwrap_or_else(|_| fsx::absolute(path));
        let holder = table
            .iter()
            .filter(|m| abs == m.target || abs.starts_with(&fsx::join(&m.target, "")))
            .max_by_key(|m| m.target.len());
        shown.extend(holder);
    }
    let (unit, scale): (&str, u64) = if o.has('h') {
        ("     Size", 1)
    } else if o.has('m') {
        ("1M-blocks", 1 << 20)
    } else {
        ("1K-blocks", 1 << 10)
    };
    let mut out = ctx.io.stdout.clone();
    writeln!(out, "Filesystem           {unit}      Used Available Use% Mounted on")?;
    for m in shown {
        let bytes = fsx::usage(&m.target, 0, &|p| targets.contains(&p), &mut |_, _, _, _| {});
        let used = if o.has('h') { fsx::human_size(bytes) } else { bytes.div_ceil(scale).to_string() };
        if m.source.chars().count() > 20 {
            writeln!(out, "{}", m.source)?;
            write!(out, "{:20}", "")?;
        } else {
            write!(out, "{:<20}", m.source)?;
        }
        writeln!(out, " {:>9} {:>9} {:>9} {:>4} {}", "-", used, "-", "-", m.target)?;
    }
    Ok(status)
}

/// `du [-sachkm] [-d N] [PATH...]`: sizes in KiB (or `-h` human), directories after their
/// contents; `-a` lists files too, `-s` only the operands.
pub fn du(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "sachkmxLd:") else { return Ok(2) };
    let max_depth = match o.value('d').map(str::parse::<usize>) {
        None => usize::MAX,
        Some(Ok(d)) => d,
        Some(Err(_)) => return Ok(ctx.usage("invalid number for -d")),
    };
    let show = |bytes: u64| {
        if o.has('h') {
            fsx::human_size(bytes)
        } else {
            bytes.div_ceil(if o.has('m') { 1 << 20 } else { 1 << 10 }).to_string()
        }
    };
    let paths = if o.operands.is_empty() { vec![".".to_string()] } else { o.operands.clone() };
    let (mut status, mut grand) = (0, 0);
    let mut lines = Vec::new();
    for path in &paths {
        if let Err(e) = sys::lstat(path) {
            status = ctx.fail(path, &e);
            continue;
        }
        grand += fsx::usage(path, 0, &|_| false, &mut |p, bytes, is_dir, depth| {
            let listed =
                if o.has('s') { depth == 0 } else { (is_dir || o.has('a') || depth == 0) && depth <= max_depth };
            if listed {
                lines.push(format!("{}\t{p}\n", show(bytes)));
            }
        });
    }
    if o.has('c') {
        lines.push(format!("{}\ttotal\n", show(grand)));
    }
    ctx.io.stdout.write_all(lines.concat().as_bytes())?;
    Ok(status)
}
