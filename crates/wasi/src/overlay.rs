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
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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
    /// No whiteout of the name in the upper needs taking away before a create: the upper
    /// was asked and has none, or no lower layer has the name for one to hide. False when
    /// nobody asked.
    pub no_whiteout: bool,
}

impl Found {
    fn missing() -> Self {
        Self { layer: 0, node: Node::Missing, dirs: 0, no_whiteout: false }
    }
}

/// One looked-up path of a [`Memo`]: what it is, the metadata of the layer that shows it,
/// and for a directory the upper has, whether its lower layers were looked at yet.
#[derive(Clone)]
struct Entry {
    found: Found,
    metadata: Option<Metadata>,
    /// `found.dirs` is only the upper: the layers below were not looked at (nothing below
    /// the directory was needed that the upper lacked).
    partial: bool,
}

/// The lookups of one host call (its walk and the change that follows it), so each prefix
/// costs its layers' calls once. It lives no longer than that call, so it is as fresh as a
/// second lookup within the call would be: another guest writing the same upper meanwhile
/// races with this call either way, as two processes race on one overlayfs.
#[derive(Default)]
pub struct Memo(RefCell<Vec<(PathBuf, Entry)>>);

impl Memo {
    fn get(&self, rel: &Path) -> Option<Entry> {
        self.0.borrow().iter().rev().find(|(p, _)| p == rel).map(|(_, e)| e.clone())
    }

    fn put(&self, rel: &Path, entry: &Entry) {
        self.0.borrow_mut().push((rel.to_path_buf(), entry.clone()));
    }

    /// The host metadata of `rel` as its lookup read it, from the layer that shows it.
    pub fn metadata(&self, rel: &Path) -> Option<Metadata> {
        self.get(rel).and_then(|e| e.metadata)
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
    listings: LowerListings,
}

/// A lower directory's names, each with whether it is a directory (not following links).
type Listing = HashMap<OsString, bool>;

/// Listings of lower-layer directories, kept for the overlay's life. Safe to keep, unlike
/// anything about the upper (which other guests of the container write): nothing writes into
/// a lower layer (ARCHITECTURE.md, "Layers": every change goes to the upper, and a layer is
/// not removed while a container uses it), so what a lower directory held when listed is
/// what it holds. A directory is listed the second time a name in it is asked for, so a
/// guest that looks up one name there pays one `stat`, not a listing.
#[derive(Default)]
struct LowerListings(Mutex<HashMap<(usize, PathBuf), Listed>>);

enum Listed {
    /// Asked about once, not listed yet.
    Once,
    /// Listed (`None`: it could not be, so every name in it is asked of the host).
    Names(Option<Arc<Listing>>),
}

impl LowerListings {
    /// The listing of directory `rel` of lower layer `i` (whose `Dir` is `dir`), once it was
    /// asked about before.
    fn get(&self, i: usize, dir: &Dir, rel: &Path) -> Option<Arc<Listing>> {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let key = (i, rel.to_path_buf());
        match kept.get(&key) {
            Some(Listed::Names(names)) => return names.clone(),
            Some(Listed::Once) => {}
            None => {
                kept.insert(key, Listed::Once);
                return None;
            }
        }
        let names = list(dir, rel).ok().map(Arc::new);
        kept.insert(key, Listed::Names(names.clone()));
        names
    }
}

fn list(dir: &Dir, rel: &Path) -> io::Result<Listing> {
    let entries = if is_root(rel) { dir.entries()? } else { dir.read_dir(rel)? };
    entries
        .map(|e| {
            let e = e?;
            Ok((e.file_name(), e.file_type()?.is_dir()))
        })
        .collect()
}

/// What a layer has at a path.
enum Probe {
    /// A directory, with its metadata unless it was not wanted and a listing answered.
    Dir(Option<Metadata>),
    Other(Metadata),
    Absent,
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

/// An error that means the name is not there (or its parent is no directory).
fn is_absent(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory)
}

fn exists(dir: &Dir, rel: &Path) -> Result<bool, Errno> {
    match dir.symlink_metadata(rel) {
        Ok(_) => Ok(true),
        Err(e) if is_absent(&e) => Ok(false),
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
        Ok(Self { layers, listings: LowerListings::default() })
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

    /// What `rel` is in the merged tree (for a directory, with every layer merged into it).
    pub fn find(&self, rel: &Path, memo: &Memo) -> Result<Found, Errno> {
        Ok(self.complete(rel, memo)?.found)
    }

    /// What `rel` is as far as a walk needs: a directory the upper has is taken from the
    /// upper alone, its lower layers looked at only when a name below it is missing from the
    /// upper (then whiteouts and the opaque marker decide what shows from below).
    pub fn lookup(&self, rel: &Path, memo: &Memo) -> Result<Found, Errno> {
        Ok(self.entry(rel, memo)?.found)
    }

    fn entry(&self, rel: &Path, memo: &Memo) -> Result<Entry, Errno> {
        if is_root(rel) {
            let found = Found { layer: 0, node: Node::Dir, dirs: self.all(), no_whiteout: false };
            return Ok(Entry { found, metadata: None, partial: false });
        }
        if let Some(e) = memo.get(rel) {
            return Ok(e);
        }
        let parent = rel.parent().unwrap_or(Path::new(""));
        let above = self.entry(parent, memo)?;
        let entry = if above.found.node != Node::Dir {
            Entry { found: Found::missing(), metadata: None, partial: false }
        } else if above.found.dirs & 1 != 0 {
            match self.upper().symlink_metadata(rel) {
                Ok(md) => {
                    let node = if md.is_dir() { Node::Dir } else { self.node_of(0, rel, &md)? };
                    // Nothing lies below a directory whose parent is the upper's alone.
                    let partial = node == Node::Dir && (above.partial || above.found.dirs != 1);
                    let dirs = if node == Node::Dir { 1 } else { 0 };
                    Entry { found: Found { layer: 0, node, dirs, no_whiteout: false }, metadata: Some(md), partial }
                }
                Err(e) if is_absent(&e) && !self.lowers_may_have(rel, memo)? => {
                    // Missing, whatever whiteouts and opaque markers the upper holds.
                    Entry { found: Found { no_whiteout: true, ..Found::missing() }, metadata: None, partial: false }
                }
                Err(e) if is_absent(&e) => {
                    let above = self.complete(parent, memo)?;
                    self.find_in(rel, above.found.dirs, true, true)?
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            self.find_in(rel, above.found.dirs, false, true)?
        };
        memo.put(rel, &entry);
        Ok(entry)
    }

    /// [`Self::entry`] with every layer of a directory merged in.
    fn complete(&self, rel: &Path, memo: &Memo) -> Result<Entry, Errno> {
        let entry = self.entry(rel, memo)?;
        if !entry.partial {
            return Ok(entry);
        }
        let parent = rel.parent().unwrap_or(Path::new(""));
        let lowers = self.complete(parent, memo)?.found.dirs & !1;
        let mut dirs = 1;
        // As a walk through all the layers would: the upper's directory first, then, unless
        // it is opaque, whatever directories the lowers have there.
        if lowers != 0 && !self.is_opaque(rel)? {
            let below = self.find_in(rel, lowers, false, false)?.found;
            if below.node == Node::Dir {
                dirs |= below.dirs;
            }
        }
        let found = Found { dirs, ..entry.found };
        let done = Entry { found, metadata: entry.metadata, partial: false };
        memo.put(rel, &done);
        Ok(done)
    }

    /// Did this call's lookups (`memo`) find `rel` a directory the upper has?
    pub fn upper_has_dir(&self, rel: &Path, memo: &Memo) -> bool {
        is_root(rel) || memo.get(rel).is_some_and(|e| e.found.node == Node::Dir && e.found.dirs & 1 != 0)
    }

    /// The lower layers that may hold the directory `rel` below the upper's: those of its
    /// complete lookup, or where only the upper was asked, the lowers' directories there as
    /// if no opaque marker in the upper stopped them (so at least every layer that shows).
    /// Asks only the lower layers, mostly of their kept listings.
    fn lowers_at_most(&self, rel: &Path, memo: &Memo) -> Result<Layers, Errno> {
        let e = self.entry(rel, memo)?;
        if e.found.node != Node::Dir {
            return Ok(0);
        }
        if !e.partial {
            return Ok(e.found.dirs & !1);
        }
        let above = self.lowers_at_most(rel.parent().unwrap_or(Path::new("")), memo)?;
        if above == 0 {
            return Ok(0);
        }
        let below = self.find_in(rel, above, false, false)?.found;
        Ok(if below.node == Node::Dir { below.dirs } else { 0 })
    }

    /// May a lower layer show `rel`? False only when none can, whatever the upper's
    /// whiteouts and opaque markers say (which then need not be asked).
    pub(crate) fn lowers_may_have(&self, rel: &Path, memo: &Memo) -> Result<bool, Errno> {
        let lowers = self.lowers_at_most(rel.parent().unwrap_or(Path::new("")), memo)?;
        Ok(lowers != 0 && self.find_in(rel, lowers, false, false)?.found.node != Node::Missing)
    }

    /// Is the upper's directory `rel` opaque?
    fn is_opaque(&self, rel: &Path) -> Result<bool, Errno> {
        exists(self.upper(), &rel.join(OPAQUE))
    }

    /// What lower layer `i` has at `rel` by its parent's kept listing: `Some(None)` nothing,
    /// `Some(Some(is_dir))` an entry; `None` when there is no listing (yet).
    fn listed(&self, i: usize, rel: &Path) -> Option<Option<bool>> {
        debug_assert!(i > 0, "the upper's listings are never kept");
        let name = rel.file_name()?;
        let parent = rel.parent().unwrap_or(Path::new(""));
        let listing = self.listings.get(i, &self.layers[i], parent)?;
        Some(listing.get(name).copied())
    }

    /// What layer `i` has at `rel`; a directory's metadata only if `want_md`.
    fn probe(&self, i: usize, rel: &Path, want_md: bool) -> Result<Probe, Errno> {
        if i > 0 {
            match self.listed(i, rel) {
                Some(None) => return Ok(Probe::Absent),
                Some(Some(true)) if !want_md => return Ok(Probe::Dir(None)),
                _ => {}
            }
        }
        match self.layers[i].symlink_metadata(rel) {
            Ok(md) if md.is_dir() => Ok(Probe::Dir(Some(md))),
            Ok(md) => Ok(Probe::Other(md)),
            Err(e) if is_absent(&e) => Ok(Probe::Absent),
            Err(e) => Err(e.into()),
        }
    }

    /// Does layer `i` have `rel` (an opaque marker, a whiteout)?
    fn has(&self, i: usize, rel: &Path) -> Result<bool, Errno> {
        // Only a lower layer's listing is kept: the upper is asked every time.
        match if i > 0 { self.listed(i, rel) } else { None } {
            Some(entry) => Ok(entry.is_some()),
            None => exists(&self.layers[i], rel),
        }
    }

    /// What the symlink or other non-directory `rel` of layer `i`, with metadata `md`, is.
    fn node_of(&self, i: usize, rel: &Path, md: &Metadata) -> Result<Node, Errno> {
        Ok(if md.file_type().is_symlink() {
            Node::Symlink(self.layers[i].read_link_contents(rel)?.into_os_string().into_vec())
        } else {
            Node::File
        })
    }

    /// Looks `rel` up in the layers `parents` of its merged parent directory, topmost first;
    /// `upper_lacks` when the upper is already known not to have it. The metadata of what is
    /// found is wanted unless `!want_md` (then a directory's may be left out).
    fn find_in(&self, rel: &Path, parents: Layers, upper_lacks: bool, want_md: bool) -> Result<Entry, Errno> {
        let mut found: Option<Found> = None;
        let mut metadata = None;
        let mut no_whiteout = false;
        let last = layer_bits(parents).last();
        for i in layer_bits(parents) {
            let below = Some(i) != last;
            let probe =
                if i == 0 && upper_lacks { Probe::Absent } else { self.probe(i, rel, want_md && found.is_none())? };
            match probe {
                Probe::Dir(md) => {
                    if found.is_none() {
                        metadata = md;
                    }
                    let f = found.get_or_insert(Found { layer: i, node: Node::Dir, dirs: 0, no_whiteout: false });
                    if f.node != Node::Dir {
                        break;
                    }
                    f.dirs |= 1 << i;
                    if below && self.has(i, &rel.join(OPAQUE))? {
                        break;
                    }
                }
                Probe::Other(md) => {
                    if found.is_none() {
                        found = Some(Found { layer: i, node: self.node_of(i, rel, &md)?, dirs: 0, no_whiteout: false });
                        metadata = Some(md);
                    }
                    // A non-directory hides what lies below; one below a directory is hidden.
                    break;
                }
                Probe::Absent => {
                    if below {
                        if self.has(i, &whiteout_of(rel))? {
                            break;
                        }
                        no_whiteout |= i == 0;
                    }
                }
            }
        }
        let mut found = found.unwrap_or_else(Found::missing);
        found.no_whiteout = no_whiteout;
        Ok(Entry { found, metadata, partial: false })
    }

    /// Does any lower layer show `rel` (so removing it from the upper must leave a whiteout)?
    fn shown_below(&self, rel: &Path, memo: &Memo) -> Result<bool, Errno> {
        if !self.lowers_may_have(rel, memo)? {
            return Ok(false);
        }
        let parent = rel.parent().unwrap_or(Path::new(""));
        let above = self.find(parent, memo)?;
        if above.node != Node::Dir {
            return Ok(false);
        }
        // The merged parent without the upper: what would show if the upper had no entry.
        Ok(self.find_in(rel, above.dirs & !1, false, false)?.found.node != Node::Missing)
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
        self.prepare_create_with(rel, &Memo::default())
    }

    /// [`Self::prepare_create`] after the lookups in `memo` (this call's walk), which may
    /// already have found the parent in the upper and no whiteout of the name there.
    pub fn prepare_create_with(&self, rel: &Path, memo: &Memo) -> Result<bool, Errno> {
        let parent = rel.parent().unwrap_or(Path::new(""));
        if !self.upper_has_dir(parent, memo) {
            self.copy_up_dir(parent)?;
        }
        if memo.get(rel).is_some_and(|e| e.found.no_whiteout) {
            return Ok(false);
        }
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
        self.whiteout_if_shown_with(rel, &Memo::default())
    }

    /// [`Self::whiteout_if_shown`] after the lookups in `memo` (this call's walk).
    pub fn whiteout_if_shown_with(&self, rel: &Path, memo: &Memo) -> Result<(), Errno> {
        if self.shown_below(rel, memo)? {
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
        self.remove_with(rel, dir, &Memo::default())
    }

    /// [`Self::remove`] after the lookups in `memo` (this call's walk), which may already say
    /// what the upper has at `rel` and what the layers of its parent are.
    pub fn remove_with(&self, rel: &Path, dir: bool, memo: &Memo) -> Result<(), Errno> {
        // What the upper has there: known if the walk found the name in the upper (or found
        // it in a lower only, which it looks at only when the upper lacks the name).
        let upper = match memo.get(rel).map(|e| e.found) {
            Some(Found { layer: 0, node: Node::Missing, .. }) | None => {
                self.upper().symlink_metadata(rel).map(|md| if md.is_dir() { Node::Dir } else { Node::File })
            }
            Some(Found { layer: 0, node, .. }) => Ok(node),
            Some(_) => Err(io::ErrorKind::NotFound.into()),
        };
        match upper {
            Ok(Node::Dir) => {
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
            Err(e) if is_absent(&e) => {}
            Err(e) => return Err(e.into()),
        }
        self.whiteout_if_shown_with(rel, memo)
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
        let hidden_below =
            self.prepare_create(dst)? || to.node != Node::Missing && self.shown_below(dst, &Memo::default())?;
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

    /// A walk's lookups stop at the upper where it has the name, yet a name the upper lacks
    /// below a directory it has still comes from the lowers, minding whiteouts and opaque
    /// markers; and what the walk learnt steers the create that follows.
    #[test]
    fn lookups_through_an_upper_directory_still_see_below_it() {
        let t = tempfile::tempdir().unwrap();
        let (up, low) = (t.path().join("up"), t.path().join("low"));
        for d in ["etc", "opq"] {
            fs::create_dir_all(up.join(d)).unwrap();
            fs::create_dir_all(low.join(d)).unwrap();
        }
        for f in ["etc/gone", "etc/kept", "opq/hidden"] {
            fs::write(low.join(f), f).unwrap();
        }
        fs::write(up.join("etc/own"), "own").unwrap();
        fs::write(up.join("etc/.wh.gone"), "").unwrap();
        fs::write(up.join("opq").join(OPAQUE), "").unwrap();
        let o = Overlay::new(open(&up), vec![open(&low)]).unwrap();
        let memo = Memo::default();
        let seen = |p: &str| {
            let f = o.lookup(Path::new(p), &memo).unwrap();
            (f.layer, f.node)
        };
        assert_eq!(seen("etc/own"), (0, Node::File));
        assert_eq!(seen("etc/kept"), (1, Node::File));
        assert_eq!(seen("etc/gone"), (0, Node::Missing));
        assert_eq!(seen("opq/hidden"), (0, Node::Missing));
        assert_eq!(seen("etc/new"), (0, Node::Missing));
        // The same answers as lookups that share nothing, and every layer of the directories.
        for p in ["etc/own", "etc/kept", "etc/gone", "opq/hidden", "etc/new"] {
            assert_eq!(
                o.find(Path::new(p), &Memo::default()).unwrap().node,
                o.lookup(Path::new(p), &memo).unwrap().node
            );
        }
        assert_eq!(o.find(Path::new("etc"), &memo).unwrap().dirs, 0b11);
        assert_eq!(o.find(Path::new("opq"), &memo).unwrap().dirs, 0b01);
        // A create where the walk saw the whiteout takes it away; where it saw none, there
        // is nothing to take away.
        assert!(o.prepare_create_with(Path::new("etc/gone"), &memo).unwrap());
        assert!(!up.join("etc/.wh.gone").exists());
        assert!(!o.prepare_create_with(Path::new("etc/new"), &memo).unwrap());
    }

    /// Answers from the kept listings of lower directories (from the second question about a
    /// directory on) are the answers the host gave: whiteouts and opaque markers in an upper
    /// lower layer still hide what lies below them.
    #[test]
    fn kept_lower_listings_answer_as_the_host() {
        let t = tempfile::tempdir().unwrap();
        let (up, top, base) = (t.path().join("up"), t.path().join("top"), t.path().join("base"));
        for d in [up.clone(), top.join("etc"), top.join("opq"), base.join("etc"), base.join("opq"), base.join("var")] {
            fs::create_dir_all(d).unwrap();
        }
        for f in ["etc/kept", "etc/gone", "opq/hidden", "var/log"] {
            fs::write(base.join(f), f).unwrap();
        }
        fs::write(top.join("etc/.wh.gone"), "").unwrap();
        fs::write(top.join("opq").join(OPAQUE), "").unwrap();
        fs::write(top.join("etc/own"), "own").unwrap();
        std::os::unix::fs::symlink("/etc", top.join("link")).unwrap();
        let o = Overlay::new(open(&up), vec![open(&top), open(&base)]).unwrap();
        let paths =
            ["etc", "etc/kept", "etc/gone", "etc/own", "etc/new", "opq", "opq/hidden", "var/log", "link", "none"];
        let answers = |o: &Overlay| -> Vec<(usize, Node, Layers)> {
            paths
                .iter()
                .map(|p| {
                    let f = o.find(Path::new(p), &Memo::default()).unwrap();
                    (f.layer, f.node, f.dirs)
                })
                .collect()
        };
        let first = answers(&o);
        assert_eq!(first[2].1, Node::Missing, "etc/gone is whited out");
        assert_eq!(first[6].1, Node::Missing, "opq/hidden is below an opaque directory");
        assert_eq!(first[1], (2, Node::File, 0));
        assert_eq!(first[0].2, 0b110);
        assert_eq!(first[8].1, Node::Symlink(b"/etc".to_vec()));
        for _ in 0..3 {
            assert_eq!(answers(&o), first);
        }
    }
}
