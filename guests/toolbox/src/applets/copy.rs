//! `cp` and `mv`, and the tree copy they share. `mv` renames, falling back to copy-and-remove
//! across mounts (`EXDEV`), as busybox does across file systems.

use std::fs;
use std::io;

use super::files::remove;
use crate::ctx::{Ctx, cant};
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
    let mut errors = Vec::new();
    for src in sources {
        copy_one(src, &destination(src, dest, sources.len()), mode, &mut errors);
    }
    Ok(report(ctx, errors))
}

pub fn mv(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "fnivT") else { return Ok(2) };
    let Some((sources, dest)) = split_dest(ctx, &o.operands) else { return Ok(2) };
    let mut errors = Vec::new();
    for src in sources {
        let target = destination(src, dest, sources.len());
        if o.has('n') && fsx::exists(&target) {
            continue;
        }
        match fs::rename(src, &target) {
            Err(e) if e.raw_os_error() == Some(libc::EXDEV) => move_across(src, &target, &mut errors),
            Err(e) => errors.push(cant("rename", src, &e)),
            Ok(()) => {}
        }
    }
    Ok(report(ctx, errors))
}

/// Prints each message; the exit code is 1 if there were any.
fn report(ctx: &Ctx, errors: Vec<String>) -> i32 {
    for msg in &errors {
        ctx.warn(msg);
    }
    i32::from(!errors.is_empty())
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

/// Moves by copying (links kept, times preserved) and removing the source, if the copy worked.
fn move_across(src: &str, dest: &str, errors: &mut Vec<String>) {
    let kind = match sys::lstat(src) {
        Ok(s) => s.kind,
        Err(e) => return errors.push(cant("stat", src, &e)),
    };
    let before = errors.len();
    copy_one(src, dest, CopyMode { recursive: true, keep_links: true, preserve: true }, errors);
    if errors.len() == before
        && let Err((at, e)) = remove(src, kind)
    {
        errors.push(cant("remove", &at, &e));
    }
}

/// Copies `src` to `dest`, adding busybox's message for each failure to `errors`.
fn copy_one(src: &str, dest: &str, mode: CopyMode, errors: &mut Vec<String>) {
    let stat = if mode.keep_links { sys::lstat(src) } else { sys::stat(src) };
    let stat = match stat {
        Ok(s) => s,
        Err(e) => return errors.push(cant("stat", src, &e)),
    };
    let result = match stat.kind {
        Kind::Dir if !mode.recursive => Err(format!("omitting directory '{src}'")),
        Kind::Dir => {
            let (from, to) = (fsx::absolute(src), fsx::absolute(dest));
            if to == from || to.starts_with(&format!("{from}/")) {
                Err(format!("can't copy a directory '{src}' into itself"))
            } else {
                return copy_dir(src, dest, mode, errors);
            }
        }
        Kind::Symlink => copy_link(src, dest),
        _ => copy_file(src, dest, mode, &stat),
    };
    if let Err(msg) = result {
        errors.push(msg);
    }
}

fn copy_dir(src: &str, dest: &str, mode: CopyMode, errors: &mut Vec<String>) {
    if !fsx::is_dir(dest)
        && let Err(e) = fs::create_dir(dest)
    {
        return errors.push(cant("create directory", dest, &e));
    }
    match fsx::sorted_entries(src) {
        Ok(names) => {
            names.iter().for_each(|name| copy_one(&fsx::join(src, name), &fsx::join(dest, name), mode, errors))
        }
        Err(e) => errors.push(cant("open", src, &e)),
    }
}

/// A symlink is copied as a link with the same (verbatim) target.
fn copy_link(src: &str, dest: &str) -> Result<(), String> {
    let target = fs::read_link(src).map_err(|e| cant("read link", src, &e))?;
    if sys::lstat(dest).is_ok() {
        fs::remove_file(dest).map_err(|e| cant("remove", dest, &e))?;
    }
    sys::symlink(&target.to_string_lossy(), dest).map_err(|e| cant("create symlink", dest, &e))
}

fn copy_file(src: &str, dest: &str, mode: CopyMode, stat: &sys::Stat) -> Result<(), String> {
    let mut from = fs::File::open(src).map_err(|e| cant("open", src, &e))?;
    let mut to = fs::File::create(dest).map_err(|e| cant("create", dest, &e))?;
    io::copy(&mut from, &mut to).map_err(|e| cant("copy", src, &e))?;
    if mode.preserve {
        let mtime = std::time::UNIX_EPOCH + std::time::Duration::new(stat.mtime.secs.max(0) as u64, stat.mtime.nanos);
        // Best effort, as busybox: the copy itself succeeded.
        let _ = to.set_times(fs::FileTimes::new().set_modified(mtime));
    }
    Ok(())
}
