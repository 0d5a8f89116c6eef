//! Guest-side bindings of Porthole's process interface: the `porthole` import module that the
//! host offers to guests that import it (plain WASI programs never see it). The contract —
//! what each call does and which errno it gives — is in the project's ARCHITECTURE.md
//! ("The process interface"); this crate only declares the imports once and wraps them safely,
//! so no guest declares them twice.
//!
//! Only built for `wasm32-wasip1`; on other targets every call fails with `Unsupported`, so the
//! pure logic of a guest that uses it still compiles and unit-tests natively.

use std::io;

/// A process id in the container's process table (the main process is 1).
pub type Pid = u32;

/// How a process ended: its exit code, or 128 + the signal that ended it (as shells report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finished {
    pub pid: Pid,
    pub status: u32,
}

/// Signals the host delivers.
pub mod signal {
    pub const HUP: u32 = 1;
    pub const INT: u32 = 2;
    pub const KILL: u32 = 9;
    pub const PIPE: u32 = 13;
    pub const TERM: u32 = 15;
}

/// The TTY's line discipline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtyMode {
    /// The host edits lines (echo, erase, Ctrl-U, Ctrl-D ends input).
    Canonical = 0,
    /// Bytes as typed, no echo: the program edits lines itself.
    Raw = 1,
}

/// A descriptor slot of a child: a duplicate of one of the caller's descriptors, or closed.
pub const CLOSED: u32 = u32::MAX;

/// What to start: `program` as `execvp` takes it (with a `/` a path, else looked up in the
/// `PATH` of `env`), with these arguments (`argv[0]` included), environment, working
/// directory, and descriptors (`fds[i]` is the caller's descriptor that becomes the child's `i`).
pub struct Command<'a> {
    pub program: &'a str,
    pub argv: &'a [String],
    pub env: &'a [String],
    pub cwd: &'a str,
    pub fds: &'a [u32],
}

#[cfg(target_os = "wasi")]
mod imports {
    #[link(wasm_import_module = "porthole")]
    unsafe extern "C" {
        #[allow(clippy::too_many_arguments)]
        pub fn proc_spawn(
            path: *const u8,
            path_len: usize,
            argv: *const u8,
            argv_len: usize,
            env: *const u8,
            env_len: usize,
            cwd: *const u8,
            cwd_len: usize,
            fds: *const u32,
            fds_len: usize,
            pid_out: *mut u32,
        ) -> u32;
        pub fn proc_wait(pid: i32, flags: u32, result_out: *mut u32) -> u32;
        pub fn proc_kill(pid: u32, signal: u32) -> u32;
        pub fn proc_sigmask(mask: u64) -> u32;
        pub fn proc_sigpending(mask_out: *mut u64) -> u32;
        pub fn proc_foreground(pids: *const u32, n: usize) -> u32;
        pub fn proc_pipe(fds_out: *mut u32) -> u32;
        pub fn proc_self(pid_out: *mut u32) -> u32;
        pub fn proc_list(buf: *mut u8, buf_len: usize, used_out: *mut usize) -> u32;
        pub fn path_mode_get(dirfd: u32, flags: u32, path: *const u8, path_len: usize, mode_out: *mut u32) -> u32;
        pub fn path_chmod(dirfd: u32, flags: u32, path: *const u8, path_len: usize, mode: u32) -> u32;
        pub fn tty_setmode(fd: u32, mode: u32) -> u32;
    }
    unsafe extern "C" {
        /// wasi-libc's own mapping of a path (absolute, or relative to its cwd) to a preopen
        /// and a path relative to it; the same one `open()` uses.
        pub fn __wasilibc_find_relpath(
            path: *const core::ffi::c_char,
            abs_prefix: *mut *const core::ffi::c_char,
            relative_path: *mut *mut core::ffi::c_char,
            relative_path_len: usize,
        ) -> core::ffi::c_int;
    }
}

/// The WASI errnos the host returns, as `io::Error`s with the matching Linux code.
fn check(errno: u32) -> io::Result<()> {
    if errno == 0 { Ok(()) } else { Err(io::Error::from_raw_os_error(errno as i32)) }
}

fn nul_joined(items: &[String]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(items.iter().map(|s| s.len() + 1).sum());
    for item in items {
        buf.extend_from_slice(item.as_bytes());
        buf.push(0);
    }
    buf
}

#[cfg(target_os = "wasi")]
mod wasi_impl {
    use super::*;
    use std::ffi::CString;

    pub fn spawn(cmd: &Command) -> io::Result<Pid> {
        let argv = nul_joined(cmd.argv);
        let env = nul_joined(cmd.env);
        let mut pid = 0u32;
        check(unsafe {
            imports::proc_spawn(
                cmd.program.as_ptr(),
                cmd.program.len(),
                argv.as_ptr(),
                argv.len(),
                env.as_ptr(),
                env.len(),
                cmd.cwd.as_ptr(),
                cmd.cwd.len(),
                cmd.fds.as_ptr(),
                cmd.fds.len(),
                &mut pid,
            )
        })?;
        Ok(pid)
    }

    pub fn wait(pid: Option<Pid>, no_hang: bool) -> io::Result<Option<Finished>> {
        let mut out = [0u32; 2];
        let pid = pid.map_or(-1, |p| p as i32);
        check(unsafe { imports::proc_wait(pid, no_hang as u32, out.as_mut_ptr()) })?;
        Ok((out[0] != 0).then_some(Finished { pid: out[0], status: out[1] }))
    }

    pub fn kill(pid: Pid, signal: u32) -> io::Result<()> {
        check(unsafe { imports::proc_kill(pid, signal) })
    }

    pub fn set_sigmask(mask: u64) -> io::Result<()> {
        check(unsafe { imports::proc_sigmask(mask) })
    }

    pub fn take_pending() -> io::Result<u64> {
        let mut mask = 0u64;
        check(unsafe { imports::proc_sigpending(&mut mask) })?;
        Ok(mask)
    }

    pub fn set_foreground(pids: &[Pid]) -> io::Result<()> {
        check(unsafe { imports::proc_foreground(pids.as_ptr(), pids.len()) })
    }

    pub fn pipe() -> io::Result<(u32, u32)> {
        let mut fds = [0u32; 2];
        check(unsafe { imports::proc_pipe(fds.as_mut_ptr()) })?;
        Ok((fds[0], fds[1]))
    }

    pub fn self_pid() -> io::Result<Pid> {
        let mut pid = 0u32;
        check(unsafe { imports::proc_self(&mut pid) })?;
        Ok(pid)
    }

    pub fn process_table() -> io::Result<String> {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let mut used = 0usize;
            let errno = unsafe { imports::proc_list(buf.as_mut_ptr(), buf.len(), &mut used) };
            // WASI's ERANGE (68; Linux's 34 is WASI's EMLINK).
            if errno == 68 {
                buf.resize(used.max(buf.len() * 2), 0);
                continue;
            }
            check(errno)?;
            buf.truncate(used);
            return String::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e));
        }
    }

    /// `(preopen fd, path relative to it)` for `path`, as wasi-libc's `open()` finds them.
    fn locate(path: &str) -> io::Result<(u32, String)> {
        let c_path = CString::new(path).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let mut prefix: *const core::ffi::c_char = core::ptr::null();
        let mut rel = vec![0 as core::ffi::c_char; 4096];
        let fd =
            unsafe { imports::__wasilibc_find_relpath(c_path.as_ptr(), &mut prefix, &mut rel.as_mut_ptr(), rel.len()) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let rel = unsafe { std::ffi::CStr::from_ptr(rel.as_ptr()) }.to_string_lossy().into_owned();
        Ok((fd as u32, rel))
    }

    pub fn mode(path: &str, follow: bool) -> io::Result<u32> {
        let (dirfd, rel) = locate(path)?;
        let mut mode = 0u32;
        check(unsafe { imports::path_mode_get(dirfd, follow as u32, rel.as_ptr(), rel.len(), &mut mode) })?;
        Ok(mode)
    }

    pub fn chmod(path: &str, mode: u32, follow: bool) -> io::Result<()> {
        let (dirfd, rel) = locate(path)?;
        check(unsafe { imports::path_chmod(dirfd, follow as u32, rel.as_ptr(), rel.len(), mode) })
    }

    pub fn set_tty_mode(fd: u32, mode: TtyMode) -> io::Result<()> {
        check(unsafe { imports::tty_setmode(fd, mode as u32) })
    }
}

#[cfg(not(target_os = "wasi"))]
mod wasi_impl {
    use super::*;
    fn unsupported<T>() -> io::Result<T> {
        Err(io::Error::new(io::ErrorKind::Unsupported, "Porthole's process interface exists only inside a guest"))
    }
    pub fn spawn(_: &Command) -> io::Result<Pid> {
        let _ = nul_joined;
        let _ = check;
        unsupported()
    }
    pub fn wait(_: Option<Pid>, _: bool) -> io::Result<Option<Finished>> {
        unsupported()
    }
    pub fn kill(_: Pid, _: u32) -> io::Result<()> {
        unsupported()
    }
    pub fn set_sigmask(_: u64) -> io::Result<()> {
        unsupported()
    }
    pub fn take_pending() -> io::Result<u64> {
        unsupported()
    }
    pub fn set_foreground(_: &[Pid]) -> io::Result<()> {
        unsupported()
    }
    pub fn pipe() -> io::Result<(u32, u32)> {
        unsupported()
    }
    pub fn self_pid() -> io::Result<Pid> {
        unsupported()
    }
    pub fn process_table() -> io::Result<String> {
        unsupported()
    }
    pub fn mode(_: &str, _: bool) -> io::Result<u32> {
        unsupported()
    }
    pub fn chmod(_: &str, _: u32, _: bool) -> io::Result<()> {
        unsupported()
    }
    pub fn set_tty_mode(_: u32, _: TtyMode) -> io::Result<()> {
        unsupported()
    }
}

/// Starts a program as a new process of the container; see [`Command`].
pub fn spawn(cmd: &Command) -> io::Result<Pid> {
    wasi_impl::spawn(cmd)
}
/// Waits for a child (`None`: any child); with `no_hang`, `Ok(None)` while none has finished.
pub fn wait(pid: Option<Pid>, no_hang: bool) -> io::Result<Option<Finished>> {
    wasi_impl::wait(pid, no_hang)
}
/// Sends `signal` to any process of the container.
pub fn kill(pid: Pid, signal: u32) -> io::Result<()> {
    wasi_impl::kill(pid, signal)
}
/// Signals in `mask` (bit n = signal n) become pending for the caller instead of ending it.
pub fn set_sigmask(mask: u64) -> io::Result<()> {
    wasi_impl::set_sigmask(mask)
}
/// Takes (and clears) the caller's pending signals.
pub fn take_pending() -> io::Result<u64> {
    wasi_impl::take_pending()
}
/// The processes a TTY's Ctrl-C interrupts.
pub fn set_foreground(pids: &[Pid]) -> io::Result<()> {
    wasi_impl::set_foreground(pids)
}
/// A new pipe: `(read end, write end)`.
pub fn pipe() -> io::Result<(u32, u32)> {
    wasi_impl::pipe()
}
/// The caller's pid.
pub fn self_pid() -> io::Result<Pid> {
    wasi_impl::self_pid()
}
/// The container's process table, one line per process (see ARCHITECTURE.md).
pub fn process_table() -> io::Result<String> {
    wasi_impl::process_table()
}
/// A file's Unix mode bits as the host keeps them.
pub fn mode(path: &str, follow: bool) -> io::Result<u32> {
    wasi_impl::mode(path, follow)
}
/// Sets a file's Unix mode bits.
pub fn chmod(path: &str, mode: u32, follow: bool) -> io::Result<()> {
    wasi_impl::chmod(path, mode, follow)
}
/// Sets the TTY's line discipline (`fd` must be the TTY).
pub fn set_tty_mode(fd: u32, mode: TtyMode) -> io::Result<()> {
    wasi_impl::set_tty_mode(fd, mode)
}
