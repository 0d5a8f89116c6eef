//! A guest as its caller describes it, in plain terms: its file tree (a root directory and the
//! mounts over it), command line, environment, streams, sockets, who hears its file changes,
//! how it is stopped and what it may hold. The WASI host and its mount namespace are built
//! from this here, so the engine never names `porthole_wasi`.
//!
//! The file tree is a value of its own, [`GuestTree`], because the engine needs it before the
//! guest exists (to find the program and read `/etc/passwd` as the guest would) and without any
//! guest at all (to resolve paths in a rootfs, a build stage or a build context): every host
//! access to those trees is walked by the same kernel-like walk the guest's calls take.

use std::ffi::OsString;
use std::io;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use cap_std::fs::Dir;
use porthole_wasi::{Errno, GuestPath, Location, MountSource, MountSpec, Namespace, Overlay, WasiHost};

use crate::Stopper;

/// The parts of the WASI host that are this interface's own words: the streams a guest is
/// given, the counters it draws on, what a file change and a path walk look like to an
/// observer, what a walk finds.
pub use porthole_wasi::{
    FdBudget, Input, MAX_SYMLINK_HOPS, Mutation, MutationKind, MutationObserver, NamespaceError, Node, Output, Quota,
    Stdio, Trace, Walk, WalkBreak, WalkEnd, WalkLink, WalkOp, guest_share_of, measure,
};

/// What a mount shows at its mount point.
pub enum MountHost {
    /// A host directory and everything beneath it.
    Dir(Dir),
    /// One host file (`-v /host/app.conf:/etc/app.conf`): `name` in the directory `parent`,
    /// reachable at the mount point and nowhere else.
    File { parent: Dir, name: OsString },
    /// The container's `/dev`: the device nodes every container has (null, zero, full, random,
    /// urandom, tty, stdin, stdout, stderr), served by the WASI host, over `empty`, an empty
    /// host directory that stands for the directory itself.
    Devices { empty: Dir },
}

/// One mount of a guest's tree.
pub struct MountDesc {
    /// Where the guest sees it, e.g. `/var/lib/pulp` (already resolved through the rootfs's
    /// own links: the tree mounts exactly here).
    pub guest_path: String,
    pub host: MountHost,
    pub readonly: bool,
    /// A disk quota on what guests write here (a volume's `size`).
    pub quota: Option<Arc<Quota>>,
}

impl MountDesc {
    /// A directory mount, the common case.
    pub fn dir(guest_path: impl Into<String>, dir: Dir, readonly: bool) -> Self {
        Self { guest_path: guest_path.into(), host: MountHost::Dir(dir), readonly, quota: None }
    }

    /// The device mount at `guest_path` (normally `/dev`), over the empty directory `empty`.
    /// Read-only: nothing is created, removed or renamed among the devices (`EROFS`).
    pub fn devices(guest_path: impl Into<String>, empty: Dir) -> Self {
        Self { guest_path: guest_path.into(), host: MountHost::Devices { empty }, readonly: true, quota: None }
    }
}

/// The guest's `/`.
pub struct RootDesc {
    /// The root directory; with `lowers`, the writable upper layer over them.
    pub dir: Dir,
    /// Read-only layers under `dir`, topmost first: the root is then their copy-on-write
    /// merge (reads from the topmost layer that has a path, writes copied up into `dir`,
    /// removals leaving OCI whiteouts). Empty: `dir` alone is the root.
    pub lowers: Vec<Dir>,
    pub read_only: bool,
    /// A disk quota on what guests write to the root (`--storage-opt size=`).
    pub quota: Option<Arc<Quota>>,
}

/// A guest's file tree: the root and its mounts, walked as the guest walks it (links followed
/// across mounts, `..` never above `/`). Cloning it shares the tree (a container's mount
/// namespace, which every process of the container sees).
#[derive(Clone)]
pub struct GuestTree {
    ns: Arc<Namespace>,
}

/// A path after the walk.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The symlink-free path in the tree, e.g. `/srv/data`.
    pub path: GuestPath,
    /// The mount it lies in: 0 is the root, then the mounts in the order given.
    pub mount: usize,
    /// The path relative to that mount's directory (`.` for its top).
    pub rel: PathBuf,
    /// In a layered root, the layer that shows it (0, the writable one, otherwise); host
    /// reads go through [`GuestTree::dir_of`].
    pub layer: usize,
    pub node: Node,
}

/// One entry of a directory listing of a tree (a layered root's merged listing).
#[derive(Debug, Clone)]
pub struct TreeEntry {
    pub name: OsString,
    pub file_type: cap_std::fs::FileType,
}

impl GuestTree {
    /// The tree of a guest. Mount points must be distinct absolute paths other than `/`.
    pub fn new(root: RootDesc, mounts: Vec<MountDesc>) -> Result<Self, NamespaceError> {
        let specs = mounts
            .into_iter()
            .map(|m| {
                let source = match m.host {
                    MountHost::Dir(d) => MountSource::Dir(d),
                    MountHost::File { parent, name } => MountSource::File { parent, name },
                    MountHost::Devices { empty } => MountSource::Devices { empty },
                };
                MountSpec { guest_path: m.guest_path, source, readonly: m.readonly, quota: m.quota }
            })
            .collect();
        let source = if root.lowers.is_empty() {
            MountSource::Dir(root.dir)
        } else {
            MountSource::Overlay(Overlay::new(root.dir, root.lowers).map_err(NamespaceError::Overlay)?)
        };
        Ok(Self { ns: Arc::new(Namespace::with_root(source, root.read_only, specs)?.with_root_quota(root.quota)) })
    }

    /// The tree of a namespace a guest already has (a spawned child's, its parent's).
    pub(crate) fn shared(ns: Arc<Namespace>) -> Self {
        Self { ns }
    }

    /// One directory as a tree of its own, writable, without mounts: a rootfs, a build stage or
    /// a build context seen in its own path space (absolute link targets restart at `dir`).
    pub fn of_dir(dir: Dir) -> Self {
        let root = RootDesc { dir, lowers: Vec::new(), read_only: false, quota: None };
        Self::new(root, Vec::new()).expect("a tree without mounts is valid")
    }

    /// A layered root alone, writable, without mounts: a container's files seen as its guests
    /// see them, for host-side access (`/etc` at create, `docker cp`, the dashboard).
    pub fn of_layers(upper: Dir, lowers: Vec<Dir>) -> Result<Self, NamespaceError> {
        Self::new(RootDesc { dir: upper, lowers, read_only: false, quota: None }, Vec::new())
    }

    fn location(r: &Resolved) -> Location {
        Location { path: r.path.clone(), mount: r.mount, rel: r.rel.clone(), layer: r.layer }
    }

    /// The directory host reads of `r` go through: its mount's, or the root layer that shows
    /// it. Never write through it: see [`GuestTree::ready_write`].
    pub fn dir_of(&self, r: &Resolved) -> &Dir {
        self.ns.dir_at(&Self::location(r))
    }

    /// Readies the existing `r` to be changed in place (its data, mode or times): a file of a
    /// lower layer is copied up. Afterwards `r` is in the writable layer ([`Resolved::layer`] 0).
    pub fn ready_write(&self, r: &mut Resolved) -> io::Result<()> {
        if let (Some(o), true) = (self.ns.mount(r.mount).overlay(), r.layer != 0) {
            o.copy_up(&r.rel, true).map_err(errno_to_io)?;
            r.layer = 0;
        }
        Ok(())
    }

    /// Readies the missing `r` to be created: in a layered root, its directory is copied up
    /// and a whiteout of its name taken away. True if a directory made there must then be
    /// made opaque ([`GuestTree::make_opaque`]).
    pub fn ready_create(&self, r: &Resolved) -> io::Result<bool> {
        match self.ns.mount(r.mount).overlay() {
            Some(o) => o.prepare_create(&r.rel).map_err(errno_to_io),
            None => Ok(false),
        }
    }

    /// Hides what lower layers hold under the directory `r` (just made in the writable layer).
    pub fn make_opaque(&self, r: &Resolved) -> io::Result<()> {
        match self.ns.mount(r.mount).overlay() {
            Some(o) => o.make_opaque(&r.rel).map_err(errno_to_io),
            None => Ok(()),
        }
    }

    /// Removes the non-directory `r` (in a layered root, leaving a whiteout where a lower layer
    /// shows it).
    pub fn remove_file(&self, r: &Resolved) -> io::Result<()> {
        match self.ns.mount(r.mount).overlay() {
            Some(o) => o.remove(&r.rel, false).map_err(errno_to_io),
            None => self.mount_dir(r.mount).remove_file(&r.rel),
        }
    }

    /// The entries of the directory `r`, without `.` and `..` (a layered root's merged: each
    /// name once, whiteouts applied and never listed).
    pub fn list_dir(&self, r: &Resolved) -> io::Result<Vec<TreeEntry>> {
        if let Some(o) = self.ns.mount(r.mount).overlay() {
            let dirs = o.find(&r.rel, &Default::default()).map_err(errno_to_io)?.dirs;
            let merged = o.read_dir(&r.rel, dirs).map_err(errno_to_io)?;
            return Ok(merged.into_iter().map(|e| TreeEntry { name: e.name, file_type: e.file_type }).collect());
        }
        let dir = self.dir_of(r);
        let listed = if r.rel.as_os_str() == "." { dir.entries()? } else { dir.read_dir(&r.rel)? };
        listed.map(|e| e.and_then(|e| Ok(TreeEntry { name: e.file_name(), file_type: e.file_type()? }))).collect()
    }

    /// The one layer a layered root's directory `r` is made of, if only one contributes to it
    /// (so a copy of it may read that layer's directory whole); 0 outside a layered root.
    pub fn single_layer(&self, r: &Resolved) -> io::Result<Option<usize>> {
        match self.ns.mount(r.mount).overlay() {
            Some(o) => {
                let dirs = o.find(&r.rel, &Default::default()).map_err(errno_to_io)?.dirs;
                Ok((dirs.count_ones() == 1).then(|| dirs.trailing_zeros() as usize))
            }
            None => Ok(Some(0)),
        }
    }

    /// The root's writable layer when the root is layered (what `docker diff` walks).
    pub fn upper_dir(&self) -> Option<&Dir> {
        self.ns.mount(0).overlay().map(Overlay::upper)
    }

    /// The root's directory (a layered root's writable layer): host access to a resolved path
    /// of mount 0 goes through it, or through [`GuestTree::dir_of`] where the root is layered.
    pub fn root_dir(&self) -> &Dir {
        self.ns.mount(0).dir()
    }

    /// The mount points after the root, in the order the mounts were given.
    pub fn mount_points(&self) -> impl Iterator<Item = &GuestPath> {
        self.ns.mounts()[1..].iter().map(|m| &m.path)
    }

    /// Walks `path` from the directory `start` (absolute paths from `/`); `follow_final` says
    /// whether a link in the last component is followed. The walk's errors are the host's
    /// (`NotFound`, or the Linux code: `ELOOP`, `ENOTDIR`, …).
    pub fn resolve(&self, start: &GuestPath, path: &str, follow_final: bool) -> io::Result<Resolved> {
        let (loc, node) = self.ns.resolve(start, path.as_bytes(), follow_final).map_err(errno_to_io)?;
        Ok(Resolved { path: loc.path, mount: loc.mount, rel: loc.rel, layer: loc.layer, node })
    }

    /// Where the symlink-free `path` lies: its mount and the path relative to that mount's
    /// directory (host-side access to a walked path, e.g. `docker cp`).
    pub fn locate(&self, path: &GuestPath) -> (usize, PathBuf) {
        let loc = self.ns.locate(path);
        (loc.mount, loc.rel)
    }

    /// Where host reads of the symlink-free `path` go: the directory (a layered root's layer
    /// that shows it) and the path relative to it.
    pub fn read_place(&self, path: &GuestPath) -> (&Dir, PathBuf) {
        let loc = self.ns.locate(path);
        (self.ns.dir_at(&loc), loc.rel)
    }

    /// The directory host access to `mount` goes through (for a file mount, its parent; for a
    /// layered root, its writable layer).
    pub fn mount_dir(&self, mount: usize) -> &Dir {
        self.ns.mount(mount).dir()
    }

    pub fn mount_read_only(&self, mount: usize) -> bool {
        self.ns.mount(mount).readonly
    }

    /// The quota writes to `mount` are charged to, if it has one.
    pub fn mount_quota(&self, mount: usize) -> Option<&Arc<Quota>> {
        self.ns.mount(mount).quota.as_ref()
    }

    pub fn is_mount_point(&self, path: &GuestPath) -> bool {
        self.ns.is_mount_point(path)
    }

    /// Names of the mount points directly inside `dir` (and of directories leading to deeper
    /// ones), which a listing shows even where the underlying directory lacks them.
    pub fn mount_entries_in(&self, dir: &GuestPath) -> Vec<String> {
        self.ns.mount_entries_in(dir)
    }

    /// [`GuestTree::resolve`], telling `trace` each link followed and the first missing
    /// component, to say where a path leaves what the guest has.
    pub fn resolve_traced(
        &self,
        start: &GuestPath,
        path: &str,
        follow_final: bool,
        trace: &mut impl Trace,
    ) -> io::Result<Resolved> {
        let (loc, node, _) =
            self.ns.resolve_traced(start, path.as_bytes(), follow_final, trace).map_err(errno_to_io)?;
        Ok(Resolved { path: loc.path, mount: loc.mount, rel: loc.rel, layer: loc.layer, node })
    }

    /// The guest path a mount of a [`Resolved`] is mounted at (`/` for the root).
    pub fn mount_point(&self, mount: usize) -> &GuestPath {
        &self.ns.mount(mount).path
    }

    /// Opens the regular file at `path` for reading, following links as the guest would.
    pub fn open_file(&self, path: &str) -> io::Result<std::fs::File> {
        self.ns.open_file(path).map_err(errno_to_io)
    }
}

/// Everything a guest run needs besides its program.
pub struct GuestSpec {
    pub tree: GuestTree,
    /// `argv`, the program's name first.
    pub args: Vec<String>,
    /// `KEY=VALUE` entries (an entry without `=` is a key with an empty value).
    pub env: Vec<String>,
    pub stdio: Stdio,
    /// Sockets already listening, each with its name (the container port, `80/tcp`), handed
    /// to the guest as descriptors after the mounts and announced in `LISTEN_FDS`,
    /// `LISTEN_FD` and `LISTEN_FDNAMES`.
    pub listeners: Vec<(TcpListener, String)>,
    /// Told of each file the guest changes (and, if it asks, of each path walk).
    pub observer: Option<Arc<dyn MutationObserver>>,
    /// What stops this guest (from [`crate::Runtime::stopper`]); without one it runs to its end.
    pub stopper: Option<Stopper>,
    /// The descriptors all guests may hold, drawn on for every one this guest opens.
    pub fd_budget: Option<FdBudget>,
    /// Where this guest's memory, CPU time and file I/O are counted (its container's).
    pub usage: Option<Arc<crate::Usage>>,
    /// Its container's process table: the guest is added to it (the first one is pid 1) and
    /// may spawn processes through Porthole's process interface. Without one, those calls
    /// answer `ENOSYS`.
    pub processes: Option<crate::Processes>,
    /// The working directory (WORKDIR, `-w`), handed to the program's wasi-libc before it
    /// starts (`libc_cwd.rs`); `None` is `/`.
    pub workdir: Option<GuestPath>,
}

impl GuestSpec {
    /// A guest over `tree` with no arguments, environment, streams or sockets.
    pub fn new(tree: GuestTree) -> Self {
        Self {
            tree,
            args: Vec::new(),
            env: Vec::new(),
            stdio: Stdio::default(),
            listeners: Vec::new(),
            observer: None,
            stopper: None,
            fd_budget: None,
            usage: None,
            processes: None,
            workdir: None,
        }
    }

    /// The guest's host state, its descriptors drawn (`EMFILE`/`ENFILE` when the budget is
    /// spent), its place in the process table taken (`EAGAIN` past the container's process
    /// limit); ready for [`crate::Runtime::run`].
    pub fn prepare(self) -> io::Result<Guest> {
        let mut member = None;
        let mut b = WasiHost::builder(self.tree.ns);
        if let Some(table) = &self.processes {
            let stopper = self.stopper.clone().ok_or_else(|| io::Error::other("a process needs a stopper"))?;
            let (ctx, m) = table.register(&self.args, stopper).map_err(errno_to_io)?;
            b = b.process(ctx);
            member = Some(m);
        }
        let tty = match &self.stdio.stdin {
            porthole_wasi::Input::Tty(t) => Some(t.clone()),
            _ => None,
        };
        b = b.args(self.args).stdio(self.stdio);
        for e in self.env {
            let (k, v) = e.split_once('=').unwrap_or((&e, ""));
            b = b.env(k, v);
        }
        for (l, name) in self.listeners {
            b = b.listener(l, name);
        }
        if let Some(o) = self.observer {
            b = b.observer(o);
        }
        if let Some(s) = self.stopper {
            b = b.stop_signal(s.signal);
        }
        if let Some(budget) = self.fd_budget {
            b = b.fd_budget(budget);
        }
        if let Some(u) = &self.usage {
            b = b.io_counters(u.io.clone());
        }
        if let Some(dir) = self.workdir {
            b = b.workdir(dir);
        }
        let host = match b.build() {
            Ok(h) => h,
            Err(e) => {
                if let Some(m) = &member {
                    m.table.ended(m.pid, &crate::Exit::Code(126));
                }
                return Err(errno_to_io(e));
            }
        };
        if let (Some(m), Some(tty)) = (&member, tty) {
            m.table.hook_terminal(m.pid, &tty);
        }
        Ok(Guest { host, usage: self.usage, member })
    }
}

/// A guest ready to run: its host state made, no code run yet.
pub struct Guest {
    pub(crate) host: WasiHost,
    pub(crate) usage: Option<Arc<crate::Usage>>,
    /// Its entry in its container's process table.
    pub(crate) member: Option<crate::process::Membership>,
}

impl Guest {
    /// Its pid in its container's process table, if it has one.
    pub fn pid(&self) -> Option<u32> {
        self.member.as_ref().map(|m| m.pid)
    }
}

/// A host built by hand (the runtime's own tests drive the WASI host directly).
impl From<WasiHost> for Guest {
    fn from(host: WasiHost) -> Self {
        Self { host, usage: None, member: None }
    }
}

/// The walk's and the host's errors as the host's: `ENOENT` stays `NotFound`, the rest keep
/// their Linux code.
fn errno_to_io(e: Errno) -> io::Error {
    use rustix::io::Errno as E;
    let raw = match e {
        Errno::Noent => E::NOENT,
        Errno::Notdir => E::NOTDIR,
        Errno::Loop => E::LOOP,
        Errno::Isdir => E::ISDIR,
        Errno::Nametoolong => E::NAMETOOLONG,
        Errno::Ilseq => E::ILSEQ,
        Errno::Inval => E::INVAL,
        Errno::Acces => E::ACCESS,
        Errno::Perm => E::PERM,
        Errno::Mfile => E::MFILE,
        Errno::Nfile => E::NFILE,
        Errno::Again => E::AGAIN,
        _ => E::IO,
    };
    io::Error::from_raw_os_error(raw.raw_os_error())
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::symlink;

    use cap_std::ambient_authority;

    use super::*;

    fn open(p: &std::path::Path) -> Dir {
        Dir::open_ambient_dir(p, ambient_authority()).unwrap()
    }

    /// The tree walks as the guest does: an absolute link in the root leads into a mount, and
    /// the walk's failures come back as the host's errors.
    #[test]
    fn the_tree_walks_across_mounts_and_fails_with_host_errors() {
        let t = tempfile::tempdir().unwrap();
        let (root, vol) = (t.path().join("root"), t.path().join("vol"));
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::create_dir_all(&vol).unwrap();
        fs::write(vol.join("app.conf"), "conf").unwrap();
        symlink("/data/app.conf", root.join("etc/app.conf")).unwrap();
        symlink("loop", root.join("loop")).unwrap();
        let tree = GuestTree::new(
            RootDesc { dir: open(&root), lowers: Vec::new(), read_only: true, quota: None },
            vec![MountDesc::dir("/data", open(&vol), false)],
        )
        .unwrap();

        assert_eq!(tree.mount_points().map(ToString::to_string).collect::<Vec<_>>(), ["/data"]);
        let r = tree.resolve(&GuestPath::root(), "etc/app.conf", true).unwrap();
        assert_eq!(
            (r.path.to_string(), r.mount, r.rel.clone(), r.node),
            ("/data/app.conf".into(), 1, "app.conf".into(), Node::File)
        );
        assert_eq!(std::io::read_to_string(tree.open_file("/etc/app.conf").unwrap()).unwrap(), "conf");

        let missing = tree.resolve(&GuestPath::root(), "/nope/x", true).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        let looped = tree.resolve(&GuestPath::root(), "/loop", true).unwrap_err();
        assert_eq!(looped.raw_os_error(), Some(rustix::io::Errno::LOOP.raw_os_error()));
        let dir = tree.open_file("/etc").unwrap_err();
        assert_eq!(dir.raw_os_error(), Some(rustix::io::Errno::ISDIR.raw_os_error()));
    }

    #[test]
    fn a_mount_point_is_given_once() {
        let t = tempfile::tempdir().unwrap();
        let mounts =
            vec![MountDesc::dir("/data", open(t.path()), false), MountDesc::dir("/data/", open(t.path()), true)];
        let err =
            GuestTree::new(RootDesc { dir: open(t.path()), lowers: Vec::new(), read_only: false, quota: None }, mounts)
                .err();
        assert_eq!(err.map(|e| e.to_string()).as_deref(), Some("duplicate mount point: /data"));
    }
}
