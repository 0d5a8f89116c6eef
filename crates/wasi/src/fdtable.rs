//! The guest's descriptor table: what each WASI fd number refers to.

use std::net::{TcpListener, TcpStream};

use crate::errno::Errno;
use crate::namespace::Location;
use crate::path::GuestPath;
use crate::stdio::{Input, Output};

/// An open regular file (or other non-directory) in some mount.
pub struct OpenFile {
    pub file: std::fs::File,
    pub location: Location,
    pub readable: bool,
    pub writable: bool,
    pub append: bool,
    /// Set by the first write, so closing reports a `Write` mutation only for written files.
    pub wrote: bool,
}

/// One `fd_readdir` entry, precomputed when a listing starts (cookie 0).
#[derive(Clone, Debug)]
pub struct DirEntry {
    pub name: Vec<u8>,
    pub ino: u64,
    pub filetype: u8,
}

/// An open directory. Directories are held by guest path, not by host handle: every operation
/// relative to it walks the namespace from this path, which is what lets `..` and symlinks
/// cross mounts.
pub struct OpenDir {
    pub path: GuestPath,
    /// The guest path a preopen announces through `fd_prestat_dir_name`.
    pub preopen: Option<String>,
    pub listing: Option<Vec<DirEntry>>,
}

pub enum Descriptor {
    Stdin(Input),
    Stdout(Output),
    Stderr(Output),
    File(OpenFile),
    Dir(OpenDir),
    Listener(TcpListener),
    Stream(TcpStream),
}

pub struct FdTable {
    slots: Vec<Option<Descriptor>>,
    open: usize,
    max_open: usize,
}

impl FdTable {
    pub fn new(max_open: usize) -> Self {
        Self { slots: Vec::new(), open: 0, max_open }
    }

    /// Puts `d` at the lowest free number, as POSIX `open` does; `EMFILE` past the cap.
    pub fn insert(&mut self, d: Descriptor) -> Result<u32, Errno> {
        if self.open >= self.max_open {
            return Err(Errno::Mfile);
        }
        let fd = match self.slots.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.slots[fd] = Some(d);
        self.open += 1;
        Ok(fd as u32)
    }

    pub fn get(&mut self, fd: u32) -> Result<&mut Descriptor, Errno> {
        self.slots.get_mut(fd as usize).and_then(Option::as_mut).ok_or(Errno::Badf)
    }

    pub fn remove(&mut self, fd: u32) -> Result<Descriptor, Errno> {
        let d = self.slots.get_mut(fd as usize).and_then(Option::take).ok_or(Errno::Badf)?;
        self.open -= 1;
        Ok(d)
    }

    /// `fd_renumber`: moves `from` onto `to`, closing whatever `to` held.
    pub fn renumber(&mut self, from: u32, to: u32) -> Result<Option<Descriptor>, Errno> {
        self.get(from)?;
        self.get(to)?;
        if from == to {
            return Ok(None);
        }
        let moved = self.remove(from)?;
        let closed = self.slots[to as usize].replace(moved);
        Ok(closed)
    }

    pub fn get_file(&mut self, fd: u32) -> Result<&mut OpenFile, Errno> {
        match self.get(fd)? {
            Descriptor::File(f) => Ok(f),
            Descriptor::Dir(_) => Err(Errno::Isdir),
            _ => Err(Errno::Badf),
        }
    }

    pub fn get_dir(&mut self, fd: u32) -> Result<&mut OpenDir, Errno> {
        match self.get(fd)? {
            Descriptor::Dir(d) => Ok(d),
            _ => Err(Errno::Notdir),
        }
    }

    /// Every descriptor still open, for reporting written files when the guest ends.
    pub fn drain(&mut self) -> Vec<Descriptor> {
        self.open = 0;
        self.slots.drain(..).flatten().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> Descriptor {
        Descriptor::Dir(OpenDir { path: GuestPath::root(), preopen: None, listing: None })
    }

    #[test]
    fn lowest_free_number_and_cap() {
        let mut t = FdTable::new(3);
        assert_eq!(t.insert(dir()), Ok(0));
        assert_eq!(t.insert(dir()), Ok(1));
        assert_eq!(t.insert(dir()), Ok(2));
        assert_eq!(t.insert(dir()).err(), Some(Errno::Mfile));
        t.remove(1).unwrap();
        assert_eq!(t.insert(dir()), Ok(1));
        assert_eq!(t.remove(7).err(), Some(Errno::Badf));
        assert!(t.renumber(0, 2).unwrap().is_some());
        assert_eq!(t.get(0).err(), Some(Errno::Badf));
        assert_eq!(t.insert(dir()), Ok(0));
    }
}
