//! `docker rmi` as moby's `ImageDelete` does it: a tag is removed, the image goes when no
//! reference is left, and then (unless `--no-prune`) its untagged parents that nothing else
//! holds, each reported `Deleted: sha256:…`. An image with children cannot be removed
//! (`image has dependent child images`, which force cannot pass); one a container uses is
//! only untagged. The layers no image and no container names any more are freed with it.

use std::collections::BTreeSet;

use porthole_core::event::EventType;

use crate::containers::{find_image, normalize_tag};
use crate::error::IoContext;
use crate::{Engine, EngineError, Result, World};

/// `docker rmi` options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageRemove {
    /// `-f`: past tags in several repositories and the last tag of a used image.
    pub force: bool,
    /// Not `--no-prune`: untagged parents go too.
    pub prune: bool,
}

impl Default for ImageRemove {
    fn default() -> Self {
        Self { force: false, prune: true }
    }
}

/// What stands in the way of deleting an image (moby's `imageDeleteConflict`).
struct Conflict {
    /// Children and running containers: force cannot pass them.
    hard: bool,
    /// A container uses the image.
    used: bool,
    message: String,
}

fn tags_of(w: &World, id: &str) -> Vec<String> {
    w.tags.iter().filter(|(_, i)| *i == id).map(|(t, _)| t.clone()).collect()
}

fn has_children(w: &World, id: &str) -> bool {
    w.images.values().any(|i| i.parent == id)
}

/// Dangling: no tag and no child (`image prune` removes these).
pub(crate) fn is_dangling(w: &World, id: &str) -> bool {
    tags_of(w, id).is_empty() && !has_children(w, id)
}

/// moby's `checkImageDeleteConflict`: children, then running containers; unless `force`,
/// tags, then stopped containers. Porthole never deletes an image a container uses (its
/// record stays for `inspect`), so with `force` a used image is left untagged.
fn conflict(w: &World, id: &str, force: bool) -> Option<Conflict> {
    if has_children(w, id) {
        return Some(Conflict { hard: true, used: false, message: "image has dependent child images".into() });
    }
    let user = |running: bool| {
        w.containers
            .values()
            .find(|c| c.record.image_id == id && c.record.state.status.is_running() == running)
            .map(|c| c.record.id.short().to_string())
    };
    if let Some(c) = user(true) {
        return Some(Conflict {
            hard: true,
            used: true,
            message: format!("image is being used by running container {c}"),
        });
    }
    if w.held_by_builds.contains_key(id) {
        return Some(Conflict { hard: true, used: true, message: "image is being used by a running build".into() });
    }
    if !force && !tags_of(w, id).is_empty() {
        return Some(Conflict {
            hard: false,
            used: false,
            message: "image is referenced in multiple repositories".into(),
        });
    }
    user(false).map(|c| Conflict {
        hard: !force,
        used: true,
        message: format!("image is being used by stopped container {c}"),
    })
}

impl Engine {
    /// Lets go of the holds a build took.
    pub(crate) fn release_images(&self, ids: &[String]) {
        let mut w = self.world();
        for id in ids {
            if let Some(n) = w.held_by_builds.get_mut(id) {
                *n -= 1;
                if *n == 0 {
                    w.held_by_builds.remove(id);
                }
            }
        }
    }

    /// Images a prune must leave: used by a container or a running build.
    pub(crate) fn images_in_use(&self) -> BTreeSet<String> {
        let w = self.world();
        w.containers.values().map(|c| c.record.image_id.clone()).chain(w.held_by_builds.keys().cloned()).collect()
    }

    /// `docker rmi [-f]`, pruning untagged parents. Returns Docker's `Untagged:` / `Deleted:`
    /// lines.
    pub fn remove_image(&self, reference: &str, force: bool) -> Result<Vec<String>> {
        self.remove_image_with(reference, ImageRemove { force, prune: true })
    }

    /// `docker rmi` with its options.
    pub fn remove_image_with(&self, reference: &str, opts: ImageRemove) -> Result<Vec<String>> {
        let mut w = self.world();
        let img = find_image(&w, reference)?.clone();
        let tags = tags_of(&w, &img.id);
        let named_tag = normalize_tag(reference);
        let mut report = Vec::new();
        let mut quiet = false;
        if tags.contains(&named_tag) {
            let user = w.containers.values().find(|c| c.record.image_id == img.id);
            if let (false, 1, Some(c)) = (opts.force, tags.len(), user) {
                return Err(EngineError::ImageInUse {
                    reference: reference.to_string(),
                    container: c.record.id.short().to_string(),
                    image: img.id[..12].to_string(),
                });
            }
            self.untag(&mut w, &img.id, &named_tag, &mut report)?;
            if tags.len() > 1 {
                return Ok(report);
            }
            quiet = true;
        } else if repositories(&tags) <= 1 {
            // By id, with its tags all in one repository: they go with it (after the checks).
            let mask_force = opts.force;
            if let Some(c) = conflict_without_tags(&w, &img.id, mask_force) {
                return Err(self.conflict_error(&img.id, c));
            }
            for t in tags {
                self.untag(&mut w, &img.id, &t, &mut report)?;
            }
        }
        let mut freed = BTreeSet::new();
        self.delete_image(&mut w, &img.id, opts.force, opts.prune, quiet, &mut report, &mut freed)?;
        self.free_layers(&w, freed)?;
        Ok(report)
    }

    fn untag(&self, w: &mut World, id: &str, tag: &str, report: &mut Vec<String>) -> Result<()> {
        w.tags.remove(tag);
        self.inner.store.save_tags(&w.tags).context(|| "saving tags".into())?;
        report.push(format!("Untagged: {tag}"));
        self.emit(self.event(EventType::Image, "untag", id).with("name", tag.to_string()));
        Ok(())
    }

    fn conflict_error(&self, id: &str, c: Conflict) -> EngineError {
        EngineError::ImageConflict {
            image: id[..12.min(id.len())].to_string(),
            forced: if c.hard { "cannot be forced" } else { "must be forced" },
            message: c.message,
        }
    }

    /// moby's `imageDeleteHelper`: deletes `id` unless something stands in the way (quietly
    /// skipped when `quiet`, unless the image is dangling and unused), then its parent when
    /// `prune`. The layers it named are added to `freed`, to free once all are gone.
    #[allow(clippy::too_many_arguments)]
    fn delete_image(
        &self,
        w: &mut World,
        id: &str,
        force: bool,
        prune: bool,
        quiet: bool,
        report: &mut Vec<String>,
        freed: &mut BTreeSet<String>,
    ) -> Result<()> {
        if let Some(c) = conflict(w, id, force) {
            if quiet && (!is_dangling(w, id) || c.used) {
                return Ok(());
            }
            if c.used && !c.hard {
                // Forced past a stopped container: untagged, kept (see `conflict`).
                for t in tags_of(w, id) {
                    self.untag(w, id, &t, report)?;
                }
                return Ok(());
            }
            return Err(self.conflict_error(id, c));
        }
        for t in tags_of(w, id) {
            self.untag(w, id, &t, report)?;
        }
        let Some(img) = w.images.remove(id) else { return Ok(()) };
        self.inner.store.remove_image(id).context(|| format!("removing image {id}"))?;
        report.push(format!("Deleted: sha256:{id}"));
        self.emit(self.event(EventType::Image, "delete", id));
        freed.extend(img.layers);
        if prune && !img.parent.is_empty() && w.images.contains_key(&img.parent) {
            self.delete_image(w, &img.parent, false, true, true, report, freed)?;
        }
        Ok(())
    }

    /// Frees each of `layers` that no image and no container names (a rename into the trash
    /// each, under the lock as the records changed with it).
    pub(crate) fn free_layers(&self, w: &World, layers: BTreeSet<String>) -> Result<()> {
        let used: BTreeSet<&String> = w
            .images
            .values()
            .flat_map(|i| &i.layers)
            .chain(w.containers.values().flat_map(|c| &c.record.layers))
            .collect();
        for layer in layers.iter().filter(|l| !used.contains(l)) {
            self.inner.store.remove_layer(layer).context(|| format!("removing layer {layer}"))?;
        }
        Ok(())
    }
}

/// Holds image `id` for a running build (under the lock that found or made it, so no removal
/// comes between) until [`Engine::release_images`].
pub(crate) fn hold(w: &mut World, id: &str) {
    if !id.is_empty() {
        *w.held_by_builds.entry(id.to_string()).or_default() += 1;
    }
}

/// How many repositories `tags` name (`app:1` and `app:2` are one).
fn repositories(tags: &[String]) -> usize {
    tags.iter().map(|t| t.rsplit_once(':').map_or(t.as_str(), |(r, _)| r)).collect::<BTreeSet<_>>().len()
}

/// The checks moby makes before untagging an image removed by id: the hard ones, and without
/// `force` a stopped container (its tags are about to go, so they are no conflict).
fn conflict_without_tags(w: &World, id: &str, force: bool) -> Option<Conflict> {
    match conflict(w, id, true) {
        Some(c) if c.hard => Some(c),
        Some(c) if c.used && !force => Some(Conflict { hard: false, ..c }),
        _ => None,
    }
}
