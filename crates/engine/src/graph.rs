//! The mount graph: gathers plain summaries of the world for `porthole_core::graph`, which
//! decides the drawing.

use porthole_core::graph::{
    self, ContainerSummary, Graph, GraphInput, ImageSummary, MountSummary, POD_LABEL, VolumeSummary,
};
use porthole_store::ANONYMOUS_LABEL;

use crate::{Engine, World};

impl Engine {
    /// The graph of everything now: images, containers, volumes and host directories.
    pub fn graph(&self) -> Graph {
        graph::build(&self.graph_input())
    }

    /// What the graph is built from (taken under the lock, so it is one consistent moment;
    /// the volumes' sizes are filled in after it, from the size cache).
    pub fn graph_input(&self) -> GraphInput {
        let mut input = {
            let w = self.world();
            GraphInput { images: images(&w), containers: self.containers(&w), volumes: self.volumes(&w) }
        };
        for v in &mut input.volumes {
            (v.size, v.files) = self.inner.sizes.get(&v.name, std::path::Path::new(&v.host_path));
        }
        input
    }

    fn containers(&self, w: &World) -> Vec<ContainerSummary> {
        w.containers
            .values()
            .map(|c| {
                let r = &c.record;
                let declared = w.images.get(&r.image_id).map(|i| i.config.volume_paths()).unwrap_or_default();
                let mounts = r
                    .mounts
                    .iter()
                    .map(|m| MountSummary {
                        destination: m.destination.to_string(),
                        volume: m.volume().map(str::to_string),
                        bind_source: m.bind_path().map(str::to_string),
                        rw: m.rw,
                        inherited_from: m.inherited_from.clone(),
                        // An anonymous volume at a declared path is the image's VOLUME at work.
                        from_image_volume: m.anonymous_volume().is_some()
                            && declared.iter().any(|d| d == m.destination.as_str()),
                    })
                    .collect();
                ContainerSummary {
                    id: r.id.to_string(),
                    name: r.name.to_string(),
                    image_id: r.image_id.clone(),
                    image: r.image.clone(),
                    state: r.state.status.as_str().to_string(),
                    command: std::iter::once(r.path.as_str())
                        .chain(r.args.iter().map(String::as_str))
                        .collect::<Vec<_>>()
                        .join(" "),
                    created: r.created,
                    mounts,
                    ports: c.running.iter().flat_map(|run| &run.ports).map(|p| p.to_string()).collect(),
                    networks: w
                        .attachments_of(r)
                        .into_iter()
                        .filter(|a| !crate::networks::is_builtin(&a.id))
                        .map(|a| a.name)
                        .collect(),
                    pod: r.config.labels.as_ref().and_then(|l| l.get(POD_LABEL)).cloned(),
                }
            })
            .collect()
    }

    fn volumes(&self, w: &World) -> Vec<VolumeSummary> {
        w.volumes
            .values()
            .map(|v| {
                let data = self.inner.store.volume_data(&v.name);
                VolumeSummary {
                    name: v.name.clone(),
                    anonymous: v.labels.contains_key(ANONYMOUS_LABEL),
                    created: v.created,
                    size: 0,
                    files: 0,
                    host_path: data.display().to_string(),
                }
            })
            .collect()
    }
}

/// The images the graph shows: tagged ones and those a container uses. A build leaves an
/// untagged image for every step (`docker images -a`); drawn, they would fill the column.
fn images(w: &World) -> Vec<ImageSummary> {
    let used: std::collections::BTreeSet<&str> = w.containers.values().map(|c| c.record.image_id.as_str()).collect();
    w.images
        .values()
        .map(|img| ImageSummary {
            id: img.id.clone(),
            tags: w.tags.iter().filter(|(_, id)| **id == img.id).map(|(t, _)| t.clone()).collect(),
            volumes: img.config.volume_paths(),
            created: img.created,
        })
        .filter(|img| !img.tags.is_empty() || used.contains(img.id.as_str()))
        .collect()
}
