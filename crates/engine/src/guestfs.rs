//! Host-side file access to a tree whose symlinks are not ours: a container's rootfs, a build
//! stage, a build context. Image content and build contexts are untrusted input.
//!
//! A path is resolved as the guest would resolve it — by the runtime's kernel-like walk over a
//! [`GuestTree`] of the tree's `cap_std::fs::Dir` alone: absolute link targets restart at the
//! tree's root, `..` stops there — and the operation is then made through that `Dir` with the
//! walked, symlink-free relative path, never following a link on the host. So a link to
//! `/etc/hosts` in an image leads to the image's `/etc/hosts`, never the host's, and a build
//! context's links stay inside the context, as Docker's builder resolves them.

use std::ffi::OsString;
use std::io;
use std::io::Write;
use std::path::{Path, PathBuf};

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt};
use cap_std::ambient_authority;
use cap_std::fs::{Dir, File, OpenOptions, OpenOptionsExt};
use porthole_core::guest_path::GuestPath;
use porthole_runtime::{GuestTree, MAX_SYMLINK_HOPS, Node, Resolved};
use rustix::io::Errno;

/// A tree opened for host-side access in its own path space.
pub(crate) struct GuestFs {
    /// Only the root: the tree itself, so every [`Resolved`] lies in it (`rel` is relative to
    /// its directory).
    tree: GuestTree,
}

impl GuestFs {
    pub fn open(root: &Path) -> io::Result<Self> {
        Ok(Self::new(Dir::open_ambient_dir(root, ambient_authority())?))
    }

    pub fn new(root: Dir) -> Self {
        Self { tree: GuestTree::of_dir(root) }
    }

    /// A container's files as its guests see them: its writable `upper` over the image's
    /// layers (`lowers` topmost first; none for a container whose rootfs stands alone).
    pub fn layered(upper: &Path, lowers: &[PathBuf]) -> io::Result<Self> {
        let open = |p: &Path| Dir::open_ambient_dir(p, ambient_authority());
        if lowers.is_empty() {
            return Self::open(upper);
        }
        let lowers = lowers.iter().map(|p| open(p)).collect::<io::Result<Vec<_>>>()?;
        let tree = GuestTree::of_layers(open(upper)?, lowers).map_err(io::Error::other)?;
        Ok(Self { tree })
    }

    /// The tree (its writable layer, if layered): what is created or replaced goes here.
    pub fn dir(&self) -> &Dir {
        self.tree.root_dir()
    }

    /// The tree for walks and listings of its own (`docker diff` reads its upper layer).
    pub fn tree(&self) -> &GuestTree {
        &self.tree
    }

    /// Resolves `path` (relative ones from the root) as the guest would; `follow_final` says
    /// whether a symlink in the last component is followed.
    pub fn resolve(&self, path: &str, follow_final: bool) -> io::Result<Resolved> {
        self.resolve_from(&GuestPath::root(), path, follow_final)
    }

    /// Resolves `name` inside the directory `dir`, following a link there as the guest would.
    pub fn resolve_from_dir(&self, dir: &Resolved, name: &str) -> io::Result<Resolved> {
        self.resolve_from(&dir.path, name, true)
    }

    pub fn resolve_from(&self, start: &GuestPath, path: &str, follow_final: bool) -> io::Result<Resolved> {
        self.tree.resolve(start, path, follow_final)
    }

    /// `mkdir -p` in the tree's path space: each component is walked as the guest would, a
    /// symlink on the way is followed inside the tree, and a missing directory — also a
    /// dangling link's target — is created, as Docker does for WORKDIR and mount points.
    pub fn create_dir_all(&self, path: &str) -> io::Result<Resolved> {
        let mut hops = 0;
        let path = self.mkdir_p(&GuestPath::root(), path, &mut hops)?;
        self.resolve(&path.to_string(), true)
    }

    fn mkdir_p(&self, start: &GuestPath, path: &str, hops: &mut usize) -> io::Result<GuestPath> {
        let mut cur = if path.starts_with('/') { GuestPath::root() } else { start.clone() };
        for comp in path.split('/') {
            match comp {
                "" | "." => continue,
                ".." => {
                    cur.pop();
                    continue;
                }
                _ => {}
            }
            cur = match self.resolve_from(&cur, comp, true) {
                Ok(r) => match r.node {
                    Node::Dir => r.path,
                    Node::Missing => {
                        // The walk ended symlink-free, so its parent is a directory of the tree.
                        let opaque = self.tree.ready_create(&r)?;
                        match self.dir().create_dir(&r.rel) {
                            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
                            Ok(()) if opaque => {
                                self.tree.make_opaque(&r)?;
                                r.path
                            }
                            _ => r.path,
                        }
                    }
                    _ => return Err(os_error(Errno::NOTDIR)),
                },
                // A link whose target lies below a missing directory: make the target.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    let Node::Symlink(target) = self.resolve_from(&cur, comp, false)?.node else { return Err(e) };
                    *hops += 1;
                    if *hops > MAX_SYMLINK_HOPS {
                        return Err(os_error(Errno::LOOP));
                    }
                    let target = String::from_utf8(target).map_err(|_| os_error(Errno::ILSEQ))?;
                    self.mkdir_p(&cur, &target, hops)?
                }
                Err(e) => return Err(e),
            };
        }
        Ok(cur)
    }

    /// Opens the directory `r` names for reading whole, refusing a symlink there; in a
    /// layered tree only where one layer makes it (see [`GuestFs::copy_dir`] otherwise).
    pub fn open_dir(&self, r: &Resolved) -> io::Result<Dir> {
        let dir = match self.tree.single_layer(r)? {
            Some(_) => self.tree.dir_of(r),
            None => return Err(os_error(Errno::XDEV)),
        };
        if r.path.is_root() { dir.try_clone() } else { dir.open_dir_nofollow(&r.rel) }
    }

    /// Copies the contents of directory `r` into `to` as the guest sees them (a layered tree's
    /// merged view, whiteouts applied), keeping modes, times and links as `copy_tree` does;
    /// hard links are kept only within one layer's part.
    pub fn copy_dir(&self, r: &Resolved, to: &Dir) -> io::Result<()> {
        if self.tree.single_layer(r)?.is_some() {
            return porthole_store::copy::copy_tree(&self.open_dir(r)?, to);
        }
        for e in self.tree.list_dir(r)? {
            let name = e.name.to_str().ok_or_else(|| os_error(Errno::ILSEQ))?;
            let child = self.tree.resolve(&r.path, name, false)?;
            let from = self.tree.dir_of(&child);
            match child.node {
                Node::Dir => {
                    // Merging into what is there, as `copy_tree` does (a build's COPY).
                    match to.create_dir(&e.name) {
                        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
                        _ => {}
                    }
                    let sub = to.open_dir_nofollow(&e.name)?;
                    self.copy_dir(&child, &sub)?;
                    porthole_store::copy::copy_dir_attributes(&from.symlink_metadata(&child.rel)?, &sub)?;
                }
                Node::Symlink(target) => {
                    use std::os::unix::ffi::OsStrExt;
                    match to.remove_file(&e.name) {
                        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                        _ => {}
                    }
                    to.symlink_contents(std::ffi::OsStr::from_bytes(&target), &e.name)?;
                }
                _ => porthole_store::copy::copy_file(from, &child.rel, to, &e.name)?,
            }
        }
        Ok(())
    }

    /// Opens the directory `r` names to write into: in a layered tree it is made in the
    /// writable layer first (copied up with its mode and times), so what is written there
    /// shows over the lower layers' entries and never changes them.
    pub fn open_dir_for_write(&self, r: &Resolved) -> io::Result<Dir> {
        if r.node != Node::Dir {
            return Err(os_error(Errno::NOTDIR));
        }
        let mut r = r.clone();
        self.tree.ready_write(&mut r)?;
        if r.path.is_root() { self.dir().try_clone() } else { self.dir().open_dir_nofollow(&r.rel) }
    }

    /// Feeds `hasher` what `r` is as the guest sees it (a layered tree's merged view): for a
    /// file its mode and bytes, for a directory each entry's name and digest in name order,
    /// for a link its target. Times are left out, as Docker's tarsum leaves them out, so a
    /// build context touched but unchanged still hits the build cache.
    pub fn digest(&self, r: &Resolved, hasher: &mut impl io::Write) -> io::Result<()> {
        let md = self.metadata(r)?;
        hasher.write_all(&cap_std::fs::PermissionsExt::mode(&md.permissions()).to_le_bytes())?;
        match &r.node {
            Node::Dir => {
                let mut names: Vec<OsString> = self.list_dir(r)?.into_iter().map(|e| e.name).collect();
                names.sort();
                for name in names {
                    let text = name.to_str().ok_or_else(|| os_error(Errno::ILSEQ))?;
                    let child = self.tree.resolve(&r.path, text, false)?;
                    hasher.write_all(text.as_bytes())?;
                    hasher.write_all(b"\0")?;
                    self.digest(&child, hasher)?;
                    hasher.write_all(b"\0..")?;
                }
                Ok(())
            }
            Node::Symlink(target) => hasher.write_all(target),
            _ => {
                let mut file = self.open_file(r)?.into_std();
                io::copy(&mut file, hasher).map(|_| ())
            }
        }
    }

    /// The metadata of what `r` names (not following a link there).
    pub fn metadata(&self, r: &Resolved) -> io::Result<cap_std::fs::Metadata> {
        let dir = self.tree.dir_of(r);
        if r.path.is_root() { dir.dir_metadata() } else { dir.symlink_metadata(&r.rel) }
    }

    /// The directory's entries as the guest lists them (without `.` and `..`).
    pub fn list_dir(&self, r: &Resolved) -> io::Result<Vec<porthole_runtime::TreeEntry>> {
        self.tree.list_dir(r)
    }

    /// The directory holding `r` and `r`'s name in it, for operations on the entry itself.
    pub fn open_parent(&self, r: &Resolved) -> io::Result<(Dir, OsString)> {
        let (Some(parent), Some(name)) = (r.path.parent(), r.path.file_name()) else {
            return Err(os_error(Errno::ISDIR));
        };
        // In a layered tree the entry is changed in the writable layer: its directory is
        // copied up, a whiteout of its name taken away (the caller replaces the entry whole).
        if r.node == Node::Missing {
            self.tree.ready_create(r)?;
        } else {
            let dir = self.tree.resolve(&GuestPath::root(), parent.as_str(), false)?;
            let mut dir = dir;
            self.tree.ready_write(&mut dir)?;
        }
        let rel = PathBuf::from(parent.relative_to(&GuestPath::root()));
        let dir = if parent.is_root() { self.dir().try_clone()? } else { self.dir().open_dir_nofollow(rel)? };
        Ok((dir, name.into()))
    }

    /// The directory holding `r` in the layer that shows it, and `r`'s name there: for
    /// reading the entry (a copy's source), never for changing it.
    pub fn open_parent_for_read(&self, r: &Resolved) -> io::Result<(Dir, OsString)> {
        let name = r.rel.file_name().ok_or_else(|| os_error(Errno::ISDIR))?.to_os_string();
        let dir = self.tree.dir_of(r);
        match r.rel.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(parent) => Ok((dir.open_dir_nofollow(parent)?, name)),
            None => Ok((dir.try_clone()?, name)),
        }
    }

    /// Opens the regular file `r` names for reading, refusing a symlink there.
    pub fn open_file(&self, r: &Resolved) -> io::Result<File> {
        self.tree.dir_of(r).open_with(&r.rel, OpenOptions::new().read(true).follow(FollowSymlinks::No))
    }

    /// Writes `contents` to `path` as the guest's `echo > path` would land: a link is followed
    /// in the tree's space; the file found there is replaced (never written through, as it may
    /// be hard-linked elsewhere) with mode 0644. The parent must exist.
    pub fn write_file(&self, path: &str, contents: &[u8]) -> io::Result<()> {
        let r = self.resolve(path, true)?;
        if r.node == Node::Dir {
            return Err(os_error(Errno::ISDIR));
        }
        let (dir, name) = self.open_parent(&r)?;
        match dir.remove_file(&name) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        // A lower layer's file is hidden by the new one in the writable layer; no whiteout.
        let mut f = dir
            .open_with(&name, OpenOptions::new().write(true).create_new(true).follow(FollowSymlinks::No).mode(0o644))?;
        f.write_all(contents)
    }
}

fn os_error(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e.raw_os_error())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    /// A tree with links that name host paths (absolute, and `..` out of it), next to an
    /// outside directory holding a canary.
    fn setup() -> (tempfile::TempDir, PathBuf, GuestFs) {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside");
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("canary"), "canary").unwrap();
        let root = t.path().join("root");
        fs::create_dir_all(root.join("etc")).unwrap();
        symlink(outside.join("canary"), root.join("etc/hostname")).unwrap();
        symlink(&outside, root.join("abs")).unwrap();
        symlink("../../../../../../../..", root.join("up")).unwrap();
        symlink("loop", root.join("loop")).unwrap();
        let g = GuestFs::open(&root).unwrap();
        (t, outside, g)
    }

    fn untouched(outside: &Path) {
        assert_eq!(fs::read_to_string(outside.join("canary")).unwrap(), "canary");
        assert_eq!(fs::read_dir(outside).unwrap().count(), 1);
    }

    #[test]
    fn writes_follow_links_inside_the_tree() {
        let (t, outside, g) = setup();
        let inner = format!("{}/canary", outside.display());
        assert!(g.write_file("/etc/hostname", b"id\n").is_err(), "its directory is missing in the tree");
        g.create_dir_all(&outside.display().to_string()).unwrap();
        assert_eq!(g.resolve("/etc/hostname", true).unwrap().path.to_string(), inner);
        g.write_file("/etc/hostname", b"id\n").unwrap();
        assert_eq!(fs::read_to_string(t.path().join("root").join(inner.trim_start_matches('/'))).unwrap(), "id\n");
        untouched(&outside);
    }

    #[test]
    fn mkdir_p_creates_link_targets_inside_the_tree() {
        let (t, outside, g) = setup();
        let r = g.create_dir_all("/abs/made/deeper").unwrap();
        assert_eq!(r.path.to_string(), format!("{}/made/deeper", outside.display()));
        assert!(t.path().join("root").join(r.rel).is_dir());
        assert_eq!(g.create_dir_all("/up/etc").unwrap().path.to_string(), "/etc");
        assert_eq!(g.create_dir_all("/loop/x").unwrap_err().raw_os_error(), Some(libc_loop()));
        untouched(&outside);
    }

    fn libc_loop() -> i32 {
        rustix::io::Errno::LOOP.raw_os_error()
    }
}
