//! Abstract standard streams. WASI has no processes, so the shell runs applets as functions in
//! one program; each command's stdin, stdout and stderr are one of these: the real stdio, an
//! in-memory pipe buffer, a file, or nothing. Handles are shared (`Rc`), which is what `2>&1`
//! and a `while read` loop over one redirected file need.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Write};
use std::rc::Rc;

/// How much one pipeline stage may write before its writes fail with "Broken pipe", so that an
/// endless producer (`yes | head`) ends.
pub const PIPE_LIMIT: usize = 1 << 20;

enum Source {
    /// The program's stdin. std buffers it globally, so bytes the shell read ahead while
    /// reading a line stay available to the commands it runs.
    Stdin,
    Bytes(Cursor<Vec<u8>>),
    File(BufReader<File>),
    Empty,
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
    Pipe(Vec<u8>),
    File(File),
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

    /// An in-memory pipe buffer holding at most [`PIPE_LIMIT`] bytes.
    pub fn pipe() -> Self {
        Self::new(Sink::Pipe(Vec::new()))
    }

    pub fn file(f: File) -> Self {
        Self::new(Sink::File(f))
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

    /// What a pipe buffer collected (empty for other sinks), leaving it empty.
    pub fn take(&self) -> Vec<u8> {
        match &mut *self.0.borrow_mut() {
            Sink::Pipe(buf) => std::mem::take(buf),
            _ => Vec::new(),
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
            Sink::Pipe(data) => {
                let room = PIPE_LIMIT - data.len();
                if room == 0 && !buf.is_empty() {
                    return Err(io::ErrorKind::BrokenPipe.into());
                }
                let n = buf.len().min(room);
                data.extend_from_slice(&buf[..n]);
                Ok(n)
            }
            Sink::File(f) => f.write(buf),
            Sink::Null => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut *self.0.borrow_mut() {
            Sink::Stdout => io::stdout().flush(),
            Sink::Stderr => io::stderr().flush(),
            Sink::File(f) => f.flush(),
            Sink::Pipe(_) | Sink::Null => Ok(()),
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
