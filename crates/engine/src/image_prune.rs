//! `docker image prune [-a]` as moby's `ImagesPrune`: removes dangling images (no tag, no
//! child) or, with `all`, every image no container uses, each with its untagged parents; a
//! build's intermediate images (untagged, with children) go with the image they lead to,
//! never on their own. Each goes through `remove_image_with`, which checks again under the
//! lock, so a container created meanwhile keeps its image.

use std::collections::BTreeSet;

use porthole_core::event::EventType;
use porthole_store::ImageRecord;

use crate::images::BASE_IMAGE;
use crate::{Engine, ErrorKind, ImageRemove, Result};

/// What a prune removed: `remove_image`'s report lines (`Untagged: …`, `Deleted: sha256:…`)
/// and the bytes given back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImagePrune {
    pub report: Vec<String>,
    pub reclaimed: u64,
}

/// `docker image prune --filter`: images created before `until` (epoch nanoseconds), and
/// having every `label` (`key` or `key=value`) and none of `not_label` (`label!=`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneFilter {
    pub until: Option<i64>,
    pub label: Vec<String>,
    pub not_label: Vec<String>,
}

impl PruneFilter {
    fn admits(&self, img: &ImageRecord) -> bool {
        let labels = img.config.labels.clone().unwrap_or_default();
        let has = |spec: &String| match spec.split_once('=') {
            Some((k, v)) => labels.get(k).is_some_and(|l| l == v),
            None => labels.contains_key(spec),
        };
        self.until.is_none_or(|t| img.created < t) && self.label.iter().all(has) && !self.not_label.iter().any(has)
    }
}

/// The images a prune starts from, with their tags: dangling ones (or, with `all`, every
/// one), but never an untagged image with children (the intermediate step of a build, which
/// goes with its child's removal). The base image is kept even with `all`: it is made from
/// the embedded toolbox only at start and cannot be pulled back.
fn prunable<'a>(
    images: &'a [(ImageRecord, Vec<String>)],
    in_use: &'a BTreeSet<String>,
    all: bool,
    filter: &'a PruneFilter,
) -> impl Iterator<Item = &'a (ImageRecord, Vec<String>)> {
    let parents: BTreeSet<&str> = images.iter().map(|(i, _)| i.parent.as_str()).collect();
    images.iter().filter(move |(img, tags)| {
        let has_children = parents.contains(img.id.as_str());
        !in_use.contains(&img.id)
            && (if all { !tags.is_empty() || !has_children } else { tags.is_empty() && !has_children })
            && !tags.iter().any(|t| t == BASE_IMAGE)
            && filter.admits(img)
    })
}

/// The bytes of an image's own layer (its size less its parent's).
fn own_size(images: &[(ImageRecord, Vec<String>)], img: &ImageRecord) -> u64 {
    let parent = images.iter().find(|(p, _)| p.id == img.parent).map_or(0, |(p, _)| p.size);
    img.size.saturating_sub(parent)
}

impl Engine {
    pub fn image_prune(&self, all: bool, filter: &PruneFilter) -> Result<ImagePrune> {
        let in_use = self.images_in_use();
        let images = self.images();
        let mut pruned = ImagePrune::default();
        for (img, tags) in prunable(&images, &in_use, all, filter) {
            // A tagged image goes by its tags (the last one takes the image), as moby does.
            let references = if tags.is_empty() { vec![img.id.clone()] } else { tags.clone() };
            for reference in references {
                match self.remove_image_with(&reference, ImageRemove::default()) {
                    Ok(report) => pruned.report.extend(report),
                    // Used or removed since the list was taken: not this prune's to remove.
                    Err(e) if matches!(e.kind(), ErrorKind::Conflict | ErrorKind::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        pruned.reclaimed = pruned
            .report
            .iter()
            .filter_map(|l| l.strip_prefix("Deleted: sha256:"))
            .filter_map(|id| images.iter().find(|(i, _)| i.id == id))
            .map(|(img, _)| own_size(&images, img))
            .sum();
        // As Docker: one `prune` event with what was given back, as for volumes.
        self.emit(self.event(EventType::Image, "prune", "").with("reclaimed", pruned.reclaimed.to_string()));
        Ok(pruned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(id: &str) -> ImageRecord {
        ImageRecord {
            id: id.into(),
            created: 0,
            config: Default::default(),
            parent: String::new(),
            size: 1,
            history: Vec::new(),
            layers: vec![],
        }
    }

    #[test]
    fn dangling_unless_all_never_used_never_the_base() {
        let images = vec![
            (image("base"), vec![BASE_IMAGE.to_string()]),
            (image("tagged"), vec!["app:1".to_string()]),
            (image("dangling"), vec![]),
            (image("used"), vec![]),
            (image("used-tagged"), vec!["web:1".to_string()]),
        ];
        let in_use = BTreeSet::from(["used".to_string(), "used-tagged".to_string()]);
        let none = PruneFilter::default();
        let ids = |all| prunable(&images, &in_use, all, &none).map(|(i, _)| i.id.as_str()).collect::<Vec<_>>();
        assert_eq!(ids(false), ["dangling"]);
        assert_eq!(ids(true), ["tagged", "dangling"]);
    }

    #[test]
    fn intermediate_images_go_only_with_their_child() {
        let child = |id: &str, parent: &str, tags: &[&str]| {
            let mut img = image(id);
            img.parent = parent.into();
            (img, tags.iter().map(|t| t.to_string()).collect::<Vec<_>>())
        };
        let images = vec![
            child("step1", "", &[]),
            child("step2", "step1", &[]),
            child("app", "step2", &["app:1"]),
            child("old-step", "", &[]),
            child("old-top", "old-step", &[]),
        ];
        let none = PruneFilter::default();
        let in_use = BTreeSet::new();
        let ids = |all| prunable(&images, &in_use, all, &none).map(|(i, _)| i.id.as_str()).collect::<Vec<_>>();
        assert_eq!(ids(false), ["old-top"]);
        assert_eq!(ids(true), ["app", "old-top"]);
    }

    #[test]
    fn filters_by_age_and_labels() {
        let labelled = |id: &str, created: i64, labels: &[(&str, &str)]| {
            let mut img = image(id);
            img.created = created;
            img.config.labels = Some(labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
            (img, vec![format!("{id}:1")])
        };
        let images = vec![
            labelled("old-keep", 10, &[("keep", "yes")]),
            labelled("old-drop", 10, &[("keep", "no")]),
            labelled("new", 100, &[]),
        ];
        let in_use = BTreeSet::new();
        let ids = |f: &PruneFilter| prunable(&images, &in_use, true, f).map(|(i, _)| i.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&PruneFilter { until: Some(50), ..Default::default() }), ["old-keep", "old-drop"]);
        assert_eq!(ids(&PruneFilter { label: vec!["keep=no".into()], ..Default::default() }), ["old-drop"]);
        assert_eq!(ids(&PruneFilter { label: vec!["keep".into()], ..Default::default() }), ["old-keep", "old-drop"]);
        assert_eq!(ids(&PruneFilter { not_label: vec!["keep".into()], ..Default::default() }), ["new"]);
    }
}
