//! A copy-on-write root: read-only lower layer directories under one writable upper directory,
//! merged as overlayfs merges them, with OCI's whiteouts.
//!
//! Layer 0 is the upper, then the lowers topmost first. A path is found in the topmost layer
//! that has it, unless a layer above hides it: `.wh.NAME` beside it (a whiteout: NAME is gone
//! from every layer below), or `.wh..wh..opq` in a directory (an opaque directory: nothing
//! below it shows). A directory present in several layers merges them; a non-directory hides
//! whatever lies below it. Names starting with `.wh.` are the overlay's own and never shown.
//!
//! Every path here is relative and symlink-free (the namespace's walk resolved it in guest
//! space) and every host call goes through the `Dir` of the layer concerned; what may open a
//! subdirectory does so through cap-std, so a link swapped in on the host still cannot lead
//! outside the layer. Lower layers are only ever read: each write first copies the entry up
//! (data, mode, times; missing parent directories with their modes and times), atomically —
//! a temporary beside it renamed into place only if the name is still free, so a crash or a
//! second guest copying the same file never leaves a partial copy under the name. A copy-up
//! makes a new inode, so a hard link between lower files is broken by writing one of them, as
//! overlayfs without its index does.

use std::cell::RefCell;
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt, SystemTimeSpec};
use cap_std::fs::{Dir, Metadata, MetadataExt, OpenOptions};

use crate::errno::Errno;
use crate::path::Node;

/// The prefix OCI reserves for whiteouts; no entry with it is shown to a guest.
pub const WHITEOUT_PREFIX: &str = ".wh.";
/// The marker of an opaque directory.
pub const OPAQUE: &str = ".wh..wh..opq";
/// The most layers a root may have (a set of layers is a 64-bit mask).
pub const MAX_LAYERS: usize = 64;

/// The layers (bit `i` is layer `i`) whose directory of one path is part of the merged
/// directory: those that have it as a directory, down to the first that is opaque.
pub type Layers = u64;

/// What a path is in the merged tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The layer the path is read from (0 when it is missing: it would be created in the upper).
    pub layer: usize,
    pub node: Node,
    /// For a directory, the layers merged into it; otherwise empty.
    pub dirs: Layers,
}

impl Found {
    fn missing() -> Self {
        Self { layer: 0, node: Node::Missing, dirs: 0 }
    }
}

/// Lookups already made during one walk, so each prefix costs its own layer `stat`s only
/// once (the walk asks for every prefix of the path in turn).
#[derive(Default)]
pub struct Memo(RefCell<Vec<(PathBuf, Found)>>);

impl Memo {
    fn get(&self, rel: &Path) -> Option<Found> {
        self.0.borrow().iter().rev().find(|(p, _)| p == rel).map(|(_, f)| f.clone())
    }

    fn put(&self, rel: &Path, found: &Found) {
        self.0.borrow_mut().push((rel.to_path_buf(), found.clone()));
    }
}

/// One entry of a merged directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedEntry {
    pub name: OsString,
    pub ino: u64,
    pub file_type: cap_std::fs::FileType,
}

/// Why an overlay was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OverlayError {
    #[error("an overlay needs at least one lower layer")]
    NoLowerLayer,
    #[error("too many layers: {0} (at most {MAX_LAYERS})")]
    TooManyLayers(usize),
}

/// The layers of a copy-on-write root.
pub struct Overlay {
    /// `[upper, lowers topmost first…]`.
    layers: Vec<Dir>,
}

/// Is `name` one of the overlay's own (a whiteout, the opaque marker, a copy-up in progress)?
pub fn is_reserved(name: &OsStr) -> bool {
    name.as_bytes().starts_with(WHITEOUT_PREFIX.as_bytes())
}

/// The whiteout of `rel`: `.wh.NAME` in the same directory.
pub fn whiteout_of(rel: &Path) -> PathBuf {
    let name = rel.file_name().map(OsStr::as_bytes).unwrap_or_default();
    let mut wh = WHITEOUT_PREFIX.as_bytes().to_vec();
    wh.extend_from_slice(name);
    rel.with_file_name(OsString::from_vec(wh))
}

fn is_root(rel: &Path) -> bool {
    rel.as_os_str().is_empty() || rel.as_os_str() == "."
}

fn exists(dir: &Dir, rel: &Path) -> Result<bool, Errno> {
    match dir.symlink_metadata(rel) {
        Ok(_) => Ok(true),
        Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn layer_bits(set: Layers) -> impl Iterator<Item = usize> {
    (0..MAX_LAYERS).filter(move |i| set & (1 << i) != 0)
}

impl Overlay {
    /// An overlay of `upper` over `lowers` (topmost first).
    pub fn new(upper: Dir, lowers: Vec<Dir>) -> Result<Self, OverlayError> {
        if lowers.is_empty() {
            return Err(OverlayError::NoLowerLayer);
        }
        if lowers.len() + 1 > MAX_LAYERS {
            return Err(OverlayError::TooManyLayers(lowers.len() + 1));
        }
        let mut layers = vec![upper];
        layers.extend(lowers);
        Ok(Self { layers })
    }

    /// The writable layer.
    pub fn upper(&self) -> &Dir {
        &self.layers[0]
    }

    /// Layer `i` (0 is the upper).
    pub fn layer(&self, i: usize) -> &Dir {
        &self.layers[i]
    }

    fn all(&self) -> Layers {
        if self.layers.len() == MAX_LAYERS { u64::MAX } else { (1u64 << self.layers.len()) - 1 }
    }

    /// What `rel` is in the merged tree.
    pub fn find(&self, rel: &Path, memo: &Memo) -> Result<Found, Errno> {
        if is_root(rel) {
            return Ok(Found { layer: 0, node: Node::Dir, dirs: self.all() });
        }
        if let Some(f) = memo.get(rel) {
            return Ok(f);
        }
        let parent = rel.parent().unwrap_or(Path::new(""));
        let above = self.find(parent, memo)?;
        let found = if above.node == Node::Dir { self.find_in(rel, above.dirs)? } else { Found::missing() };
        memo.put(rel, &found);
        Ok(found)
    }

    /// Looks `rel` up in the layers `parents` of its merged parent directory, topmost first.
    fn find_in(&self, rel: &Path, parents: Layers) -> Result<Found, Errno> {
        let mut found: Option<Found> = None;
        let last = layer_bits(parents).last();
        for i in layer_bits(parents) {
            let below = Some(i) != last;
            let dir = &self.layers[i];
            match dir.symlink_metadata(rel) {
                Ok(md) if md.is_dir() => {
                    let f = found.get_or_insert(Found { layer: i, node: Node::Dir, dirs: 0 });
                    if f.node != Node::Dir {
                        break;
                    }
                    f.dirs |= 1 << i;
                    if below && exists(dir, &rel.join(OPAQUE))? {
                        break;
                    }
                }
                Ok(md) => {
                    if found.is_none() {
                        let node = if md.file_type().is_symlink() {
                            Node::Symlink(dir.read_link_contents(rel)?.into_os_string().into_vec())
                        } else {
                            Node::File
                        };
                        found = Some(Found { layer: i, node, dirs: 0 });
                    }
                    // A non-directory hides what lies below; one below a directory is hidden.
                    break;
                }
                Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => {
                    if below && exists(dir, &whiteout_of(rel))? {
                        break;
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(found.unwrap_or_else(Found::missing))
    }

    /// Does any lower layer show `rel` (so removing it from the upper must leave a whiteout)?
    fn shown_below(&self, rel: &Path) -> Result<bool, Errno> {
        let parent = rel.parent().unwrap_or(Path::new(""));
        let above = self.find(parent, &Memo::default())?;
        if above.node != Node::Dir {
            return Ok(false);
        }
        // The merged parent without the upper: what would show if the upper had no entry.
        Ok(self.find_in(rel, above.dirs & !1)?.node != Node::Missing)
    }

    /// The metadata of `rel` in the layer that shows it.
    pub fn metadata(&self, rel: &Path, layer: usize) -> io::Result<Metadata> {
        let dir = &self.layers[layer];
        if is_root(rel) { dir.dir_metadata() } else { dir.symlink_metadata(rel) }
    }

    /// Makes sure the directory `rel` (a merged directory) exists in the upper, copying its
    /// missing ancestors and itself up with their modes and times.
    pub fn copy_up_dir(&self, rel: &Path) -> Result<(), Errno> {
        if is_root(rel) || self.upper().symlink_metadata(rel).map(|m| m.is_dir()).unwrap_or(false) {
            return Ok(());
        }
        let parent = rel.parent().unwrap_or(Path::new(""));
        self.copy_up_dir(parent)?;
        let found = self.find(rel, &Memo::default())?;
        if found.node != Node::Dir {
            return Err(Errno::Notdir);
        }
        let md = self.metadata(rel, found.layer)?;
        match self.upper().create_dir(rel) {
            Ok(()) => {}
            // Another guest copied it up first.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        self.upper().set_permissions(rel, md.permissions())?;
        self.upper().set_times(rel, Some(atime(&md)), Some(mtime(&md)))?;
        Ok(())
    }

    /// Makes sure `rel` is in the upper before it is written: a lower file or link is copied up
    /// (a regular file's data only if `data`, as for `O_TRUNC`), a directory made. Returns the
    /// bytes the upper grew by.
    pub fn copy_up(&self, rel: &Path, data: bool) -> Result<u64, Errno> {
        let found = self.find(rel, &Memo::default())?;
        match found.node {
            Node::Missing => Err(Errno::Noent),
            _ if found.layer == 0 => Ok(0),
            Node::Dir => self.copy_up_dir(rel).map(|()| 0),
            _ => {
                let parent = rel.parent().unwrap_or(Path::new(""));
                self.copy_up_dir(parent)?;
                self.copy_up_entry(rel, found.layer, data)
            }
        }
    }

    /// Copies the non-directory `rel` of layer `from` into the upper: into a temporary beside
    /// it, then renamed to its name unless something took the name meanwhile.
    fn copy_up_entry(&self, rel: &Path, from: usize, data: bool) -> Result<u64, Errno> {
        let lower = &self.layers[from];
        let md = lower.symlink_metadata(rel)?;
        let name = rel.file_name().ok_or(Errno::Inval)?;
        let parent = rel.parent().unwrap_or(Path::new(""));
        let up = if is_root(parent) { self.upper().try_clone()? } else { self.upper().open_dir_nofollow(parent)? };
        let tmp = PathBuf::from(format!("{WHITEOUT_PREFIX}{WHITEOUT_PREFIX}copyup-{:016x}", random()));
        let mut grew = 0;
        if md.file_type().is_symlink() {
            up.symlink_contents(lower.read_link_contents(rel)?, &tmp)?;
            up.set_symlink_times(&tmp, Some(atime(&md)), Some(mtime(&md)))?;
        } else if md.is_file() {
            let mut opts = OpenOptions::new();
            opts.write(true).create_new(true).follow(FollowSymlinks::No);
            // Both as std files: `io::copy` between them copies in the kernel
            // (`copy_file_range`); between cap-std's it goes through an 8 KiB buffer.
            let mut out = up.open_with(&tmp, &opts)?.into_std();
            if data {
                let mut opts = OpenOptions::new();
                opts.read(true).follow(FollowSymlinks::No);
                let mut src = lower.open_with(rel, &opts)?.into_std();
                grew = io::copy(&mut src, &mut out).inspect_err(|_| drop(up.remove_file(&tmp)))?;
            }
            out.set_permissions(md.permissions().into_std(&out)?)?;
            let times = std::fs::FileTimes::new()
                .set_accessed(md.accessed()?.into_std())
                .set_modified(md.modified()?.into_std());
            out.set_times(times)?;
        } else {
            // Fifos, sockets and devices are not in images Porthole makes.
            return Err(Errno::Perm);
        }
        match rustix::fs::renameat_with(&up, &tmp, &up, name, rustix::fs::RenameFlags::NOREPLACE) {
            Ok(()) => Ok(grew),
            Err(rustix::io::Errno::EXIST) => {
                up.remove_file(&tmp)?;
                Ok(0)
            }
            Err(e) => {
                drop(up.remove_file(&tmp));
                Err(io::Error::from(e).into())
            }
        }
    }

    /// Readies the upper for a new entry at `rel` (missing in the merged tree): its parent
    /// copied up and a whiteout of the name taken away. Returns whether there was one, in which
    /// case a directory made there must be opaque (the old one's lower contents stay hidden).
    pub fn prepare_create(&self, rel: &Path) -> Result<bool, Errno> {
        let parent = rel.parent().unwrap_or(Path::new(""));
        self.copy_up_dir(parent)?;
        let wh = whiteout_of(rel);
        match self.upper().remove_file(&wh) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Marks the upper directory `rel` opaque.
    pub fn make_opaque(&self, rel: &Path) -> Result<(), Errno> {
        self.upper().write(rel.join(OPAQUE), b"")?;
        Ok(())
    }

    /// Records that `rel` was removed: a whiteout if a lower layer still shows the name.
    pub fn whiteout_if_shown(&self, rel: &Path) -> Result<(), Errno> {
        if self.shown_below(rel)? {
            let parent = rel.parent().unwrap_or(Path::new(""));
            self.copy_up_dir(parent)?;
            self.upper().write(whiteout_of(rel), b"")?;
        }
        Ok(())
    }

    /// Removes `rel` from the merged tree: from the upper if it is there (a directory with the
    /// whiteouts it holds, as the merged directory is empty), then a whiteout if a lower still
    /// shows it.
    pub fn remove(&self, rel: &Path, dir: bool) -> Result<(), Errno> {
        match self.upper().symlink_metadata(rel) {
            Ok(md) if md.is_dir() => {
                if !dir {
                    return Err(Errno::Isdir);
                }
                for e in self.upper().read_dir(rel)? {
                    let name = e?.file_name();
                    if !is_reserved(&name) {
                        return Err(Errno::Notempty);
                    }
                    self.upper().remove_file(rel.join(name))?;
                }
                self.upper().remove_dir(rel)?;
            }
            Ok(_) => self.upper().remove_file(rel)?,
            Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => {}
            Err(e) => return Err(e.into()),
        }
        self.whiteout_if_shown(rel)
    }

    /// The merged listing of directory `rel` (whose layers are `dirs`): the topmost entry of
    /// each name, without whited-out names and the overlay's own.
    pub fn read_dir(&self, rel: &Path, dirs: Layers) -> Result<Vec<MergedEntry>, Errno> {
        use rustix::fs::DirEntryExt;
        let mut seen: Vec<MergedEntry> = Vec::new();
        let mut hidden: Vec<OsString> = Vec::new();
        for i in layer_bits(dirs) {
            let layer = &self.layers[i];
            let listed = if is_root(rel) { layer.entries() } else { layer.read_dir(rel) };
            let mut whiteouts = Vec::new();
            for e in listed? {
                let e = e?;
                let name = e.file_name();
                if let Some(wh) = name.as_bytes().strip_prefix(WHITEOUT_PREFIX.as_bytes()) {
                    if name != OPAQUE && !wh.starts_with(WHITEOUT_PREFIX.as_bytes()) {
                        whiteouts.push(OsString::from_vec(wh.to_vec()));
                    }
                    continue;
                }
                if hidden.contains(&name) || seen.iter().any(|s| s.name == name) {
                    continue;
                }
                seen.push(MergedEntry { ino: e.ino(), file_type: e.file_type()?, name });
            }
            // A layer's whiteouts hide names of the layers below it only.
            hidden.extend(whiteouts);
        }
        Ok(seen)
    }

    /// Is the merged directory `rel` empty?
    pub fn is_empty_dir(&self, rel: &Path, dirs: Layers) -> Result<bool, Errno> {
        Ok(self.read_dir(rel, dirs)?.is_empty())
    }

    /// Renames `src` to `dst` in the merged tree: the source copied up (a directory whole, as
    /// overlayfs without `redirect_dir` cannot point an upper directory at a lower one), the
    /// destination replaced as rename(2) replaces, a whiteout left where the source showed a
    /// lower entry, and a directory landing on a name a lower layer shows made opaque.
    /// Returns the bytes the upper grew by.
    pub fn rename(&self, src: &Path, dst: &Path) -> Result<u64, Errno> {
        if src == dst {
            return Ok(0);
        }
        let from = self.find(src, &Memo::default())?;
        let to = self.find(dst, &Memo::default())?;
        let src_dir = from.node == Node::Dir;
        match (&to.node, src_dir) {
            (Node::Missing, _) => {}
            (Node::Dir, false) => return Err(Errno::Isdir),
            (Node::Dir, true) if !self.is_empty_dir(dst, to.dirs)? => return Err(Errno::Notempty),
            (Node::Dir, true) => {}
            (_, true) => return Err(Errno::Notdir),
            (_, false) => {}
        }
        let grew = if src_dir { self.copy_up_tree(src)? } else { self.copy_up(src, true)? };
        // Whatever stands at the destination goes (an empty directory with its whiteouts);
        // then the upper's name is free for the host's rename.
        if to.node != Node::Missing {
            self.remove(dst, to.node == Node::Dir)?;
        }
        let hidden_below = self.prepare_create(dst)? || to.node != Node::Missing && self.shown_below(dst)?;
        self.upper().rename(src, self.upper(), dst)?;
        if src_dir && hidden_below {
            self.make_opaque(dst)?;
        }
        self.whiteout_if_shown(src)?;
        Ok(grew)
    }

    /// Copies the merged directory `rel` and everything below it into the upper, whole, and
    /// marks it opaque: what a rename of a directory with lower contents needs, as the upper's
    /// copy then stands alone wherever it is renamed to. Returns the bytes the upper grew by.
    pub fn copy_up_tree(&self, rel: &Path) -> Result<u64, Errno> {
        let found = self.find(rel, &Memo::default())?;
        if found.node != Node::Dir {
            return self.copy_up(rel, true);
        }
        self.copy_up_dir(rel)?;
        let mut grew = 0;
        for e in self.read_dir(rel, found.dirs)? {
            grew += self.copy_up_tree(&rel.join(&e.name))?;
        }
        if found.dirs & !1 != 0 {
            self.make_opaque(rel)?;
        }
        Ok(grew)
    }
}

fn atime(md: &Metadata) -> SystemTimeSpec {
    SystemTimeSpec::Absolute(cap_std::time::SystemTime::from_std(
        std::time::UNIX_EPOCH + std::time::Duration::new(md.atime().max(0) as u64, md.atime_nsec().max(0) as u32),
    ))
}

fn mtime(md: &Metadata) -> SystemTimeSpec {
    SystemTimeSpec::Absolute(cap_std::time::SystemTime::from_std(
        std::time::UNIX_EPOCH + std::time::Duration::new(md.mtime().max(0) as u64, md.mtime_nsec().max(0) as u32),
    ))
}

fn random() -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("the OS gives random bytes");
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cap_std::ambient_authority;
    use std::fs;

    fn open(p: &Path) -> Dir {
        Dir::open_ambient_dir(p, ambient_authority()).unwrap()
    }

    /// Two lowers and an upper, driven directly: removal, whiteout, merged listing.
    #[test]
    fn removal_of_a_lower_file_leaves_a_whiteout() {
        let t = tempfile::tempdir().unwrap();
        let (up, top, base) = (t.path().join("up"), t.path().join("top"), t.path().join("base"));
        for d in [&up, &top.join("etc"), &base.join("etc")] {
            fs::create_dir_all(d).unwrap();
        }
        fs::write(top.join("etc/app.conf"), "conf").unwrap();
        fs::write(base.join("etc/motd"), "motd").unwrap();
        let o = Overlay::new(open(&up), vec![open(&top), open(&base)]).unwrap();
        let f = o.find(Path::new("etc/app.conf"), &Memo::default()).unwrap();
        assert_eq!((f.layer, f.node), (1, Node::File));
        o.copy_up(Path::new("etc/motd"), true).unwrap();
        let f = o.find(Path::new("etc/app.conf"), &Memo::default()).unwrap();
        assert_eq!((f.layer, f.node), (1, Node::File));
        o.remove(Path::new("etc/app.conf"), false).unwrap();
        assert_eq!(o.find(Path::new("etc/app.conf"), &Memo::default()).unwrap().node, Node::Missing);
        let names: Vec<_> = o.read_dir(Path::new("etc"), 0b111).unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["motd"]);
    }
}
