//! The `/dev` nodes as the `fd_*` and `path_*` calls meet them: opening one, reading, writing
//! and listing. What each device does is [`crate::devices`]; this is the glue to descriptors.

use crate::abi::filetype;
use crate::devices::{self, Device, OpenDevice};
use crate::errno::Errno;
use crate::fdtable::{Descriptor, DirEntry};
use crate::host::{HostResult, WasiHost};
use crate::memory::GuestMemory;
use crate::namespace::Location;
use crate::path::GuestPath;

impl WasiHost {
    /// The descriptor `open` gives for `device`: the device itself, the container's terminal,
    /// or (stdin/stdout/stderr) a duplicate of the process's own descriptor 0, 1 or 2 —
    /// `ENOENT` when that is closed, as Linux's dangling `/proc/self/fd/N` link would answer.
    pub(crate) fn open_device(&mut self, device: Device) -> Result<Descriptor, Errno> {
        match device {
            Device::Tty => self.terminal.clone().map(|t| Descriptor::Device(OpenDevice::Tty(t))).ok_or(Errno::Nxio),
            Device::Std(fd) => match self.fds.peek(fd) {
                Ok(d) => Ok(d.duplicate()?),
                Err(_) => Err(Errno::Noent),
            },
            plain => Ok(Descriptor::Device(OpenDevice::Plain(plain))),
        }
    }

    /// `fd_filestat_get` of a location in a `/dev` mount, when it is a device node.
    pub(crate) fn device_stat(&self, loc: &Location) -> Option<crate::filestat::Filestat> {
        let device = self.ns.device_at(loc)?;
        Some(device.filestat(self.ns.mount(loc.mount).dev))
    }

    /// The device nodes `readdir` of `dir` lists (none unless `dir` is the top of a `/dev`).
    pub(crate) fn device_entries(&self, dir: &GuestPath) -> Vec<DirEntry> {
        let mut entries = Vec::new();
        for device in devices::ALL {
            let mut path = dir.clone();
            path.push(device.name());
            let loc = self.ns.locate(&path);
            if let Some(stat) = self.device_stat(&loc) {
                entries.push(DirEntry {
                    name: device.name().into(),
                    ino: stat.ino,
                    filetype: filetype::CHARACTER_DEVICE,
                });
            }
        }
        entries
    }
}

/// One read of an open device into the first non-empty buffer, as for a stream.
pub(crate) fn read(
    host: &WasiHost,
    device: &OpenDevice,
    mem: &mut GuestMemory<'_>,
    iovs: &[(u32, u32)],
) -> HostResult<usize> {
    let Some(&(buf, len)) = iovs.iter().find(|(_, l)| *l > 0) else { return Ok(0) };
    let buf = mem.slice_mut(buf, len)?;
    match device {
        OpenDevice::Plain(d) => Ok(d.read(buf)?),
        OpenDevice::Tty(t) => t.input.read(buf, &host.stop),
    }
}

/// A write of every buffer to an open device.
pub(crate) fn write(device: &OpenDevice, mem: &GuestMemory<'_>, iovs: &[(u32, u32)]) -> HostResult<usize> {
    let mut total = 0;
    for &(buf, len) in iovs {
        total += match device {
            OpenDevice::Plain(d) => d.write(len as usize)?,
            OpenDevice::Tty(t) => {
                t.write(mem.slice(buf, len)?)?;
                len as usize
            }
        };
    }
    Ok(total)
}
