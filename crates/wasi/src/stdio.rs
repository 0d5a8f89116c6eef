//! The guest's standard streams, supplied by the caller: pipes or files the engine captures as
//! logs, or a terminal for `-it`.

use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd};

/// What the guest reads as stdin.
pub enum Input {
    /// End of file at once, like `/dev/null`.
    Null,
    /// A host file descriptor (a pipe, a pty, a file): readable and pollable.
    File(std::fs::File),
    /// Any reader; always reported ready by `poll_oneoff`.
    Reader(Box<dyn Read + Send>),
}

impl Input {
    pub fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Input::Null => Ok(0),
            Input::File(f) => f.read(buf),
            Input::Reader(r) => r.read(buf),
        }
    }

    /// The descriptor to wait on, when there is one.
    pub fn pollable(&self) -> Option<BorrowedFd<'_>> {
        match self {
            Input::File(f) => Some(f.as_fd()),
            _ => None,
        }
    }
}

/// Where the guest's stdout or stderr goes.
pub type Output = Box<dyn Write + Send>;

/// The three standard streams and whether they behave as a terminal (`isatty` in the guest).
pub struct Stdio {
    pub stdin: Input,
    pub stdout: Output,
    pub stderr: Output,
    pub tty: bool,
}

impl Default for Stdio {
    fn default() -> Self {
        Self { stdin: Input::Null, stdout: Box::new(std::io::sink()), stderr: Box::new(std::io::sink()), tty: false }
    }
}
