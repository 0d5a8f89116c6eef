//! Volumes: create (named or anonymous), list with Docker's filters, inspect, remove (refused
//! while any container holds the volume), prune, and copy-up from an image directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use porthole_core::event::EventType;
use porthole_core::names::{Id, VolumeName};
use porthole_core::size::volume_size;
use porthole_runtime::Node;
use porthole_store::copy::{copy_dir_attributes, is_empty_dir};
use porthole_store::{ANONYMOUS_LABEL, COPYUP_PREFIX, VolumeRecord};

use crate::error::IoContext;
use crate::guestfs::GuestFs;
use crate::{Engine, EngineError, Result, World};

/// A volume as `docker volume inspect` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeInfo {
    pub record: VolumeRecord,
    pub mountpoint: PathBuf,
    /// Containers that hold it (from create until removal).
    pub users: Vec<Id>,
    /// Bytes and files in it.
    pub usage: (u64, u64),
}

/// `docker volume ls --filter`: every given filter must match (values of one key: any).
#[derive(Debug, Clone, Default)]
pub struct VolumeFilters {
    pub dangling: Option<bool>,
    pub names: Vec<String>,
    /// `key` or `key=value`.
    pub labels: Vec<String>,
    pub drivers: Vec<String>,
}

/// Does `labels` satisfy each `key` / `key=value` filter?
pub(crate) fn labels_match(labels: &BTreeMap<String, String>, filters: &[String]) -> bool {
    filters.iter().all(|f| match f.split_once('=') {
        Some((k, v)) => labels.get(k).map(String::as_str) == Some(v),
        None => labels.contains_key(f.as_str()),
    })
}

impl VolumeFilters {
    fn matches(&self, info: &VolumeInfo) -> bool {
        let dangling_ok = self.dangling.is_none_or(|d| d == info.users.is_empty());
        let name_ok = self.names.is_empty() || self.names.iter().any(|n| info.record.name.contains(n.as_str()));
        let driver_ok = self.drivers.is_empty() || self.drivers.iter().any(|d| d == "local");
        dangling_ok && name_ok && driver_ok && labels_match(&info.record.labels, &self.labels)
    }
}

impl Engine {
    /// A volume's record and users, taken under the world lock; its size comes after.
    fn volume_info(&self, w: &World, record: &VolumeRecord) -> VolumeInfo {
        let mountpoint = self.inner.store.volume_data(&record.name);
        VolumeInfo { usage: (0, 0), record: record.clone(), mountpoint, users: w.volume_users(&record.name) }
    }

    /// Fills in the sizes, outside the world lock (measured once, then kept current).
    fn with_usage(&self, mut info: VolumeInfo) -> VolumeInfo {
        info.usage = self.inner.sizes.get(&info.record.name, &info.mountpoint);
        info
    }

    /// `docker volume create [NAME] [--opt size=10m]`: creating an existing name returns it
    /// unchanged, as Docker does. `size` (the only driver option) is the volume's disk quota.
    pub fn volume_create(
        &self,
        name: Option<&str>,
        labels: BTreeMap<String, String>,
        options: BTreeMap<String, String>,
    ) -> Result<VolumeInfo> {
        volume_size(&options).map_err(|e| EngineError::Invalid(e.to_string()))?;
        let mut w = self.world();
        let name = self.create_volume_locked(&mut w, name, labels, options)?;
        let info = self.volume_info(&w, &w.volumes[&name]);
        drop(w);
        Ok(self.with_usage(info))
    }

    /// Creates a volume (or finds the named one); anonymous volumes get a 64-hex name and
    /// Docker's anonymous label.
    pub(crate) fn create_volume_locked(
        &self,
        w: &mut World,
        name: Option<&str>,
        mut labels: BTreeMap<String, String>,
        options: BTreeMap<String, String>,
    ) -> Result<String> {
        let name = match name {
            Some(n) => VolumeName::new(n)?.to_string(),
            None => {
                labels.insert(ANONYMOUS_LABEL.to_string(), String::new());
                porthole_store::random_id().to_string()
            }
        };
        if w.volumes.contains_key(&name) {
            return Ok(name);
        }
        let record = VolumeRecord { name: name.clone(), created: porthole_store::now_nanos(), labels, options };
        self.inner.store.create_volume(&record).context(|| format!("create {name}"))?;
        w.volumes.insert(name.clone(), record);
        self.emit(self.event(EventType::Volume, "create", &name).with("driver", "local"));
        Ok(name)
    }

    pub fn volume_list(&self, filters: &VolumeFilters) -> Result<Vec<VolumeInfo>> {
        let listed: Vec<VolumeInfo> = {
            let w = self.world();
            w.volumes.values().map(|r| self.volume_info(&w, r)).filter(|i| filters.matches(i)).collect()
        };
        Ok(listed.into_iter().map(|i| self.with_usage(i)).collect())
    }

    pub fn volume_inspect(&self, name: &str) -> Result<VolumeInfo> {
        let info = {
            let w = self.world();
            let record = w.volumes.get(name).ok_or_else(|| EngineError::NoSuchVolume(name.to_string()))?;
            self.volume_info(&w, record)
        };
        Ok(self.with_usage(info))
    }

    /// `docker volume rm [-f]`: a volume any container holds is never removed; `-f` only
    /// silences a missing name.
    pub fn volume_remove(&self, name: &str, force: bool) -> Result<()> {
        let mut w = self.world();
        if !w.volumes.contains_key(name) {
            return if force { Ok(()) } else { Err(EngineError::NoSuchVolume(name.to_string())) };
        }
        self.remove_volume_locked(&mut w, name)
    }

    pub(crate) fn remove_volume_locked(&self, w: &mut World, name: &str) -> Result<()> {
        let mut users: Vec<String> = w.volume_users(name).iter().map(|id| id.to_string()).collect();
        // A container record in quarantine may still be restored; its volumes are kept until
        // the operator deals with it (and restarts).
        if w.held_by_quarantine.contains(name) {
            users.push(format!("a container record in {}", self.inner.store.quarantine_dir().display()));
        }
        if !users.is_empty() {
            return Err(EngineError::VolumeInUse { name: name.to_string(), users });
        }
        self.inner.store.remove_volume(name).context(|| format!("remove {name}"))?;
        w.volumes.remove(name);
        self.inner.sizes.forget(name);
        self.emit(self.event(EventType::Volume, "destroy", name).with("driver", "local"));
        Ok(())
    }

    /// `docker volume prune [-a] [--filter label=…]`: unused anonymous volumes (all unused
    /// ones with `all`). Returns the names removed and the bytes reclaimed.
    pub fn volume_prune(&self, all: bool, labels: &[String]) -> Result<(Vec<String>, u64)> {
        let mut w = self.world();
        let candidates = crate::preview::prune_candidates(&w, all, labels);
        let mut removed = Vec::new();
        let mut reclaimed = 0;
        for name in candidates {
            let bytes = self.inner.sizes.get(&name, &self.inner.store.volume_data(&name)).0;
            self.remove_volume_locked(&mut w, &name)?;
            reclaimed += bytes;
            removed.push(name);
        }
        self.emit(self.event(EventType::Volume, "prune", "").with("reclaimed", reclaimed.to_string()));
        Ok((removed, reclaimed))
    }
}

/// Docker's copy-up: fills an empty volume from the image's directory at the mount's
/// destination (resolved in the rootfs as the guest would), keeping modes, times and links; the
/// volume root takes that directory's mode. Nothing happens when the volume already has files or
/// the image has no such directory.
///
/// `volume_dir` is the volume's folder (`volumes/<name>`, holding `_data`). The copy is made in
/// a temporary directory beside `_data` (`.copyup-<id>`) and exchanged with the empty `_data`
/// in one rename, so a crash leaves the volume empty or completely filled, never half (a
/// half-filled volume is not empty, so it would never be copied again); recovery removes the
/// temporary. When `live` (a running guest holds the volume, through its own handle on `_data`)
/// the directory cannot be replaced under it: the finished copy's entries are moved into
/// `_data` one rename each instead, which leaves only whole top-level entries after a crash.
pub(crate) fn copy_up(rootfs: &GuestFs, destination: &str, volume_dir: &Path, live: bool) -> std::io::Result<bool> {
    let Ok(from) = rootfs.resolve(destination, true) else { return Ok(false) };
    if from.node != Node::Dir {
        return Ok(false);
    }
    let folder = Dir::open_ambient_dir(volume_dir, ambient_authority())?;
    if !is_empty_dir(&folder.open_dir(DATA)?)? {
        return Ok(false);
    }
    let md = rootfs.metadata(&from)?;
    let tmp = format!("{COPYUP_PREFIX}{}", porthole_store::random_id().short());
    folder.create_dir(&tmp)?;
    let result = (|| {
        let copy = folder.open_dir(&tmp)?;
        rootfs.copy_dir(&from, &copy)?;
        copy_dir_attributes(&md, &copy)?;
        if live {
            let data = folder.open_dir(DATA)?;
            for entry in copy.entries()? {
                let name = entry?.file_name();
                copy.rename(&name, &data, &name)?;
            }
            copy_dir_attributes(&md, &data)?;
        } else {
            exchange(&folder, &tmp, DATA)?;
        }
        folder.open(".")?.sync_all()
    })();
    // After the exchange the temporary is the old, empty `_data`; after a failure, a part copy.
    let _ = folder.remove_dir_all(&tmp);
    result.map(|()| true)
}

/// A volume's data directory inside its folder.
const DATA: &str = "_data";

/// Swaps the directories `a` and `b` of `dir` atomically (`renameat2(RENAME_EXCHANGE)`). Where
/// the file system cannot, `b` is moved aside to `<a>.old` and `a` renamed to `b`: recovery
/// puts a `.copyup-*.old` back as `_data` if the crash fell between the two renames.
fn exchange(dir: &Dir, a: &str, b: &str) -> std::io::Result<()> {
    use rustix::fs::{RenameFlags, renameat_with};
    match renameat_with(dir, a, dir, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(()),
        Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {
            let aside = format!("{a}.old");
            dir.rename(b, dir, &aside)?;
            dir.rename(a, dir, b)?;
            dir.rename(&aside, dir, a)
        }
        Err(e) => Err(e.into()),
    }
}

/// Fills `into` (a throwaway directory, such as a RUN step's copy of a VOLUME) from the image's
/// directory at `destination`, as copy-up does, without copy-up's atomic exchange.
pub(crate) fn fill_from_image(rootfs: &GuestFs, destination: &str, into: &Path) -> std::io::Result<bool> {
    let Ok(from) = rootfs.resolve(destination, true) else { return Ok(false) };
    if from.node != Node::Dir {
        return Ok(false);
    }
    let into = Dir::open_ambient_dir(into, ambient_authority())?;
    let md = rootfs.metadata(&from)?;
    rootfs.copy_dir(&from, &into)?;
    copy_dir_attributes(&md, &into)?;
    Ok(true)
}
