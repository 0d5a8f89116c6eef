//! `poll_oneoff`: clock timeouts and readiness of stdin and sockets. Waiting happens in slices
//! so that a stop request ends a sleeping or polling guest promptly.

use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags};

use crate::abi::{EVENT_SIZE, SUBCLOCK_ABSTIME, SUBSCRIPTION_SIZE, clock, eventtype};
use crate::devices::OpenDevice;
use crate::errno::Errno;
use crate::fdtable::Descriptor;
use crate::host::{HostError, HostResult, Stopped, WasiHost};
use crate::memory::GuestMemory;
use crate::stdio::SharedInput;

/// Longest single wait before checking for a stop request again.
const WAIT_SLICE: Duration = Duration::from_millis(50);

/// Longest single wait while a host pipe or the TTY is among the descriptors waited on.
const HOST_STREAM_SLICE: Duration = Duration::from_millis(2);

enum Sub {
    Clock { userdata: u64, deadline: Instant },
    Fd { userdata: u64, kind: u8, fd: u32 },
}

struct Event {
    userdata: u64,
    error: u16,
    kind: u8,
    nbytes: u64,
}

impl WasiHost {
    pub fn poll_oneoff(
        &mut self,
        mem: &mut GuestMemory<'_>,
        subs_ptr: u32,
        events_ptr: u32,
        nsubs: u32,
        out: u32,
    ) -> HostResult<()> {
        if nsubs == 0 {
            return Err(Errno::Inval.into());
        }
        let subs = self.read_subscriptions(mem, subs_ptr, nsubs)?;
        mem.slice(events_ptr, nsubs.checked_mul(EVENT_SIZE).ok_or(Errno::Fault)?)?;
        let events = self.wait_for_events(&subs)?;
        for (i, e) in events.iter().enumerate() {
            let at = events_ptr + i as u32 * EVENT_SIZE;
            let mut rec = [0u8; EVENT_SIZE as usize];
            rec[0..8].copy_from_slice(&e.userdata.to_le_bytes());
            rec[8..10].copy_from_slice(&e.error.to_le_bytes());
            rec[10] = e.kind;
            rec[16..24].copy_from_slice(&e.nbytes.to_le_bytes());
            mem.write_bytes(at, &rec)?;
        }
        mem.write_u32(out, events.len() as u32)?;
        Ok(())
    }

    fn read_subscriptions(&self, mem: &GuestMemory<'_>, ptr: u32, n: u32) -> Result<Vec<Sub>, Errno> {
        let now = Instant::now();
        let mut subs = Vec::with_capacity(n as usize);
        for i in 0..n {
            let at = ptr.checked_add(i.checked_mul(SUBSCRIPTION_SIZE).ok_or(Errno::Fault)?).ok_or(Errno::Fault)?;
            let userdata = mem.read_u64(at)?;
            let kind = mem.read_u8(at + 8)?;
            let sub = match kind {
                eventtype::CLOCK => {
                    let id = mem.read_u32(at + 16)?;
                    let timeout = mem.read_u64(at + 24)?;
                    let flags = mem.read_u16(at + 40)?;
                    let wait = if flags & SUBCLOCK_ABSTIME != 0 {
                        let current = self.clock_now(id)?;
                        if id != clock::REALTIME && id != clock::MONOTONIC {
                            return Err(Errno::Inval);
                        }
                        timeout.saturating_sub(current)
                    } else {
                        self.clock_now(id)?;
                        timeout
                    };
                    let deadline =
                        now.checked_add(Duration::from_nanos(wait)).unwrap_or(now + Duration::from_secs(86400 * 365));
                    Sub::Clock { userdata, deadline }
                }
                eventtype::FD_READ | eventtype::FD_WRITE => Sub::Fd { userdata, kind, fd: mem.read_u32(at + 16)? },
                _ => return Err(Errno::Inval),
            };
            subs.push(sub);
        }
        Ok(subs)
    }

    fn wait_for_events(&self, subs: &[Sub]) -> HostResult<Vec<Event>> {
        loop {
            // A caught signal ends a wait on descriptors (EINTR), as it interrupts poll(2); a
            // plain sleep goes on (Rust's std panics on a failed sleep) and a stop ends it.
            if subs.iter().any(|s| matches!(s, Sub::Fd { .. })) {
                self.stop.check_interrupt()?;
            }
            let mut events = Vec::new();
            // Host pipes and the TTY have no descriptor to poll: looked at again each slice.
            let mut later = false;
            let mut waits: Vec<(usize, BorrowedFd<'_>, PollFlags)> = Vec::new();
            for (i, sub) in subs.iter().enumerate() {
                if let Sub::Fd { userdata, kind, fd } = *sub {
                    match self.fd_readiness(fd, kind) {
                        Ok(Readiness::Ready) => events.push(Event { userdata, error: 0, kind, nbytes: 0 }),
                        Ok(Readiness::Later) => later = true,
                        Ok(Readiness::Wait(fd, flags)) => waits.push((i, fd, flags)),
                        Err(e) => events.push(Event { userdata, error: e as u16, kind, nbytes: 0 }),
                    }
                }
            }
            let now = Instant::now();
            for sub in subs {
                if let Sub::Clock { userdata, deadline } = *sub
                    && deadline <= now
                {
                    events.push(Event { userdata, error: 0, kind: eventtype::CLOCK, nbytes: 0 });
                }
            }
            if !events.is_empty() {
                return Ok(events);
            }
            let next_deadline = subs
                .iter()
                .filter_map(|s| match s {
                    Sub::Clock { deadline, .. } => Some(*deadline),
                    _ => None,
                })
                .min();
            let longest = if later { HOST_STREAM_SLICE } else { WAIT_SLICE };
            let slice = next_deadline.map(|d| d.saturating_duration_since(now)).unwrap_or(longest).min(longest);
            if waits.is_empty() {
                if self.stop.wait(slice) {
                    return Err(HostError::Trap(wasmtime::Error::new(Stopped)));
                }
            } else {
                let mut pollfds: Vec<PollFd<'_>> = waits.iter().map(|(_, fd, flags)| PollFd::new(fd, *flags)).collect();
                let timeout = rustix::event::Timespec::try_from(slice)
                    .unwrap_or(rustix::event::Timespec { tv_sec: 0, tv_nsec: 50_000_000 });
                match rustix::event::poll(&mut pollfds, Some(&timeout)) {
                    Ok(_) | Err(rustix::io::Errno::INTR) => {}
                    Err(e) => return Err(Errno::from(std::io::Error::from(e)).into()),
                }
                let ready: Vec<usize> = pollfds
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| !p.revents().is_empty())
                    .map(|(k, _)| waits[k].0)
                    .collect();
                for i in ready {
                    if let Sub::Fd { userdata, kind, .. } = subs[i] {
                        events.push(Event { userdata, error: 0, kind, nbytes: 1 });
                    }
                }
                if !events.is_empty() {
                    return Ok(events);
                }
                if self.stop.is_requested() {
                    return Err(HostError::Trap(wasmtime::Error::new(Stopped)));
                }
            }
        }
    }

    /// Regular files and output streams are always ready; stdin from a descriptor and sockets
    /// are waited on with poll(2), borrowed from the table (not duplicated: a dup per socket
    /// per call would cost two system calls each, and could fail for want of descriptors).
    fn fd_readiness(&self, fd: u32, kind: u8) -> Result<Readiness<'_>, Errno> {
        let read = kind == eventtype::FD_READ;
        let flags = if read { PollFlags::IN } else { PollFlags::OUT };
        let ready = |r: bool| Ok(if r { Readiness::Ready } else { Readiness::Later });
        let fd = match self.fds.peek(fd)? {
            Descriptor::PipeRead(r) if read => return ready(r.ready()),
            Descriptor::PipeWrite(w) if !read => return ready(w.ready()),
            Descriptor::Stdin(SharedInput::Tty(t)) if read => return ready(t.ready()),
            Descriptor::Device(OpenDevice::Tty(t)) if read => return ready(t.input.ready()),
            Descriptor::Device(_) => return Ok(Readiness::Ready),
            Descriptor::Stdin(input) if read => match input.pollable() {
                Some(fd) => fd,
                None => return Ok(Readiness::Ready),
            },
            Descriptor::Stream(s) => s.as_fd(),
            Descriptor::Listener(l) if read => l.as_fd(),
            Descriptor::File(_) | Descriptor::Stdout(_) | Descriptor::Stderr(_) => return Ok(Readiness::Ready),
            _ => return Err(Errno::Badf),
        };
        Ok(Readiness::Wait(fd, flags))
    }
}

/// Blocks until `fd` is readable, waking every slice to honour a stop request.
pub(crate) fn wait_readable(fd: BorrowedFd<'_>, stop: &crate::host::StopSignal) -> HostResult<()> {
    loop {
        let mut p = [PollFd::new(&fd, PollFlags::IN)];
        let timeout = rustix::event::Timespec { tv_sec: 0, tv_nsec: WAIT_SLICE.as_nanos() as i64 };
        match rustix::event::poll(&mut p, Some(&timeout)) {
            Ok(n) if n > 0 => return Ok(()),
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(Errno::from(std::io::Error::from(e)).into()),
        }
        if stop.is_requested() {
            return Err(HostError::Trap(wasmtime::Error::new(Stopped)));
        }
    }
}

enum Readiness<'a> {
    Ready,
    /// Not now; no host descriptor to wait on.
    Later,
    Wait(BorrowedFd<'a>, PollFlags),
}
