//! Creating, linking and removing names: `touch`, `mkdir`, `rm`, `rmdir`, `ln`, `readlink`,
//! and `chmod`, which can only check its arguments.

use std::fs;
use std::io::{self, Write};
use std::time::SystemTime;

use crate::ctx::{Ctx, cant};
use crate::fsx;
use crate::sys::{self, Kind};

pub fn touch(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "cam") else { return Ok(2) };
    if o.operands.is_empty() {
        return Ok(ctx.usage("missing file operand"));
    }
    let mut status = 0;
    for path in &o.operands {
        let result = if fsx::exists(path) {
            let now = SystemTime::now();
            fs::File::open(path).and_then(|f| f.set_times(fs::FileTimes::new().set_accessed(now).set_modified(now)))
        } else if o.has('c') {
            Ok(())
        } else {
            fs::OpenOptions::new().create(true).append(true).open(path).map(drop)
        };
        if let Err(e) = result {
            status = ctx.fail(path, &e);
        }
    }
    Ok(status)
}

pub fn mkdir(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "pvm:") else { return Ok(2) };
    if o.operands.is_empty() {
        return Ok(ctx.usage("missing operand"));
    }
    let mut status = 0;
    for path in &o.operands {
        let result = if o.has('p') { fs::create_dir_all(path) } else { fs::create_dir(path) };
        match result {
            Ok(()) if o.has('v') => writeln!(ctx.io.stdout, "mkdir: created directory '{path}'")?,
            Ok(()) => {}
            Err(e) => {
                ctx.warn(cant("create directory", path, &e));
                status = 1;
            }
        }
    }
    Ok(status)
}

pub fn rm(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "rRfiv") else { return Ok(2) };
    let recursive = o.has('r') || o.has('R');
    if o.operands.is_empty() && !o.has('f') {
        return Ok(ctx.usage("missing operand"));
    }
    let mut status = 0;
    for path in &o.operands {
        if matches!(fsx::basename(path), "." | "..") {
            ctx.warn("can't remove '.' or '..'");
            status = 1;
            continue;
        }
        let result = match sys::lstat(path) {
            Err(e) if o.has('f') && e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err((path.clone(), e)),
            Ok(s) if s.kind == Kind::Dir && !recursive => {
                Err((path.clone(), io::Error::from_raw_os_error(libc::EISDIR)))
            }
            Ok(s) => remove(path, s.kind),
        };
        if let Err((at, e)) = result {
            ctx.warn(cant("remove", &at, &e));
            status = 1;
        }
    }
    Ok(status)
}

/// Removes `path` of `kind`, a directory with everything below it; on failure, which path and why.
pub fn remove(path: &str, kind: Kind) -> Result<(), (String, io::Error)> {
    if kind != Kind::Dir {
        return fs::remove_file(path).map_err(|e| (path.to_string(), e));
    }
    let names = fsx::sorted_entries(path).map_err(|e| (path.to_string(), e))?;
    for name in names {
        let child = fsx::join(path, &name);
        let kind = sys::lstat(&child).map_err(|e| (child.clone(), e))?.kind;
        remove(&child, kind)?;
    }
    fs::remove_dir(path).map_err(|e| (path.to_string(), e))
}

pub fn rmdir(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "p") else { return Ok(2) };
    let mut status = 0;
    for path in &o.operands {
        let mut current = path.trim_end_matches('/').to_string();
        loop {
            if let Err(e) = fs::remove_dir(&current) {
                ctx.warn(format_args!("'{current}': {}", sys::describe(&e)));
                status = 1;
                break;
            }
            let parent = fsx::dirname(&current);
            if !o.has('p') || parent == "." || parent == "/" {
                break;
            }
            current = parent.to_string();
        }
    }
    Ok(status)
}

pub fn ln(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "sfnTv") else { return Ok(2) };
    let (targets, link_to) = match o.operands.as_slice() {
        [] => return Ok(ctx.usage("missing operand")),
        [target] => (std::slice::from_ref(target), fsx::basename(target).to_string()),
        [targets @ .., last] => (targets, last.clone()),
    };
    let into_dir = !o.has('T')
        && if o.has('n') { sys::lstat(&link_to).is_ok_and(|s| s.kind == Kind::Dir) } else { fsx::is_dir(&link_to) };
    if targets.len() > 1 && !into_dir {
        return Ok(ctx.usage(format_args!("'{link_to}' is not a directory")));
    }
    let mut status = 0;
    for target in targets {
        let link = if into_dir { fsx::join(&link_to, fsx::basename(target)) } else { link_to.clone() };
        if o.has('f')
            && sys::lstat(&link).is_ok_and(|s| s.kind != Kind::Dir)
            && let Err(e) = fs::remove_file(&link)
        {
            status = ctx.fail(&link, &e);
            continue;
        }
        let made = if o.has('s') { sys::symlink(target, &link) } else { fs::hard_link(target, &link) };
        match made {
            Ok(()) if o.has('v') => writeln!(ctx.io.stdout, "'{link}' -> '{target}'")?,
            Ok(()) => {}
            Err(e) => status = ctx.fail(&link, &e),
        }
    }
    Ok(status)
}

pub fn readlink(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "fenqsv") else { return Ok(2) };
    let Some(path) = o.operands.first() else { return Ok(ctx.usage("missing operand")) };
    let resolved = if o.has('f') || o.has('e') {
        fsx::canonicalize(path).ok().filter(|p| !o.has('e') || fsx::exists(p))
    } else {
        fs::read_link(path).ok().map(|t| t.to_string_lossy().into_owned())
    };
    let Some(text) = resolved else { return Ok(1) };
    let end = if o.has('n') { "" } else { "\n" };
    write!(ctx.io.stdout, "{text}{end}")?;
    Ok(0)
}

