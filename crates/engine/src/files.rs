//! Read-only file browsing for the dashboard: a volume's directory or a container's file
//! system (rootfs with its mounts) listed with guest and host paths side by side, and small
//! files viewed.
//!
//! Every host access goes through a `cap_std::fs::Dir` opened on the volume's (or mount's)
//! directory and walks it one component at a time without following symlinks, so neither a
//! guest-made link nor a race can lead the controller outside that directory. Links are
//! reported with their target, never followed.

use std::io::Read;
use std::path::{Path, PathBuf};

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt};
use cap_std::ambient_authority;
use cap_std::fs::{Dir, Metadata, OpenOptions, OpenOptionsExt};
use porthole_core::guest_path::GuestPath;

use crate::guestfs::GuestFs;
use crate::{Engine, EngineError, Result};

/// The most bytes [`Engine::volume_file`] returns: the page shows files, it does not copy them.
pub const VIEW_LIMIT: u64 = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    Dir,
    File,
    Symlink,
    /// Devices, sockets, FIFOs: listed, never opened.
    Other,
}

/// One entry of a listing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileEntry {
    pub name: String,
    pub kind: EntryKind,
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime: i64,
    /// A symlink's target, verbatim.
    pub link_target: Option<String>,
    /// Where the guest sees it (for a volume: under its first mount, if any).
    pub guest_path: Option<String>,
    pub host_path: PathBuf,
    /// A mount point of the container (its content is the mount's, not the rootfs').
    pub mount_point: bool,
    /// In a container's listing, where a symlink leads for that container: the guest path
    /// its namespace resolves it to, across mounts (walked, never followed on the host).
    pub resolves_to: Option<String>,
    /// In a container's listing, a symlink that leads nowhere for that container (missing
    /// target, or a loop) — for example into a volume it does not mount.
    pub dangling: bool,
}

/// A directory's entries, by name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Listing {
    /// The directory asked for: inside the volume, or in the container's namespace.
    pub path: String,
    pub host_path: PathBuf,
    /// For a volume: `container:/destination` for each container that mounts it.
    pub mounted_at: Vec<String>,
    pub entries: Vec<FileEntry>,
}

/// The first bytes of a regular file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileView {
    pub path: String,
    pub host_path: PathBuf,
    pub size: u64,
    pub bytes: Vec<u8>,
    pub truncated: bool,
}

fn parse(path: &str) -> Result<GuestPath> {
    GuestPath::new(if path.is_empty() { "/" } else { path })
        .ok_or_else(|| EngineError::Invalid(format!("invalid path: {path}")))
}

fn io_error(path: &str, e: std::io::Error) -> EngineError {
    match e.kind() {
        std::io::ErrorKind::NotFound => EngineError::NoSuchPath(path.to_string()),
        _ if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error())
            || e.raw_os_error() == Some(rustix::io::Errno::NOTDIR.raw_os_error()) =>
        {
            EngineError::Invalid(format!("not a directory (symbolic links are not followed): {path}"))
        }
        _ => EngineError::Io { context: format!("reading {path}"), source: e },
    }
}

/// Opens `rel` (components of a cleaned path) under `base`, one component at a time,
/// refusing symlinks.
fn open_within(base: &Path, rel: &GuestPath) -> Result<Dir> {
    let shown = rel.to_string();
    let mut dir = Dir::open_ambient_dir(base, ambient_authority()).map_err(|e| io_error(&shown, e))?;
    for c in rel.components() {
        dir = dir.open_dir_nofollow(c).map_err(|e| io_error(&shown, e))?;
    }
    Ok(dir)
}

fn nanos(md: &Metadata) -> i64 {
    md.modified()
        .ok()
        .and_then(|t| t.into_std().duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64)
}

fn join(parent: &str, name: &str) -> String {
    if parent.ends_with('/') { format!("{parent}{name}") } else { format!("{parent}/{name}") }
}

fn relative_host(base: &Path, rel: &GuestPath) -> PathBuf {
    rel.components().fold(base.to_path_buf(), |p, c| p.join(c))
}

/// Lists `dir`; `guest` is the directory's guest path, when it has one.
fn entries(dir: &Dir, guest: Option<&str>, host: &Path) -> Result<Vec<FileEntry>> {
    let ctx = || host.display().to_string();
    let mut out = Vec::new();
    for entry in dir.entries().map_err(|e| io_error(&ctx(), e))? {
        let entry = entry.map_err(|e| io_error(&ctx(), e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        out.extend(entry_of(dir, Path::new(&name), name.clone(), guest, host.join(&name)));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The entry `name` at `rel` in `dir` (`None` if it vanished meanwhile).
fn entry_of(dir: &Dir, rel: &Path, name: String, guest: Option<&str>, host_path: PathBuf) -> Option<FileEntry> {
    let md = dir.symlink_metadata(rel).ok()?;
    let ft = md.file_type();
    let kind = if ft.is_symlink() {
        EntryKind::Symlink
    } else if ft.is_dir() {
        EntryKind::Dir
    } else if ft.is_file() {
        EntryKind::File
    } else {
        EntryKind::Other
    };
    // `read_link_contents` returns absolute targets too (they are the guest's, not ours).
    let link_target = (kind == EntryKind::Symlink)
        .then(|| dir.read_link_contents(rel).ok())
        .flatten()
        .map(|t| t.display().to_string());
    Some(FileEntry {
        guest_path: guest.map(|g| join(g, &name)),
        host_path,
        name,
        kind,
        size: md.len(),
        mtime: nanos(&md),
        link_target,
        mount_point: false,
        resolves_to: None,
        dangling: false,
    })
}

/// Lists the directory `rel` of a container's layered rootfs as its guests see it: merged,
/// whiteouts applied, each entry's host path in the layer that shows it.
fn layered_entries(upper: &Path, lowers: &[PathBuf], rel: &GuestPath) -> Result<Vec<FileEntry>> {
    let shown = rel.to_string();
    let tree = GuestFs::layered(upper, lowers).map_err(|e| io_error(&shown, e))?;
    let dir = tree.resolve(rel.as_str(), false).map_err(|e| io_error(&shown, e))?;
    if dir.node != porthole_runtime::Node::Dir {
        return Err(EngineError::Invalid(format!("not a directory: {rel}")));
    }
    let layer_path = |layer: usize| if layer == 0 { upper.to_path_buf() } else { lowers[layer - 1].clone() };
    let mut out = Vec::new();
    for e in tree.list_dir(&dir).map_err(|e| io_error(&shown, e))? {
        let name = e.name.to_string_lossy().into_owned();
        let Ok(child) = tree.resolve_from(&dir.path, &name, false) else { continue };
        let host = layer_path(child.layer).join(&child.rel);
        out.extend(entry_of(tree.tree().dir_of(&child), &child.rel, name, Some(rel.as_str()), host));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

impl Engine {
    /// Lists `path` (`/` is the volume's root) inside volume `name`.
    pub fn volume_files(&self, name: &str, path: &str) -> Result<Listing> {
        let rel = parse(path)?;
        let (base, mounted_at) = self.volume_place(name)?;
        let dir = open_within(&base, &rel)?;
        // The guest path under the first mount (a volume may be mounted at several).
        let guest = mounted_at.first().and_then(|m| m.split_once(':')).map(|(_, dst)| {
            if rel.is_root() { dst.to_string() } else { format!("{}{rel}", dst.trim_end_matches('/')) }
        });
        let host_path = relative_host(&base, &rel);
        Ok(Listing {
            entries: entries(&dir, guest.as_deref(), &host_path)?,
            path: rel.to_string(),
            host_path,
            mounted_at,
        })
    }

    /// The first [`VIEW_LIMIT`] bytes of regular file `path` in volume `name`; symlinks,
    /// directories and devices are refused.
    pub fn volume_file(&self, name: &str, path: &str) -> Result<FileView> {
        let rel = parse(path)?;
        let (base, _) = self.volume_place(name)?;
        let mut parts: Vec<&str> = rel.components().collect();
        let Some(file) = parts.pop() else { return Err(EngineError::Invalid(format!("not a regular file: {rel}"))) };
        let parent = parse(&format!("/{}", parts.join("/")))?;
        let dir = open_within(&base, &parent)?;
        let shown = rel.to_string();
        let md = dir.symlink_metadata(file).map_err(|e| io_error(&shown, e))?;
        if !md.is_file() {
            return Err(EngineError::Invalid(format!(
                "not a regular file (links are not followed, devices not opened): {rel}"
            )));
        }
        // No-follow and non-blocking: a file swapped for a link or a FIFO after the check
        // above fails to open instead of leading elsewhere or hanging.
        let mut opts = OpenOptions::new();
        opts.read(true).follow(FollowSymlinks::No).custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
        let f = dir.open_with(file, &opts).map_err(|e| io_error(&shown, e))?;
        let md = f.metadata().map_err(|e| io_error(&shown, e))?;
        if !md.is_file() {
            return Err(EngineError::Invalid(format!("not a regular file: {rel}")));
        }
        let mut bytes = Vec::new();
        f.take(VIEW_LIMIT).read_to_end(&mut bytes).map_err(|e| io_error(&shown, e))?;
        Ok(FileView {
            host_path: relative_host(&base, &rel),
            path: shown,
            size: md.len(),
            truncated: md.len() > bytes.len() as u64,
            bytes,
        })
    }

    /// Lists `path` as container `reference` sees it: in the mount that holds it (longest
    /// mount point), else in its rootfs; mount points in the directory are marked.
    pub fn container_files(&self, reference: &str, path: &str) -> Result<Listing> {
        let guest = parse(path)?;
        let info = self.inspect(reference)?;
        let mounts: Vec<(GuestPath, &PathBuf)> =
            info.record.mounts.iter().map(|m| m.destination.clone()).zip(info.sources.iter()).collect();
        let holder = mounts.iter().filter(|(d, _)| guest.starts_with(d)).max_by_key(|(d, _)| d.as_str().len());
        let (base, rel) = match holder {
            Some((d, src)) => ((*src).clone(), parse(&guest.as_str()[d.as_str().len()..])?),
            None => (info.rootfs.clone(), guest.clone()),
        };
        let host_path = relative_host(&base, &rel);
        let listed = match holder {
            None if !info.lowers.is_empty() => layered_entries(&info.rootfs, &info.lowers, &rel),
            _ => open_within(&base, &rel).and_then(|dir| entries(&dir, Some(guest.as_str()), &host_path)),
        };
        let mut list = match listed {
            Ok(list) => list,
            // A mount point's parent that exists only because of the mount.
            Err(EngineError::NoSuchPath(_)) if mounts.iter().any(|(d, _)| d.starts_with(&guest)) => Vec::new(),
            Err(e) => return Err(e),
        };
        for (d, src) in &mounts {
            let Some(name) = d.as_str().strip_prefix(guest.as_str()).map(|r| r.trim_start_matches('/')) else {
                continue;
            };
            if name.is_empty() || name.contains('/') || !d.starts_with(&guest) {
                continue;
            }
            match list.iter_mut().find(|e| e.name == name) {
                Some(e) => {
                    e.mount_point = true;
                    e.kind = EntryKind::Dir;
                    e.host_path = (*src).clone();
                }
                None => list.push(FileEntry {
                    name: name.to_string(),
                    kind: EntryKind::Dir,
                    size: 0,
                    mtime: 0,
                    link_target: None,
                    guest_path: Some(d.to_string()),
                    host_path: (*src).clone(),
                    mount_point: true,
                    resolves_to: None,
                    dangling: false,
                }),
            }
        }
        list.sort_by(|a, b| a.name.cmp(&b.name));
        self.resolve_links(&info.record, &mut list);
        Ok(Listing { path: guest.to_string(), host_path, mounted_at: Vec::new(), entries: list })
    }

    /// Fills in where each symlink of a container's listing leads for that container, by the
    /// same walk its guest would make through its mount namespace.
    fn resolve_links(&self, record: &porthole_store::ContainerRecord, entries: &mut [FileEntry]) {
        if !entries.iter().any(|e| e.kind == EntryKind::Symlink) {
            return;
        }
        let Ok(tree) = self.guest_tree(record, &crate::quotas::ContainerQuotas::default()) else { return };
        for e in entries.iter_mut().filter(|e| e.kind == EntryKind::Symlink) {
            let Some(guest) = &e.guest_path else { continue };
            match tree.resolve(&GuestPath::root(), guest, true) {
                Ok(r) if r.node != porthole_runtime::Node::Missing => e.resolves_to = Some(r.path.to_string()),
                _ => e.dangling = true,
            }
        }
    }

    /// A volume's data directory and where containers mount it.
    fn volume_place(&self, name: &str) -> Result<(PathBuf, Vec<String>)> {
        let w = self.world();
        if !w.volumes.contains_key(name) {
            return Err(EngineError::NoSuchVolume(name.to_string()));
        }
        let mounted_at = w
            .containers
            .values()
            .flat_map(|c| {
                c.record
                    .mounts
                    .iter()
                    .filter(|m| m.volume() == Some(name))
                    .map(|m| format!("{}:{}", c.record.name, m.destination))
            })
            .collect();
        Ok((self.inner.store.volume_data(name), mounted_at))
    }
}
