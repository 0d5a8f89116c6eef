//! `cp` and `mv`, and the tree copy they share. `mv` renames, falling back to copy-and-remove
//! across mounts (`EXDEV`), as busybox does across file systems.

use std::fs;
use std::io;

use super::files::remove;
use crate::ctx::Ctx;
use crate::fsx;
use crate::sys::{self, Kind};

/// How a copy treats symlinks and times.
#[derive(Debug, Clone, Copy)]
struct CopyMode {
    recursive: bool,
    /// Copy symlinks as symlinks (busybox's default with -R, and -a, -d, -P).
    keep_links: bool,
    /// Keep modification times (-a, -p).
    preserve: bool,
}

pub fn cp(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "rRadpPfLHvniu") else { return Ok(2) };
    let recursive = o.has('r') || o.has('R') || o.has('a');
    let mode = CopyMode {
        recursive,
        keep_links: (recursive || o.has('d') || o.has('P')) && !o.has('L'),
        preserve: o.has('a') || o.has('p'),
    };
    let Some((sources, dest)) = split_dest(ctx, &o.operands) else { return Ok(2) };
    let mut status = 0;
    for src in sources {
        let target = destination(src, dest, sources.len());
        if let Err(msg) = copy_one(src, &target, mode) {
            ctx.warn(msg);
            status = 1;
        }
    }
    Ok(status)
}

pub fn mv(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "fnivT") else { return Ok(2) };
    let Some((sources, dest)) = split_dest(ctx, &o.operands) else { return Ok(2) };
    let mut status = 0;
    for src in sources {
        let target = destination(src, dest, sources.len());
        if o.has('n') && fsx::exists(&target) {
            continue;
        }
        let result = match fs::rename(src, &target) {
            Err(e) if e.raw_os_error() == Some(libc::EXDEV) => move_across(src, &target),
            Err(e) => Err(format!("can't rename '{src}': {}", sys::describe(&e))),
            Ok(()) => Ok(()),
        };
        if let Err(msg) = result {
            ctx.warn(msg);
            status = 1;
        }
    }
    Ok(status)
}

/// Sources and destination; several sources need a directory destination.
fn split_dest<'a>(ctx: &Ctx, operands: &'a [String]) -> Option<(&'a [String], &'a str)> {
    match operands {
        [] | [_] => {
            ctx.usage("missing operand");
            None
        }
        [sources @ .., dest] if sources.len() > 1 && !fsx::is_dir(dest) => {
            ctx.usage(format_args!("'{dest}' is not a directory"));
            None
        }
        [sources @ .., dest] => Some((sources, dest)),
    }
}

/// `dest/basename(src)` when `dest` is a directory (or there are several sources), else `dest`.
fn destination(src: &str, dest: &str, count: usize) -> String {
    if count > 1 || fsx::is_dir(dest) { fsx::join(dest, fsx::basename(src)) } else { dest.to_string() }
}

fn move_across(src: &str, dest: &str) -> Result<(), String> {
    let kind = sys::lstat(src).map_err(|e| format!("can't stat '{src}': {}", sys::describe(&e)))?.kind;
    copy_one(src, dest, CopyMode { recursive: true, keep_links: true, preserve: true })?;
    remove(src, kind).map_err(|(at, e)| format!("can't remove '{at}': {}", sys::describe(&e)))
}

/// Copies `src` to `dest`; the error is busybox's message.
fn copy_one(src: &str, dest: &str, mode: CopyMode) -> Result<(), String> {
    let stat = if mode.keep_links { sys::lstat(src) } else { sys::stat(src) };
    let stat = stat.map_err(|e| format!("can't stat '{src}': {}", sys::describe(&e)))?;
    match stat.kind {
        Kind::Dir if !mode.recursive => Err(format!("omitting directory '{src}'")),
        Kind::Dir => {
            let (from, to) = (fsx::absolute(src), fsx::absolute(dest));
            if to == from || to.starts_with(&format!("{from}/")) {
                return Err(format!("can't copy a directory '{src}' into itself"));
            }
            copy_dir(src, dest, mode)
        }
        Kind::Symlink => {
            let target = fs::read_link(src).map_err(|e| format!("can't read link '{src}': {}", sys::describe(&e)))?;
            if sys::lstat(dest).is_ok() {
                fs::remove_file(dest).map_err(|e| format!("can't remove '{dest}': {}", sys::describe(&e)))?;
            }
            sys::symlink(&target.to_string_lossy(), dest).map_err(|e| format!("can't create symlink '{dest}': {}", sys::describe(&e)))
        }
        _ => copy_file(src, dest, mode, &stat),
    }
}

fn copy_dir(src: &str, dest: &str, mode: CopyMode) -> Result<(), String> {
    if !fsx::is_dir(dest) {
        fs::create_dir(dest).map_err(|e| format!("can't create directory '{dest}': {}", sys::describe(&e)))?;
    }
    let names = fsx::sorted_entries(src).map_err(|e| format!("can't open '{src}': {}", sys::describe(&e)))?;
    let mut first_error = Ok(());
    for name in names {
        let result = copy_one(&fsx::join(src, &name), &fsx::join(dest, &name), mode);
        if first_error.is_ok() {
            first_error = result;
        }
    }
    first_error
}

fn copy_file(src: &str, dest: &str, mode: CopyMode, stat: &sys::Stat) -> Result<(), String> {
    let mut from = fs::File::open(src).map_err(|e| format!("can't open '{src}': {}", sys::describe(&e)))?;
    let mut to = fs::File::create(dest).map_err(|e| format!("can't create '{dest}': {}", sys::describe(&e)))?;
    io::copy(&mut from, &mut to).map_err(|e| format!("error copying '{src}': {}", sys::describe(&e)))?;
    if mode.preserve {
        let mtime = std::time::UNIX_EPOCH + std::time::Duration::new(stat.mtime.secs.max(0) as u64, stat.mtime.nanos);
        // Best effort, as busybox: the copy itself succeeded.
        let _ = to.set_times(fs::FileTimes::new().set_modified(mtime));
    }
    Ok(())
}
