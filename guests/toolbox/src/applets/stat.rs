//! `stat [-L] [-c FORMAT] FILE...`: busybox's default report, or a `-c` format. The permission
//! bits are the ones Porthole keeps (`sys::Stat::perm`); WASI reports no owners, so those are
//! root.

use std::io::{self, Write};

use crate::calendar::DateTime;
use crate::ctx::Ctx;
use crate::fsx;
use crate::sys::{self, Kind, Stat, Time};

pub fn stat(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "Lc:t") else { return Ok(2) };
    if o.operands.is_empty() {
        return Ok(ctx.usage("missing operand"));
    }
    let mut status = 0;
    for path in &o.operands {
        let got = if o.has('L') { sys::stat(path) } else { sys::lstat(path) };
        let Some(st) = ctx.check(path, got) else {
            status = 1;
            continue;
        };
        let text = match o.value('c') {
            Some(format) => format!("{}\n", custom(format, path, &st)),
            None => report(path, &st),
        };
        ctx.io.stdout.write_all(text.as_bytes())?;
    }
    Ok(status)
}

fn report(path: &str, st: &Stat) -> String {
    let file = match (st.kind, std::fs::read_link(path)) {
        (Kind::Symlink, Ok(target)) => format!("'{path}' -> '{}'", target.to_string_lossy()),
        _ => format!("'{path}'"),
    };
    format!(
        "  File: {file}\n  Size: {:<10}\tBlocks: {:<10} IO Block: {:<6} {}\nDevice: {:x}h/{}d\tInode: {:<10}  Links: {:<5}\nAccess: ({:04o}/{})  Uid: ({:>5}/{:>8})   Gid: ({:>5}/{:>8})\nAccess: {}\nModify: {}\nChange: {}\n",
        st.size,
        if st.kind == Kind::Symlink { 0 } else { fsx::blocks(st.size) },
        4096,
        type_name(st),
        st.dev,
        st.dev,
        st.ino,
        st.nlink,
        st.perm,
        fsx::mode_string(st.kind, st.perm),
        0,
        "root",
        0,
        "root",
        time(st.atime),
        time(st.mtime),
        time(st.ctime),
    )
}

fn type_name(st: &Stat) -> &'static str {
    match st.kind {
        Kind::File if st.size == 0 => "regular empty file",
        Kind::File => "regular file",
        Kind::Dir => "directory",
        Kind::Symlink => "symbolic link",
        Kind::CharDevice => "character special file",
        Kind::BlockDevice => "block special file",
        Kind::Socket => "socket",
        Kind::Fifo => "fifo",
        Kind::Unknown => "weird file",
    }
}

fn time(t: Time) -> String {
    DateTime::from_epoch(t.secs, t.nanos).format("%Y-%m-%d %H:%M:%S.%N %z")
}

/// `-c`: `%n %N %s %b %B %F %a %A %u %U %g %G %h %i %d %D %x %X %y %Y %z %Z %o %%`.
fn custom(format: &str, path: &str, st: &Stat) -> String {
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let piece = match chars.next() {
            Some('n') => path.to_string(),
            Some('N') => match std::fs::read_link(path) {
                Ok(t) if st.kind == Kind::Symlink => format!("'{path}' -> '{}'", t.to_string_lossy()),
                _ => format!("'{path}'"),
            },
            Some('s') => st.size.to_string(),
            Some('b') => fsx::blocks(st.size).to_string(),
            Some('B') => "512".to_string(),
            Some('o') => "4096".to_string(),
            Some('F') => type_name(st).to_string(),
            Some('a') => format!("{:o}", st.perm),
            Some('A') => fsx::mode_string(st.kind, st.perm),
            Some('u' | 'g') => "0".to_string(),
            Some('U' | 'G') => "root".to_string(),
            Some('h') => st.nlink.to_string(),
            Some('i') => st.ino.to_string(),
            Some('d') => st.dev.to_string(),
            Some('D') => format!("{:x}", st.dev),
            Some('x') => time(st.atime),
            Some('y') => time(st.mtime),
            Some('z') => time(st.ctime),
            Some('X') => st.atime.secs.to_string(),
            Some('Y') => st.mtime.secs.to_string(),
            Some('Z') => st.ctime.secs.to_string(),
            Some('%') => "%".to_string(),
            Some(other) => format!("?{other}"),
            None => "%".to_string(),
        };
        out.push_str(&piece);
    }
    out
}
