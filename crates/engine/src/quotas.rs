//! The disk quotas of running containers: one [`Quota`] per volume (shared by every container
//! that mounts it at the same time, so they draw on one count) and one per container rootfs
//! (shared by its main guest and its `exec`s).
//!
//! A quota's count is measured (a walk of the tree) when the first guest needs it and kept
//! while any guest holds it; when the last one ends, the next start measures again, so changes
//! made outside guests (copy-up, a volume removed and made again) are seen.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, Weak};

use porthole_core::names::Id;
use porthole_wasi::cap_std::{ambient_authority, fs::Dir};
use porthole_wasi::{Quota, measure};

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
    /// The live quota for `key`, or a new one of `limit` bytes measured from `tree`. The walk
    /// happens without any lock held; if two starts race, the first one stored wins.
    pub fn get_or_measure(&self, key: QuotaKey, limit: u64, tree: &Path) -> Result<Arc<Quota>> {
        if let Some(q) = self.0.lock().unwrap().get(&key).and_then(Weak::upgrade) {
            return Ok(q);
        }
        let dir = Dir::open_ambient_dir(tree, ambient_authority()).context(|| format!("opening {}", tree.display()))?;
        let measured = Arc::new(Quota::new(limit, measure(&dir)));
        let mut map = self.0.lock().unwrap();
        map.retain(|_, q| q.strong_count() > 0);
        if let Some(q) = map.get(&key).and_then(Weak::upgrade) {
            return Ok(q);
        }
        map.insert(key, Arc::downgrade(&measured));
        Ok(measured)
    }
}
