//! `fd_*`: operations on open descriptors.

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;

use crate::abi::{DIRENT_SIZE, fdflags, filetype, fstflags, rights};
use crate::errno::Errno;
use crate::fdtable::{Descriptor, DirEntry, Rights};
use crate::filestat::{Filestat, filetype_of};
use crate::host::{HostError, HostResult, WasiHost};
use crate::memory::GuestMemory;
use crate::ops::path::time_spec;
use crate::ops::poll::wait_readable;
use crate::path::GuestPath;
use crate::quota::Quota;
use crate::stdio::SharedInput;
use std::os::unix::ffi::OsStringExt;

impl WasiHost {
    pub fn fd_advise(
        &mut self,
        _mem: &mut GuestMemory<'_>,
        fd: u32,
        _offset: u64,
        _len: u64,
        advice: u8,
    ) -> HostResult<()> {
        self.fds.get_file(fd)?;
        self.fds.require(fd, rights::FD_ADVISE)?;
        if advice > 5 {
            return Err(Errno::Inval.into());
        }
        Ok(())
    }

    pub fn fd_allocate(&mut self, _mem: &mut GuestMemory<'_>, fd: u32, offset: u64, len: u64) -> HostResult<()> {
        self.fds.require(fd, rights::FD_ALLOCATE)?;
        let f = self.fds.get_file(fd)?;
        if !f.writable {
            return Err(Errno::Badf.into());
        }
        let want = offset.checked_add(len).ok_or(Errno::Fbig)?;
        let now = f.file.metadata()?.len();
        if want > now {
            let quota = self.ns.mount(f.location.mount).quota.as_deref();
            if let Some(q) = quota {
                q.reserve(want - now)?;
            }
            if let Err(e) = f.file.set_len(want) {
                quota.inspect(|q| q.release(want - now));
                return Err(e.into());
            }
            f.wrote = true;
        }
        Ok(())
    }

    pub fn fd_close(&mut self, _mem: &mut GuestMemory<'_>, fd: u32) -> HostResult<()> {
        let d = self.fds.remove(fd)?;
        self.report_close(&d);
        Ok(())
    }

    pub fn fd_datasync(&mut self, _mem: &mut GuestMemory<'_>, fd: u32) -> HostResult<()> {
        match self.fds.require(fd, rights::FD_DATASYNC)? {
            Descriptor::File(f) => Ok(f.file.sync_data()?),
            Descriptor::Dir(_) => Ok(()),
            _ => Err(Errno::Inval.into()),
        }
    }

    pub fn fd_sync(&mut self, _mem: &mut GuestMemory<'_>, fd: u32) -> HostResult<()> {
        match self.fds.require(fd, rights::FD_SYNC)? {
            Descriptor::File(f) => Ok(f.file.sync_all()?),
            Descriptor::Dir(_) => Ok(()),
            _ => Err(Errno::Inval.into()),
        }
    }

    pub fn fd_fdstat_get(&mut self, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> HostResult<()> {
        let tty = self.tty;
        let Rights { base, inheriting } = self.fds.rights(fd)?;
        let (ftype, flags) = match self.fds.get(fd)? {
            Descriptor::Stdin(_) | Descriptor::Stdout(_) | Descriptor::Stderr(_) => {
                (if tty { filetype::CHARACTER_DEVICE } else { filetype::UNKNOWN }, 0)
            }
            Descriptor::File(f) => (filetype::REGULAR_FILE, f.flags | if f.append { fdflags::APPEND } else { 0 }),
            Descriptor::Dir(_) => (filetype::DIRECTORY, 0),
            Descriptor::Listener(_) | Descriptor::Stream(_) => (filetype::SOCKET_STREAM, 0),
            // WASI has no FIFO type; wasi-libc's isatty() is false for UNKNOWN.
            Descriptor::PipeRead(_) | Descriptor::PipeWrite(_) => (filetype::UNKNOWN, 0),
            Descriptor::Device(_) => (filetype::CHARACTER_DEVICE, 0),
        };
        mem.write_u8(out, ftype)?;
        mem.write_u8(out + 1, 0)?;
        mem.write_u16(out + 2, flags)?;
        mem.write_u32(out + 4, 0)?;
        mem.write_u64(out + 8, base)?;
        mem.write_u64(out + 16, inheriting)?;
        Ok(())
    }

    pub fn fd_fdstat_set_flags(&mut self, _mem: &mut GuestMemory<'_>, fd: u32, flags: u16) -> HostResult<()> {
        // As Linux's F_SETFL: the sync flags are fixed at open.
        if flags & (fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC) != 0 {
            return Err(Errno::Inval.into());
        }
        match self.fds.require(fd, rights::FD_FDSTAT_SET_FLAGS)? {
            Descriptor::File(f) => {
                let mut oflags = rustix::fs::fcntl_getfl(&f.file).map_err(std::io::Error::from)?;
                oflags.set(rustix::fs::OFlags::APPEND, flags & fdflags::APPEND != 0);
                rustix::fs::fcntl_setfl(&f.file, oflags).map_err(std::io::Error::from)?;
                f.append = flags & fdflags::APPEND != 0;
                f.flags = (f.flags & !fdflags::NONBLOCK) | (flags & fdflags::NONBLOCK);
                Ok(())
            }
            Descriptor::Stream(s) => Ok(s.set_nonblocking(flags & fdflags::NONBLOCK != 0)?),
            _ if flags == 0 => Ok(()),
            _ => Err(Errno::Notsup.into()),
        }
    }

    pub fn fd_fdstat_set_rights(
        &mut self,
        _mem: &mut GuestMemory<'_>,
        fd: u32,
        base: u64,
        inheriting: u64,
    ) -> HostResult<()> {
        Ok(self.fds.restrict(fd, Rights { base, inheriting })?)
    }

    pub fn fd_filestat_get(&mut self, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> HostResult<()> {
        let tty = self.tty;
        let stat = match self.fds.require(fd, rights::FD_FILESTAT_GET)? {
            Descriptor::File(f) => {
                let md = cap_std::fs::Metadata::from_file(&f.file)?;
                Filestat::from_metadata(&md, self.ns.mount(f.location.mount).dev)
            }
            Descriptor::Dir(d) => {
                let path = d.path.clone();
                let loc = self.ns.locate(&path);
                self.stat_location(&loc)?
            }
            Descriptor::Stdin(_) | Descriptor::Stdout(_) | Descriptor::Stderr(_) => Filestat {
                filetype: if tty { filetype::CHARACTER_DEVICE } else { filetype::UNKNOWN },
                ..Filestat::default()
            },
            Descriptor::Listener(_) | Descriptor::Stream(_) => {
                Filestat { filetype: filetype::SOCKET_STREAM, ..Filestat::default() }
            }
            Descriptor::PipeRead(_) | Descriptor::PipeWrite(_) => Filestat::default(),
            Descriptor::Device(_) => Filestat { filetype: filetype::CHARACTER_DEVICE, nlink: 1, ..Filestat::default() },
        };
        stat.write(mem, out)?;
        Ok(())
    }

    pub fn fd_filestat_set_size(&mut self, _mem: &mut GuestMemory<'_>, fd: u32, size: u64) -> HostResult<()> {
        let f = self.fds.get_file(fd)?;
        if !f.writable {
            return Err(Errno::Badf.into());
        }
        self.fds.require(fd, rights::FD_FILESTAT_SET_SIZE)?;
        let f = self.fds.get_file(fd)?;
        let quota = self.ns.mount(f.location.mount).quota.as_deref();
        let Some(q) = quota else {
            f.file.set_len(size)?;
            f.wrote = true;
            return Ok(());
        };
        let now = f.file.metadata()?.len();
        if size > now {
            q.reserve(size - now)?;
        }
        if let Err(e) = f.file.set_len(size) {
            q.release(size.saturating_sub(now));
            return Err(e.into());
        }
        q.release(now.saturating_sub(size));
        f.wrote = true;
        Ok(())
    }

    pub fn fd_filestat_set_times(
        &mut self,
        _mem: &mut GuestMemory<'_>,
        fd: u32,
        atim: u64,
        mtim: u64,
        fst: u16,
    ) -> HostResult<()> {
        let atime = time_spec(atim, fstflags::ATIM, fstflags::ATIM_NOW, fst)?;
        let mtime = time_spec(mtim, fstflags::MTIM, fstflags::MTIM_NOW, fst)?;
        let path = match self.fds.require(fd, rights::FD_FILESTAT_SET_TIMES)? {
            Descriptor::File(f) => f.location.path.clone(),
            Descriptor::Dir(d) => d.path.clone(),
            _ => return Err(Errno::Badf.into()),
        };
        let loc = self.ns.locate(&path);
        self.check_writable(&loc)?;
        let in_lower = loc.layer != 0;
        let loc = self.for_write(&loc, true)?;
        // A descriptor on a lower layer's file is never changed through: the copy-up is.
        if !in_lower && let Descriptor::File(f) = self.fds.get(fd)? {
            let mut times = std::fs::FileTimes::new();
            if let Some(t) = atime {
                times = times.set_accessed(system_time(t));
            }
            if let Some(t) = mtime {
                times = times.set_modified(system_time(t));
            }
            f.file.set_times(times)?;
        } else {
            use cap_fs_ext::DirExt;
            self.host_dir(&loc).set_times(&loc.rel, atime, mtime)?;
        }
        Ok(())
    }

    pub fn fd_pread(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        count: u32,
        offset: u64,
        out: u32,
    ) -> HostResult<()> {
        let iovs = mem.iovecs(iovs, count)?;
        self.fds.require(fd, rights::FD_READ | rights::FD_SEEK)?;
        let f = self.fds.get_file(fd)?;
        if !f.readable {
            return Err(Errno::Badf.into());
        }
        let mut total = 0u64;
        for (buf, len) in iovs {
            let n = f.file.read_at(mem.slice_mut(buf, len)?, offset + total)?;
            total += n as u64;
            if n < len as usize {
                break;
            }
        }
        self.io.add_read(total);
        mem.write_u32(out, total as u32)?;
        Ok(())
    }

    pub fn fd_pwrite(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        count: u32,
        offset: u64,
        out: u32,
    ) -> HostResult<()> {
        let iovs = mem.iovecs(iovs, count)?;
        self.fds.require(fd, rights::FD_WRITE | rights::FD_SEEK)?;
        let f = self.fds.get_file(fd)?;
        if !f.writable {
            return Err(Errno::Badf.into());
        }
        let quota = self.ns.mount(f.location.mount).quota.as_deref();
        let fit = Fit::charge(quota, &f.file, |_| Ok(offset), &iovs)?;
        let mut total = 0u64;
        for (buf, len) in fit.iovs(&iovs) {
            if let Err(e) = f.file.write_all_at(mem.slice(buf, len)?, offset + total) {
                fit.refund_unwritten(total);
                return Err(e.into());
            }
            total += len as u64;
        }
        f.wrote = true;
        self.io.add_written(total);
        mem.write_u32(out, total as u32)?;
        Ok(())
    }

    pub fn fd_read(&mut self, mem: &mut GuestMemory<'_>, fd: u32, iovs: u32, count: u32, out: u32) -> HostResult<()> {
        let iovs = mem.iovecs(iovs, count)?;
        let mut total = 0usize;
        if let Descriptor::Dir(_) = self.fds.get(fd)? {
            return Err(Errno::Isdir.into());
        }
        match self.fds.require(fd, rights::FD_READ)? {
            Descriptor::File(f) => {
                if !f.readable {
                    return Err(Errno::Badf.into());
                }
                for (buf, len) in iovs {
                    let n = f.file.read(mem.slice_mut(buf, len)?)?;
                    total += n;
                    if n < len as usize {
                        break;
                    }
                }
                self.io.add_read(total as u64);
            }
            // Streams: one read into the first non-empty buffer, returning what is available.
            Descriptor::Stdin(SharedInput::Tty(tty)) => {
                if let Some(&(buf, len)) = iovs.iter().find(|(_, l)| *l > 0) {
                    total = tty.read(mem.slice_mut(buf, len)?, &self.stop)?;
                }
            }
            Descriptor::Stdin(input) => {
                if let Some(&(buf, len)) = iovs.iter().find(|(_, l)| *l > 0) {
                    if let Some(fd) = input.pollable() {
                        wait_readable(fd, &self.stop)?;
                    }
                    total = input.read(mem.slice_mut(buf, len)?)?;
                }
            }
            Descriptor::PipeRead(r) => {
                if let Some(&(buf, len)) = iovs.iter().find(|(_, l)| *l > 0) {
                    total = r.read(mem.slice_mut(buf, len)?, &self.stop)?;
                }
            }
            Descriptor::Stream(s) => {
                if let Some(&(buf, len)) = iovs.iter().find(|(_, l)| *l > 0) {
                    total = s.read(mem.slice_mut(buf, len)?)?;
                }
            }
            Descriptor::Device(d) => {
                let d = d.clone();
                total = crate::ops::dev::read(self, &d, mem, &iovs)?;
            }
            Descriptor::Dir(_) => return Err(Errno::Isdir.into()),
            _ => return Err(Errno::Badf.into()),
        }
        mem.write_u32(out, total as u32)?;
        Ok(())
    }

    pub fn fd_write(&mut self, mem: &mut GuestMemory<'_>, fd: u32, iovs: u32, count: u32, out: u32) -> HostResult<()> {
        let iovs = mem.iovecs(iovs, count)?;
        let mut total = 0usize;
        if let Descriptor::Dir(_) = self.fds.get(fd)? {
            return Err(Errno::Isdir.into());
        }
        match self.fds.require(fd, rights::FD_WRITE)? {
            Descriptor::File(f) => {
                if !f.writable {
                    return Err(Errno::Badf.into());
                }
                let quota = self.ns.mount(f.location.mount).quota.as_deref();
                let append = f.append;
                let fit = Fit::charge(quota, &f.file, |file| file_position(file, append), &iovs)?;
                for (buf, len) in fit.iovs(&iovs) {
                    if let Err(e) = f.file.write_all(mem.slice(buf, len)?) {
                        fit.refund_unwritten(total as u64);
                        return Err(e.into());
                    }
                    total += len as usize;
                }
                f.wrote = true;
                self.io.add_written(total as u64);
            }
            Descriptor::Stdout(w) | Descriptor::Stderr(w) => {
                let mut w = w.lock().unwrap();
                for (buf, len) in iovs {
                    w.write_all(mem.slice(buf, len)?)?;
                    total += len as usize;
                }
                w.flush()?;
            }
            Descriptor::PipeWrite(w) => {
                for (buf, len) in iovs {
                    match w.write(mem.slice(buf, len)?, &self.stop) {
                        Ok(Ok(n)) => {
                            total += n;
                            if n < len as usize {
                                break;
                            }
                        }
                        Ok(Err(_broken)) if total > 0 => break,
                        // SIGPIPE: the writer ends with 141, unless it catches it (then EPIPE).
                        Ok(Err(broken)) => {
                            return Err(if self.stop.deliver(crate::host::signal::PIPE) {
                                HostError::Trap(wasmtime::Error::new(crate::host::Stopped))
                            } else {
                                Errno::from(broken).into()
                            });
                        }
                        Err(e) if total > 0 => {
                            drop(e);
                            break;
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            Descriptor::Stream(s) => total = crate::ops::sock::write_stream(s, mem, &iovs)?,
            Descriptor::Device(d) => total = crate::ops::dev::write(d, mem, &iovs)?,
            Descriptor::Dir(_) => return Err(Errno::Isdir.into()),
            _ => return Err(Errno::Badf.into()),
        }
        mem.write_u32(out, total as u32)?;
        Ok(())
    }

    pub fn fd_readdir(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        buf: u32,
        buf_len: u32,
        cookie: u64,
        out: u32,
    ) -> HostResult<()> {
        self.fds.get_dir(fd)?;
        self.fds.require(fd, rights::FD_READDIR)?;
        let dir = self.fds.get_dir(fd)?;
        if cookie == 0 || dir.listing.is_none() {
            let path = dir.path.clone();
            let listing = self.list_directory(&path)?;
            self.fds.get_dir(fd)?.listing = Some(listing);
        }
        let listing = self.fds.get_dir(fd)?.listing.as_ref().expect("listing was just made");
        // Serialize entries from `cookie` on; the last one may be cut off, which tells
        // wasi-libc to call again with a larger buffer.
        let mut bytes = Vec::new();
        for (i, e) in listing.iter().enumerate().skip(cookie as usize) {
            if bytes.len() >= buf_len as usize {
                break;
            }
            let mut rec = [0u8; DIRENT_SIZE];
            rec[0..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            rec[8..16].copy_from_slice(&e.ino.to_le_bytes());
            rec[16..20].copy_from_slice(&(e.name.len() as u32).to_le_bytes());
            rec[20] = e.filetype;
            bytes.extend_from_slice(&rec);
            bytes.extend_from_slice(&e.name);
        }
        bytes.truncate(buf_len as usize);
        mem.write_bytes(buf, &bytes)?;
        mem.write_u32(out, bytes.len() as u32)?;
        Ok(())
    }

    /// The entries of directory `path`: `.`, `..`, what the host directory holds, and the mount
    /// points directly inside it (shadowing a host entry of the same name, as a mount does).
    fn list_directory(&self, path: &GuestPath) -> Result<Vec<DirEntry>, Errno> {
        let loc = self.ns.locate(path);
        let mounts_here = self.ns.mount_entries_in(path);
        // `..` of `/` is `/` itself, as on Linux.
        let ino_of = |p: &GuestPath| self.stat_location(&self.ns.locate(p)).map(|s| s.ino);
        let mut entries = vec![
            DirEntry { name: b".".to_vec(), ino: ino_of(path)?, filetype: filetype::DIRECTORY },
            DirEntry {
                name: b"..".to_vec(),
                ino: ino_of(&path.parent().unwrap_or_else(GuestPath::root))?,
                filetype: filetype::DIRECTORY,
            },
        ];
        if let Some(o) = self.ns.mount(loc.mount).overlay() {
            let dirs = self.overlay_dirs(&loc)?;
            for e in o.read_dir(&loc.rel, dirs)? {
                let name = e.name.into_vec();
                if !mounts_here.iter().any(|m| m.as_bytes() == name.as_slice()) {
                    entries.push(DirEntry { ino: e.ino, name, filetype: filetype_of(e.file_type) });
                }
            }
            return Ok(self.with_mount_entries(path, entries, mounts_here));
        }
        let host = self.host_dir(&loc);
        let listed = if loc.rel.as_os_str() == "." { host.entries() } else { host.read_dir(&loc.rel) };
        match listed {
            Ok(reader) => {
                use rustix::fs::DirEntryExt;
                for entry in reader {
                    let entry = entry?;
                    let name = entry.file_name().into_vec();
                    if mounts_here.iter().any(|m| m.as_bytes() == name.as_slice()) {
                        continue;
                    }
                    let filetype = entry.file_type().map(filetype_of).unwrap_or(filetype::UNKNOWN);
                    entries.push(DirEntry { ino: entry.ino(), name, filetype });
                }
            }
            // Only a directory leading to a mount may be missing underneath.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !mounts_here.is_empty() => {}
            Err(e) => return Err(e.into()),
        }
        Ok(self.with_mount_entries(path, entries, mounts_here))
    }

    /// `entries` of directory `path` and the mount points `mounts_here` inside it.
    fn with_mount_entries(
        &self,
        path: &GuestPath,
        mut entries: Vec<DirEntry>,
        mounts_here: Vec<String>,
    ) -> Vec<DirEntry> {
        for name in mounts_here {
            let mut child = path.clone();
            child.push(&name);
            let stat = self.stat_location(&self.ns.locate(&child)).unwrap_or_default();
            let filetype = if stat.filetype == filetype::UNKNOWN { filetype::DIRECTORY } else { stat.filetype };
            entries.push(DirEntry { name: name.into_bytes(), ino: stat.ino, filetype });
        }
        entries.extend(self.device_entries(path));
        entries
    }

    pub fn fd_renumber(&mut self, _mem: &mut GuestMemory<'_>, from: u32, to: u32) -> HostResult<()> {
        if let Some(closed) = self.fds.renumber(from, to)? {
            self.report_close(&closed);
        }
        Ok(())
    }

    pub fn fd_seek(&mut self, mem: &mut GuestMemory<'_>, fd: u32, offset: i64, whence: u8, out: u32) -> HostResult<()> {
        let pos = match whence {
            0 => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::Inval)?),
            1 => SeekFrom::Current(offset),
            2 => SeekFrom::End(offset),
            _ => return Err(Errno::Inval.into()),
        };
        // `fd_tell` is a seek by 0 from the current position and needs only FD_TELL.
        let needed = if offset == 0 && whence == 1 { rights::FD_TELL } else { rights::FD_SEEK };
        match self.fds.get(fd)? {
            Descriptor::File(_) => {}
            Descriptor::Dir(_) => return Err(Errno::Isdir.into()),
            // Linux's memory devices accept any seek and stay at 0; a terminal is a stream.
            Descriptor::Device(crate::devices::OpenDevice::Plain(_)) => return Ok(mem.write_u64(out, 0)?),
            _ => return Err(Errno::Spipe.into()),
        }
        let Descriptor::File(f) = self.fds.require(fd, needed)? else { unreachable!("a file, checked above") };
        let new = f.file.seek(pos)?;
        mem.write_u64(out, new)?;
        Ok(())
    }

    pub fn fd_tell(&mut self, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> HostResult<()> {
        self.fd_seek(mem, fd, 0, 1, out)
    }

    pub fn fd_prestat_get(&mut self, mem: &mut GuestMemory<'_>, fd: u32, out: u32) -> HostResult<()> {
        let Descriptor::Dir(d) = self.fds.get(fd)? else { return Err(Errno::Badf.into()) };
        let name = d.preopen.as_ref().ok_or(Errno::Badf)?;
        let len = name.len() as u32;
        mem.write_u32(out, 0)?;
        mem.write_u32(out + 4, len)?;
        Ok(())
    }

    pub fn fd_prestat_dir_name(&mut self, mem: &mut GuestMemory<'_>, fd: u32, buf: u32, len: u32) -> HostResult<()> {
        let Descriptor::Dir(d) = self.fds.get(fd)? else { return Err(Errno::Badf.into()) };
        let name = d.preopen.as_ref().ok_or(Errno::Badf)?.clone().into_bytes();
        if (len as usize) < name.len() {
            return Err(Errno::Nametoolong.into());
        }
        mem.write_bytes(buf, &name)?;
        Ok(())
    }
}

fn system_time(t: cap_fs_ext::SystemTimeSpec) -> std::time::SystemTime {
    match t {
        cap_fs_ext::SystemTimeSpec::SymbolicNow => std::time::SystemTime::now(),
        cap_fs_ext::SystemTimeSpec::Absolute(t) => t.into_std(),
    }
}

/// Where a write on `file` lands: its end with `O_APPEND`, else its position.
fn file_position(mut file: &std::fs::File, append: bool) -> std::io::Result<u64> {
    if append { Ok(file.metadata()?.len()) } else { file.stream_position() }
}

/// How much of a write to a regular file its mount's quota lets through, already charged.
struct Fit<'q> {
    quota: Option<&'q Quota>,
    /// File length and write offset when charged.
    len: u64,
    pos: u64,
    /// Bytes that may be written (the whole write without a quota).
    bytes: u64,
}

impl<'q> Fit<'q> {
    /// Charges writing `iovs` at the offset `position` gives; `ENOSPC` when no byte fits.
    fn charge(
        quota: Option<&'q Quota>,
        file: &std::fs::File,
        position: impl FnOnce(&std::fs::File) -> std::io::Result<u64>,
        iovs: &[(u32, u32)],
    ) -> Result<Self, Errno> {
        let count: u64 = iovs.iter().map(|(_, l)| *l as u64).sum();
        let Some(q) = quota else { return Ok(Fit { quota, len: 0, pos: 0, bytes: count }) };
        let len = file.metadata()?.len();
        let pos = position(file)?;
        let bytes = q.charge_write(len, pos, count)?;
        Ok(Fit { quota, len, pos, bytes })
    }

    /// `iovs` cut to the bytes that fit (without allocating: this is every write's path).
    fn iovs<'a>(&self, iovs: &'a [(u32, u32)]) -> impl Iterator<Item = (u32, u32)> + 'a {
        let mut left = self.bytes;
        iovs.iter().map_while(move |&(buf, len)| {
            let n = (len as u64).min(left);
            if n == 0 && len > 0 {
                return None;
            }
            left -= n;
            Some((buf, n as u32))
        })
    }

    /// A write failed after `written` bytes: the rest of the charge goes back.
    fn refund_unwritten(&self, written: u64) {
        if let Some(q) = self.quota {
            q.refund(self.len, self.pos, self.bytes, written);
        }
    }
}
