//! `docker image prune [-a]`: removes images no container uses — only untagged ones unless
//! `all`. Each goes through `remove_image` by id, which checks again under the lock, so a
//! container created meanwhile keeps its image.

use std::collections::BTreeSet;

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

/// The images a prune removes. The base image is kept even with `all`: it is made from the
/// embedded toolbox only at start and cannot be pulled back.
fn prunable<'a>(
    images: &'a [(ImageRecord, Vec<String>)],
    in_use: &BTreeSet<String>,
    all: bool,
) -> impl Iterator<Item = &'a ImageRecord> {
    images
        .iter()
        .filter(move |(img, tags)| {
            !in_use.contains(&img.id) && (all || tags.is_empty()) && !tags.iter().any(|t| t == BASE_IMAGE)
        })
        .map(|(img, _)| img)
}

impl Engine {
    pub fn image_prune(&self, all: bool) -> Result<ImagePrune> {
        let in_use: BTreeSet<String> = self.list(true).into_iter().map(|c| c.record.image_id).collect();
        let images = self.images();
        let mut pruned = ImagePrune::default();
        for img in prunable(&images, &in_use, all) {
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
        let ids = |all| prunable(&images, &in_use, all).map(|i| i.id.as_str()).collect::<Vec<_>>();
        assert_eq!(ids(false), ["dangling"]);
        assert_eq!(ids(true), ["tagged", "dangling"]);
    }
}
