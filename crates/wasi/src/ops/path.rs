//! `path_*`: operations named by a directory fd and a path, resolved through the namespace.

use std::os::unix::ffi::OsStrExt;
use std::time::SystemTime;

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt, SystemTimeSpec};
use cap_std::fs::{Dir, OpenOptions};

use crate::abi::{LOOKUP_SYMLINK_FOLLOW, fdflags, fstflags, oflags, rights};
use crate::errno::Errno;
use crate::fdtable::{Descriptor, OpenDir, OpenFile, Rights};
use crate::filestat::Filestat;
use crate::host::{HostError, HostResult, MutationKind, WasiHost};
use crate::memory::GuestMemory;
use crate::namespace::{Location, NewName, Resolved};
use crate::overlay::Memo;
use crate::path::{GuestPath, Node, climbs_above_start};
use crate::walks::{Recording, WalkOp};

/// How `path_open` opens a file: its access, `O_APPEND`, `O_TRUNC` and the fd flags asked for.
#[derive(Clone, Copy)]
struct OpenFlags {
    readable: bool,
    writable: bool,
    append: bool,
    trunc: bool,
    fdflags: u16,
}

/// The time a `fstflags` pair asks for: a given time, now, or unchanged.
pub(crate) fn time_spec(ts: u64, set: u16, now: u16, flags: u16) -> Result<Option<SystemTimeSpec>, Errno> {
    match (flags & set != 0, flags & now != 0) {
        (true, true) => Err(Errno::Inval),
        (true, false) => Ok(Some(SystemTimeSpec::Absolute(cap_std::time::SystemTime::from_std(
            SystemTime::UNIX_EPOCH + std::time::Duration::from_nanos(ts),
        )))),
        (false, true) => Ok(Some(SystemTimeSpec::SymbolicNow)),
        (false, false) => Ok(None),
    }
}

impl WasiHost {
    /// The guest path of directory fd `fd`.
    pub(crate) fn dir_path(&mut self, fd: u32) -> Result<GuestPath, Errno> {
        Ok(self.fds.get_dir(fd)?.path.clone())
    }

    /// The rights of directory `fd`, if it has every right in `needed` (`ENOTDIR` for another
    /// kind of descriptor, `ENOTCAPABLE` for a missing right).
    fn dir_rights(&mut self, fd: u32, needed: u64) -> Result<Rights, Errno> {
        self.fds.get_dir(fd)?;
        self.fds.require(fd, needed)?;
        self.fds.rights(fd)
    }

    /// Reads the path argument and walks it from directory `fd`, which must have `needed`.
    pub(crate) fn resolve_at(
        &mut self,
        mem: &GuestMemory<'_>,
        fd: u32,
        needed: u64,
        (ptr, len): (u32, u32),
        follow: bool,
    ) -> Result<(Location, Node), Errno> {
        let (loc, node, _) = self.resolve_at_with_slash(mem, fd, needed, (ptr, len), follow)?;
        Ok((loc, node))
    }

    /// [`Self::resolve_at`], also telling whether the path ended with `/` (for operations that
    /// create a non-directory, which Linux refuses for such a name).
    fn resolve_at_with_slash(
        &mut self,
        mem: &GuestMemory<'_>,
        fd: u32,
        needed: u64,
        (ptr, len): (u32, u32),
        follow: bool,
    ) -> Result<(Location, Node, bool), Errno> {
        let r = self.resolve_full_at(mem, fd, needed, (ptr, len), follow, None, Memo::default())?;
        Ok((r.location, r.node, r.trailing_slash))
    }

    /// [`Self::resolve_at_with_slash`], recording the walk in `rec` if given, starting from the
    /// lookups in `memo`, with the metadata the walk read of the final path.
    #[allow(clippy::too_many_arguments)]
    fn resolve_full_at(
        &mut self,
        mem: &GuestMemory<'_>,
        fd: u32,
        needed: u64,
        (ptr, len): (u32, u32),
        follow: bool,
        rec: Option<&mut Recording>,
        memo: Memo,
    ) -> Result<Resolved, Errno> {
        let (start, path) = self.path_arg(mem, fd, needed, (ptr, len))?;
        let Some(rec) = rec else { return self.ns.resolve_full(&start, &path, follow, &mut (), memo) };
        let resolved = self.ns.resolve_full(&start, &path, follow, rec, memo);
        if let Ok(r) = &resolved {
            rec.end = Some((r.location.clone(), r.node.clone()));
        }
        rec.start = Some(start);
        rec.path = path;
        resolved
    }

    /// The path argument and the directory it is relative to, once `fd` is known to have
    /// `needed` and the path to stay within what `fd` may reach.
    fn path_arg(
        &mut self,
        mem: &GuestMemory<'_>,
        fd: u32,
        needed: u64,
        (ptr, len): (u32, u32),
    ) -> Result<(GuestPath, Vec<u8>), Errno> {
        self.dir_rights(fd, needed)?;
        let start = self.dir_path(fd)?;
        let path = mem.read_vec(ptr, len)?;
        // WASI names files relative to a directory descriptor; an absolute path is refused
        // (wasi-libc never sends one: it picks the preopen and strips the prefix). Absolute
        // symlink *targets* are another matter: the walk resolves them from the container root.
        if path.first() == Some(&b'/') {
            return Err(Errno::Notcapable);
        }
        if self.fds.get_dir(fd)?.preopen.is_none() && climbs_above_start(&path) {
            return Err(Errno::Notcapable);
        }
        Ok((start, path))
    }

    /// Where the name `path` would be created or removed with one host call (see
    /// [`crate::namespace::Namespace::new_name`]), when that is possible; overlay lookups
    /// made on the way are left in `memo`.
    fn new_name_at(
        &mut self,
        mem: &GuestMemory<'_>,
        fd: u32,
        needed: u64,
        (ptr, len): (u32, u32),
        memo: &Memo,
        intent: NewName,
    ) -> Result<Option<Location>, Errno> {
        let (start, path) = self.path_arg(mem, fd, needed, (ptr, len))?;
        Ok(self.ns.new_name(&start, &path, memo, intent))
    }

    pub(crate) fn host_dir(&self, loc: &Location) -> &Dir {
        self.ns.dir_at(loc)
    }

    /// `loc` readied for a change to the entry itself (its data unless `!data`, its size, its
    /// times, a link to it): in an overlay it is copied up first, the copy charged to the
    /// root's quota. The location returned is where the change is made.
    pub(crate) fn for_write(&self, loc: &Location, data: bool) -> Result<Location, Errno> {
        let Some(o) = self.ns.mount(loc.mount).overlay() else { return Ok(loc.clone()) };
        if loc.layer == 0 {
            return Ok(loc.clone());
        }
        let quota = self.ns.mount(loc.mount).quota.as_deref();
        let len = match (quota, data) {
            (Some(_), true) => o.metadata(&loc.rel, loc.layer).map(|m| if m.is_file() { m.len() } else { 0 })?,
            _ => 0,
        };
        if let Some(q) = quota {
            q.reserve(len)?;
        }
        let copied = o.copy_up(&loc.rel, data);
        if let Some(q) = quota {
            q.release(len - copied.as_ref().map_or(0, |g| *g.min(&len)));
        }
        copied?;
        Ok(Location { layer: 0, ..loc.clone() })
    }

    /// A missing `loc` readied for a new entry: in an overlay its parent is copied up and a
    /// whiteout of the name taken away. True if a directory made there must be opaque.
    /// `memo` holds the lookups this call's walk made, if any.
    fn for_create(&self, loc: &Location, memo: &Memo) -> Result<bool, Errno> {
        match self.ns.mount(loc.mount).overlay() {
            Some(o) => o.prepare_create_with(&loc.rel, memo),
            None => Ok(false),
        }
    }

    /// Removes the entry at `loc` (a directory only if `dir`; an overlay leaves a whiteout
    /// where a lower layer shows the name).
    /// `memo` holds the lookups this call's walk made, if any.
    fn remove_entry(&self, loc: &Location, dir: bool, memo: &Memo) -> Result<(), Errno> {
        if let Some(o) = self.ns.mount(loc.mount).overlay() {
            if dir && !o.is_empty_dir(&loc.rel, self.overlay_dirs(loc)?)? {
                return Err(Errno::Notempty);
            }
            return o.remove_with(&loc.rel, dir, memo);
        }
        let host = self.host_dir(loc);
        if dir {
            host.remove_dir(&loc.rel)?
        } else {
            host.remove_file(&loc.rel)?
        };
        Ok(())
    }

    /// The layers merged into the overlay directory at `loc`.
    pub(crate) fn overlay_dirs(&self, loc: &Location) -> Result<crate::overlay::Layers, Errno> {
        match self.ns.mount(loc.mount).overlay() {
            Some(o) => Ok(o.find(&loc.rel, &Default::default())?.dirs),
            None => Ok(1),
        }
    }

    /// `EROFS` when `loc` lies in a read-only mount.
    pub(crate) fn check_writable(&self, loc: &Location) -> Result<(), Errno> {
        if self.ns.mount(loc.mount).readonly { Err(Errno::Rofs) } else { Ok(()) }
    }

    /// The length a quota counts for the regular file at `loc` (0 for anything else, or when
    /// its mount has no quota, so unquoted mounts pay no `stat`).
    fn counted_len(&self, loc: &Location) -> u64 {
        // A lower layer's bytes were never charged (only the upper's are the container's).
        if self.ns.mount(loc.mount).quota.is_none() || loc.layer != 0 {
            return 0;
        }
        match self.host_dir(loc).symlink_metadata(&loc.rel) {
            Ok(md) if md.is_file() => md.len(),
            _ => 0,
        }
    }

    /// [`Self::counted_len`] if `loc` is the file's last link (removing it frees the bytes).
    fn last_link_len(&self, loc: &Location) -> u64 {
        use cap_std::fs::MetadataExt;
        // A lower layer's bytes were never charged (only the upper's are the container's).
        if self.ns.mount(loc.mount).quota.is_none() || loc.layer != 0 {
            return 0;
        }
        match self.host_dir(loc).symlink_metadata(&loc.rel) {
            Ok(md) if md.is_file() && md.nlink() == 1 => md.len(),
            _ => 0,
        }
    }

    /// Are `a` and `b` (in one mount) names of the same inode?
    fn same_file(&self, a: &Location, b: &Location) -> bool {
        use cap_std::fs::MetadataExt;
        match (self.host_dir(a).symlink_metadata(&a.rel), self.host_dir(b).symlink_metadata(&b.rel)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }

    /// Gives `bytes` back to the quota of `loc`'s mount, if it has one.
    fn credit(&self, loc: &Location, bytes: u64) {
        if let Some(q) = &self.ns.mount(loc.mount).quota {
            q.release(bytes);
        }
    }

    /// `EBUSY` for removing or renaming a mount point, as Linux answers.
    fn check_not_mount_point(&self, loc: &Location) -> Result<(), Errno> {
        if self.ns.is_mount_point(&loc.path) { Err(Errno::Busy) } else { Ok(()) }
    }

    /// The `filestat` of a walked location (which is not a symlink unless the walk kept it).
    pub(crate) fn stat_location(&self, loc: &Location) -> Result<Filestat, Errno> {
        if let Some(stat) = self.device_stat(loc) {
            return Ok(stat);
        }
        let mount = self.ns.mount(loc.mount);
        let dir = self.ns.dir_at(loc);
        let md = if loc.rel.as_os_str() == "." { dir.dir_metadata() } else { dir.symlink_metadata(&loc.rel) };
        match md {
            Ok(md) => Ok(Filestat::from_metadata(&md, mount.dev)),
            // A directory leading to a mount, absent from the directory beneath.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Filestat::virtual_dir(mount.dev)),
            Err(e) => Err(e.into()),
        }
    }

    pub fn path_create_directory(&mut self, mem: &mut GuestMemory<'_>, fd: u32, path: u32, len: u32) -> HostResult<()> {
        let (loc, node) = self.resolve_at(mem, fd, rights::PATH_CREATE_DIRECTORY, (path, len), false)?;
        if node != Node::Missing {
            return Err(Errno::Exist.into());
        }
        self.check_writable(&loc)?;
        let opaque = self.for_create(&loc, &Memo::default())?;
        self.host_dir(&loc).create_dir(&loc.rel)?;
        if opaque && let Some(o) = self.ns.mount(loc.mount).overlay() {
            o.make_opaque(&loc.rel)?;
        }
        self.notify(MutationKind::Mkdir, &loc.path, loc.mount, None);
        Ok(())
    }

    pub fn path_filestat_get(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        flags: u32,
        path: u32,
        len: u32,
        out: u32,
    ) -> HostResult<()> {
        if !self.walks {
            return self.stat_at(mem, fd, flags, (path, len), out, None);
        }
        let mut rec = Recording::default();
        let result = self.stat_at(mem, fd, flags, (path, len), out, Some(&mut rec));
        match &result {
            Ok(()) => self.report_walk(WalkOp::Stat, &rec, Ok(())),
            Err(HostError::Errno(e)) => self.report_walk(WalkOp::Stat, &rec, Err(*e)),
            Err(HostError::Trap(_)) => {}
        }
        result
    }

    /// `path_filestat_get`, walking through `rec` when the walk is reported.
    fn stat_at(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        flags: u32,
        (path, len): (u32, u32),
        out: u32,
        rec: Option<&mut Recording>,
    ) -> HostResult<()> {
        let follow = flags & LOOKUP_SYMLINK_FOLLOW != 0;
        let r = self.resolve_full_at(mem, fd, rights::PATH_FILESTAT_GET, (path, len), follow, rec, Memo::default())?;
        if r.node == Node::Missing {
            return Err(Errno::Noent.into());
        }
        let stat = match (&r.metadata, self.device_stat(&r.location)) {
            (_, Some(device)) => device,
            // What the walk read of the path a moment ago is what a `stat` would read now.
            (Some(md), None) => Filestat::from_metadata(md, self.ns.mount(r.location.mount).dev),
            (None, None) => self.stat_location(&r.location)?,
        };
        stat.write(mem, out)?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub fn path_filestat_set_times(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        flags: u32,
        path: u32,
        len: u32,
        atim: u64,
        mtim: u64,
        fst: u16,
    ) -> HostResult<()> {
        let follow = flags & LOOKUP_SYMLINK_FOLLOW != 0;
        let (loc, node) = self.resolve_at(mem, fd, rights::PATH_FILESTAT_SET_TIMES, (path, len), follow)?;
        if node == Node::Missing {
            return Err(Errno::Noent.into());
        }
        self.check_writable(&loc)?;
        let atime = time_spec(atim, fstflags::ATIM, fstflags::ATIM_NOW, fst)?;
        let mtime = time_spec(mtim, fstflags::MTIM, fstflags::MTIM_NOW, fst)?;
        let loc = self.for_write(&loc, true)?;
        let dir = self.host_dir(&loc);
        if matches!(node, Node::Symlink(_)) {
            dir.set_symlink_times(&loc.rel, atime, mtime)?;
        } else {
            dir.set_times(&loc.rel, atime, mtime)?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub fn path_link(
        &mut self,
        mem: &mut GuestMemory<'_>,
        old_fd: u32,
        old_flags: u32,
        old: u32,
        old_len: u32,
        new_fd: u32,
        new: u32,
        new_len: u32,
    ) -> HostResult<()> {
        let follow = old_flags & LOOKUP_SYMLINK_FOLLOW != 0;
        let (src, src_node) = self.resolve_at(mem, old_fd, rights::PATH_LINK_SOURCE, (old, old_len), follow)?;
        let (dst, dst_node, dst_slash) =
            self.resolve_at_with_slash(mem, new_fd, rights::PATH_LINK_TARGET, (new, new_len), false)?;
        match (&src_node, &dst_node) {
            (Node::Missing, _) => return Err(Errno::Noent.into()),
            (Node::Dir, _) => return Err(Errno::Perm.into()),
            (_, Node::Missing) if dst_slash => return Err(Errno::Noent.into()),
            (_, Node::Missing) => {}
            _ => return Err(Errno::Exist.into()),
        }
        if src.mount != dst.mount {
            return Err(Errno::Xdev.into());
        }
        self.check_writable(&dst)?;
        // In an overlay both names end in the upper: the source is copied up first.
        let src = self.for_write(&src, true)?;
        self.for_create(&dst, &Memo::default())?;
        let dir = self.host_dir(&src);
        dir.hard_link(&src.rel, dir, &dst.rel)?;
        self.notify(MutationKind::Link, &dst.path, dst.mount, Some(&src.path));
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub fn path_open(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        dirflags: u32,
        path: u32,
        len: u32,
        oflags: u16,
        base: u64,
        _inheriting: u64,
        fdflags: u16,
        out: u32,
    ) -> HostResult<()> {
        if !self.walks {
            return self.open_at(mem, fd, dirflags, (path, len), oflags, base, fdflags, out, None);
        }
        let mut rec = Recording::default();
        let result = self.open_at(mem, fd, dirflags, (path, len), oflags, base, fdflags, out, Some(&mut rec));
        let writes = base & rights::FD_WRITE != 0
            || fdflags & fdflags::APPEND != 0
            || oflags & (oflags::CREAT | oflags::TRUNC) != 0;
        let op = if writes { WalkOp::Write } else { WalkOp::Read };
        match &result {
            Ok(()) => self.report_walk(op, &rec, Ok(())),
            Err(HostError::Errno(e)) => self.report_walk(op, &rec, Err(*e)),
            // A trap ends the guest; there is no answer to report.
            Err(HostError::Trap(_)) => {}
        }
        result
    }

    /// `path_open`, walking through `rec` when the walk is reported.
    #[allow(clippy::too_many_arguments)]
    fn open_at(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        dirflags: u32,
        (path, len): (u32, u32),
        oflags: u16,
        base: u64,
        fdflags: u16,
        out: u32,
        rec: Option<&mut Recording>,
    ) -> HostResult<()> {
        let follow = dirflags & LOOKUP_SYMLINK_FOLLOW != 0;
        let creat = oflags & oflags::CREAT != 0;
        let excl = oflags & oflags::EXCL != 0;
        let trunc = oflags & oflags::TRUNC != 0;
        let append = fdflags & fdflags::APPEND != 0;
        let mut needed = rights::PATH_OPEN;
        if creat {
            needed |= rights::PATH_CREATE_FILE;
        }
        if trunc {
            needed |= rights::PATH_FILESTAT_SET_SIZE;
        }
        // As wasmtime-wasi: only FD_READ / FD_WRITE in the requested rights choose the access
        // mode; the other bits describe what the guest means to do and are granted by type.
        let readable = base & rights::READING != 0;
        let writable = base & rights::FD_WRITE != 0 || append || trunc;
        // A new file is the common case of `O_CREAT`: the name is created outright
        // (`O_CREAT|O_EXCL`, no lookup of it first), and only if that fails (the name exists,
        // or anything else) does the whole walk below decide, as it always did.
        let memo = Memo::default();
        if creat
            && rec.is_none()
            && oflags & oflags::DIRECTORY == 0
            // In an overlay, only where no lower layer has the name (see `NewName::Create`).
            && let Some(loc) = self.new_name_at(mem, fd, needed, (path, len), &memo, NewName::Create)?
            && let Ok(file) = self.open_host_file(&loc, true, true, readable, writable, trunc, fdflags)
        {
            let flags = OpenFlags { readable, writable, append, trunc, fdflags };
            let descriptor = self.file_descriptor(file, loc, true, flags)?;
            return self.insert_opened(mem, fd, descriptor, out);
        }
        let Resolved { location: loc, node, trailing_slash: slash, memo, .. } =
            self.resolve_full_at(mem, fd, needed, (path, len), follow, rec, memo)?;
        let descriptor = match node {
            Node::Dir => {
                if creat && excl {
                    return Err(Errno::Exist.into());
                }
                if writable {
                    return Err(Errno::Isdir.into());
                }
                Descriptor::Dir(OpenDir { path: loc.path, preopen: None, listing: None })
            }
            Node::Symlink(_) if creat && excl => return Err(Errno::Exist.into()),
            // The walk kept the final link only because the guest asked not to follow it.
            Node::Symlink(_) => return Err(Errno::Loop.into()),
            _ if oflags & oflags::DIRECTORY != 0 => {
                return Err(if node == Node::Missing { Errno::Noent } else { Errno::Notdir }.into());
            }
            Node::Missing if !creat => return Err(Errno::Noent.into()),
            // `open("name/", O_CREAT)` cannot make a file.
            Node::Missing if slash => return Err(Errno::Isdir.into()),
            Node::File if creat && excl => return Err(Errno::Exist.into()),
            // `O_TRUNC` and `O_CREAT` mean nothing to a device (`> /dev/null`), as on Linux.
            Node::File if self.ns.device_at(&loc).is_some() => {
                self.open_device(self.ns.device_at(&loc).expect("checked by the guard"))?
            }
            Node::Missing | Node::File => {
                let created = node == Node::Missing;
                if writable || created {
                    self.check_writable(&loc)?;
                }
                // Truncating gives the file's bytes back to its quota.
                let truncated = if trunc && !created { self.counted_len(&loc) } else { 0 };
                let loc = match (created, writable) {
                    (true, _) => {
                        self.for_create(&loc, &memo)?;
                        loc
                    }
                    // A lower file is copied up before it is written (without its data when
                    // it is about to be truncated).
                    (false, true) => self.for_write(&loc, !trunc)?,
                    (false, false) => loc,
                };
                let file = self.open_host_file(&loc, created, excl, readable, writable, trunc, fdflags)?;
                self.credit(&loc, truncated);
                self.file_descriptor(file, loc, created, OpenFlags { readable, writable, append, trunc, fdflags })?
            }
        };
        self.insert_opened(mem, fd, descriptor, out)
    }

    /// The descriptor of a file just opened at `loc` (`created` if the open made it).
    fn file_descriptor(
        &self,
        file: std::fs::File,
        loc: Location,
        created: bool,
        OpenFlags { readable, writable, append, trunc, fdflags }: OpenFlags,
    ) -> Result<Descriptor, Errno> {
        if append {
            // Set after the open: std's rules (which cap-std applies) refuse O_APPEND
            // with O_TRUNC, which POSIX allows.
            let flags = rustix::fs::fcntl_getfl(&file).map_err(std::io::Error::from)?;
            rustix::fs::fcntl_setfl(&file, flags | rustix::fs::OFlags::APPEND).map_err(std::io::Error::from)?;
        }
        if created {
            self.notify(MutationKind::Create, &loc.path, loc.mount, None);
        }
        let kept = fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC | fdflags::NONBLOCK;
        Ok(Descriptor::File(OpenFile {
            file,
            location: loc,
            readable: readable || !writable,
            writable,
            append,
            flags: fdflags & kept,
            wrote: trunc,
        }))
    }

    /// Puts the descriptor `path_open` made into the table, with the rights of the directory
    /// `dir` it was opened from, and tells the guest its number.
    fn insert_opened(
        &mut self,
        mem: &mut GuestMemory<'_>,
        dir: u32,
        descriptor: Descriptor,
        out: u32,
    ) -> HostResult<()> {
        let rights = Rights::full(&descriptor).inherited_from(self.fds.rights(dir)?);
        let new_fd = self.fds.insert_with_rights(descriptor, rights)?;
        mem.write_u32(out, new_fd)?;
        Ok(())
    }

    /// Opens (or creates) the regular file at `loc` through its mount's `Dir`, never following a
    /// final symlink on the host (the walk already resolved every link in guest space).
    #[allow(clippy::too_many_arguments)]
    fn open_host_file(
        &self,
        loc: &Location,
        create: bool,
        excl: bool,
        readable: bool,
        writable: bool,
        trunc: bool,
        fdflags: u16,
    ) -> Result<std::fs::File, Errno> {
        let mut opts = OpenOptions::new();
        // std's rules refuse O_CREAT without write access, which POSIX allows; a file being
        // created is ours to write, and the descriptor's own flags keep the guest from writing.
        opts.read(readable || !writable)
            .write(writable || create)
            .truncate(trunc)
            .create(create)
            .create_new(create && excl);
        opts.follow(FollowSymlinks::No);
        let sync = fdflags & (fdflags::SYNC | fdflags::DSYNC | fdflags::RSYNC);
        if sync != 0 {
            use cap_std::fs::OpenOptionsExt;
            let flag = if fdflags & (fdflags::SYNC | fdflags::RSYNC) != 0 {
                rustix::fs::OFlags::SYNC
            } else {
                rustix::fs::OFlags::DSYNC
            };
            opts.custom_flags(flag.bits() as i32);
        }
        Ok(self.host_dir(loc).open_with(&loc.rel, &opts)?.into_std())
    }

    #[allow(clippy::too_many_arguments)]
    pub fn path_readlink(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        path: u32,
        len: u32,
        buf: u32,
        buf_len: u32,
        out: u32,
    ) -> HostResult<()> {
        let (_, node) = self.resolve_at(mem, fd, rights::PATH_READLINK, (path, len), false)?;
        let target = match node {
            Node::Symlink(t) => t,
            Node::Missing => return Err(Errno::Noent.into()),
            _ => return Err(Errno::Inval.into()),
        };
        // Like readlink(2): as much as fits, silently truncated.
        let n = target.len().min(buf_len as usize);
        mem.write_bytes(buf, &target[..n])?;
        mem.write_u32(out, n as u32)?;
        Ok(())
    }

    pub fn path_remove_directory(&mut self, mem: &mut GuestMemory<'_>, fd: u32, path: u32, len: u32) -> HostResult<()> {
        let (loc, node) = self.resolve_at(mem, fd, rights::PATH_REMOVE_DIRECTORY, (path, len), false)?;
        match node {
            Node::Dir => {}
            Node::Missing => return Err(Errno::Noent.into()),
            _ => return Err(Errno::Notdir.into()),
        }
        if loc.path.is_root() {
            return Err(Errno::Busy.into());
        }
        self.check_not_mount_point(&loc)?;
        // A directory holding a mount point is never empty, even if the directory beneath
        // does not exist.
        if !self.ns.mount_entries_in(&loc.path).is_empty() {
            return Err(Errno::Notempty.into());
        }
        self.check_writable(&loc)?;
        self.remove_entry(&loc, true, &Memo::default())?;
        self.notify(MutationKind::Rmdir, &loc.path, loc.mount, None);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub fn path_rename(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        old: u32,
        old_len: u32,
        new_fd: u32,
        new: u32,
        new_len: u32,
    ) -> HostResult<()> {
        let (src, src_node, src_slash) =
            self.resolve_at_with_slash(mem, fd, rights::PATH_RENAME_SOURCE, (old, old_len), false)?;
        let (dst, _, dst_slash) =
            self.resolve_at_with_slash(mem, new_fd, rights::PATH_RENAME_TARGET, (new, new_len), false)?;
        if src_node == Node::Missing {
            return Err(Errno::Noent.into());
        }
        // A trailing slash on either name requires a directory.
        if (src_slash || dst_slash) && src_node != Node::Dir {
            return Err(Errno::Notdir.into());
        }
        self.check_not_mount_point(&src)?;
        self.check_not_mount_point(&dst)?;
        if src.path.is_root() || dst.path.is_root() {
            return Err(Errno::Busy.into());
        }
        if src.mount != dst.mount {
            return Err(Errno::Xdev.into());
        }
        if src_node == Node::Dir && dst.path.starts_with(&src.path) && dst.path != src.path {
            return Err(Errno::Inval.into());
        }
        self.check_writable(&src)?;
        // A file replaced by the rename is gone unless the source is another name of it.
        let replaced = if self.same_file(&src, &dst) { 0 } else { self.last_link_len(&dst) };
        if let Some(o) = self.ns.mount(src.mount).overlay() {
            let grew = o.rename(&src.rel, &dst.rel)?;
            // A copy-up made for a rename is charged after the fact: the rename has happened.
            if let Some(q) = &self.ns.mount(src.mount).quota {
                q.release(replaced);
                let _ = q.reserve(grew);
            }
            self.notify(MutationKind::Rename, &dst.path, dst.mount, Some(&src.path));
            return Ok(());
        }
        let dir = self.host_dir(&src);
        dir.rename(&src.rel, dir, &dst.rel)?;
        self.credit(&dst, replaced);
        self.notify(MutationKind::Rename, &dst.path, dst.mount, Some(&src.path));
        Ok(())
    }

    pub fn path_symlink(
        &mut self,
        mem: &mut GuestMemory<'_>,
        old: u32,
        old_len: u32,
        fd: u32,
        new: u32,
        new_len: u32,
    ) -> HostResult<()> {
        let target = mem.read_vec(old, old_len)?;
        if target.contains(&0) {
            return Err(Errno::Inval.into());
        }
        if target.is_empty() {
            return Err(Errno::Noent.into());
        }
        let (loc, node, slash) = self.resolve_at_with_slash(mem, fd, rights::PATH_SYMLINK, (new, new_len), false)?;
        if node != Node::Missing {
            return Err(Errno::Exist.into());
        }
        if slash {
            return Err(Errno::Noent.into());
        }
        self.check_writable(&loc)?;
        // Stored verbatim, absolute targets included: they mean the container root when followed
        // through the namespace, and the host never follows them.
        let target = std::ffi::OsStr::from_bytes(&target);
        self.for_create(&loc, &Memo::default())?;
        self.host_dir(&loc).symlink_contents(target, &loc.rel)?;
        self.notify(MutationKind::Symlink, &loc.path, loc.mount, None);
        Ok(())
    }

    pub fn path_unlink_file(&mut self, mem: &mut GuestMemory<'_>, fd: u32, path: u32, len: u32) -> HostResult<()> {
        // The name removed outright (`unlinkat`, no lookup of it first; in an overlay from the
        // upper, then a whiteout if a lower layer shows the name) where no quota wants its
        // length; if that fails (no such name, a directory, …) the whole walk below decides,
        // and answers, as it always did.
        let memo = Memo::default();
        if let Some(loc) = self.new_name_at(mem, fd, rights::PATH_UNLINK_FILE, (path, len), &memo, NewName::Remove)?
            && self.ns.mount(loc.mount).quota.is_none()
            && self.host_dir(&loc).remove_file(&loc.rel).is_ok()
        {
            if let Some(o) = self.ns.mount(loc.mount).overlay() {
                o.whiteout_if_shown_with(&loc.rel, &memo)?;
            }
            self.notify(MutationKind::Unlink, &loc.path, loc.mount, None);
            return Ok(());
        }
        let Resolved { location: loc, node, memo, .. } =
            self.resolve_full_at(mem, fd, rights::PATH_UNLINK_FILE, (path, len), false, None, memo)?;
        match node {
            Node::Missing => return Err(Errno::Noent.into()),
            Node::Dir => return Err(Errno::Isdir.into()),
            _ => {}
        }
        // A file mount point cannot be unlinked, as on Linux.
        self.check_not_mount_point(&loc)?;
        self.check_writable(&loc)?;
        let freed = self.last_link_len(&loc);
        self.remove_entry(&loc, false, &memo)?;
        self.credit(&loc, freed);
        self.notify(MutationKind::Unlink, &loc.path, loc.mount, None);
        Ok(())
    }
}
