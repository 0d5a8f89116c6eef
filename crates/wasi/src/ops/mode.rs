//! `path_mode_get` / `path_chmod` (the `porthole` module): Unix mode bits, which WASI p1 lacks.
//!
//! The host applies what it can represent to the real file, through the mount's `Dir`, but
//! never takes its own access away: owner read and write (and search, on directories) stay on
//! the host file, and setuid/setgid/sticky are never set on it (a host file setuid to the
//! controller's user would be a privilege for whoever can run it). When what the guest asked
//! for differs from the host file's resulting mode, the exact request is kept in the extended
//! attribute `user.porthole.mode` (octal text), and `path_mode_get` gives it back — as long as
//! it still matches the host file (a chmod on the host side wins). Where the file system keeps
//! no user xattrs, the guest reads the host file's mode.

use std::os::fd::AsFd;

use cap_fs_ext::{FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt};
use cap_std::fs::PermissionsExt;

use crate::abi::{LOOKUP_SYMLINK_FOLLOW, rights};
use crate::errno::Errno;
use crate::host::{HostResult, WasiHost};
use crate::memory::GuestMemory;
use crate::namespace::Location;
use crate::path::Node;

const XATTR: &str = "user.porthole.mode";

/// The mode the host file gets for a guest's `requested` mode.
pub(crate) fn host_mode(requested: u32, dir: bool) -> u32 {
    (requested & 0o777) | if dir { 0o700 } else { 0o600 }
}

/// What the guest sees, from the host file's mode and the kept request (if any and still
/// consistent with the host file).
pub(crate) fn guest_mode(host: u32, kept: Option<u32>, dir: bool) -> u32 {
    match kept {
        Some(k) if host_mode(k, dir) == host & 0o777 => k & 0o7777,
        _ => host & 0o7777,
    }
}

/// An open handle on a file or directory of a mount, for `fchmod` and the xattr calls: opened
/// for reading (cap-std's directory handles are `O_PATH`, on which neither works).
struct Handle {
    file: cap_std::fs::File,
    dir: bool,
}

impl Handle {
    fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.file.as_fd()
    }
}

fn read_kept(fd: std::os::fd::BorrowedFd<'_>) -> Option<u32> {
    let mut buf = [0u8; 16];
    let n = rustix::fs::fgetxattr(fd, XATTR, &mut buf).ok()?;
    u32::from_str_radix(std::str::from_utf8(&buf[..n]).ok()?, 8).ok()
}

impl WasiHost {
    /// A handle on the regular file or directory at `loc`; `None` for anything else (a device,
    /// a FIFO: opening those could block or act), or a directory that exists only as the way
    /// to a mount.
    fn mode_handle(&self, loc: &Location, node: &Node) -> Result<Option<Handle>, Errno> {
        let dir = self.host_dir(loc);
        let md = if loc.rel.as_os_str() == "." { dir.dir_metadata() } else { dir.symlink_metadata(&loc.rel) };
        let md = match md {
            Ok(md) => md,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && *node == Node::Dir => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if !md.is_dir() && !md.is_file() {
            return Ok(None);
        }
        let mut opts = cap_std::fs::OpenOptions::new();
        opts.read(true).maybe_dir(md.is_dir()).follow(FollowSymlinks::No);
        Ok(Some(Handle { file: dir.open_with(&loc.rel, &opts)?, dir: md.is_dir() }))
    }

    pub fn path_mode_get(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        flags: u32,
        path: u32,
        len: u32,
        out: u32,
    ) -> HostResult<()> {
        let follow = flags & LOOKUP_SYMLINK_FOLLOW != 0;
        let (loc, node) = self.resolve_at(mem, fd, rights::PATH_FILESTAT_GET, (path, len), follow)?;
        let mode = match &node {
            Node::Missing => return Err(Errno::Noent.into()),
            Node::Symlink(_) => 0o777,
            _ => match self.mode_handle(&loc, &node)? {
                Some(h) => {
                    let md = rustix::fs::fstat(h.fd()).map_err(std::io::Error::from)?;
                    guest_mode(md.st_mode, read_kept(h.fd()), h.dir)
                }
                None => {
                    let dir = self.host_dir(&loc);
                    match dir.symlink_metadata(&loc.rel) {
                        Ok(md) => md.permissions().mode() & 0o7777,
                        Err(_) => 0o755,
                    }
                }
            },
        };
        mem.write_u32(out, mode)?;
        Ok(())
    }

    pub fn path_chmod(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        flags: u32,
        path: u32,
        len: u32,
        mode: u32,
    ) -> HostResult<()> {
        let follow = flags & LOOKUP_SYMLINK_FOLLOW != 0;
        let (loc, node) = self.resolve_at(mem, fd, rights::PATH_FILESTAT_SET_TIMES, (path, len), follow)?;
        match node {
            Node::Missing => return Err(Errno::Noent.into()),
            // As Linux's fchmodat(AT_SYMLINK_NOFOLLOW): a link has no mode of its own.
            Node::Symlink(_) => return Err(Errno::Notsup.into()),
            _ => {}
        }
        self.check_writable(&loc)?;
        // In an overlay the file is copied up first: a lower layer is shared and never changed.
        let loc = self.for_write(&loc, true)?;
        let Some(h) = self.mode_handle(&loc, &node)? else { return Err(Errno::Perm.into()) };
        apply_mode(h.fd(), mode, h.dir)?;
        Ok(())
    }
}

/// Gives the open file or directory `fd` the guest mode `requested` as Porthole keeps modes:
/// the host mode it can hold, and the exact request in the xattr when they differ. Also what
/// the engine uses for files it writes into a layer itself (an image being loaded).
pub fn apply_mode(fd: std::os::fd::BorrowedFd<'_>, requested: u32, dir: bool) -> std::io::Result<()> {
    let wanted = requested & 0o7777;
    let on_host = host_mode(wanted, dir);
    rustix::fs::fchmod(fd, rustix::fs::Mode::from_raw_mode(on_host))?;
    // Best effort: without user xattrs the guest reads back the host file's mode.
    if wanted == on_host {
        let _ = rustix::fs::fremovexattr(fd, XATTR);
    } else {
        let _ = rustix::fs::fsetxattr(fd, XATTR, format!("{wanted:o}").as_bytes(), rustix::fs::XattrFlags::empty());
    }
    Ok(())
}

/// The mode a guest sees for the open file or directory `fd` whose host mode is `host`.
pub fn mode_of(fd: std::os::fd::BorrowedFd<'_>, host: u32, dir: bool) -> u32 {
    guest_mode(host, read_kept(fd), dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_keeps_its_own_access_and_the_guest_reads_what_it_set() {
        // (requested, dir) → (host mode, what the guest reads back with the kept request)
        let table = [
            (0o644, false, 0o644),
            (0o000, false, 0o600),
            (0o4755, false, 0o755),
            (0o555, true, 0o755),
            (0o1777, true, 0o777),
            (0o750, true, 0o750),
        ];
        for (req, dir, host) in table {
            assert_eq!(host_mode(req, dir), host, "{req:o}");
            let kept = (req != host).then_some(req);
            assert_eq!(guest_mode(host, kept, dir), req, "{req:o}");
        }
        // Changed on the host since: the host wins.
        assert_eq!(guest_mode(0o640, Some(0o400), false), 0o640);
    }
}
