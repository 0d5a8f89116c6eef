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

/// A container and the bytes in its tree. A container's tree is its own copy of the image,
/// so all of it is what removing the container gives back (Docker's `SizeRw`).
#[derive(Debug, Clone)]
pub struct ContainerUsage {
    pub info: ContainerInfo,
    pub size: u64,
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
        let containers =
            containers.into_iter().map(|info| ContainerUsage { size: Self::container_size(&info), info }).collect();
        let volumes = self.volume_list(&VolumeFilters::default())?;
        Ok(DiskUsage { images, containers, volumes })
    }
}
