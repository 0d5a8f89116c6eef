//! `docker system df`: what images, containers and volumes occupy on disk. Lists are taken
//! under the world lock; every tree is measured after, without it (volumes through the size
//! cache, container trees walked here).

use porthole_store::ImageRecord;
use porthole_store::copy::usage;

use crate::{ContainerInfo, Engine, Result, VolumeFilters, VolumeInfo};

/// An image, its tags and how many containers were created from it.
#[derive(Debug, Clone)]
pub struct ImageUsage {
    pub record: ImageRecord,
    pub tags: Vec<String>,
    pub containers: usize,
}

/// A container and the bytes of its own tree: its writable layer (or, for a container made
/// before layers, its whole copy), what removing the container gives back (Docker's `SizeRw`).
#[derive(Debug, Clone)]
pub struct ContainerUsage {
    pub info: ContainerInfo,
    pub size: u64,
    /// With the image's layers under it (Docker's `SizeRootFs`).
    pub size_root_fs: u64,
}

#[derive(Debug, Clone)]
pub struct DiskUsage {
    pub images: Vec<ImageUsage>,
    pub containers: Vec<ContainerUsage>,
    /// Each with its size and users (`users.is_empty()`: reclaimable).
    pub volumes: Vec<VolumeInfo>,
}

impl Engine {
    /// The bytes of a container's own tree (measured now: call it without the world lock).
    pub fn container_size(info: &ContainerInfo) -> u64 {
        usage(&info.rootfs).0
    }

    /// Docker's `SizeRw` and `SizeRootFs` of a container: its own tree, and that with its
    /// image's layers under it (the same number for a tree standing alone).
    pub fn container_sizes(&self, info: &ContainerInfo) -> (u64, u64) {
        let own = Self::container_size(info);
        if info.lowers.is_empty() {
            return (own, own);
        }
        let image = self.world().images.get(&info.record.image_id).map_or(0, |i| i.size);
        (own, own + image)
    }

    pub fn disk_usage(&self) -> Result<DiskUsage> {
        let containers = self.list(true);
        let images = self
            .images()
            .into_iter()
            .map(|(record, tags)| {
                let users = containers.iter().filter(|c| c.record.image_id == record.id).count();
                ImageUsage { record, tags, containers: users }
            })
            .collect();
        let containers = containers.into_iter().map(|info| {
            let (size, size_root_fs) = self.container_sizes(&info);
            ContainerUsage { size, size_root_fs, info }
        });
        let containers = containers.collect();
        let volumes = self.volume_list(&VolumeFilters::default())?;
        Ok(DiskUsage { images, containers, volumes })
    }
}
