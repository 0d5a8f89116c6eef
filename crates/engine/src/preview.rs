//! "What would it delete": previews of `docker rm -v` and `docker volume prune` for the
//! dashboard, using the same selections as the actions themselves, so a preview cannot drift
//! from what the action does.

use porthole_core::mounts::MountPoint;

use crate::{Engine, Result, World};

/// The volumes `rm -v` tries to remove with a container: its anonymous ones (named volumes
/// always survive).
pub(crate) fn anonymous_volumes(mounts: &[MountPoint]) -> impl Iterator<Item = &str> {
    mounts.iter().filter_map(MountPoint::anonymous_volume)
}

/// The volumes `volume prune` removes: unused anonymous ones (`all`: unused named ones too)
/// whose labels match, and that no quarantined container record names.
pub(crate) fn prune_candidates(w: &World, all: bool, labels: &[String]) -> Vec<String> {
    w.volumes
        .values()
        .filter(|v| {
            (all || v.is_anonymous())
                && crate::volumes::labels_match(&v.labels, labels)
                && w.volume_users(&v.name).is_empty()
                && !w.held_by_quarantine.contains(&v.name)
        })
        .map(|v| v.name.clone())
        .collect()
}

impl Engine {
    /// The volumes `docker rm -v <container>` would delete now: its anonymous volumes that no
    /// other container holds (Docker keeps those silently).
    pub fn rm_volumes_preview(&self, reference: &str) -> Result<Vec<String>> {
        let w = self.world();
        let c = w.container(reference)?;
        let id = &c.record.id;
        Ok(anonymous_volumes(&c.record.mounts)
            .filter(|v| w.volume_users(v).iter().all(|u| u == id))
            .map(str::to_string)
            .collect())
    }

    /// The volumes `docker volume prune` (`--all`) would delete now.
    pub fn prune_preview(&self, all: bool) -> Vec<String> {
        prune_candidates(&self.world(), all, &[])
    }
}
