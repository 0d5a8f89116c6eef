//! The container's terminal (`-t`): the line discipline a kernel pty applies, on the guest's
//! side of the stream, so that it acts as termios would for a process reading it.
//!
//! Typed bytes arrive raw (the client's terminal is raw) and are fed here by a thread of the
//! TTY's own. In canonical mode the host echoes and edits the line (`ICANON`, `ECHO`,
//! `ECHOE`, `ICRNL`); in raw mode bytes go to the reader as typed, unechoed. In both, Ctrl-C is
//! a signal (`ISIG`): the line is dropped and INT goes to the foreground processes, through
//! the hook the process table sets. Ctrl-D on an empty line gives the current reader one
//! end-of-file (a zero-length read) and nothing more: the next read waits for input again.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::host::{HostResult, StopSignal};
use crate::stdio::Output;

/// termios's two modes, as `tty_setmode` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtyMode {
    Canonical,
    Raw,
}

/// What a reader is handed, in order.
#[derive(Debug, PartialEq, Eq)]
enum Token {
    Bytes(Vec<u8>),
    /// Ctrl-D on an empty line: one zero-length read.
    Eof,
}

/// What one chunk of typed input produced.
#[derive(Debug, Default, PartialEq, Eq)]
struct Typed {
    echo: Vec<u8>,
    tokens: Vec<Token>,
    interrupt: bool,
}

const CTRL_C: u8 = 0x03;
const CTRL_D: u8 = 0x04;
const BACKSPACE: u8 = 0x08;
const CTRL_U: u8 = 0x15;
const DEL: u8 = 0x7f;

/// The line being edited and the mode; pure, fed by [`Tty`].
#[derive(Debug)]
struct Discipline {
    mode: TtyMode,
    line: Vec<u8>,
}

impl Discipline {
    fn feed(&mut self, input: &[u8]) -> Typed {
        let mut out = Typed::default();
        let mut raw = Vec::new();
        for &b in input {
            if b == CTRL_C {
                self.line.clear();
                raw.clear();
                if self.mode == TtyMode::Canonical {
                    out.echo.extend_from_slice(b"^C\n");
                }
                out.interrupt = true;
                continue;
            }
            if self.mode == TtyMode::Raw {
                raw.push(b);
                continue;
            }
            match b {
                // Echoed as `\n`: output processing (`onlcr`) shows it as `\r\n`.
                b'\r' | b'\n' => {
                    out.echo.push(b'\n');
                    let mut line = std::mem::take(&mut self.line);
                    line.push(b'\n');
                    out.tokens.push(Token::Bytes(line));
                }
                DEL | BACKSPACE => {
                    if self.erase_char() {
                        out.echo.extend_from_slice(b"\x08 \x08");
                    }
                }
                CTRL_U => {
                    while self.erase_char() {
                        out.echo.extend_from_slice(b"\x08 \x08");
                    }
                }
                CTRL_D if self.line.is_empty() => out.tokens.push(Token::Eof),
                CTRL_D => out.tokens.push(Token::Bytes(std::mem::take(&mut self.line))),
                b'\t' => {
                    self.line.push(b);
                    out.echo.push(b);
                }
                c if c < 0x20 => {
                    self.line.push(c);
                    out.echo.extend_from_slice(&[b'^', c + 0x40]);
                }
                c => {
                    self.line.push(c);
                    out.echo.push(c);
                }
            }
        }
        if !raw.is_empty() {
            out.tokens.push(Token::Bytes(raw));
        }
        out
    }

    /// Removes the last character (all bytes of a UTF-8 sequence); false on an empty line.
    fn erase_char(&mut self) -> bool {
        while let Some(b) = self.line.pop() {
            if b & 0xc0 != 0x80 {
                return true;
            }
        }
        false
    }
}

struct State {
    discipline: Discipline,
    ready: VecDeque<Token>,
    /// The typed stream itself ended (the client's stdin closed): every read is end of file.
    closed: bool,
}

/// Called with no lock held when Ctrl-C is typed: the process table sends INT to the
/// foreground processes.
pub type InterruptHook = Box<dyn Fn() + Send + Sync>;

/// A container's terminal, shared by every process that has it as a descriptor.
pub struct Tty {
    state: Mutex<State>,
    changed: Condvar,
    echo: Mutex<Output>,
    on_interrupt: Mutex<Option<InterruptHook>>,
}

/// How long a blocked reader sleeps before looking at its signals again.
const SIGNAL_CHECK: Duration = Duration::from_millis(20);

impl Tty {
    /// A terminal fed from `typed` (raw bytes from the client) on a thread of its own, echoing
    /// to `echo` (the container's output). The thread ends with `typed`.
    pub fn new(typed: impl Read + Send + 'static, echo: Output) -> Arc<Tty> {
        let tty = Arc::new(Tty {
            state: Mutex::new(State {
                discipline: Discipline { mode: TtyMode::Canonical, line: Vec::new() },
                ready: VecDeque::new(),
                closed: false,
            }),
            changed: Condvar::new(),
            echo: Mutex::new(echo),
            on_interrupt: Mutex::new(None),
        });
        let feeder = tty.clone();
        let spawned = std::thread::Builder::new().name("tty".into()).spawn(move || {
            let mut typed = typed;
            let mut buf = [0u8; 4096];
            loop {
                match typed.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => feeder.feed(&buf[..n]),
                }
            }
            feeder.state.lock().unwrap().closed = true;
            feeder.changed.notify_all();
        });
        if spawned.is_err() {
            tty.state.lock().unwrap().closed = true;
        }
        tty
    }

    /// Who hears Ctrl-C (the container's process table).
    pub fn on_interrupt(&self, hook: InterruptHook) {
        *self.on_interrupt.lock().unwrap() = Some(hook);
    }

    pub fn set_mode(&self, mode: TtyMode) {
        let typed_ahead = {
            let mut s = self.state.lock().unwrap();
            if mode == TtyMode::Raw && !s.discipline.line.is_empty() {
                // A line being edited is handed over as typed, as termios does on ICANON off.
                let line = std::mem::take(&mut s.discipline.line);
                s.ready.push_back(Token::Bytes(line));
            }
            // Bytes typed ahead in raw mode that no one has read yet (a shell's line editor hands
            // the terminal back before running `cat`, while the user already types cat's input)
            // are edited as canonical input now, as if typed after the switch: the kernel would
            // hand them over unedited (`\r` and Ctrl-D as bytes), which no reader expects.
            let typed_ahead: Vec<u8> = if mode == TtyMode::Canonical && s.discipline.mode == TtyMode::Raw {
                s.ready.drain(..).flat_map(|t| if let Token::Bytes(b) = t { b } else { Vec::new() }).collect()
            } else {
                Vec::new()
            };
            s.discipline.mode = mode;
            typed_ahead
        };
        self.changed.notify_all();
        if !typed_ahead.is_empty() {
            self.feed(&typed_ahead);
        }
    }

    fn feed(&self, bytes: &[u8]) {
        let typed = {
            let mut s = self.state.lock().unwrap();
            let typed = s.discipline.feed(bytes);
            if typed.interrupt {
                // Input typed before Ctrl-C and not yet read is flushed, as with ISIG.
                s.ready.clear();
            }
            s.ready.extend(typed.tokens);
            typed.echo
        };
        self.changed.notify_all();
        if !typed.is_empty() {
            let mut echo = self.echo.lock().unwrap();
            let _ = echo.write_all(&typed).and_then(|()| echo.flush());
        }
        if bytes.contains(&CTRL_C)
            && let Some(hook) = &*self.on_interrupt.lock().unwrap()
        {
            hook();
        }
    }

    /// Reads what is ready (in canonical mode at most one line), blocking until there is
    /// something; a caught signal ends the wait with `EINTR`, a stop ends the guest.
    pub(crate) fn read(&self, buf: &mut [u8], stop: &StopSignal) -> HostResult<usize> {
        let mut s = self.state.lock().unwrap();
        loop {
            let closed = s.closed;
            match s.ready.front_mut() {
                Some(Token::Eof) => {
                    s.ready.pop_front();
                    return Ok(0);
                }
                Some(Token::Bytes(bytes)) => {
                    let n = buf.len().min(bytes.len());
                    buf[..n].copy_from_slice(&bytes[..n]);
                    bytes.drain(..n);
                    if bytes.is_empty() {
                        s.ready.pop_front();
                    }
                    return Ok(n);
                }
                None if closed => return Ok(0),
                None => {}
            }
            stop.check_interrupt()?;
            s = self.changed.wait_timeout(s, SIGNAL_CHECK).unwrap().0;
        }
    }

    /// Would a read return now?
    pub(crate) fn ready(&self) -> bool {
        let s = self.state.lock().unwrap();
        !s.ready.is_empty() || s.closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(input: &[u8]) -> Typed {
        Discipline { mode: TtyMode::Canonical, line: Vec::new() }.feed(input)
    }

    fn bytes(t: &Typed) -> Vec<u8> {
        t.tokens
            .iter()
            .flat_map(|t| match t {
                Token::Bytes(b) => b.clone(),
                Token::Eof => b"<EOF>".to_vec(),
            })
            .collect()
    }

    #[test]
    fn canonical_mode() {
        let t = feed(b"ls\r");
        assert_eq!((t.echo.as_slice(), bytes(&t).as_slice()), (&b"ls\n"[..], &b"ls\n"[..]));
        let t = feed(b"lx\x7fs\r");
        assert_eq!(bytes(&t), b"ls\n");
        assert_eq!(t.echo, b"lx\x08 \x08s\n");
        assert_eq!(feed(b"\x7f").echo, b"");
        assert_eq!(bytes(&feed("é\x7f\r".as_bytes())), b"\n");
        assert_eq!(feed(b"\x04").tokens, [Token::Eof]);
        assert_eq!(bytes(&feed(b"ab\x04")), b"ab");
        let t = feed(b"ab\x03");
        assert_eq!((bytes(&t).as_slice(), t.interrupt, t.echo.as_slice()), (&b""[..], true, &b"ab^C\n"[..]));
        assert_eq!(bytes(&feed(b"abc\x15x\r")), b"x\n");
    }

    #[test]
    fn raw_mode_passes_bytes_but_ctrl_c_is_a_signal() {
        let mut d = Discipline { mode: TtyMode::Raw, line: Vec::new() };
        let t = d.feed(b"a\x1b[A\x04");
        assert_eq!((bytes(&t).as_slice(), t.echo.as_slice()), (&b"a\x1b[A\x04"[..], &b""[..]));
        assert!(d.feed(b"x\x03").interrupt);
    }

    #[test]
    fn lines_survive_chunking() {
        let mut d = Discipline { mode: TtyMode::Canonical, line: Vec::new() };
        assert!(d.feed(b"ec").tokens.is_empty());
        assert_eq!(bytes(&d.feed(b"ho\r")), b"echo\n");
    }

    #[test]
    fn bytes_typed_ahead_in_raw_mode_are_edited_when_canonical_mode_returns() {
        let tty = Tty::new(std::io::empty(), Box::new(std::io::sink()));
        tty.set_mode(TtyMode::Raw);
        tty.feed(b"typed line\r\x04");
        tty.set_mode(TtyMode::Canonical);
        let stop = StopSignal::default();
        let mut buf = [0u8; 64];
        let mut read = || tty.read(&mut buf, &stop).ok();
        assert_eq!(read(), Some(11));
        assert_eq!(read(), Some(0), "Ctrl-D is one end of file");
        assert_eq!(&buf[..11], b"typed line\n");
    }

    #[test]
    fn ctrl_d_gives_one_end_of_file_then_reading_goes_on() {
        let (r, mut w) = std::io::pipe().unwrap();
        let tty = Tty::new(r, Box::new(std::io::sink()));
        w.write_all(b"\x04").unwrap();
        let stop = StopSignal::default();
        let mut buf = [0u8; 16];
        assert_eq!(tty.read(&mut buf, &stop).ok(), Some(0));
        w.write_all(b"more\r").unwrap();
        assert_eq!(tty.read(&mut buf, &stop).ok(), Some(5));
        assert_eq!(&buf[..5], b"more\n");
        drop(w);
        assert_eq!(tty.read(&mut buf, &stop).ok(), Some(0));
        assert_eq!(tty.read(&mut buf, &stop).ok(), Some(0));
    }
}
