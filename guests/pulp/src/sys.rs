//! The WASI preview 1 calls std does not offer: `poll_oneoff` over sockets and a non-blocking
//! `sock_accept`. Raw imports, with the subscription and event records laid out by hand
//! (witx: subscription 48 bytes, event 32 bytes, little-endian).

use std::io;
use std::time::Duration;

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    #[link_name = "poll_oneoff"]
    fn wasi_poll_oneoff(subs: *const Subscription, events: *mut Event, nsubs: u32, nevents: *mut u32) -> u16;
    #[link_name = "sock_accept"]
    fn wasi_sock_accept(fd: u32, flags: u16, fd_out: *mut u32) -> u16;
}

const EVENTTYPE_CLOCK: u8 = 0;
const EVENTTYPE_FD_READ: u8 = 1;
const EVENTTYPE_FD_WRITE: u8 = 2;
const CLOCKID_MONOTONIC: u32 = 1;
const FDFLAGS_NONBLOCK: u16 = 1 << 2;
const ERRNO_AGAIN: u16 = 6;

#[repr(C, align(8))]
#[derive(Clone, Copy)]
pub struct Subscription([u8; 48]);

#[repr(C, align(8))]
#[derive(Clone, Copy)]
pub struct Event([u8; 32]);

/// What a subscription waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    Read(u32),
    Write(u32),
    Timeout(Duration),
}

impl Subscription {
    pub fn new(userdata: u64, interest: Interest) -> Subscription {
        let mut b = [0u8; 48];
        b[0..8].copy_from_slice(&userdata.to_le_bytes());
        match interest {
            Interest::Read(fd) | Interest::Write(fd) => {
                b[8] = if matches!(interest, Interest::Read(_)) { EVENTTYPE_FD_READ } else { EVENTTYPE_FD_WRITE };
                b[16..20].copy_from_slice(&fd.to_le_bytes());
            }
            Interest::Timeout(d) => {
                b[8] = EVENTTYPE_CLOCK;
                b[16..20].copy_from_slice(&CLOCKID_MONOTONIC.to_le_bytes());
                let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
                b[24..32].copy_from_slice(&nanos.to_le_bytes());
            }
        }
        Subscription(b)
    }
}

/// Waits until at least one subscription fires; returns the userdata of each that did. A
/// readiness event carrying an error counts as ready: the read or write that follows reports it.
pub fn poll(subs: &[Subscription]) -> io::Result<Vec<u64>> {
    let mut events = vec![Event([0; 32]); subs.len()];
    let mut n = 0u32;
    // SAFETY: both buffers hold `subs.len()` records of the sizes the ABI defines.
    let errno = unsafe { wasi_poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), subs.len() as u32, &mut n) };
    if errno != 0 {
        return Err(io::Error::from_raw_os_error(errno.into()));
    }
    Ok(events[..n as usize].iter().map(|e| u64::from_le_bytes(e.0[0..8].try_into().unwrap())).collect())
}

/// Accepts a connection on listener `fd` without waiting; the new socket is non-blocking too.
/// `Ok(None)` when no connection is pending.
pub fn accept_nonblocking(fd: u32) -> io::Result<Option<u32>> {
    let mut out = 0u32;
    // SAFETY: `out` is a valid place for the new descriptor.
    match unsafe { wasi_sock_accept(fd, FDFLAGS_NONBLOCK, &mut out) } {
        0 => Ok(Some(out)),
        ERRNO_AGAIN => Ok(None),
        e => Err(io::Error::from_raw_os_error(e.into())),
    }
}
