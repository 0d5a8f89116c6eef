//! The guest's standard streams, supplied by the caller: pipes or files the engine captures as
//! logs, or a terminal for `-it`.
//!
//! Inside the host every stream is shared (`Arc`), because a spawned process gets duplicates of
//! its parent's descriptors, as after `fork` + `dup2`: both write to the same log, read the same
//! stdin.

use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::{Arc, Mutex};

use crate::tty::Tty;

/// What the guest reads as stdin.
pub enum Input {
    /// End of file at once, like `/dev/null`.
    Null,
    /// A host file descriptor (a pipe, a pty, a file): readable and pollable.
    File(std::fs::File),
    /// Any reader; always reported ready by `poll_oneoff`.
    Reader(Box<dyn Read + Send>),
    /// The container's terminal (`-t`): the line discipline is applied here, on the guest's
    /// side, so guests can switch it (`tty_setmode`) and Ctrl-C becomes a signal.
    Tty(Arc<Tty>),
}

/// An [`Input`] as descriptors hold it: cloned by `proc_spawn` for a child.
#[derive(Clone)]
pub(crate) enum SharedInput {
    Null,
    File(Arc<std::fs::File>),
    Reader(Arc<Mutex<Box<dyn Read + Send>>>),
    Tty(Arc<Tty>),
}

impl From<Input> for SharedInput {
    fn from(i: Input) -> Self {
        match i {
            Input::Null => SharedInput::Null,
            Input::File(f) => SharedInput::File(Arc::new(f)),
            Input::Reader(r) => SharedInput::Reader(Arc::new(Mutex::new(r))),
            Input::Tty(t) => SharedInput::Tty(t),
        }
    }
}

impl SharedInput {
    /// One read of a plain stream (a TTY is read through [`Tty::read`], which can be
    /// interrupted).
    pub fn read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            SharedInput::Null | SharedInput::Tty(_) => Ok(0),
            SharedInput::File(f) => (&**f).read(buf),
            SharedInput::Reader(r) => r.lock().unwrap().read(buf),
        }
    }

    /// The descriptor to wait on, when there is one.
    pub fn pollable(&self) -> Option<BorrowedFd<'_>> {
        match self {
            SharedInput::File(f) => Some(f.as_fd()),
            _ => None,
        }
    }
}

/// Where the guest's stdout or stderr goes.
pub type Output = Box<dyn Write + Send>;

/// An [`Output`] as descriptors hold it, shared by every process writing to it.
pub(crate) type SharedOutput = Arc<Mutex<Output>>;

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
