//! `docker image prune [-a]`: removes images no container uses — only untagged ones unless
//! `all`. Each goes through `remove_image` by id, which checks again under the lock, so a
//! container created meanwhile keeps its image.

use std::collections::BTreeSet;

use porthole_core::event::EventType;
use porthole_store::ImageRecord;

use crate::images::BASE_IMAGE;
use crate::{Engine, ErrorKind, Result};

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

/// The images a prune removes. The base image is kept even with `all`: it is made from the
/// embedded toolbox only at start and cannot be pulled back.
fn prunable<'a>(
    images: &'a [(ImageRecord, Vec<String>)],
    in_use: &BTreeSet<String>,
    all: bool,
    filter: &'a PruneFilter,
) -> impl Iterator<Item = &'a ImageRecord> {
    images
        .iter()
        .filter(move |(img, tags)| {
            !in_use.contains(&img.id)
                && (all || tags.is_empty())
                && !tags.iter().any(|t| t == BASE_IMAGE)
                && filter.admits(img)
        })
        .map(|(img, _)| img)
}

impl Engine {
    pub fn image_prune(&self, all: bool, filter: &PruneFilter) -> Result<ImagePrune> {
        let in_use: BTreeSet<String> = self.list(true).into_iter().map(|c| c.record.image_id).collect();
        let images = self.images();
        let mut pruned = ImagePrune::default();
        for img in prunable(&images, &in_use, all, filter) {
            match self.remove_image(&img.id, false) {
                Ok(report) => {
                    if report.iter().any(|l| l.starts_with("Deleted: ")) {
                        pruned.reclaimed += img.size;
                    }
                    pruned.report.extend(report);
                }
                // Used or removed since the list was taken: not this prune's to remove.
                Err(e) if matches!(e.kind(), ErrorKind::Conflict | ErrorKind::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
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
        let ids = |all| prunable(&images, &in_use, all, &none).map(|i| i.id.as_str()).collect::<Vec<_>>();
        assert_eq!(ids(false), ["dangling"]);
        assert_eq!(ids(true), ["tagged", "dangling"]);
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
        let ids = |f: &PruneFilter| prunable(&images, &in_use, true, f).map(|i| i.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&PruneFilter { until: Some(50), ..Default::default() }), ["old-keep", "old-drop"]);
        assert_eq!(ids(&PruneFilter { label: vec!["keep=no".into()], ..Default::default() }), ["old-drop"]);
        assert_eq!(ids(&PruneFilter { label: vec!["keep".into()], ..Default::default() }), ["old-keep", "old-drop"]);
        assert_eq!(ids(&PruneFilter { not_label: vec!["keep".into()], ..Default::default() }), ["new"]);
    }
}
