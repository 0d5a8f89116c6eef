//! The `filestat` record, built from host metadata with the mount's `dev` in place of the
//! host's, so each mount looks like its own file system to the guest.

use cap_std::fs::{FileTypeExt, Metadata, MetadataExt};

use crate::abi::filetype;
use crate::errno::Errno;
use crate::memory::GuestMemory;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filestat {
    pub dev: u64,
    pub ino: u64,
    pub filetype: u8,
    pub nlink: u64,
    pub size: u64,
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

fn nanos(secs: i64, nsec: i64) -> u64 {
    u64::try_from(secs).unwrap_or(0).saturating_mul(1_000_000_000).saturating_add(u64::try_from(nsec).unwrap_or(0))
}

pub fn filetype_of(ft: cap_std::fs::FileType) -> u8 {
    if ft.is_dir() {
        filetype::DIRECTORY
    } else if ft.is_file() {
        filetype::REGULAR_FILE
    } else if ft.is_symlink() {
        filetype::SYMBOLIC_LINK
    } else if ft.is_block_device() {
        filetype::BLOCK_DEVICE
    } else if ft.is_char_device() {
        filetype::CHARACTER_DEVICE
    } else if ft.is_socket() {
        filetype::SOCKET_STREAM
    } else {
        filetype::UNKNOWN
    }
}

impl Filestat {
    pub fn from_metadata(md: &Metadata, dev: u64) -> Self {
        Self {
            dev,
            ino: md.ino(),
            filetype: filetype_of(md.file_type()),
            nlink: md.nlink(),
            size: md.size(),
            atim: nanos(md.atime(), md.atime_nsec()),
            mtim: nanos(md.mtime(), md.mtime_nsec()),
            ctim: nanos(md.ctime(), md.ctime_nsec()),
        }
    }

    /// A directory that exists only because a mount lies below it.
    pub fn virtual_dir(dev: u64) -> Self {
        Self { dev, filetype: filetype::DIRECTORY, nlink: 2, ..Self::default() }
    }

    pub fn write(&self, mem: &mut GuestMemory<'_>, ptr: u32) -> Result<(), Errno> {
        let mut rec = [0u8; 64];
        rec[0..8].copy_from_slice(&self.dev.to_le_bytes());
        rec[8..16].copy_from_slice(&self.ino.to_le_bytes());
        rec[16] = self.filetype;
        rec[24..32].copy_from_slice(&self.nlink.to_le_bytes());
        rec[32..40].copy_from_slice(&self.size.to_le_bytes());
        rec[40..48].copy_from_slice(&self.atim.to_le_bytes());
        rec[48..56].copy_from_slice(&self.mtim.to_le_bytes());
        rec[56..64].copy_from_slice(&self.ctim.to_le_bytes());
        mem.write_bytes(ptr, &rec)
    }
}
