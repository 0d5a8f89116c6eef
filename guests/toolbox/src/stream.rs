//! Abstract standard streams of the shell's builtins and of an applet: the real stdio, an
//! in-memory capture buffer (`$(…)`), a file, or nothing. Handles are shared (`Rc`), which is
//! what `2>&1` and a `while read` loop over one redirected file need; a stream that is a real
//! descriptor says which ([`Input::fd`], [`Output::fd`]), so a program the shell starts gets
//! that descriptor, and `exec >FILE` retargets a stream for every holder ([`Output::retarget`]).

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Write};
use std::os::fd::AsRawFd;
use std::rc::Rc;

enum Source {
    /// The program's stdin. std buffers it globally, so bytes the shell read ahead while
    /// reading a line stay available to the commands it runs.
    Stdin,
    Bytes(Cursor<Vec<u8>>),
    File(BufReader<File>),
    Empty,
    /// Another stream's source, after `exec <&N`.
    Dup(Input),
}

/// A readable stream; clones share the read position.
#[derive(Clone)]
pub struct Input(Rc<RefCell<Source>>);

impl Input {
    pub fn stdin() -> Self {
        Self::new(Source::Stdin)
    }

    pub fn empty() -> Self {
        Self::new(Source::Empty)
    }

    pub fn bytes(data: Vec<u8>) -> Self {
        Self::new(Source::Bytes(Cursor::new(data)))
    }

    pub fn file(f: File) -> Self {
        Self::new(Source::File(BufReader::new(f)))
    }

    fn new(s: Source) -> Self {
        Self(Rc::new(RefCell::new(s)))
    }

    /// Whether this is the program's own stdin (which may be a terminal).
    pub fn is_stdin(&self) -> bool {
        matches!(*self.0.borrow(), Source::Stdin)
    }

    fn with<T>(&self, f: impl FnOnce(&mut dyn BufRead) -> io::Result<T>) -> io::Result<T> {
        match &mut *self.0.borrow_mut() {
            Source::Stdin => {
                // Whatever the commands wrote so far must be visible before we may block.
                io::stdout().flush().ok();
                f(&mut io::stdin().lock())
            }
            Source::Bytes(c) => f(c),
            Source::File(r) => f(r),
            Source::Empty => f(&mut io::empty()),
            Source::Dup(other) => other.with(f),
        }
    }

    /// The descriptor this stream reads, if it is one (not bytes in memory).
    pub fn fd(&self) -> Option<u32> {
        match &*self.0.borrow() {
            Source::Stdin => Some(0),
            Source::File(r) => Some(r.get_ref().as_raw_fd() as u32),
            Source::Dup(other) => other.fd(),
            Source::Bytes(_) | Source::Empty => None,
        }
    }

    /// The unread bytes of an in-memory stream (a here-document), taken.
    pub fn take_bytes(&self) -> Vec<u8> {
        match &mut *self.0.borrow_mut() {
            Source::Bytes(c) => {
                let at = c.position() as usize;
                let rest = c.get_ref().get(at..).unwrap_or_default().to_vec();
                c.set_position(c.get_ref().len() as u64);
                rest
            }
            Source::Dup(other) => other.take_bytes(),
            _ => Vec::new(),
        }
    }

    /// A new handle reading this stream (`<&N`), which `exec <&N` can retarget alone.
    pub fn dup(&self) -> Input {
        Input::new(Source::Dup(self.clone()))
    }

    /// From now on, every holder of this stream reads `other` (`exec <FILE`).
    pub fn retarget(&self, other: &Input) {
        if !Rc::ptr_eq(&self.0, &other.0) {
            *self.0.borrow_mut() = Source::Dup(other.clone());
        }
    }

    /// Reads one line including its `\n` into `buf`; 0 at end of input.
    pub fn read_line(&self, buf: &mut Vec<u8>) -> io::Result<usize> {
        self.with(|r| r.read_until(b'\n', buf))
    }

    pub fn read_to_end(&self, buf: &mut Vec<u8>) -> io::Result<usize> {
        self.with(|r| r.read_to_end(buf))
    }

    /// The lines of the rest of the input, without their `\n`.
    pub fn lines(&self) -> Lines {
        Lines(self.clone())
    }
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.with(|r| r.read(buf))
    }
}

/// Iterator over an [`Input`]'s lines as bytes (text need not be UTF-8).
pub struct Lines(Input);

impl Iterator for Lines {
    type Item = io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut line = Vec::new();
        match self.0.read_line(&mut line) {
            Ok(0) => None,
            Ok(_) => {
                if line.last() == Some(&b'\n') {
                    line.pop();
                }
                Some(Ok(line))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

enum Sink {
    Stdout,
    Stderr,
    /// Shared, so that a copy of the stream (`exec 2>&1` inside `$(…)`) fills the same buffer.
    Capture(Rc<RefCell<Vec<u8>>>),
    /// Shared so that `exec 2>&1` can copy where stdout goes now.
    File(Rc<File>),
    Null,
}

/// A writable stream; clones write to the same place.
#[derive(Clone)]
pub struct Output(Rc<RefCell<Sink>>);

impl Output {
    pub fn stdout() -> Self {
        Self::new(Sink::Stdout)
    }

    pub fn stderr() -> Self {
        Self::new(Sink::Stderr)
    }

    /// An in-memory buffer collecting what is written (`$(…)`), unbounded.
    pub fn capture() -> Self {
        Self::new(Sink::Capture(Rc::default()))
    }

    pub fn file(f: File) -> Self {
        Self::new(Sink::File(Rc::new(f)))
    }

    pub fn null() -> Self {
        Self::new(Sink::Null)
    }

    fn new(s: Sink) -> Self {
        Self(Rc::new(RefCell::new(s)))
    }

    /// Whether this is the program's own stdout and that is a terminal.
    pub fn is_terminal(&self) -> bool {
        matches!(*self.0.borrow(), Sink::Stdout) && crate::sys::isatty(1)
    }

    /// What a capture buffer collected (empty for other sinks), leaving it empty.
    pub fn take(&self) -> Vec<u8> {
        match &mut *self.0.borrow_mut() {
            Sink::Capture(buf) => std::mem::take(&mut *buf.borrow_mut()),
            _ => Vec::new(),
        }
    }

    /// The descriptor this stream writes, if it is one; `None` for a capture buffer or nothing.
    pub fn fd(&self) -> Option<u32> {
        match &*self.0.borrow() {
            Sink::Stdout => Some(1),
            Sink::Stderr => Some(2),
            Sink::File(f) => Some(f.as_raw_fd() as u32),
            Sink::Capture(_) | Sink::Null => None,
        }
    }

    /// Whether this is a capture buffer (which a program's output must be drained into).
    pub fn is_capture(&self) -> bool {
        matches!(&*self.0.borrow(), Sink::Capture(_))
    }

    /// Whether both handles write to the same place (`2>&1`).
    pub fn same(&self, other: &Output) -> bool {
        if Rc::ptr_eq(&self.0, &other.0) {
            return true;
        }
        match (&*self.0.borrow(), &*other.0.borrow()) {
            (Sink::Capture(a), Sink::Capture(b)) => Rc::ptr_eq(a, b),
            (Sink::File(a), Sink::File(b)) => Rc::ptr_eq(a, b),
            (Sink::Stdout, Sink::Stdout) | (Sink::Stderr, Sink::Stderr) => true,
            _ => false,
        }
    }

    /// A new handle writing where this one writes now (`>&N`): retargeting either later
    /// (`exec` inside a redirected group) leaves the other alone, as with a `dup`.
    pub fn dup(&self) -> Output {
        Output::new(self.current())
    }

    /// From now on, every holder of this stream writes where `other` writes now (`exec >FILE`,
    /// `exec 2>&1`); a later retargeting of `other` does not carry over.
    pub fn retarget(&self, other: &Output) {
        if !other.same(self) {
            let now = other.current();
            *self.0.borrow_mut() = now;
        }
    }

    /// A sink writing where this one writes now.
    fn current(&self) -> Sink {
        match &*self.0.borrow() {
            Sink::Stdout => Sink::Stdout,
            Sink::Stderr => Sink::Stderr,
            Sink::File(f) => Sink::File(f.clone()),
            Sink::Null => Sink::Null,
            Sink::Capture(buf) => Sink::Capture(buf.clone()),
        }
    }

    /// Writes `text`, ignoring failures: for diagnostics, which have nowhere else to go.
    pub fn note(&self, text: &str) {
        let mut w = self.clone();
        let _ = w.write_all(text.as_bytes());
        let _ = w.flush();
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut *self.0.borrow_mut() {
            Sink::Stdout => io::stdout().write(buf),
            Sink::Stderr => io::stderr().write(buf),
            Sink::Capture(data) => {
                data.borrow_mut().extend_from_slice(buf);
                Ok(buf.len())
            }
            Sink::File(f) => (&**f).write(buf),
            Sink::Null => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut *self.0.borrow_mut() {
            Sink::Stdout => io::stdout().flush(),
            Sink::Stderr => io::stderr().flush(),
            Sink::File(f) => (&**f).flush(),
            Sink::Capture(_) | Sink::Null => Ok(()),
        }
    }
}

/// The three standard streams of one command.
#[derive(Clone)]
pub struct Io {
    pub stdin: Input,
    pub stdout: Output,
    pub stderr: Output,
}

impl Io {
    /// The program's real standard streams.
    pub fn real() -> Self {
        Self { stdin: Input::stdin(), stdout: Output::stdout(), stderr: Output::stderr() }
    }
}
