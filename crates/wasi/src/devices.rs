//! The container's `/dev`: the character devices every Docker container has (null, zero, full,
//! random, urandom, tty, and the process's own stdin/stdout/stderr), served by the host itself.
//!
//! It is a mount of its own kind ([`crate::MountSource::Devices`]): the names below exist at its
//! top, nothing else does, and nothing can be created, removed or renamed there (the mount is
//! read-only, so those calls answer `EROFS`). Its host directory is an empty one, so any call
//! that reaches it without asking this table first finds nothing. No host device is ever
//! opened: reads and writes are computed here, `random` and `urandom` from the host's random
//! source (`getrandom`, as `random_get`).

use std::io::Write;
use std::sync::Arc;

use crate::abi::filetype;
use crate::errno::Errno;
use crate::filestat::Filestat;
use crate::stdio::SharedOutput;
use crate::tty::Tty;

/// One device node of `/dev`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Null,
    Zero,
    Full,
    Random,
    Urandom,
    /// The container's terminal (`-t`); `ENXIO` to open without one, as Linux answers a
    /// process without a controlling terminal.
    Tty,
    /// The process's own descriptor 0, 1 or 2: opening it duplicates that descriptor, as
    /// Linux's `/dev/stdin -> /proc/self/fd/0` reopens what fd 0 is.
    Std(u32),
}

/// Every node, in the order `ls` would not care about but `readdir` gives.
pub const ALL: [Device; 9] = [
    Device::Null,
    Device::Zero,
    Device::Full,
    Device::Random,
    Device::Urandom,
    Device::Tty,
    Device::Std(0),
    Device::Std(1),
    Device::Std(2),
];

impl Device {
    pub fn name(self) -> &'static str {
        match self {
            Device::Null => "null",
            Device::Zero => "zero",
            Device::Full => "full",
            Device::Random => "random",
            Device::Urandom => "urandom",
            Device::Tty => "tty",
            Device::Std(0) => "stdin",
            Device::Std(1) => "stdout",
            Device::Std(_) => "stderr",
        }
    }

    pub fn named(name: &[u8]) -> Option<Device> {
        ALL.into_iter().find(|d| d.name().as_bytes() == name)
    }

    /// A stable inode number per node, distinct from the directory's (which the empty host
    /// directory gives).
    fn ino(self) -> u64 {
        ALL.iter().position(|d| *d == self).map_or(0, |i| i as u64 + 1)
    }

    /// What `stat` tells: a character device of size 0 on the `/dev` mount's `dev`.
    pub fn filestat(self, dev: u64) -> Filestat {
        Filestat { dev, ino: self.ino(), filetype: filetype::CHARACTER_DEVICE, nlink: 1, ..Filestat::default() }
    }

    /// One read: `null` (and `full`'s reads are zeros, as Linux's) and the random sources fill
    /// the buffer at once; `null` is always at its end.
    pub fn read(self, buf: &mut [u8]) -> Result<usize, Errno> {
        match self {
            Device::Null => Ok(0),
            Device::Zero | Device::Full => {
                buf.fill(0);
                Ok(buf.len())
            }
            Device::Random | Device::Urandom => getrandom::fill(buf).map(|()| buf.len()).map_err(|_| Errno::Io),
            Device::Tty | Device::Std(_) => Err(Errno::Badf),
        }
    }

    /// One write of `len` bytes: discarded by all but `full`, which has no room (`ENOSPC`).
    /// Writing to the random sources adds nothing to the host's pool but succeeds, as Linux's
    /// does for an unprivileged writer's entropy.
    pub fn write(self, len: usize) -> Result<usize, Errno> {
        match self {
            Device::Full if len > 0 => Err(Errno::Nospc),
            Device::Tty | Device::Std(_) => Err(Errno::Badf),
            _ => Ok(len),
        }
    }
}

/// The container's terminal as `/dev/tty` gives it: keys from the same [`Tty`] as the stdin of
/// `-t`, output to the same stream as its stdout.
#[derive(Clone)]
pub(crate) struct Terminal {
    pub input: Arc<Tty>,
    pub output: SharedOutput,
}

impl Terminal {
    pub fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut w = self.output.lock().unwrap();
        w.write_all(bytes)?;
        w.flush()
    }
}

/// An open device, as a descriptor holds it.
#[derive(Clone)]
pub(crate) enum OpenDevice {
    Plain(Device),
    Tty(Terminal),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_nothing_else_exists() {
        for d in ALL {
            assert_eq!(Device::named(d.name().as_bytes()), Some(d));
        }
        assert_eq!(Device::named(b"sda"), None);
        assert_eq!(Device::named(b""), None);
    }

    #[test]
    fn reads_and_writes_as_linux() {
        let mut buf = [7u8; 8];
        assert_eq!(Device::Null.read(&mut buf), Ok(0));
        assert_eq!(Device::Zero.read(&mut buf), Ok(8));
        assert_eq!(buf, [0; 8]);
        assert_eq!(Device::Urandom.read(&mut buf), Ok(8));
        assert_eq!(Device::Null.write(5), Ok(5));
        assert_eq!(Device::Zero.write(5), Ok(5));
        assert_eq!(Device::Full.write(5), Err(Errno::Nospc));
        assert_eq!(Device::Full.write(0), Ok(0));
    }
}
