//! The guest's descriptor table: what each WASI fd number refers to.

use std::net::{TcpListener, TcpStream};

use crate::abi::rights;
use crate::budget::FdLease;
use crate::devices::OpenDevice;
use crate::errno::Errno;
use crate::namespace::Location;
use crate::path::GuestPath;
use crate::pipe::{PipeReader, PipeWriter};
use crate::stdio::{SharedInput, SharedOutput};

/// An open regular file (or other non-directory) in some mount.
pub struct OpenFile {
    pub file: std::fs::File,
    pub location: Location,
    pub readable: bool,
    pub writable: bool,
    pub append: bool,
    /// `DSYNC`, `RSYNC`, `SYNC` and `NONBLOCK` as given at open (or `NONBLOCK` by
    /// `fd_fdstat_set_flags`), reported back by `fd_fdstat_get`.
    pub flags: u16,
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
    Stdin(SharedInput),
    Stdout(SharedOutput),
    Stderr(SharedOutput),
    File(OpenFile),
    Dir(OpenDir),
    Listener(TcpListener),
    Stream(TcpStream),
    PipeRead(PipeReader),
    PipeWrite(PipeWriter),
    /// A node of `/dev` (see [`crate::devices`]).
    Device(OpenDevice),
}

impl Descriptor {
    /// The same open file under another number, as `dup` makes it (a shared offset for
    /// files, the same stream, another holder of a pipe end): what `proc_spawn` hands a child.
    pub fn duplicate(&self) -> std::io::Result<Descriptor> {
        Ok(match self {
            Descriptor::Stdin(i) => Descriptor::Stdin(i.clone()),
            Descriptor::Stdout(o) => Descriptor::Stdout(o.clone()),
            Descriptor::Stderr(o) => Descriptor::Stderr(o.clone()),
            Descriptor::File(f) => Descriptor::File(OpenFile {
                file: f.file.try_clone()?,
                location: f.location.clone(),
                wrote: false,
                ..*f
            }),
            Descriptor::Dir(d) => Descriptor::Dir(OpenDir { path: d.path.clone(), preopen: None, listing: None }),
            Descriptor::Listener(l) => Descriptor::Listener(l.try_clone()?),
            Descriptor::Stream(s) => Descriptor::Stream(s.try_clone()?),
            Descriptor::PipeRead(r) => Descriptor::PipeRead(r.clone()),
            Descriptor::PipeWrite(w) => Descriptor::PipeWrite(w.clone()),
            Descriptor::Device(d) => Descriptor::Device(d.clone()),
        })
    }
}

/// A descriptor's rights: `base` is checked by operations on it, `inheriting` caps what a
/// descriptor opened through it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rights {
    pub base: u64,
    pub inheriting: u64,
}

impl Rights {
    /// What a descriptor of this kind can do when nothing has been dropped.
    pub fn full(d: &Descriptor) -> Rights {
        let base = match d {
            Descriptor::Stdin(_) | Descriptor::Stdout(_) | Descriptor::Stderr(_) => rights::STREAM,
            Descriptor::File(f) => {
                let mut r = rights::FILE;
                if !f.readable {
                    r &= !rights::FILE_READ;
                }
                if !f.writable {
                    r &= !rights::FILE_WRITE;
                }
                r
            }
            Descriptor::Dir(_) => rights::DIRECTORY,
            Descriptor::Listener(_) => {
                rights::SOCK_ACCEPT | rights::POLL_FD_READWRITE | rights::FD_FDSTAT_SET_FLAGS | rights::FD_FILESTAT_GET
            }
            Descriptor::Stream(_) => rights::STREAM | rights::SOCK_SHUTDOWN,
            Descriptor::PipeRead(_) | Descriptor::PipeWrite(_) | Descriptor::Device(_) => rights::STREAM,
        };
        let inheriting = if matches!(d, Descriptor::Dir(_)) { rights::DIRECTORY_INHERITING } else { 0 };
        Rights { base, inheriting }
    }

    /// These rights narrowed to what `through` (the directory a descriptor was opened from)
    /// may pass on.
    pub fn inherited_from(self, through: Rights) -> Rights {
        Rights { base: self.base & through.inheriting, inheriting: self.inheriting & through.inheriting }
    }
}

struct Slot {
    descriptor: Descriptor,
    rights: Rights,
    /// Drawn from the controller's budget (everything the guest opened itself; not the
    /// stdio, preopens and listeners it started with).
    budgeted: bool,
}

/// Room for one descriptor, counted against the cap and the budget (see [`FdTable::reserve`]).
#[must_use = "give reserved room back with FdTable::cancel"]
pub struct Reservation {
    budgeted: bool,
}

pub struct FdTable {
    slots: Vec<Option<Slot>>,
    open: usize,
    max_open: usize,
    /// The guest's draw on the controller-wide budget, once the starting descriptors are in.
    lease: Option<FdLease>,
}

impl FdTable {
    pub fn new(max_open: usize) -> Self {
        Self { slots: Vec::new(), open: 0, max_open, lease: None }
    }

    /// From now on every insert also draws on the controller-wide budget.
    pub fn draw_on(&mut self, lease: FdLease) {
        self.lease = Some(lease);
    }

    /// Returns a closed slot's descriptor to the budget.
    fn returned(&mut self, slot: Slot) -> Descriptor {
        if slot.budgeted
            && let Some(lease) = &mut self.lease
        {
            lease.release();
        }
        slot.descriptor
    }

    /// Puts `d` at the lowest free number with every right its kind has.
    pub fn insert(&mut self, d: Descriptor) -> Result<u32, Errno> {
        let rights = Rights::full(&d);
        self.insert_with_rights(d, rights)
    }

    /// Puts `d` at the lowest free number, as POSIX `open` does; `EMFILE` past the guest's
    /// cap or its share of the budget, `ENFILE` when the budget is gone.
    pub fn insert_with_rights(&mut self, d: Descriptor, rights: Rights) -> Result<u32, Errno> {
        let room = self.reserve()?;
        Ok(self.place_with_rights(room, d, rights))
    }

    /// Takes room for one descriptor now (the cap and the budget, as `insert` would) for a
    /// descriptor made afterwards: `sock_accept` must know a connection can be numbered before
    /// taking it off the listener's queue, or it would drop it. Linux too fails `accept` with
    /// `EMFILE` and leaves the connection queued. Give the room back with `cancel` or use it
    /// with `place`.
    pub fn reserve(&mut self) -> Result<Reservation, Errno> {
        if self.open >= self.max_open {
            return Err(Errno::Mfile);
        }
        let budgeted = match &mut self.lease {
            Some(lease) => lease.acquire().map(|()| true)?,
            None => false,
        };
        self.open += 1;
        Ok(Reservation { budgeted })
    }

    pub fn cancel(&mut self, room: Reservation) {
        self.open -= 1;
        if room.budgeted
            && let Some(lease) = &mut self.lease
        {
            lease.release();
        }
    }

    /// Puts `d`, with every right its kind has, at the lowest free number, in reserved room.
    pub fn place(&mut self, room: Reservation, d: Descriptor) -> u32 {
        let rights = Rights::full(&d);
        self.place_with_rights(room, d, rights)
    }

    fn place_with_rights(&mut self, room: Reservation, d: Descriptor, rights: Rights) -> u32 {
        let fd = match self.slots.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.slots[fd] = Some(Slot { descriptor: d, rights, budgeted: room.budgeted });
        fd as u32
    }

    pub fn get(&mut self, fd: u32) -> Result<&mut Descriptor, Errno> {
        self.slot(fd).map(|s| &mut s.descriptor)
    }

    /// Shared access, for waiting on several descriptors at once (`poll_oneoff`).
    pub fn peek(&self, fd: u32) -> Result<&Descriptor, Errno> {
        self.slots.get(fd as usize).and_then(Option::as_ref).map(|s| &s.descriptor).ok_or(Errno::Badf)
    }

    fn slot(&mut self, fd: u32) -> Result<&mut Slot, Errno> {
        self.slots.get_mut(fd as usize).and_then(Option::as_mut).ok_or(Errno::Badf)
    }

    pub fn rights(&mut self, fd: u32) -> Result<Rights, Errno> {
        self.slot(fd).map(|s| s.rights)
    }

    /// The descriptor, if it has every right in `needed`: else `EBADF` for reading or writing
    /// (what POSIX answers for a descriptor not open for it) and `ENOTCAPABLE` for the rest.
    pub fn require(&mut self, fd: u32, needed: u64) -> Result<&mut Descriptor, Errno> {
        let slot = self.slot(fd)?;
        let missing = needed & !slot.rights.base;
        if missing != 0 {
            let io_only = missing & !(rights::FD_READ | rights::FD_WRITE) == 0;
            return Err(if io_only { Errno::Badf } else { Errno::Notcapable });
        }
        Ok(&mut slot.descriptor)
    }

    /// `fd_fdstat_set_rights`: rights may only be dropped, never gained (`ENOTCAPABLE`).
    pub fn restrict(&mut self, fd: u32, to: Rights) -> Result<(), Errno> {
        let slot = self.slot(fd)?;
        let now = slot.rights;
        if to.base & !now.base != 0 || to.inheriting & !now.inheriting != 0 {
            return Err(Errno::Notcapable);
        }
        slot.rights = to;
        Ok(())
    }

    pub fn remove(&mut self, fd: u32) -> Result<Descriptor, Errno> {
        let slot = self.slots.get_mut(fd as usize).and_then(Option::take).ok_or(Errno::Badf)?;
        self.open -= 1;
        Ok(self.returned(slot))
    }

    /// `fd_renumber`: moves `from` onto `to`, closing whatever `to` held.
    pub fn renumber(&mut self, from: u32, to: u32) -> Result<Option<Descriptor>, Errno> {
        self.get(from)?;
        self.get(to)?;
        if from == to {
            return Ok(None);
        }
        let moved = self.slots[from as usize].take().expect("checked above");
        self.open -= 1;
        let closed = self.slots[to as usize].replace(moved);
        Ok(closed.map(|s| self.returned(s)))
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
        let slots: Vec<Slot> = self.slots.drain(..).flatten().collect();
        slots.into_iter().map(|s| self.returned(s)).collect()
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

    #[test]
    fn budget_is_drawn_after_the_starting_descriptors_and_returned_on_close() {
        let budget = crate::budget::FdBudget::new(2);
        let mut t = FdTable::new(10);
        t.insert(dir()).unwrap();
        t.draw_on(budget.lease());
        assert_eq!(t.insert(dir()), Ok(1));
        assert_eq!(t.insert(dir()), Ok(2));
        assert_eq!(t.insert(dir()).err(), Some(Errno::Mfile));
        assert_eq!(budget.in_use(), 2);
        // Closing a starting descriptor returns nothing; closing an opened one does.
        t.remove(0).unwrap();
        assert_eq!(budget.in_use(), 2);
        assert!(t.renumber(1, 2).unwrap().is_some());
        assert_eq!(budget.in_use(), 1);
        t.drain();
        assert_eq!(budget.in_use(), 0);
        drop(t);
        assert_eq!(budget.lease().acquire(), Ok(()));
    }

    #[test]
    fn reserved_room_counts_until_placed_or_cancelled() {
        let budget = crate::budget::FdBudget::new(1);
        let mut t = FdTable::new(10);
        t.draw_on(budget.lease());
        let room = t.reserve().unwrap();
        assert_eq!(t.reserve().err(), Some(Errno::Mfile));
        assert_eq!(budget.in_use(), 1);
        t.cancel(room);
        assert_eq!(budget.in_use(), 0);
        let room = t.reserve().unwrap();
        assert_eq!(t.place(room, dir()), 0);
        assert_eq!(t.insert(dir()).err(), Some(Errno::Mfile));
        t.remove(0).unwrap();
        assert_eq!(budget.in_use(), 0);
    }
}
