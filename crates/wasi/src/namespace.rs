//! A container's mount namespace: the mount table and every host access through it.
//!
//! Each mount is a host directory opened as a `cap_std::fs::Dir`; every host call goes through
//! the `Dir` of the mount that contains the (already walked, symlink-free) guest path, with the
//! path relative to it. cap-std refuses any relative path that would leave that directory, so
//! even a symlink swapped in by someone else between our walk and the host call cannot take a
//! guest outside its mount: the walk gives Linux semantics, cap-std is the barrier.

use std::cell::RefCell;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cap_std::fs::{Dir, Metadata};

use crate::devices::Device;
use crate::errno::Errno;
use crate::overlay::{Memo, Overlay};
use crate::path::{GuestPath, Lookup, Node, Trace, Walked, walk, walk_traced};
use crate::quota::Quota;

/// What a mount shows at its mount point.
pub enum MountSource {
    /// A host directory and everything beneath it.
    Dir(Dir),
    /// One host file (`-v /host/app.conf:/etc/app.conf`): `name` in the directory `parent`,
    /// reachable at the mount point and nowhere else. Every access goes through `parent`
    /// with the relative path `name`, so its siblings stay out of reach.
    File { parent: Dir, name: OsString },
    /// A copy-on-write tree (the container root): lower layers under a writable upper
    /// (`overlay.rs`). Host access goes through the `Dir` of the layer a [`Location`] names.
    Overlay(Overlay),
    /// The container's `/dev` (see [`crate::devices`]): the device nodes at its top, served by
    /// the host. `empty` is an empty host directory standing for the directory itself, so
    /// host calls on it find nothing else; give the mount read-only.
    Devices { empty: Dir },
}

/// One entry of the mount table as the caller describes it.
pub struct MountSpec {
    /// Where the guest sees it, e.g. `/var/lib/pulp`.
    pub guest_path: String,
    pub source: MountSource,
    pub readonly: bool,
    /// A disk quota on what the guest writes here (a volume's `size`).
    pub quota: Option<Arc<Quota>>,
}

impl MountSpec {
    /// A directory mount, the common case.
    pub fn dir(guest_path: impl Into<String>, dir: Dir, readonly: bool) -> Self {
        Self { guest_path: guest_path.into(), source: MountSource::Dir(dir), readonly, quota: None }
    }

    /// This mount with writes in it counted against `quota`.
    pub fn with_quota(mut self, quota: Option<Arc<Quota>>) -> Self {
        self.quota = quota;
        self
    }
}

/// A mount in the table.
pub struct Mount {
    pub path: GuestPath,
    pub source: MountSource,
    pub readonly: bool,
    /// The `dev` the guest sees in `filestat`: distinct per mount, as on Linux.
    pub dev: u64,
    pub quota: Option<Arc<Quota>>,
}

impl Mount {
    /// The directory every host access to this mount goes through (for a file mount, the
    /// file's directory, always with the file's name as the path).
    pub fn dir(&self) -> &Dir {
        match &self.source {
            MountSource::Dir(d) | MountSource::Devices { empty: d } => d,
            MountSource::File { parent, .. } => parent,
            MountSource::Overlay(o) => o.upper(),
        }
    }

    /// The overlay this mount is, if it is one.
    pub fn overlay(&self) -> Option<&Overlay> {
        match &self.source {
            MountSource::Overlay(o) => Some(o),
            _ => None,
        }
    }

    pub fn is_file(&self) -> bool {
        matches!(self.source, MountSource::File { .. })
    }
}

/// Why a mount table was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NamespaceError {
    #[error("invalid mount point: {0:?} (must be an absolute path without ..)")]
    InvalidMountPoint(String),
    #[error("mount point / is the container root; give it as the root directory")]
    MountAtRoot,
    #[error("duplicate mount point: {0}")]
    DuplicateMountPoint(String),
    #[error(transparent)]
    Overlay(#[from] crate::overlay::OverlayError),
}

/// Identifies a mount in a [`Namespace`]: its index in the table, 0 being the root.
pub type MountId = usize;

/// A resolved location: the mount it is in and the path relative to that mount's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: GuestPath,
    pub mount: MountId,
    pub rel: PathBuf,
    /// In an overlay, the layer that shows the path (0, the upper, when it is missing);
    /// 0 in any other mount.
    pub layer: usize,
}

pub struct Namespace {
    /// `mounts[0]` is the container root; the rest in the caller's order.
    mounts: Vec<Mount>,
}

impl Namespace {
    pub fn new(root: Dir, root_readonly: bool, specs: Vec<MountSpec>) -> Result<Self, NamespaceError> {
        Self::with_root(MountSource::Dir(root), root_readonly, specs)
    }

    /// [`Namespace::new`] with any root: a directory or an overlay.
    pub fn with_root(root: MountSource, root_readonly: bool, specs: Vec<MountSpec>) -> Result<Self, NamespaceError> {
        if let MountSource::File { .. } = root {
            return Err(NamespaceError::MountAtRoot);
        }
        let mut mounts =
            vec![Mount { path: GuestPath::root(), source: root, readonly: root_readonly, dev: 1, quota: None }];
        for spec in specs {
            let path = GuestPath::parse(spec.guest_path.as_bytes())
                .map_err(|_| NamespaceError::InvalidMountPoint(spec.guest_path.clone()))?;
            if path.is_root() {
                return Err(NamespaceError::MountAtRoot);
            }
            if mounts.iter().any(|m| m.path == path) {
                return Err(NamespaceError::DuplicateMountPoint(path.to_string()));
            }
            let dev = mounts.len() as u64 + 1;
            mounts.push(Mount { path, source: spec.source, readonly: spec.readonly, dev, quota: spec.quota });
        }
        Ok(Self { mounts })
    }

    /// This namespace with writes to the container root counted against `quota`
    /// (`--storage-opt size=`).
    pub fn with_root_quota(mut self, quota: Option<Arc<Quota>>) -> Self {
        self.mounts[0].quota = quota;
        self
    }

    pub fn mounts(&self) -> &[Mount] {
        &self.mounts
    }

    pub fn mount(&self, id: MountId) -> &Mount {
        &self.mounts[id]
    }

    /// The mount that holds `path`: the one with the longest mount point above it, as a later
    /// (deeper) mount shadows what lies beneath it in its parent.
    pub fn locate(&self, path: &GuestPath) -> Location {
        self.locate_with(path, &Memo::default())
    }

    /// [`Namespace::locate`], reusing the overlay lookups of the walk that reached `path`.
    fn locate_with(&self, path: &GuestPath, memo: &Memo) -> Location {
        let mount = self.mount_of(path);
        let rel = PathBuf::from(path.relative_to(&self.mounts[mount].path));
        let rel = match &self.mounts[mount].source {
            MountSource::File { name, .. } if rel.as_os_str() == "." => PathBuf::from(name),
            // Below a file: the host answers ENOTDIR, as Linux does.
            MountSource::File { name, .. } => PathBuf::from(name).join(rel),
            MountSource::Dir(_) | MountSource::Overlay(_) | MountSource::Devices { .. } => rel,
        };
        // A failed lookup (a layer unreadable) is answered by the host call that follows.
        let layer = match &self.mounts[mount].source {
            MountSource::Overlay(o) => o.lookup(&rel, memo).map(|f| f.layer).unwrap_or(0),
            _ => 0,
        };
        Location { path: path.clone(), mount, rel, layer }
    }

    /// The directory host calls on `loc` go through: its mount's, or in an overlay the layer
    /// that shows it (read-only unless it is the upper).
    pub fn dir_at(&self, loc: &Location) -> &Dir {
        match &self.mounts[loc.mount].source {
            MountSource::Overlay(o) => o.layer(loc.layer),
            _ => self.mounts[loc.mount].dir(),
        }
    }

    /// The mount that holds `path` (see [`Namespace::locate`]), without the path inside it.
    pub fn mount_of(&self, path: &GuestPath) -> MountId {
        self.mounts
            .iter()
            .enumerate()
            .filter(|(_, m)| path.starts_with(&m.path))
            // Mount points above one path are prefixes of each other: the longest is the deepest.
            .max_by_key(|(_, m)| m.path.as_str().len())
            .map(|(i, _)| i)
            .unwrap_or(0)
    }

    /// The device node at `loc`, when it is one (a name at the top of a `/dev` mount).
    pub fn device_at(&self, loc: &Location) -> Option<Device> {
        match self.mounts[loc.mount].source {
            MountSource::Devices { .. } if loc.rel.components().count() == 1 => {
                Device::named(loc.rel.as_os_str().as_encoded_bytes())
            }
            _ => None,
        }
    }

    /// Is `path` a mount point (other than `/`)?
    pub fn is_mount_point(&self, path: &GuestPath) -> bool {
        self.mounts[1..].iter().any(|m| &m.path == path)
    }

    /// Mount points are directories even where the underlying directory lacks them, and so are
    /// the directories leading to them (the guest can always walk to its mounts).
    fn leads_to_mount(&self, path: &GuestPath) -> bool {
        path.is_root() || self.mounts[1..].iter().any(|m| m.path.starts_with(path) && !(m.is_file() && &m.path == path))
    }

    /// Names of the mount points directly inside `dir` (and directories leading to deeper ones),
    /// which `fd_readdir` lists even when the underlying directory has no such entry.
    pub fn mount_entries_in(&self, dir: &GuestPath) -> Vec<String> {
        let mut names: Vec<String> = self.mounts[1..]
            .iter()
            .filter(|m| m.path != *dir && m.path.starts_with(dir))
            .filter_map(|m| m.path.relative_to(dir).split('/').next().map(str::to_string))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Walks `path` from the directory `start` (see [`walk`]) and locates the result.
    pub fn resolve(&self, start: &GuestPath, path: &[u8], follow_final: bool) -> Result<(Location, Node), Errno> {
        let (loc, node, _) = self.resolve_with_slash(start, path, follow_final)?;
        Ok((loc, node))
    }

    /// [`Namespace::resolve`], also telling whether the path ended with `/`.
    pub fn resolve_with_slash(
        &self,
        start: &GuestPath,
        path: &[u8],
        follow_final: bool,
    ) -> Result<(Location, Node, bool), Errno> {
        let r = self.resolve_full(start, path, follow_final, &mut (), Memo::default())?;
        Ok((r.location, r.node, r.trailing_slash))
    }

    /// [`Namespace::resolve_with_slash`], telling `trace` the links followed (see [`walk_traced`]).
    pub fn resolve_traced(
        &self,
        start: &GuestPath,
        path: &[u8],
        follow_final: bool,
        trace: &mut impl Trace,
    ) -> Result<(Location, Node, bool), Errno> {
        let r = self.resolve_full(start, path, follow_final, trace, Memo::default())?;
        Ok((r.location, r.node, r.trailing_slash))
    }

    /// The walk and location of [`Namespace::resolve_traced`], with the metadata the walk read
    /// for the final path (so a `stat` needs no second host call). `memo` holds overlay
    /// lookups this call already made (by [`Namespace::new_name`]).
    pub fn resolve_full(
        &self,
        start: &GuestPath,
        path: &[u8],
        follow_final: bool,
        trace: &mut impl Trace,
        memo: Memo,
    ) -> Result<Resolved, Errno> {
        let walker = Walker { ns: self, memo: &memo, seen: RefCell::default() };
        let Walked { path, node, trailing_slash } = walk_traced(&walker, start, path, follow_final, trace)?;
        let location = self.locate_with(&path, &memo);
        // Only what the walk read of this very path (not of a link it followed away from).
        let metadata = match self.mounts[location.mount].source {
            MountSource::Overlay(_) => memo.metadata(&location.rel),
            _ => walker.seen.into_inner().filter(|(p, _)| *p == path).map(|(_, md)| md),
        };
        Ok(Resolved { location, node, trailing_slash, metadata, memo })
    }

    /// Where a new entry named by `path` would go, found by walking only its parent: for
    /// creating or removing the name with one host call (`O_CREAT|O_EXCL`, `unlinkat`), whose
    /// own answer says whether the name was there. `None` when the name needs the whole walk:
    /// its last component is `.`/`..` or ends in `/`, the parent is not a directory, or the
    /// name lies in anything but a writable directory mount or overlay (a file or device
    /// mount, a mount point or a directory leading to one). In an overlay the name is given
    /// in the upper, and only where the upper has the parent directory and, for
    /// [`NewName::Create`], no lower layer has the name (so a name the upper lacks is
    /// missing from the merged tree, and no whiteout there hides anything). The parent
    /// walk's errors are `None` too: the whole walk meets and reports them. Overlay lookups
    /// made on the way are left in `memo`, for the whole walk that follows a `None`.
    pub fn new_name(&self, start: &GuestPath, path: &[u8], memo: &Memo, intent: NewName) -> Option<Location> {
        if path.len() > crate::path::PATH_MAX || path.contains(&0) {
            return None;
        }
        let (parent, name) = match path.iter().rposition(|&b| b == b'/') {
            Some(i) => (&path[..i], &path[i + 1..]),
            None => (&path[..0], path),
        };
        let name = std::str::from_utf8(name).ok()?;
        if matches!(name, "" | "." | "..") || name.len() > crate::path::NAME_MAX {
            return None;
        }
        let mut dir = start.clone();
        if !parent.is_empty() {
            let walker = Walker { ns: self, memo, seen: RefCell::default() };
            match walk(&walker, start, parent, true).ok()? {
                Walked { path, node: Node::Dir, .. } => dir = path,
                _ => return None,
            }
        }
        dir.push(name);
        let mount = self.mount_of(&dir);
        let m = &self.mounts[mount];
        let rel = PathBuf::from(dir.relative_to(&m.path));
        let usable = match &m.source {
            MountSource::Dir(_) => true,
            MountSource::Overlay(o) => {
                o.upper_has_dir(rel.parent()?, memo)
                    && (intent == NewName::Remove || !o.lowers_may_have(&rel, memo).unwrap_or(true))
            }
            MountSource::File { .. } | MountSource::Devices { .. } => false,
        };
        if m.readonly || !usable || self.leads_to_mount(&dir) || self.is_mount_point(&dir) {
            return None;
        }
        Some(Location { path: dir, mount, rel, layer: 0 })
    }
}

/// What [`Namespace::new_name`] is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewName {
    /// A name to create (`O_CREAT|O_EXCL`): failing if anything is there.
    Create,
    /// A name to remove (`unlinkat`): in an overlay, what the upper has under it is what
    /// shows, so removing it removes the merged name (a whiteout follows where a lower
    /// layer has it).
    Remove,
}

/// A walked path: where it is, what is there, and what the walk learnt on the way.
pub struct Resolved {
    pub location: Location,
    pub node: Node,
    /// The path ended with `/`.
    pub trailing_slash: bool,
    /// The final path's metadata as the walk read it from the host, if it did.
    pub metadata: Option<Metadata>,
    /// In an overlay, the walk's lookups, for the change the same call makes next.
    pub memo: Memo,
}

/// The namespace as one walk sees it: an overlay's lookups of each prefix are kept for the
/// next component, so a walk costs each layer one `stat` per component, not one per prefix;
/// and the last host metadata read, for the caller that wants the final path's.
struct Walker<'a> {
    ns: &'a Namespace,
    memo: &'a Memo,
    seen: RefCell<Option<(GuestPath, Metadata)>>,
}

impl Lookup for Walker<'_> {
    fn node(&self, path: &GuestPath) -> Result<Node, Errno> {
        self.ns.node_with(path, self.memo, Some(&self.seen))
    }
}

impl Lookup for Namespace {
    fn node(&self, path: &GuestPath) -> Result<Node, Errno> {
        self.node_with(path, &Memo::default(), None)
    }
}

impl Namespace {
    /// What `path` is; the host metadata read for it is left in `seen`, if given.
    fn node_with(
        &self,
        path: &GuestPath,
        memo: &Memo,
        seen: Option<&RefCell<Option<(GuestPath, Metadata)>>>,
    ) -> Result<Node, Errno> {
        if self.leads_to_mount(path) {
            return Ok(Node::Dir);
        }
        let mount = self.mount_of(path);
        if let MountSource::Overlay(o) = &self.mounts[mount].source {
            return Ok(o.lookup(Path::new(path.relative_to(&self.mounts[mount].path)), memo)?.node);
        }
        let loc = self.locate(path);
        if self.device_at(&loc).is_some() {
            return Ok(Node::File);
        }
        let dir = self.mounts[loc.mount].dir();
        let md = dir.symlink_metadata(&loc.rel);
        if let (Some(seen), Ok(md)) = (seen, &md) {
            *seen.borrow_mut() = Some((path.clone(), md.clone()));
        }
        match md {
            Ok(md) if md.file_type().is_symlink() => {
                let target = dir.read_link_contents(&loc.rel)?;
                Ok(Node::Symlink(target.into_os_string().into_vec()))
            }
            Ok(md) if md.is_dir() => Ok(Node::Dir),
            Ok(_) => Ok(Node::File),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Node::Missing),
            Err(e) => Err(e.into()),
        }
    }
}

impl Namespace {
    /// Opens a regular file for reading by guest path, following links through the whole
    /// namespace, as the guest would; the engine reads programs this way.
    pub fn open_file(&self, path: &str) -> Result<std::fs::File, Errno> {
        let (loc, node) = self.resolve(&GuestPath::root(), path.as_bytes(), true)?;
        match node {
            Node::File => Ok(self.dir_at(&loc).open(&loc.rel)?.into_std()),
            Node::Dir => Err(Errno::Isdir),
            _ => Err(Errno::Noent),
        }
    }
}
