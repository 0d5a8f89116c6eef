//! Sockets handed in as preopened listeners: `sock_accept` and the calls on accepted streams.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use crate::abi::{RECV_PEEK, SHUT_RD, SHUT_WR, fdflags};
use crate::errno::Errno;
use crate::fdtable::Descriptor;
use crate::host::{HostError, HostResult, Stopped, WasiHost};
use crate::memory::GuestMemory;

impl WasiHost {
    pub fn sock_accept(&mut self, mem: &mut GuestMemory<'_>, fd: u32, flags: u16, out: u32) -> HostResult<()> {
        // Room first: a connection taken off the queue that cannot be numbered would be lost.
        let room = self.fds.reserve()?;
        match self.accept_stream(fd, flags) {
            Ok(stream) => {
                let new_fd = self.fds.place(room, Descriptor::Stream(stream));
                mem.write_u32(out, new_fd)?;
                Ok(())
            }
            Err(e) => {
                self.fds.cancel(room);
                Err(e)
            }
        }
    }

    /// The next connection on listener `fd`, waiting for one unless `flags` says non-blocking.
    fn accept_stream(&mut self, fd: u32, flags: u16) -> HostResult<TcpStream> {
        let stop = self.stop.clone();
        let stream = loop {
            let Descriptor::Listener(l) = self.fds.get(fd)? else { return Err(Errno::Notsock.into()) };
            match l.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if flags & fdflags::NONBLOCK != 0 {
                        return Err(Errno::Again.into());
                    }
                    // The listener is non-blocking so that a stop request is noticed while the
                    // guest waits for a client.
                    let fd = rustix::fd::AsFd::as_fd(l);
                    let mut p = [rustix::event::PollFd::new(&fd, rustix::event::PollFlags::IN)];
                    let t = rustix::event::Timespec { tv_sec: 0, tv_nsec: 50_000_000 };
                    let _ = rustix::event::poll(&mut p, Some(&t));
                    if stop.wait(Duration::ZERO) {
                        return Err(HostError::Trap(wasmtime::Error::new(Stopped)));
                    }
                }
                Err(e) => return Err(e.into()),
            }
        };
        stream.set_nonblocking(flags & fdflags::NONBLOCK != 0)?;
        Ok(stream)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn sock_recv(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        count: u32,
        ri_flags: u16,
        out_len: u32,
        out_flags: u32,
    ) -> HostResult<()> {
        let iovs = mem.iovecs(iovs, count)?;
        let Descriptor::Stream(s) = self.fds.get(fd)? else { return Err(Errno::Notsock.into()) };
        let mut total = 0;
        if let Some(&(buf, len)) = iovs.iter().find(|(_, l)| *l > 0) {
            let dst = mem.slice_mut(buf, len)?;
            total = if ri_flags & RECV_PEEK != 0 { s.peek(dst)? } else { s.read(dst)? };
        }
        mem.write_u32(out_len, total as u32)?;
        mem.write_u16(out_flags, 0)?;
        Ok(())
    }

    pub fn sock_send(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        count: u32,
        _si_flags: u16,
        out_len: u32,
    ) -> HostResult<()> {
        let iovs = mem.iovecs(iovs, count)?;
        let Descriptor::Stream(s) = self.fds.get(fd)? else { return Err(Errno::Notsock.into()) };
        let total = write_stream(s, mem, &iovs)?;
        mem.write_u32(out_len, total as u32)?;
        Ok(())
    }

    pub fn sock_shutdown(&mut self, _mem: &mut GuestMemory<'_>, fd: u32, how: u8) -> HostResult<()> {
        let Descriptor::Stream(s) = self.fds.get(fd)? else { return Err(Errno::Notsock.into()) };
        let how = match how {
            h if h == SHUT_RD => Shutdown::Read,
            h if h == SHUT_WR => Shutdown::Write,
            h if h == SHUT_RD | SHUT_WR => Shutdown::Both,
            _ => return Err(Errno::Inval.into()),
        };
        s.shutdown(how)?;
        Ok(())
    }
}

/// Writes `iovs` to a socket as write(2) does: on a blocking socket everything, on a
/// non-blocking one as much as the socket takes, `EAGAIN` only if it took nothing. The count
/// returned is what went out: `write_all` would fail after a partial write and the guest, told
/// nothing was sent, would send those bytes twice.
pub(crate) fn write_stream(s: &mut TcpStream, mem: &GuestMemory<'_>, iovs: &[(u32, u32)]) -> HostResult<usize> {
    let mut total = 0usize;
    for &(buf, len) in iovs {
        let mut data = mem.slice(buf, len)?;
        while !data.is_empty() {
            match s.write(data) {
                Ok(0) => return Ok(total),
                Ok(n) => {
                    total += n;
                    data = &data[n..];
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // What was sent is reported; the error comes back on the next call.
                Err(_) if total > 0 => return Ok(total),
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(total)
}
