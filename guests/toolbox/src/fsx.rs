//! File-system helpers shared by the applets and the shell: path arithmetic in busybox's
//! terms, sorted directory listings, symlink resolution, the `/dev` names the toolbox provides
//! itself, and the permission bits it shows (WASI has none).

use std::io;

use crate::sys::{self, Kind};

/// Device paths served by the toolbox itself: the container rootfs has no `/dev`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Null,
    Stdin,
    Stdout,
    Stderr,
}

pub fn device(path: &str) -> Option<Device> {
    match path {
        "/dev/null" => Some(Device::Null),
        "/dev/stdin" | "/dev/fd/0" => Some(Device::Stdin),
        "/dev/stdout" | "/dev/fd/1" | "/dev/tty" => Some(Device::Stdout),
        "/dev/stderr" | "/dev/fd/2" => Some(Device::Stderr),
        _ => None,
    }
}

/// `dir/name`, without doubling a slash.
pub fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') { format!("{dir}{name}") } else { format!("{dir}/{name}") }
}

/// The last component, as basename(1) gives it: trailing slashes ignored, `/` for the root.
pub fn basename(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return if path.is_empty() { "" } else { "/" };
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

/// The current directory as a string (`/` if it cannot be read).
pub fn cwd() -> String {
    std::env::current_dir().map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|_| "/".into())
}

/// `path` made absolute against the current directory and cleaned lexically: `.` dropped, `..`
/// pops a component (the shell's logical `cd`, which wasi-libc does not do for us).
pub fn absolute(path: &str) -> String {
    let full = if path.starts_with('/') { path.to_string() } else { join(&cwd(), path) };
    let mut parts: Vec<&str> = Vec::new();
    for part in full.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The names in directory `dir` (without `.` and `..`), sorted bytewise like busybox in the C
/// locale, so listings are deterministic.
pub fn sorted_entries(dir: &str) -> io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        names.push(entry?.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// The search path when `$PATH` is unset: Docker's default for Linux containers.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The first regular file called `name` in the directories of `path` (a `$PATH` value).
pub fn search_path(path: Option<&str>, name: &str) -> Option<String> {
    path.unwrap_or(DEFAULT_PATH)
        .split(':')
        .map(|dir| join(if dir.is_empty() { "." } else { dir }, name))
        .find(|candidate| sys::stat(candidate).is_ok_and(|s| s.kind == Kind::File))
}

/// Whether `path` exists (a dangling symlink counts).
pub fn exists(path: &str) -> bool {
    sys::lstat(path).is_ok()
}

/// Whether `path` is a directory, following symlinks.
pub fn is_dir(path: &str) -> bool {
    sys::stat(path).is_ok_and(|s| s.kind == Kind::Dir)
}

/// Resolves every symlink in `path` (readlink -f): the absolute, link-free path. The last
/// component may be missing; anything earlier must exist.
pub fn canonicalize(path: &str) -> io::Result<String> {
    let mut done: Vec<String> = Vec::new();
    let mut todo: Vec<String> = components_reversed(&absolute(path));
    let mut hops = 0;
    while let Some(part) = todo.pop() {
        if part == ".." {
            done.pop();
            continue;
        }
        if part == "." {
            continue;
        }
        let candidate = format!("/{}", done.iter().chain([&part]).map(String::as_str).collect::<Vec<_>>().join("/"));
        match std::fs::read_link(&candidate) {
            Ok(target) => {
                hops += 1;
                if hops > 40 {
                    return Err(io::Error::from_raw_os_error(libc::ELOOP));
                }
                let target = target.to_string_lossy().into_owned();
                if target.starts_with('/') {
                    done.clear();
                }
                todo.extend(components_reversed(&target));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound && !todo.is_empty() => return Err(e),
            Err(_) => done.push(part),
        }
    }
    Ok(format!("/{}", done.join("/")))
}

/// Non-empty components of `path`, last first (a stack to pop from).
fn components_reversed(path: &str) -> Vec<String> {
    path.split('/').filter(|p| !p.is_empty()).rev().map(str::to_string).collect()
}

/// The `ls -l` mode string: the kind's letter, then `rwx` three times with setuid, setgid and
/// sticky shown as `s`/`S` and `t`/`T`.
pub fn mode_string(kind: Kind, perm: u32) -> String {
    let kind = match kind {
        Kind::Dir => 'd',
        Kind::Symlink => 'l',
        Kind::CharDevice => 'c',
        Kind::BlockDevice => 'b',
        Kind::Socket => 's',
        Kind::Fifo => 'p',
        Kind::File | Kind::Unknown => '-',
    };
    let bit = |b: u32, c: char| if perm & b != 0 { c } else { '-' };
    let special = |x: u32, s: u32, set: char| match (perm & x != 0, perm & s != 0) {
        (true, true) => set,
        (false, true) => set.to_ascii_uppercase(),
        (true, false) => 'x',
        (false, false) => '-',
    };
    [
        kind,
        bit(0o400, 'r'),
        bit(0o200, 'w'),
        special(0o100, 0o4000, 's'),
        bit(0o040, 'r'),
        bit(0o020, 'w'),
        special(0o010, 0o2000, 's'),
        bit(0o004, 'r'),
        bit(0o002, 'w'),
        special(0o001, 0o1000, 't'),
    ]
    .iter()
    .collect()
}

/// The permission bits shown where the host keeps none (a directory that exists only as the
/// way to a mount): what a root-owned image would typically have.
pub fn default_perm(kind: Kind) -> u32 {
    match kind {
        Kind::Dir | Kind::Socket => 0o755,
        Kind::Symlink => 0o777,
        Kind::CharDevice => 0o666,
        Kind::BlockDevice => 0o660,
        Kind::File | Kind::Fifo | Kind::Unknown => 0o644,
    }
}

/// A size as busybox's `-h` shows it: bytes below 1024, else one decimal and a unit (`1.5K`).
pub fn human_size(bytes: u64) -> String {
    if bytes < 1024 {
        return bytes.to_string();
    }
    let mut value = bytes as f64;
    let mut unit = 'B';
    for u in ['K', 'M', 'G', 'T', 'P', 'E'] {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    format!("{value:.1}{unit}")
}

/// 512-byte blocks a file of `size` bytes occupies, guessed with 4 KiB allocation units: WASI
/// reports no block counts.
pub fn blocks(size: u64) -> u64 {
    size.div_ceil(4096) * 8
}

/// Disk usage of `path` in bytes (each size rounded up as in [`blocks`]), everything below a
/// directory included, symlinks not followed. `prune` leaves out a path and all below it;
/// `seen(path, bytes, is_dir, depth)` hears each total once everything below it is counted.
pub fn usage(
    path: &str,
    depth: usize,
    prune: &dyn Fn(&str) -> bool,
    seen: &mut dyn FnMut(&str, u64, bool, usize),
) -> u64 {
    usage_once(path, depth, prune, seen, &mut std::collections::HashSet::new())
}

/// [`usage`], counting a file with several hard links once (as busybox's `du` does: the base
/// image links one program under a hundred names).
fn usage_once(
    path: &str,
    depth: usize,
    prune: &dyn Fn(&str) -> bool,
    seen: &mut dyn FnMut(&str, u64, bool, usize),
    inodes: &mut std::collections::HashSet<(u64, u64)>,
) -> u64 {
    let Ok(st) = sys::lstat(path) else { return 0 };
    let counted = st.kind == Kind::Dir || st.nlink < 2 || inodes.insert((st.dev, st.ino));
    let mut total = if st.kind == Kind::Symlink || !counted { 0 } else { blocks(st.size) * 512 };
    if st.kind == Kind::Dir {
        for name in sorted_entries(path).unwrap_or_default() {
            let child = join(path, &name);
            if !prune(&child) {
                total += usage_once(&child, depth + 1, prune, seen, inodes);
            }
        }
    }
    seen(path, total, st.kind == Kind::Dir, depth);
    total
}
