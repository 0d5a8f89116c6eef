//! Host pipes between the processes of a container (`proc_pipe`): a 64 KiB buffer, reads that
//! block until there are bytes or every write end is closed (end of file), writes that block
//! while the buffer is full (back-pressure) and fail once every read end is closed (the writer
//! then ends with SIGPIPE, as the kernel's default does).
//!
//! Each end counts its holders: a descriptor duplicated into a child (`proc_spawn`) is a clone
//! of the end, and dropping the last clone of every write end is what readers see as EOF.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::errno::Errno;
use crate::host::{HostResult, StopSignal};

/// As Linux's default pipe capacity.
pub const PIPE_CAPACITY: usize = 64 << 10;

/// How long a blocked end sleeps before looking at its process's signals again; data and
/// closing ends wake it at once.
const SIGNAL_CHECK: Duration = Duration::from_millis(20);

#[derive(Default)]
struct State {
    buf: VecDeque<u8>,
    readers: usize,
    writers: usize,
}

#[derive(Default)]
struct Pipe {
    state: Mutex<State>,
    changed: Condvar,
}

/// The read end.
pub struct PipeReader(Arc<Pipe>);

/// The write end.
pub struct PipeWriter(Arc<Pipe>);

/// A new pipe's two ends.
pub fn pipe() -> (PipeReader, PipeWriter) {
    let p = Arc::new(Pipe::default());
    {
        let mut s = p.state.lock().unwrap();
        s.readers = 1;
        s.writers = 1;
    }
    (PipeReader(p.clone()), PipeWriter(p))
}

/// Why a write did not take every byte.
#[derive(Debug, PartialEq, Eq)]
pub enum WriteError {
    /// Every read end is closed: the writer gets SIGPIPE (or `EPIPE` when it catches it).
    Broken,
}

impl Pipe {
    /// Waits one slice for a change, then checks the waiting process's signals.
    fn wait<'a>(
        &self,
        guard: std::sync::MutexGuard<'a, State>,
        stop: &StopSignal,
    ) -> HostResult<std::sync::MutexGuard<'a, State>> {
        let (guard, _) = self.changed.wait_timeout(guard, SIGNAL_CHECK).unwrap();
        stop.check_interrupt()?;
        Ok(guard)
    }
}

impl PipeReader {
    /// Reads what is there (at most `buf.len()`), blocking until there is something or every
    /// writer is gone (0: end of file). A signal ends the wait (`EINTR`, or the guest's end).
    pub fn read(&self, buf: &mut [u8], stop: &StopSignal) -> HostResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut s = self.0.state.lock().unwrap();
        loop {
            if !s.buf.is_empty() {
                let n = buf.len().min(s.buf.len());
                for (dst, src) in buf.iter_mut().zip(s.buf.drain(..n)) {
                    *dst = src;
                }
                self.0.changed.notify_all();
                return Ok(n);
            }
            if s.writers == 0 {
                return Ok(0);
            }
            stop.check_interrupt()?;
            s = self.0.wait(s, stop)?;
        }
    }

    /// Would a read return now (bytes, or end of file)?
    pub fn ready(&self) -> bool {
        let s = self.0.state.lock().unwrap();
        !s.buf.is_empty() || s.writers == 0
    }
}

impl PipeWriter {
    /// Writes all of `data`, blocking while the buffer is full. A signal ends the wait: what
    /// was written so far is returned, or `EINTR` when nothing was.
    pub fn write(&self, data: &[u8], stop: &StopSignal) -> HostResult<Result<usize, WriteError>> {
        let mut s = self.0.state.lock().unwrap();
        let mut done = 0;
        loop {
            if s.readers == 0 {
                return Ok(Err(WriteError::Broken));
            }
            let room = PIPE_CAPACITY - s.buf.len();
            if room > 0 {
                let n = room.min(data.len() - done);
                s.buf.extend(&data[done..done + n]);
                done += n;
                self.0.changed.notify_all();
                if done == data.len() {
                    return Ok(Ok(done));
                }
            }
            match self.0.wait(s, stop) {
                Ok(g) => s = g,
                Err(_) if done > 0 => return Ok(Ok(done)),
                Err(e) => return Err(e),
            }
        }
    }

    /// Would a write take at least one byte now (or fail at once, no reader being left)?
    pub fn ready(&self) -> bool {
        let s = self.0.state.lock().unwrap();
        s.buf.len() < PIPE_CAPACITY || s.readers == 0
    }
}

impl Clone for PipeReader {
    fn clone(&self) -> Self {
        self.0.state.lock().unwrap().readers += 1;
        Self(self.0.clone())
    }
}

impl Clone for PipeWriter {
    fn clone(&self) -> Self {
        self.0.state.lock().unwrap().writers += 1;
        Self(self.0.clone())
    }
}

impl Drop for PipeReader {
    fn drop(&mut self) {
        self.0.state.lock().unwrap().readers -= 1;
        self.0.changed.notify_all();
    }
}

impl Drop for PipeWriter {
    fn drop(&mut self) {
        self.0.state.lock().unwrap().writers -= 1;
        self.0.changed.notify_all();
    }
}

impl From<WriteError> for Errno {
    fn from(_: WriteError) -> Self {
        Errno::Pipe
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_flow_with_back_pressure_and_end_of_file() {
        let (r, w) = pipe();
        let stop = StopSignal::default();
        let big = vec![7u8; 3 * PIPE_CAPACITY + 5];
        let writer = {
            let big = big.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let n = w.write(&big, &stop).ok().unwrap().unwrap();
                drop(w);
                n
            })
        };
        let mut got = Vec::new();
        let mut buf = [0u8; 10_000];
        loop {
            let n = r.read(&mut buf, &stop).ok().unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(writer.join().unwrap(), big.len());
        assert_eq!(got, big);
    }

    #[test]
    fn a_write_without_readers_is_broken() {
        let (r, w) = pipe();
        let w2 = w.clone();
        drop(r);
        assert_eq!(w2.write(b"x", &StopSignal::default()).ok().unwrap(), Err(WriteError::Broken));
        assert!(w.ready());
    }

    #[test]
    fn end_of_file_waits_for_every_writer() {
        let (r, w) = pipe();
        let w2 = w.clone();
        drop(w);
        assert!(!r.ready());
        drop(w2);
        assert!(r.ready());
        assert_eq!(r.read(&mut [0u8; 4], &StopSignal::default()).ok(), Some(0));
    }
}
