//! The toolbox's only `unsafe`: the few wasi-libc calls that std does not expose on
//! `wasm32-wasip1` — `isatty`, `stat`/`lstat` with inode, link count and device (std's
//! `std::os::wasi::fs::MetadataExt` is unstable), `strerror` for busybox's error texts, and the
//! descriptors the shell handles by number (pipes from the host, `poll` over several).

use std::ffi::{CStr, CString};
use std::io;

/// What kind of object a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    CharDevice,
    BlockDevice,
    Socket,
    Fifo,
    Unknown,
}

/// A point in time as seconds and nanoseconds since the epoch.
#[derive(Debug, Clone, Copy, Default)]
pub struct Time {
    pub secs: i64,
    pub nanos: u32,
}

/// The parts of `struct stat` that WASI fills in (it has no owners), with the permission bits
/// Porthole keeps (`path_mode_get`).
#[derive(Debug, Clone)]
pub struct Stat {
    pub kind: Kind,
    /// The mode's permission bits (`0o7777`): Porthole's, or the toolbox's usual ones for the
    /// kind where the host has none to give.
    pub perm: u32,
    pub size: u64,
    pub nlink: u64,
    pub dev: u64,
    pub ino: u64,
    pub atime: Time,
    pub mtime: Time,
    pub ctime: Time,
}

/// Whether descriptor `fd` is a terminal (the host reports a character device for a TTY).
pub fn isatty(fd: i32) -> bool {
    // SAFETY: isatty only inspects the descriptor number.
    unsafe { libc::isatty(fd) == 1 }
}

/// `stat(2)`: follows a final symlink.
pub fn stat(path: &str) -> io::Result<Stat> {
    call_stat(path, libc::stat, true)
}

/// `lstat(2)`: describes a final symlink itself.
pub fn lstat(path: &str) -> io::Result<Stat> {
    call_stat(path, libc::lstat, false)
}

type StatFn = unsafe extern "C" fn(*const libc::c_char, *mut libc::stat) -> libc::c_int;

fn call_stat(path: &str, f: StatFn, follow: bool) -> io::Result<Stat> {
    let c = CString::new(path).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `c` is NUL-terminated and `st` is a plain C struct that the call fills in.
    let st = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if f(c.as_ptr(), &mut st) != 0 {
            return Err(io::Error::last_os_error());
        }
        st
    };
    let kind = match st.st_mode & libc::S_IFMT {
        libc::S_IFREG => Kind::File,
        libc::S_IFDIR => Kind::Dir,
        libc::S_IFLNK => Kind::Symlink,
        libc::S_IFCHR => Kind::CharDevice,
        libc::S_IFBLK => Kind::BlockDevice,
        libc::S_IFSOCK => Kind::Socket,
        libc::S_IFIFO => Kind::Fifo,
        _ => Kind::Unknown,
    };
    let time = |secs: i64, nanos: u32| Time { secs, nanos };
    // wasi-libc's `stat` has `timespec` fields; glibc's (the native unit tests) has seconds
    // and nanoseconds apart.
    #[cfg(target_os = "wasi")]
    let (atime, mtime, ctime) = (
        time(st.st_atim.tv_sec, st.st_atim.tv_nsec as u32),
        time(st.st_mtim.tv_sec, st.st_mtim.tv_nsec as u32),
        time(st.st_ctim.tv_sec, st.st_ctim.tv_nsec as u32),
    );
    #[cfg(not(target_os = "wasi"))]
    let (atime, mtime, ctime) = (
        time(st.st_atime, st.st_atime_nsec as u32),
        time(st.st_mtime, st.st_mtime_nsec as u32),
        time(st.st_ctime, st.st_ctime_nsec as u32),
    );
    Ok(Stat {
        kind,
        perm: porthole_sys::mode(path, follow).map_or(crate::fsx::default_perm(kind), |m| m & 0o7777),
        size: st.st_size as u64,
        nlink: st.st_nlink as u64,
        dev: st.st_dev,
        ino: st.st_ino,
        atime,
        mtime,
        ctime,
    })
}

/// The C library's text for an `errno` value, as busybox prints it.
pub fn strerror(code: i32) -> String {
    // SAFETY: wasi-libc's strerror returns a pointer to a static NUL-terminated string.
    unsafe { CStr::from_ptr(libc::strerror(code)).to_string_lossy().into_owned() }
}

/// An I/O error as busybox words it: `strerror` text without Rust's `(os error N)` suffix.
pub fn describe(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(code) => strerror(code),
        None if err.kind() == io::ErrorKind::BrokenPipe => "Broken pipe".to_string(),
        None => err.to_string(),
    }
}

/// Waits until descriptor `fd` is readable or `timeout` passes; `true` if readable. wasi-libc's
/// `poll` is `poll_oneoff`, which the host ends early when the container is stopped.
pub fn wait_readable(fd: i32, timeout: std::time::Duration) -> bool {
    let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: `pfd` is one valid pollfd for the duration of the call.
    unsafe { libc::poll(&mut pfd, 1, ms) > 0 }
}

/// Takes ownership of descriptor `fd` (a pipe end the host just created for this process).
pub fn own_fd(fd: u32) -> std::fs::File {
    use std::os::fd::FromRawFd;
    // SAFETY: the caller hands over a descriptor that nothing else owns or closes.
    unsafe { std::fs::File::from_raw_fd(fd as i32) }
}

/// One byte from descriptor `fd`, unbuffered and without taking ownership of it; `None` at end
/// of input.
pub fn read_byte(fd: u32) -> io::Result<Option<u8>> {
    use std::io::Read;
    use std::os::fd::FromRawFd;
    // SAFETY: `fd` stays open: ManuallyDrop never closes the borrowed descriptor.
    let mut file = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd as i32) });
    let mut byte = [0u8; 1];
    Ok((file.read(&mut byte)? == 1).then_some(byte[0]))
}

/// Waits until one of `fds` is readable (or at its end); which ones are. wasi-libc's `poll` is
/// `poll_oneoff`, which the host's pipes support.
pub fn poll_readable(fds: &[i32]) -> io::Result<Vec<bool>> {
    let mut pfds: Vec<libc::pollfd> =
        fds.iter().map(|&fd| libc::pollfd { fd, events: libc::POLLIN, revents: 0 }).collect();
    // SAFETY: `pfds` is a valid array of `pfds.len()` pollfds for the duration of the call.
    if unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as _, -1) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(pfds.iter().map(|p| p.revents != 0).collect())
}
