//! `docker diff`: what a container changed in its files, read from its writable layer alone,
//! as moby's overlay driver reads its upper directory. Each entry of the upper is a change: a
//! whiteout `.wh.NAME` is NAME deleted, an entry no image layer has is added, one a layer has
//! is modified. Walked through the upper's `Dir` without following any link, in name order,
//! a directory before what it holds.
//!
//! Two departures from a literal walk, both to print what Docker prints:
//! - `/etc/hostname` and `/etc/hosts` are written at create; Docker keeps them out of the
//!   container's layer (its init layer, bind mounts), so they are never a change here.
//! - A directory the image has is listed as modified when its mode changed or something under
//!   it is listed. Docker also compares size and mtime, but a copy-up here changes the upper
//!   directory's mtime where overlayfs's does not, so those would name every copied-up parent.

use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use cap_std::ambient_authority;
use cap_std::fs::{Dir, Metadata, PermissionsExt};
use porthole_runtime::{OPAQUE, WHITEOUT_PREFIX, is_reserved};

use crate::error::IoContext;
use crate::{Engine, EngineError, Result};

/// What happened to a path, numbered as Docker's API numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Modified = 0,
    Added = 1,
    Deleted = 2,
}

/// One line of `docker diff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
}

/// Files written at create that Docker's own layout keeps outside the container's layer.
pub(crate) const INIT_FILES: &[&str] = &["/etc/hostname", "/etc/hosts"];

impl Engine {
    /// `GET /containers/{id}/changes`.
    pub fn changes(&self, reference: &str) -> Result<Vec<Change>> {
        let record = self.world().container(reference)?.record.clone();
        if record.layers.is_empty() {
            return Err(EngineError::Invalid(format!(
                "docker diff is not supported by Porthole for container {}: it was created before image layers were kept",
                record.id.short()
            )));
        }
        let store = &self.inner.store;
        let open =
            |p: &Path| Dir::open_ambient_dir(p, ambient_authority()).context(|| format!("opening {}", p.display()));
        let upper = open(&store.rootfs(&record.id))?;
        let lowers =
            crate::containers::lower_dirs(store, &record.layers).iter().map(|p| open(p)).collect::<Result<Vec<_>>>()?;
        let walk = Walk { upper: &upper, lowers: &lowers };
        let mut out = Vec::new();
        walk.dir(Path::new(""), &mut out).context(|| format!("reading the changes of {}", record.id.short()))?;
        Ok(out)
    }
}

struct Walk<'a> {
    upper: &'a Dir,
    lowers: &'a [Dir],
}

/// Docker's path of `rel`: absolute, `/` separated.
fn shown(rel: &Path) -> String {
    format!("/{}", rel.to_string_lossy())
}

impl Walk<'_> {
    /// The first image layer's metadata of `rel`, if one has it.
    fn below(&self, rel: &Path) -> io::Result<Option<Metadata>> {
        for layer in self.lowers {
            match layer.symlink_metadata(rel) {
                Ok(md) => return Ok(Some(md)),
                Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// The changes under the upper's directory `rel`, appended to `out` in Docker's order.
    fn dir(&self, rel: &Path, out: &mut Vec<Change>) -> io::Result<()> {
        let listed = if rel.as_os_str().is_empty() { self.upper.entries()? } else { self.upper.read_dir(rel)? };
        let mut names = Vec::new();
        for e in listed {
            let name = e?.file_name();
            let bytes = name.as_bytes();
            // A whiteout sorts by the name it hides, as overlayfs's device files do.
            let (hidden, deleted) = match bytes.strip_prefix(WHITEOUT_PREFIX.as_bytes()) {
                Some(rest) if !is_reserved(std::ffi::OsStr::from_bytes(rest)) => (rest.to_vec(), true),
                // The opaque marker (its directory is judged whole) or a copy-up in progress.
                Some(_) => continue,
                None => (bytes.to_vec(), false),
            };
            names.push((hidden, deleted));
        }
        names.sort();
        for (name, deleted) in names {
            let path = rel.join(std::ffi::OsStr::from_bytes(&name));
            if deleted {
                out.push(Change { path: shown(&path), kind: ChangeKind::Deleted });
            } else if !INIT_FILES.contains(&shown(&path).as_str()) {
                self.entry(&path, out)?;
            }
        }
        Ok(())
    }

    fn entry(&self, path: &Path, out: &mut Vec<Change>) -> io::Result<()> {
        let md = self.upper.symlink_metadata(path)?;
        let below = self.below(path)?;
        let kind = match &below {
            None => ChangeKind::Added,
            // moby reports an opaque directory over one the image has as deleted (and what it
            // now holds as added).
            Some(b) if b.is_dir() && md.is_dir() && self.upper.exists(path.join(OPAQUE)) => ChangeKind::Deleted,
            Some(_) => ChangeKind::Modified,
        };
        if !md.is_dir() {
            out.push(Change { path: shown(path), kind });
            return Ok(());
        }
        let mut inner = Vec::new();
        self.dir(path, &mut inner)?;
        let unchanged = match &below {
            Some(b) if kind == ChangeKind::Modified && b.is_dir() => {
                b.permissions().mode() == md.permissions().mode() && inner.is_empty()
            }
            _ => false,
        };
        if !unchanged {
            out.push(Change { path: shown(path), kind });
        }
        out.extend(inner);
        Ok(())
    }
}
