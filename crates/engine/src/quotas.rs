//! The disk quotas of running containers: one [`Quota`] per volume (shared by every container
//! that mounts it at the same time, so they draw on one count) and one per container rootfs
//! (shared by its main guest and its `exec`s).
//!
//! A rootfs quota limits what the container adds to its image, as Docker's quota on the
//! writable layer does: its limit is the size asked for plus what the image held (deleting an
//! image file therefore makes room, where Docker's whiteout would not).
//!
//! A quota's count is measured (a walk of the tree) when the first guest needs it and kept
//! while any guest holds it; when the last one ends, the next start measures again, so changes
//! made outside guests (copy-up, a volume removed and made again) are seen.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, Weak};

use cap_std::{ambient_authority, fs::Dir};
use porthole_core::names::Id;
use porthole_runtime::{Quota, measure};

use crate::Result;
use crate::error::IoContext;

/// What a quota limits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum QuotaKey {
    Volume(String),
    Rootfs(Id),
}

/// The quotas held by running guests, by what they limit.
#[derive(Default)]
pub(crate) struct Quotas(Mutex<HashMap<QuotaKey, Weak<Quota>>>);

/// The quotas one guest's namespace applies: on its rootfs and by volume name.
#[derive(Default)]
pub(crate) struct ContainerQuotas {
    pub root: Option<Arc<Quota>>,
    pub volumes: BTreeMap<String, Arc<Quota>>,
}

impl Quotas {
    /// The live quota for `key`, or the one `make` builds (measuring trees). `make` runs
    /// without any lock held; if two starts race, the first one stored wins.
    pub fn get_or_make(&self, key: QuotaKey, make: impl FnOnce() -> Result<Quota>) -> Result<Arc<Quota>> {
        if let Some(q) = self.0.lock().unwrap().get(&key).and_then(Weak::upgrade) {
            return Ok(q);
        }
        let made = Arc::new(make()?);
        let mut map = self.0.lock().unwrap();
        map.retain(|_, q| q.strong_count() > 0);
        if let Some(q) = map.get(&key).and_then(Weak::upgrade) {
            return Ok(q);
        }
        map.insert(key, Arc::downgrade(&made));
        Ok(made)
    }
}

/// What `tree` holds, as a quota counts it.
pub(crate) fn measure_tree(tree: &Path) -> Result<u64> {
    let dir = Dir::open_ambient_dir(tree, ambient_authority()).context(|| format!("opening {}", tree.display()))?;
    Ok(measure(&dir))
}
