//! Starting a program as a process through Porthole's process interface (`porthole_sys`): the
//! shell's commands (`sh::process`) and the applets that run a command (`env CMD`, `xargs CMD`,
//! `find -exec CMD`) share this, so that a command means the same program everywhere: a path
//! as is, else the first file of that name in `$PATH`.
//!
//! A stream in memory has no descriptor to hand over: bytes to read go to the child through a
//! pipe filled here, and output captured in memory comes back through a pipe drained here.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;

use porthole_sys::{self as ps, Pid};

use crate::ctx::{Ctx, Env};
use crate::stream::{Io, Output};
use crate::{fsx, sys};

/// A new host pipe as `(read end, write end)`.
pub fn pipe() -> io::Result<(File, File)> {
    let (r, w) = ps::pipe()?;
    Ok((sys::own_fd(r), sys::own_fd(w)))
}

/// The part of an input in memory that goes into the pipe before the spawn: whatever fits the
/// host pipe's buffer without blocking.
const PIPE_BUFFER: usize = 64 * 1024;

/// A child's descriptors and the parent's ends that exist only for it.
pub struct ChildFds {
    pub fds: Vec<u32>,
    /// Closed once the child has its copies.
    keep_until_spawned: Vec<File>,
    /// Input bytes for the child's stdin, written after the spawn (they may not fit the pipe).
    pub feed: Option<(File, Vec<u8>)>,
    /// Pipes whose output belongs in a stream in memory.
    pub drains: Vec<(File, Output)>,
}

impl ChildFds {
    /// The descriptors for a child whose streams are `io`: the caller's own descriptors where
    /// the streams are descriptors, pipes where they are memory, then `extra` (descriptors 3…,
    /// `ps::CLOSED` for a gap).
    pub fn new(io: &Io, extra: impl IntoIterator<Item = u32>) -> io::Result<ChildFds> {
        let mut c = ChildFds { fds: Vec::new(), keep_until_spawned: Vec::new(), feed: None, drains: Vec::new() };
        let stdin = match io.stdin.fd() {
            Some(fd) => fd,
            None => {
                let (r, mut w) = pipe()?;
                let bytes = io.stdin.take_bytes();
                let now = bytes.len().min(PIPE_BUFFER);
                w.write_all(&bytes[..now])?;
                let fd = raw(&r);
                c.keep_until_spawned.push(r);
                if now < bytes.len() {
                    c.feed = Some((w, bytes[now..].to_vec()));
                }
                fd
            }
        };
        c.fds.push(stdin);
        let stdout = c.output_fd(&io.stdout)?;
        c.fds.push(stdout);
        let stderr = if io.stderr.same(&io.stdout) { stdout } else { c.output_fd(&io.stderr)? };
        c.fds.push(stderr);
        c.fds.extend(extra);
        Ok(c)
    }

    fn output_fd(&mut self, out: &Output) -> io::Result<u32> {
        if let Some(fd) = out.fd() {
            return Ok(fd);
        }
        // Nowhere (`>/dev/null`, which the shell serves itself): the container's /dev/null
        // if it has one.
        if !out.is_capture()
            && let Ok(f) = std::fs::OpenOptions::new().write(true).open("/dev/null")
        {
            let fd = raw(&f);
            self.keep_until_spawned.push(f);
            return Ok(fd);
        }
        // A capture, or nowhere without a /dev/null: a pipe drained into the stream (which
        // drops what it is given), so a program's writes never fail.
        let (r, w) = pipe()?;
        let fd = raw(&w);
        self.keep_until_spawned.push(w);
        self.drains.push((r, out.clone()));
        Ok(fd)
    }

    /// Starts `program` (a path, as [`find_program`] gives it) with `argv` and `env` on these
    /// descriptors, in the current directory; a text file without `#!` runs as a shell script,
    /// as POSIX says for `ENOEXEC`. The parent's copies of the child's pipe ends close here.
    pub fn spawn(self, program: &str, argv: &[String], env: &Env) -> io::Result<Spawned> {
        // What was written and std still buffers must come out before the child's output.
        let _ = io::stdout().flush();
        let _ = io::stderr().flush();
        let env: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let cwd = fsx::cwd();
        let cmd = ps::Command { program, argv, env: &env, cwd: &cwd, fds: &self.fds };
        let pid = match ps::spawn(&cmd) {
            Err(e) if e.raw_os_error() == Some(libc::ENOEXEC) && is_text(program) => {
                let mut args = vec!["sh".to_string(), program.to_string()];
                args.extend(argv[1..].iter().cloned());
                ps::spawn(&ps::Command { program: "/bin/sh", argv: &args, ..cmd })?
            }
            other => other?,
        };
        drop(self.keep_until_spawned);
        Ok(Spawned { pid, feed: self.feed, drains: self.drains })
    }
}

/// A started child and what its parent must do for it before waiting.
pub struct Spawned {
    pub pid: Pid,
    pub feed: Option<(File, Vec<u8>)>,
    pub drains: Vec<(File, Output)>,
}

/// The program `name` names: a path as is, else the first file called `name` in `path`.
pub fn find_program(name: &str, path: Option<&str>) -> Option<String> {
    if name.contains('/') { Some(name.to_string()) } else { fsx::search_path(path, name) }
}

/// Runs `argv` as a program for an applet (`env CMD`, `xargs CMD`, `find -exec CMD`) with
/// `env` on `io`, and waits for it: its status, or busybox's report and 127 when it is not
/// found, 126 when it cannot run.
pub fn run(ctx: &Ctx, argv: &[String], env: &Env, io: &Io) -> i32 {
    let Some(first) = argv.first() else { return 0 };
    let not_found = || {
        ctx.warn(format_args!("can't execute '{first}': No such file or directory"));
        127
    };
    let Some(program) = find_program(first, env.get("PATH")) else { return not_found() };
    let _ = io.stdout.clone().flush();
    let started = ChildFds::new(io, None).and_then(|c| c.spawn(&program, argv, env));
    let spawned = match started {
        Ok(s) => s,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return not_found(),
        Err(e) => {
            // A directory cannot be run: execve's EACCES, as the shell reports it too.
            let why = match e.raw_os_error() {
                Some(libc::EISDIR) => "Permission denied".to_string(),
                _ => sys::describe(&e),
            };
            ctx.warn(format_args!("can't execute '{first}': {why}"));
            return 126;
        }
    };
    if let Some((mut pipe, bytes)) = spawned.feed {
        // A child that does not read it all ends the pipe: that is its business.
        let _ = pipe.write_all(&bytes);
    }
    drain_all(spawned.drains);
    match ps::wait(Some(spawned.pid), false) {
        Ok(Some(done)) => done.status as i32,
        Ok(None) => 0,
        Err(e) => {
            ctx.warn(format_args!("wait: {}", sys::describe(&e)));
            127
        }
    }
}

pub fn raw(f: &File) -> u32 {
    f.as_raw_fd() as u32
}

/// Reads every pipe to its end into its stream at once (a program may fill its stderr pipe
/// while its stdout is still being read).
pub fn drain_all(mut drains: Vec<(File, Output)>) {
    let mut buf = [0u8; 16 * 1024];
    while !drains.is_empty() {
        let fds: Vec<i32> = drains.iter().map(|(f, _)| f.as_raw_fd()).collect();
        let ready = match sys::poll_readable(&fds) {
            Ok(ready) => ready,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // Without poll, one after the other.
            Err(_) => vec![true; fds.len()],
        };
        let mut i = 0;
        drains.retain_mut(|(pipe, out)| {
            let readable = ready[i];
            i += 1;
            if !readable {
                return true;
            }
            match pipe.read(&mut buf) {
                Ok(0) => false,
                Ok(n) => out.write_all(&buf[..n]).is_ok(),
                Err(e) => e.kind() == io::ErrorKind::Interrupted,
            }
        });
    }
}

/// Whether the file starts as text (no NUL byte in its first block): a script without `#!`.
fn is_text(path: &str) -> bool {
    let mut head = [0u8; 512];
    File::open(path).and_then(|mut f| f.read(&mut head)).is_ok_and(|n| !head[..n].contains(&0))
}
