//! `chmod [-R] MODE FILE...`: real modes through Porthole's `path_chmod` (the host keeps and
//! applies them; see ARCHITECTURE.md), octal or symbolic (`u+x`, `go-w`, `a=rX`, `g=u`, `+t`),
//! and [`apply`], the pure mode arithmetic.

use std::io;

use crate::ctx::Ctx;
use crate::sys::{self, Kind};

/// The umask symbolic clauses without `ugoa` honour, as POSIX says (a container's usual 022).
const UMASK: u32 = 0o022;

pub fn chmod(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let mut rest = args;
    let mut recursive = false;
    while let Some(flag) = rest.first().filter(|a| matches!(a.as_str(), "-R" | "-v" | "-c" | "-f" | "--")) {
        rest = &rest[1..];
        match flag.as_str() {
            "--" => break,
            "-R" => recursive = true,
            _ => {}
        }
    }
    let Some((mode, files)) = rest.split_first() else { return Ok(ctx.usage("missing operand")) };
    if apply(mode, 0, false).is_none() {
        return Ok(ctx.usage(format_args!("invalid mode '{mode}'")));
    }
    if files.is_empty() {
        return Ok(ctx.usage(format_args!("missing operand after '{mode}'")));
    }
    let mut status = 0;
    for file in files {
        status = status.max(change(ctx, mode, file, recursive));
    }
    Ok(status)
}

/// Changes `path` (following a link named on the command line, as chmod does), then, with
/// `-R`, what is inside it (links met inside are left alone).
fn change(ctx: &Ctx, mode: &str, path: &str, recursive: bool) -> i32 {
    let Some(st) = ctx.check(path, sys::stat(path)) else { return 1 };
    let dir = st.kind == Kind::Dir;
    let new = apply(mode, st.perm, dir).expect("checked before");
    let mut status = match porthole_sys::chmod(path, new, true) {
        Ok(()) => 0,
        Err(e) => ctx.fail(path, &e),
    };
    if recursive && dir {
        let entries = match std::fs::read_dir(path) {
            Ok(e) => e,
            Err(e) => return ctx.fail(path, &e),
        };
        for entry in entries.flatten() {
            let child = crate::fsx::join(path, &entry.file_name().to_string_lossy());
            if sys::lstat(&child).is_ok_and(|s| s.kind != Kind::Symlink) {
                status = status.max(change(ctx, mode, &child, true));
            }
        }
    }
    status
}

/// The mode `spec` makes of `mode` (of a directory when `dir`); `None` if `spec` is not a
/// mode: octal (up to four digits) or comma-separated clauses `[ugoa]*([-+=]([rwxXst]*|[ugo]))+`.
pub fn apply(spec: &str, mode: u32, dir: bool) -> Option<u32> {
    if !spec.is_empty() && spec.chars().all(|c| c.is_digit(8)) {
        return (spec.len() <= 4).then(|| u32::from_str_radix(spec, 8).ok()).flatten();
    }
    let start = mode & 0o7777;
    let mut m = start;
    for clause in spec.split(',') {
        let ops = clause.trim_start_matches(['u', 'g', 'o', 'a']);
        let who = clause[..clause.len() - ops.len()].chars().fold(0, |w, c| {
            w | match c {
                'u' => 0o4700,
                'g' => 0o2070,
                'o' => 0o1007,
                _ => 0o7777,
            }
        });
        let (who, umask) = if who == 0 { (0o7777, UMASK) } else { (who, 0) };
        let mut rest = ops;
        if rest.is_empty() {
            return None;
        }
        while !rest.is_empty() {
            let op = rest.chars().next().filter(|c| "+-=".contains(*c))?;
            let after = &rest[1..];
            let end = after.find(['+', '-', '=']).unwrap_or(after.len());
            let perms = &after[..end];
            let bits = match perms {
                "u" => copy_class((m >> 6) & 7),
                "g" => copy_class((m >> 3) & 7),
                "o" => copy_class(m & 7),
                _ => perms.chars().try_fold(0, |b, c| {
                    Some(
                        b | match c {
                            'r' => 0o444,
                            'w' => 0o222,
                            'x' => 0o111,
                            'X' if dir || start & 0o111 != 0 => 0o111,
                            'X' => 0,
                            's' => 0o6000,
                            't' => 0o1000,
                            _ => return None,
                        },
                    )
                })?,
            } & who
                & !umask;
            m = match op {
                '+' => m | bits,
                '-' => m & !bits,
                _ => (m & !who) | bits,
            };
            rest = &after[end..];
        }
    }
    Some(m)
}

/// One class's `rwx` as bits of every class (masked by who afterwards).
fn copy_class(rwx: u32) -> u32 {
    rwx << 6 | rwx << 3 | rwx
}

#[cfg(test)]
mod tests {
    use super::apply;

    #[test]
    fn octal_and_symbolic_modes() {
        let cases = [
            ("755", 0o644, false, Some(0o755)),
            ("4755", 0o644, false, Some(0o4755)),
            ("+x", 0o644, false, Some(0o755)),
            ("u+x", 0o644, false, Some(0o744)),
            ("go-w", 0o666, false, Some(0o644)),
            ("a=r", 0o755, false, Some(0o444)),
            ("=rw", 0o700, false, Some(0o644)),
            ("u=rwx,g=u,o=", 0o644, false, Some(0o770)),
            ("a+X", 0o644, true, Some(0o755)),
            ("a+X", 0o644, false, Some(0o644)),
            ("a+X", 0o744, false, Some(0o755)),
            ("u+s,g+s", 0o755, false, Some(0o6755)),
            ("+t", 0o777, true, Some(0o1777)),
            ("o-rwx+r", 0o777, false, Some(0o774)),
            ("u+z", 0o644, false, None),
            ("99", 0o644, false, None),
            ("12345", 0o644, false, None),
            ("u", 0o644, false, None),
            ("", 0o644, false, None),
        ];
        for (spec, mode, dir, want) in cases {
            assert_eq!(apply(spec, mode, dir), want, "{spec} on {mode:o}");
        }
    }
}
