//! What applets need beyond std: a terminal test, symlinks (std's WASI ones are unstable), and
//! the calls that only Porthole's process interface offers — file modes and the TTY's raw mode.
//! Those are behind the `porthole` feature: a module that imports them cannot be instantiated
//! by a host that lacks them, and every applet lives in this one module.

use std::io;
use std::path::Path;

/// Whether descriptor `fd` is a terminal (the host reports a character device for a TTY).
pub fn isatty(fd: i32) -> bool {
    // SAFETY: isatty only inspects the descriptor number.
    unsafe { libc::isatty(fd) == 1 }
}

/// `symlink(2)`: a link at `link` whose text is `target`.
pub fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    let c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_encoded_bytes())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
    };
    let (t, l) = (c(target)?, c(link)?);
    // SAFETY: both are NUL-terminated strings that live across the call.
    if unsafe { libc::symlink(t.as_ptr(), l.as_ptr()) } == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// The permission bits of `path` (not following a final symlink). WASI p1 has none: without
/// Porthole's mode calls this is what a new file or directory gets under the usual umask.
pub fn mode(path: &Path, is_dir: bool) -> u32 {
    #[cfg(feature = "porthole")]
    if let Some(mode) = path.to_str().and_then(|p| porthole_sys::mode(p, false).ok()) {
        return mode & 0o7777;
    }
    let _ = path;
    if is_dir { 0o755 } else { 0o644 }
}

/// Sets the permission bits of `path`; without Porthole's mode calls there is nowhere to keep them.
pub fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(feature = "porthole")]
    if let Some(p) = path.to_str() {
        return porthole_sys::chmod(p, mode & 0o7777, false);
    }
    let _ = (path, mode);
    Ok(())
}

/// Puts the TTY on `fd` into raw mode (`true`) or back to canonical line editing. Without
/// Porthole's TTY call the terminal stays canonical: keys arrive a line at a time.
pub fn raw_tty(fd: u32, raw: bool) -> io::Result<()> {
    #[cfg(feature = "porthole")]
    {
        let mode = if raw { porthole_sys::TtyMode::Raw } else { porthole_sys::TtyMode::Canonical };
        return porthole_sys::set_tty_mode(fd, mode);
    }
    #[allow(unreachable_code)]
    {
        let _ = (fd, raw);
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

/// An error as the C library words it, without Rust's "(os error N)".
pub fn describe(e: &io::Error) -> String {
    uucore::error::strip_errno(e)
}

/// Seconds since the epoch of a file's modification time (0 when WASI cannot tell).
pub fn mtime(md: &std::fs::Metadata) -> u64 {
    md.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs())
}

/// Sets a file's modification (and access) time to `secs` since the epoch.
pub fn set_mtime(path: &Path, secs: u64) -> io::Result<()> {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    let file = std::fs::File::open(path)?;
    file.set_times(std::fs::FileTimes::new().set_modified(t).set_accessed(t))
}
