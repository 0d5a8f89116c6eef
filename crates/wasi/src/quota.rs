//! Disk quotas on mounts (`--storage-opt size=`, a volume's `size` option): a byte limit and a
//! running count of bytes used, shared by every guest that mounts the same tree.
//!
//! What counts is the apparent size of regular files (each inode once), as `du
//! --apparent-size` reports it: a file grows by writes, `fd_allocate` and
//! `fd_filestat_set_size`, and shrinks by truncation or by unlinking its last link.
//! Directories, symlinks and empty files count nothing (inodes are not limited), and a sparse
//! hole counts as written, so the limit is never exceeded by what the guest can read back.
//! Growth is charged before the host call and refunded if it fails; a write that does not fit
//! writes what does (a short write) and the next one gets `ENOSPC`, as on a full disk.
//!
//! Known imprecision, always on the side of charging too much: bytes written to a file after
//! its last name was unlinked are charged until the count is measured again (the next time no
//! guest holds the quota), and two guests extending the same file at once may both be charged.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

use cap_std::fs::Dir;

use crate::errno::Errno;

/// A byte limit and the bytes charged against it. Shared (`Arc<Quota>`) by every mount of the
/// same tree, so concurrent containers on one volume draw on one count.
#[derive(Debug)]
pub struct Quota {
    limit: u64,
    used: AtomicU64,
}

impl Quota {
    /// A quota of `limit` bytes of which `used` are taken already (see [`measure`]).
    pub fn new(limit: u64, used: u64) -> Self {
        Self { limit, used: AtomicU64::new(used) }
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    pub fn used(&self) -> u64 {
        self.used.load(Ordering::SeqCst)
    }

    /// Takes as much of `want` as is left (maybe nothing) and returns how much it took.
    fn reserve_up_to(&self, want: u64) -> u64 {
        let mut granted = 0;
        let _ = self.used.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
            granted = want.min(self.limit.saturating_sub(used));
            Some(used + granted)
        });
        granted
    }

    /// Takes all of `want` or nothing (`ENOSPC`), as `fallocate` and a growing `ftruncate` do
    /// (and the engine's host-side writes, `docker cp`).
    pub fn reserve(&self, want: u64) -> Result<(), Errno> {
        self.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                used.checked_add(want).filter(|total| *total <= self.limit)
            })
            .map(|_| ())
            .map_err(|_| Errno::Nospc)
    }

    /// Gives back `n` bytes (a file shrank or went away, or a charged call failed).
    pub fn release(&self, n: u64) {
        let _ = self.used.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| Some(used.saturating_sub(n)));
    }

    /// Charges writing `count` bytes at offset `pos` of a file now `len` bytes long and
    /// returns how many of them may be written: all, a prefix that fits, or `ENOSPC` when not
    /// one byte does. The charge is exactly the growth of writing that many bytes.
    pub(crate) fn charge_write(&self, len: u64, pos: u64, count: u64) -> Result<u64, Errno> {
        let wanted = growth(len, pos, count);
        if wanted == 0 {
            return Ok(count);
        }
        let granted = self.reserve_up_to(wanted);
        let fits = writable(len, pos, count, granted);
        self.release(granted - growth(len, pos, fits));
        if fits == 0 && count > 0 { Err(Errno::Nospc) } else { Ok(fits) }
    }
}

impl Quota {
    /// A write charged for `charged` bytes at `pos` (file `len` long) wrote only `written`:
    /// gives back the growth that did not happen.
    pub(crate) fn refund(&self, len: u64, pos: u64, charged: u64, written: u64) {
        self.release(growth(len, pos, charged) - growth(len, pos, written.min(charged)));
    }
}

/// How much a file `len` bytes long grows when `count` bytes are written at `pos` (a hole
/// before `pos` included).
fn growth(len: u64, pos: u64, count: u64) -> u64 {
    if count == 0 { 0 } else { pos.saturating_add(count).saturating_sub(len) }
}

/// How many of `count` bytes written at `pos` fit when the file, now `len` long, may grow by
/// `room` bytes.
fn writable(len: u64, pos: u64, count: u64, room: u64) -> u64 {
    len.saturating_add(room).saturating_sub(pos).min(count)
}

/// The bytes a tree holds as a quota counts them: the apparent size of its regular files, each
/// inode once, walked without following symlinks. Unreadable entries count nothing.
pub fn measure(dir: &Dir) -> u64 {
    let mut seen = HashSet::new();
    measure_into(dir, &mut seen)
}

fn measure_into(dir: &Dir, seen: &mut HashSet<(u64, u64)>) -> u64 {
    use cap_fs_ext::DirExt;
    use cap_std::fs::MetadataExt;
    let Ok(entries) = dir.entries() else { return 0 };
    let mut total = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Ok(md) = dir.symlink_metadata(&name) else { continue };
        if md.is_dir() {
            if let Ok(sub) = dir.open_dir_nofollow(&name) {
                total += measure_into(&sub, seen);
            }
        } else if md.is_file() && seen.insert((md.dev(), md.ino())) {
            total += md.len();
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (file length, write offset, bytes, room) → bytes written and the charge left behind.
    #[test]
    fn writes_take_what_fits() {
        let cases = [
            // An overwrite inside the file costs nothing, even with no room.
            ((10, 0, 5, 0), Ok(5), 0),
            // An append that fits, one that fits in part, one that cannot.
            ((10, 10, 5, 100), Ok(5), 5),
            ((10, 10, 5, 3), Ok(3), 3),
            ((10, 10, 5, 0), Err(Errno::Nospc), 0),
            // Straddling the end: only the growth is charged.
            ((10, 8, 5, 100), Ok(5), 3),
            ((10, 8, 5, 1), Ok(3), 1),
            // Past the end: the hole counts; no byte fits when the hole alone is too big.
            ((10, 20, 5, 100), Ok(5), 15),
            ((10, 20, 5, 5), Err(Errno::Nospc), 0),
            // Nothing to write is never an error.
            ((10, 20, 0, 0), Ok(0), 0),
        ];
        for ((len, pos, count, room), expect, charged) in cases {
            let q = Quota::new(1000, 1000 - room);
            assert_eq!(q.charge_write(len, pos, count), expect, "{len} {pos} {count} {room}");
            assert_eq!(q.used() - (1000 - room), charged, "charge of {len} {pos} {count} {room}");
        }
    }

    #[test]
    fn reserve_is_all_or_nothing_and_release_never_underflows() {
        let q = Quota::new(100, 90);
        assert_eq!(q.reserve(11), Err(Errno::Nospc));
        assert_eq!(q.used(), 90);
        assert_eq!(q.reserve(10), Ok(()));
        assert_eq!(q.used(), 100);
        q.release(500);
        assert_eq!(q.used(), 0);
    }

    #[test]
    fn measure_counts_regular_files_once() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("d")).unwrap();
        std::fs::write(t.path().join("d/f"), "12345").unwrap();
        std::fs::hard_link(t.path().join("d/f"), t.path().join("h")).unwrap();
        std::fs::write(t.path().join("g"), "abc").unwrap();
        std::os::unix::fs::symlink("/a/long/target/that/counts/nothing", t.path().join("l")).unwrap();
        let dir = Dir::open_ambient_dir(t.path(), cap_std::ambient_authority()).unwrap();
        assert_eq!(measure(&dir), 8);
    }
}
