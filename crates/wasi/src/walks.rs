//! Reporting path walks: for each `path_open` and `path_filestat_get`, what the guest asked for, the symlinks the walk
//! followed (each with the mount it lies in), where it ended and in which mount, and how the
//! open turned out; for `ENOENT`, the first component that was missing. The observer sees a
//! borrowed [`Walk`]; nothing is recorded unless it asked for walks when the host was built.

use crate::errno::Errno;
use crate::host::WasiHost;
use crate::namespace::Location;
use crate::path::{GuestPath, Node, Trace};

/// What the guest meant to do with the file it opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkOp {
    /// Opened for reading only (a file or a directory).
    Read,
    /// Opened to write, create or truncate.
    Write,
    /// `path_filestat_get`: a server's `stat` before it opens, which is where it learns that a
    /// link dangles.
    Stat,
}

/// A symlink a walk followed: where it is, the mount point of the mount holding it, and its
/// target as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkLink {
    pub link: GuestPath,
    pub mount_point: GuestPath,
    pub target: String,
}

/// Where a walk ended: a symlink-free guest path, the mount point of the mount that holds it,
/// and what is there.
#[derive(Debug, Clone, Copy)]
pub struct WalkEnd<'a> {
    pub path: &'a GuestPath,
    pub mount_point: &'a GuestPath,
    pub node: &'a Node,
}

/// One open as the walk resolved it, told to [`crate::MutationObserver::walked`].
#[derive(Debug)]
pub struct Walk<'a> {
    pub op: WalkOp,
    /// The directory the path is relative to (a preopen or a directory the guest opened).
    pub start: &'a GuestPath,
    /// The path as the guest passed it, relative to `start`.
    pub path: &'a [u8],
    /// The symlinks followed, in order.
    pub links: &'a [WalkLink],
    /// Where the walk ended; `None` when it failed before reaching an end.
    pub end: Option<WalkEnd<'a>>,
    /// Whether the open succeeded, or the errno the guest got.
    pub result: Result<(), Errno>,
    /// For a walk that found a component missing: where. For a link into a volume that is not
    /// mounted, this is the point where the path leaves what the container has.
    pub broke: Option<WalkBreak<'a>>,
}

/// Where a walk broke: the last directory that existed, the mount point of its mount, and the
/// name missing in it.
#[derive(Debug, Clone, Copy)]
pub struct WalkBreak<'a> {
    pub existing: &'a GuestPath,
    pub mount_point: &'a GuestPath,
    pub missing: &'a str,
}

/// What a traced walk collected while the host resolved one path.
#[derive(Default)]
pub(crate) struct Recording {
    /// Set once the path was read and walked (a call refused before that reports nothing).
    pub start: Option<GuestPath>,
    pub path: Vec<u8>,
    links: Vec<(GuestPath, String)>,
    missing: Option<GuestPath>,
    pub end: Option<(Location, Node)>,
}

impl Trace for Recording {
    fn link(&mut self, link: &GuestPath, target: &[u8]) {
        self.links.push((link.clone(), String::from_utf8_lossy(target).into_owned()));
    }

    fn missing(&mut self, missing: &GuestPath) {
        self.missing = Some(missing.clone());
    }
}

impl WasiHost {
    /// Tells the observer how the walk in `rec` went and what the operation answered.
    pub(crate) fn report_walk(&self, op: WalkOp, rec: &Recording, result: Result<(), Errno>) {
        let (Some(observer), Some(start)) = (&self.observer, &rec.start) else { return };
        let mount_point = |p: &GuestPath| self.ns.mount(self.ns.mount_of(p)).path.clone();
        let links: Vec<WalkLink> = rec
            .links
            .iter()
            .map(|(link, target)| WalkLink {
                link: link.clone(),
                mount_point: mount_point(link),
                target: target.clone(),
            })
            .collect();
        let end = rec.end.as_ref().map(|(loc, node)| WalkEnd {
            path: &loc.path,
            mount_point: &self.ns.mount(loc.mount).path,
            node,
        });
        // A walk that ended on a missing name broke there, as one that stopped midway did.
        let missing = match (&rec.missing, &rec.end) {
            (Some(m), _) => Some(m),
            (None, Some((loc, Node::Missing))) if result == Err(Errno::Noent) => Some(&loc.path),
            _ => None,
        };
        let existing = missing.and_then(GuestPath::parent);
        let broke = match (missing.and_then(GuestPath::file_name), &existing) {
            (Some(missing), Some(existing)) => {
                Some(WalkBreak { existing, mount_point: &self.ns.mount(self.ns.mount_of(existing)).path, missing })
            }
            _ => None,
        };
        observer.walked(&Walk { op, start, path: &rec.path, links: &links, end, result, broke });
    }
}

impl Walk<'_> {
    /// The path the guest asked for, made absolute from the directory it named.
    pub fn asked(&self) -> String {
        let path = String::from_utf8_lossy(self.path);
        if self.start.is_root() { format!("/{path}") } else { format!("{}/{path}", self.start) }
    }
}

/// One line: `read /var/www/pub/f: link /var/www/pub/f [/var/www] -> /x; /x [/var/lib/pulp] file:
/// ok`, or with `ENOENT (broke at /var [/]: lib missing)` at the end of a walk that broke.
impl std::fmt::Display for Walk<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = match self.op {
            WalkOp::Read => "read",
            WalkOp::Write => "write",
            WalkOp::Stat => "stat",
        };
        write!(f, "{op} {}:", self.asked())?;
        for l in self.links {
            write!(f, " link {} [{}] -> {};", l.link, l.mount_point, l.target)?;
        }
        if let Some(end) = &self.end {
            let node = match end.node {
                Node::Missing => "missing",
                Node::Dir => "dir",
                Node::File => "file",
                Node::Symlink(_) => "symlink",
            };
            write!(f, " {} [{}] {node}:", end.path, end.mount_point)?;
        }
        match self.result {
            Ok(()) => write!(f, " ok")?,
            Err(e) => write!(f, " {}", e.name())?,
        }
        if let Some(b) = self.broke {
            write!(f, " (broke at {} [{}]: {} missing)", b.existing, b.mount_point, b.missing)?;
        }
        Ok(())
    }
}
