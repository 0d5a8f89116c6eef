//! Volumes: `docker volume create/inspect/ls/prune` bodies.

use std::collections::BTreeMap;

use porthole_core::time::rfc3339_secs;
use porthole_engine::VolumeInfo;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// `POST /volumes/create`
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeCreateBody {
    pub name: String,
    pub driver: String,
    pub driver_opts: Option<BTreeMap<String, String>>,
    pub labels: Option<BTreeMap<String, String>>,
}

impl VolumeCreateBody {
    /// Only the `local` driver exists here; its one option, `size`, the engine checks.
    pub fn check(&self) -> Result<(), ApiError> {
        crate::dto::create::check_volume_driver(&self.driver)
    }
}

/// Docker's `Volume`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumeJson {
    pub created_at: String,
    pub driver: &'static str,
    pub labels: BTreeMap<String, String>,
    pub mountpoint: String,
    pub name: String,
    pub options: Option<BTreeMap<String, String>>,
    pub scope: &'static str,
}

impl From<VolumeInfo> for VolumeJson {
    fn from(v: VolumeInfo) -> Self {
        VolumeJson {
            created_at: rfc3339_secs(v.record.created),
            driver: "local",
            labels: v.record.labels,
            mountpoint: v.mountpoint.display().to_string(),
            name: v.record.name,
            options: Some(v.record.options).filter(|o| !o.is_empty()),
            scope: "local",
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumeList {
    pub volumes: Vec<VolumeJson>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumePruneReport {
    pub volumes_deleted: Vec<String>,
    pub space_reclaimed: u64,
}
