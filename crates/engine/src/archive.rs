//! `docker cp`: a path of a container as a tar stream, and a tar stream unpacked into one, both
//! through the container's own namespace (its rootfs and mounts) as the guest sees it. Every
//! path — the one asked for, each archive entry's, each link's — is walked in guest path space
//! by the WASI host's walk, and the host call is made through the mount's `Dir` with the
//! walked, symlink-free path, never following a link on the host. So an archive entry
//! `../../etc/passwd` is refused as Docker refuses it (outside the destination), and a link in
//! the archive or the container pointing anywhere is followed inside the container's tree.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt, SystemTimeSpec};
use cap_std::fs::{Metadata, MetadataExt, OpenOptions, OpenOptionsExt};
use porthole_core::guest_path::GuestPath;
use porthole_runtime::{GuestTree, Node};
use porthole_store::ContainerRecord;

use crate::error::IoContext;
use crate::{Engine, EngineError, Result};

/// What `HEAD /containers/{id}/archive` reports: Docker's `PathStat`, with the Unix mode
/// (type bits included); the API turns it into Go's `FileMode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathStat {
    pub name: String,
    pub size: u64,
    pub mode: u32,
    /// Nanoseconds since the epoch.
    pub mtime: i64,
    /// For a symlink, where it leads in the container, fully resolved.
    pub link_target: String,
}

/// A path of a container ready to be written as a tar stream.
pub struct ArchiveSource {
    tree: GuestTree,
    /// The walked, symlink-free location of what is archived.
    path: GuestPath,
    /// The name its entries start with (the last component the client asked for).
    name: String,
}

/// Docker's `filepath.Base` of the path a client asked for: `/a/b/` → `b`, `/a/.` → `.`.
fn base_name(path: &str) -> String {
    match path.trim_end_matches('/').rsplit('/').next() {
        Some("") | None => "/".to_string(),
        Some(name) => name.to_string(),
    }
}

/// Where archive entry `name` lands under `dest`, judged by the name alone, as Docker's untar
/// does: a leading `/` is dropped, `.` skipped, and a `..` that would climb above `dest` is a
/// breakout. `None` is `dest` itself (the `./` entry).
pub(crate) fn entry_path(dest: &GuestPath, name: &str) -> Result<Option<GuestPath>> {
    let mut path = dest.clone();
    let mut depth = 0usize;
    for component in name.split('/') {
        match component {
            "" | "." => {}
            ".." if depth == 0 => {
                return Err(EngineError::ArchiveBreakout { name: name.to_string(), dest: dest.to_string() });
            }
            ".." => {
                path.pop();
                depth -= 1;
            }
            _ => {
                path.push(component);
                depth += 1;
            }
        }
    }
    Ok((depth > 0).then_some(path))
}

fn walk_error(path: &str, container: &str) -> impl FnOnce(io::Error) -> EngineError {
    let (path, container) = (path.to_string(), container.to_string());
    move |_| EngineError::NoSuchFileInContainer { path, container }
}

/// `lstat` of a walked location; `None` for a directory that exists only as the way to a
/// mount point (the walk shows it, the underlying tree may lack it).
fn lstat(tree: &GuestTree, path: &GuestPath) -> io::Result<Option<Metadata>> {
    let (dir, rel) = tree.read_place(path);
    let md = if rel.as_os_str() == "." { dir.dir_metadata() } else { dir.symlink_metadata(&rel) };
    match md {
        Ok(md) => Ok(Some(md)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn mtime_nanos(md: &Metadata) -> i64 {
    md.modified()
        .ok()
        .and_then(|t| t.into_std().duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

impl Engine {
    /// The container's file tree as its guests see it, for host-side access.
    fn container_tree(&self, reference: &str) -> Result<(ContainerRecord, GuestTree)> {
        let (id, quotas) = self.container_quotas(reference)?;
        let record = self.world().container(id.as_str())?.record.clone();
        let tree = self.guest_tree(&record, &quotas)?;
        Ok((record, tree))
    }

    /// `HEAD /containers/{id}/archive?path=`: what `path` is. A symlink in its last component
    /// is reported as the link (with where it leads), unless the path ends in `/`.
    pub fn path_stat(&self, reference: &str, path: &str) -> Result<PathStat> {
        let (_, tree) = self.container_tree(reference)?;
        stat(&tree, reference, path).map(|(stat, _)| stat)
    }

    /// `GET /containers/{id}/archive?path=`: what `path` is and a source that writes it as a
    /// tar stream (a directory with everything below it, mounts included).
    pub fn archive(&self, reference: &str, path: &str) -> Result<(PathStat, ArchiveSource)> {
        let (_, tree) = self.container_tree(reference)?;
        let (stat, at) = stat(&tree, reference, path)?;
        let name = if stat.name == "/" { ".".to_string() } else { stat.name.clone() };
        Ok((stat, ArchiveSource { tree, path: at, name }))
    }

    /// `PUT /containers/{id}/archive?path=`: unpacks `archive` into the directory `path`. A
    /// directory never replaces a non-directory or the reverse: Docker's
    /// `noOverwriteDirNonDir`, which the docker CLI always sets, is always in force.
    pub fn extract(&self, reference: &str, path: &str, archive: impl Read) -> Result<()> {
        let (record, tree) = self.container_tree(reference)?;
        let at = tree.resolve(&GuestPath::root(), path, true).map_err(walk_error(path, reference))?;
        match at.node {
            Node::Dir => {}
            Node::Missing => {
                return Err(EngineError::NoSuchFileInContainer {
                    path: path.to_string(),
                    container: reference.to_string(),
                });
            }
            _ => return Err(EngineError::ExtractNotDirectory),
        }
        let result = Extractor { tree: &tree, dest: at.path }.run(archive);
        // Whatever was written, the volumes' cached sizes are stale now.
        for volume in record.mounts.iter().filter_map(|m| m.volume()) {
            self.inner.sizes.invalidate(volume);
        }
        result
    }
}

/// Resolves `path` as `docker cp` means it and stats it.
fn stat(tree: &GuestTree, container: &str, path: &str) -> Result<(PathStat, GuestPath)> {
    let follow = path.ends_with('/') || path.ends_with("/.");
    let at = tree.resolve(&GuestPath::root(), path, follow).map_err(walk_error(path, container))?;
    if at.node == Node::Missing {
        return Err(EngineError::NoSuchFileInContainer { path: path.to_string(), container: container.to_string() });
    }
    let link_target = match at.node {
        Node::Symlink(_) => {
            tree.resolve(&GuestPath::root(), path, true).map(|target| target.path.to_string()).unwrap_or_default()
        }
        _ => String::new(),
    };
    let md = lstat(tree, &at.path).context(|| format!("stat {path}"))?;
    let stat = PathStat {
        name: base_name(path),
        size: md.as_ref().map_or(0, |m| m.len()),
        mode: md.as_ref().map_or(0o040755, |m| m.mode()),
        mtime: md.as_ref().map_or(0, mtime_nanos),
        link_target,
    };
    Ok((stat, at.path))
}

impl ArchiveSource {
    /// Writes the tar stream. Files hard-linked together are written once and then as links,
    /// as Docker's archiver does (the base image's applets are one file).
    pub fn write_to(&self, out: impl Write) -> io::Result<()> {
        let mut builder = tar::Builder::new(out);
        let mut seen = HashMap::new();
        self.append(&mut builder, &self.path, &self.name, &mut seen)?;
        builder.into_inner()?.flush()
    }

    fn append<W: Write>(
        &self,
        builder: &mut tar::Builder<W>,
        path: &GuestPath,
        name: &str,
        seen: &mut HashMap<(u64, u64), String>,
    ) -> io::Result<()> {
        let md = lstat(&self.tree, path)?;
        let mut header = tar::Header::new_gnu();
        header.set_mtime(md.as_ref().map_or(0, |m| u64::try_from(mtime_nanos(m) / 1_000_000_000).unwrap_or(0)));
        header.set_uid(md.as_ref().map_or(0, |m| u64::from(m.uid())));
        header.set_gid(md.as_ref().map_or(0, |m| u64::from(m.gid())));
        header.set_mode(md.as_ref().map_or(0o755, |m| m.mode() & 0o7777));
        let Some(md) = md else {
            return self.append_dir(builder, path, name, header, seen);
        };
        let (dir, rel) = self.tree.read_place(path);
        let kind = md.file_type();
        if kind.is_dir() {
            self.append_dir(builder, path, name, header, seen)
        } else if kind.is_symlink() {
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_size(0);
            builder.append_link(&mut header, name, dir.read_link_contents(&rel)?)
        } else if kind.is_file() {
            if md.nlink() > 1 {
                if let Some(first) = seen.get(&(md.dev(), md.ino())) {
                    header.set_entry_type(tar::EntryType::Link);
                    header.set_size(0);
                    return builder.append_link(&mut header, name, first);
                }
                seen.insert((md.dev(), md.ino()), name.to_string());
            }
            let file = dir.open_with(&rel, OpenOptions::new().read(true).follow(FollowSymlinks::No))?;
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(md.len());
            // Exactly the size the header promised, even if the file changes meanwhile.
            let mut body = file.into_std().take(md.len());
            builder.append_data(&mut header, name, &mut body)
        } else {
            // Sockets, pipes and devices carry no content to copy.
            Ok(())
        }
    }

    fn append_dir<W: Write>(
        &self,
        builder: &mut tar::Builder<W>,
        path: &GuestPath,
        name: &str,
        mut header: tar::Header,
        seen: &mut HashMap<(u64, u64), String>,
    ) -> io::Result<()> {
        header.set_entry_type(tar::EntryType::Directory);
        header.set_size(0);
        builder.append_data(&mut header, format!("{name}/"), io::empty())?;
        let mut names = self.tree.mount_entries_in(path);
        // Listed as the guest lists it (a layered root merged), never following a link here.
        let listed = self.tree.resolve(&GuestPath::root(), path.as_str(), false).and_then(|r| self.tree.list_dir(&r));
        match listed {
            Ok(entries) => names.extend(entries.into_iter().map(|e| e.name.to_string_lossy().into_owned())),
            // Only a way to a mount point: its mount entries are all it holds.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        names.sort();
        names.dedup();
        for child in names {
            let mut child_path = path.clone();
            child_path.push(&child);
            self.append(builder, &child_path, &format!("{name}/{child}"), seen)?;
        }
        Ok(())
    }
}

/// Unpacks one archive into `dest`, a walked directory of `tree`.
struct Extractor<'a> {
    tree: &'a GuestTree,
    dest: GuestPath,
}

impl Extractor<'_> {
    fn run(&self, archive: impl Read) -> Result<()> {
        let mut archive = tar::Archive::new(archive);
        let reading = |e| EngineError::Io { context: "reading the archive".into(), source: e };
        for entry in archive.entries().map_err(reading)? {
            let mut entry = entry.map_err(reading)?;
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let Some(path) = entry_path(&self.dest, &name)? else { continue };
            self.unpack(&mut entry, &name, &path)?;
        }
        Ok(())
    }

    fn unpack(&self, entry: &mut tar::Entry<impl Read>, name: &str, path: &GuestPath) -> Result<()> {
        let io = |e| EngineError::Io { context: format!("extracting {name}"), source: e };
        let parent = self.make_parents(path, name)?;
        let file_name = path.file_name().expect("an entry below dest has a name");
        let loc = self.tree.resolve(&parent, file_name, false).map_err(io)?;
        let node = loc.node.clone();
        if self.tree.mount_read_only(loc.mount) {
            return Err(if loc.mount == 0 { EngineError::ReadOnlyRootfs } else { EngineError::ReadOnlyVolume });
        }
        let quota = self.tree.mount_quota(loc.mount);
        let dir = self.tree.mount_dir(loc.mount);
        let mode = entry.header().mode().map_err(io)? & 0o7777;
        let kind = entry.header().entry_type();
        let seconds = entry.header().mtime().unwrap_or(0);
        let mtime = SystemTimeSpec::Absolute(cap_std::time::SystemTime::from_std(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds),
        ));
        if kind.is_dir() {
            return match node {
                Node::Dir => Ok(()),
                Node::Missing => {
                    if self.tree.ready_create(&loc).map_err(io)? {
                        dir.create_dir(&loc.rel).map_err(io)?;
                        self.tree.make_opaque(&loc).map_err(io)?;
                    } else {
                        dir.create_dir(&loc.rel).map_err(io)?;
                    }
                    dir.set_permissions(&loc.rel, cap_std::fs::Permissions::from_std(perms(mode))).map_err(io)
                }
                _ => Err(EngineError::OverwriteNonDir { path: loc.path.to_string(), name: name.to_string() }),
            };
        }
        if node == Node::Dir {
            return Err(EngineError::OverwriteDir { path: loc.path.to_string(), name: name.to_string() });
        }
        if self.tree.is_mount_point(&loc.path) {
            return Err(EngineError::ArchiveMountPoint(loc.path.to_string()));
        }
        // Replaced, never written through: the old file may be hard-linked elsewhere.
        if node != Node::Missing {
            let freed = dir.symlink_metadata(&loc.rel).ok().filter(|m| m.is_file() && m.nlink() == 1).map(|m| m.len());
            self.tree.remove_file(&loc).map_err(io)?;
            if let (Some(quota), Some(freed)) = (quota, freed) {
                quota.release(freed);
            }
        }
        // In a layered root the new entry goes to the writable layer, in place of any whiteout.
        self.tree.ready_create(&loc).map_err(io)?;
        if kind.is_file() || kind == tar::EntryType::Continuous {
            // Charged as a guest's write is: a volume's `size` holds for copies in too.
            if let Some(quota) = quota {
                quota.reserve(entry.size()).map_err(|_| io(os_error(rustix::io::Errno::NOSPC)))?;
            }
            let mut file = dir
                .open_with(
                    &loc.rel,
                    OpenOptions::new().write(true).create_new(true).follow(FollowSymlinks::No).mode(mode),
                )
                .map_err(io)?;
            io::copy(entry, &mut file).map_err(io)?;
            // As Docker's untar: the file keeps its time (the time is a nicety, not the copy).
            let _ = dir.set_symlink_times(&loc.rel, None, Some(mtime));
            Ok(())
        } else if kind.is_symlink() {
            let target = entry.link_name_bytes().ok_or_else(|| EngineError::ArchiveEntryType(name.to_string()))?;
            dir.symlink_contents(Path::new(std::ffi::OsStr::from_bytes(&target)), &loc.rel).map_err(io)?;
            let _ = dir.set_symlink_times(&loc.rel, None, Some(mtime));
            Ok(())
        } else if kind.is_hard_link() {
            let target = entry.link_name_bytes().ok_or_else(|| EngineError::ArchiveEntryType(name.to_string()))?;
            let target_name = String::from_utf8_lossy(&target).into_owned();
            let Some(target_path) = entry_path(&self.dest, &target_name)? else {
                return Err(EngineError::ArchiveEntryType(name.to_string()));
            };
            let mut src = self.tree.resolve(&GuestPath::root(), target_path.as_str(), false).map_err(io)?;
            if src.mount != loc.mount {
                return Err(io(os_error(rustix::io::Errno::XDEV)));
            }
            self.tree.ready_write(&mut src).map_err(io)?;
            dir.hard_link(&src.rel, dir, &loc.rel).map_err(io)
        } else {
            Err(EngineError::ArchiveEntryType(name.to_string()))
        }
    }

    /// The walked directory that holds `path`, its missing directories made on the way
    /// (following links inside the container, as a guest's `mkdir -p` would).
    fn make_parents(&self, path: &GuestPath, name: &str) -> Result<GuestPath> {
        let io = |e| EngineError::Io { context: format!("extracting {name}"), source: e };
        let parent = path.parent().expect("an entry below dest has a parent");
        let mut cur = self.dest.clone();
        for component in parent.relative_to(&self.dest).split('/').filter(|c| !c.is_empty() && *c != ".") {
            let loc = self.tree.resolve(&cur, component, true).map_err(io)?;
            match loc.node {
                Node::Dir => {}
                Node::Missing => {
                    if self.tree.mount_read_only(loc.mount) {
                        return Err(if loc.mount == 0 {
                            EngineError::ReadOnlyRootfs
                        } else {
                            EngineError::ReadOnlyVolume
                        });
                    }
                    let opaque = self.tree.ready_create(&loc).map_err(io)?;
                    self.tree.mount_dir(loc.mount).create_dir(&loc.rel).map_err(io)?;
                    if opaque {
                        self.tree.make_opaque(&loc).map_err(io)?;
                    }
                }
                _ => return Err(io(os_error(rustix::io::Errno::NOTDIR))),
            }
            cur = loc.path;
        }
        Ok(cur)
    }
}

fn os_error(e: rustix::io::Errno) -> io::Error {
    io::Error::from_raw_os_error(e.raw_os_error())
}

fn perms(mode: u32) -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_stay_below_the_destination() {
        let dest = GuestPath::new("/srv/data").unwrap();
        let table = [
            ("f", "Ok(Some(\"/srv/data/f\"))"),
            ("./a/b/", "Ok(Some(\"/srv/data/a/b\"))"),
            ("/etc/passwd", "Ok(Some(\"/srv/data/etc/passwd\"))"),
            ("a/../b", "Ok(Some(\"/srv/data/b\"))"),
            ("./", "Ok(None)"),
            ("../x", "Err(\"\\\"../x\\\" is outside of \\\"/srv/data\\\"\")"),
            ("a/../../x", "Err(\"\\\"a/../../x\\\" is outside of \\\"/srv/data\\\"\")"),
        ];
        for (name, expect) in table {
            let got = match entry_path(&dest, name) {
                Ok(p) => format!("Ok({:?})", p.map(|p| p.to_string())),
                Err(e) => format!("Err({:?})", e.to_string()),
            };
            assert_eq!(got, expect, "{name}");
        }
    }

    #[test]
    fn base_names_are_go_filepath_base() {
        for (path, base) in [("/a/b", "b"), ("/a/b/", "b"), ("/a/.", "."), ("/", "/"), ("f", "f")] {
            assert_eq!(base_name(path), base, "{path}");
        }
    }
}
