//! What each volume holds (bytes, files), measured once and kept until a guest or the engine
//! changes the volume: `volume ls`, `inspect`, the dashboard's graph and `prune` read it
//! without walking every volume per request, and never while holding the world lock.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

#[derive(Default)]
pub(crate) struct VolumeSizes(Mutex<HashMap<String, Entry>>);

#[derive(Default)]
struct Entry {
    /// Bumped by every change, so a walk that a change overtook is not kept.
    generation: u64,
    size: Option<(u64, u64)>,
}

impl VolumeSizes {
    /// The size of volume `name` (data directory `data`): from the cache, or measured now,
    /// without holding the cache's lock during the walk.
    pub fn get(&self, name: &str, data: &Path) -> (u64, u64) {
        let generation = {
            let mut map = self.0.lock().unwrap();
            let entry = map.entry(name.to_string()).or_default();
            if let Some(size) = entry.size {
                return size;
            }
            entry.generation
        };
        let measured = porthole_store::copy::usage(data);
        if let Some(entry) = self.0.lock().unwrap().get_mut(name)
            && entry.generation == generation
        {
            entry.size = Some(measured);
        }
        measured
    }

    /// Volume `name` changed (a guest wrote in it, copy-up filled it).
    pub fn invalidate(&self, name: &str) {
        let mut map = self.0.lock().unwrap();
        let entry = map.entry(name.to_string()).or_default();
        entry.generation += 1;
        entry.size = None;
    }

    /// Volume `name` is gone.
    pub fn forget(&self, name: &str) {
        self.0.lock().unwrap().remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measured_once_until_changed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), "12345").unwrap();
        let sizes = VolumeSizes::default();
        assert_eq!(sizes.get("v", dir.path()), (5, 1));
        std::fs::write(dir.path().join("b"), "123").unwrap();
        assert_eq!(sizes.get("v", dir.path()), (5, 1), "cached until told");
        sizes.invalidate("v");
        assert_eq!(sizes.get("v", dir.path()), (8, 2));
    }
}
