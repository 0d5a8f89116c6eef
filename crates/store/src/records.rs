//! The records the store keeps as JSON, one file each.

use std::collections::BTreeMap;

use porthole_core::config::ImageConfig;
use porthole_core::log_config::LogConfig;
use porthole_core::mounts::{MountPoint, MountRequest};
use porthole_core::names::{ContainerName, Id};
use porthole_core::state::Status;

/// `volumes/<name>/meta.json`
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VolumeRecord {
    pub name: String,
    /// Epoch nanoseconds.
    pub created: i64,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Driver options as given (`--opt size=10m`), shown by inspect as `Options`.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

/// Docker marks volumes made for a `VOLUME` or `-v /dst` with this label.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

impl VolumeRecord {
    pub fn is_anonymous(&self) -> bool {
        self.labels.contains_key(ANONYMOUS_LABEL)
    }
}

/// What the user asked for at create that Docker reports under `HostConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct HostOptions {
    pub binds: Vec<String>,
    #[serde(skip)]
    pub mounts: Vec<MountRequest>,
    pub volumes_from: Vec<String>,
    pub auto_remove: bool,
    pub read_only_rootfs: bool,
    /// `-p` as given (`8080:80/tcp` → host port by container port).
    pub port_bindings: BTreeMap<String, Vec<String>>,
    pub memory_bytes: Option<u64>,
    /// `--storage-opt size=`: a quota in bytes on the writable rootfs.
    pub storage_size: Option<u64>,
    /// `--log-driver` / `--log-opt`, defaults merged in; records older than it get the defaults.
    pub log: LogConfig,
}

/// Run state, as `State` in `docker inspect`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StateRecord {
    pub status: Status,
    pub exit_code: i32,
    pub oom_killed: bool,
    pub error: String,
    /// Epoch nanoseconds; 0 = never.
    pub started_at: i64,
    pub finished_at: i64,
}

impl Default for StateRecord {
    fn default() -> Self {
        Self {
            status: Status::Created,
            exit_code: 0,
            oom_killed: false,
            error: String::new(),
            started_at: 0,
            finished_at: 0,
        }
    }
}

/// `containers/<id>/config.json`, written last at create, so its presence means the container
/// exists.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContainerRecord {
    pub id: Id,
    pub name: ContainerName,
    pub created: i64,
    /// The image as the user named it, and the id it resolved to.
    pub image: String,
    pub image_id: String,
    /// The container's `Config` (image config merged with the create request).
    pub config: ImageConfig,
    pub tty: bool,
    pub open_stdin: bool,
    /// The resolved command: `path` then `args`.
    pub path: String,
    pub args: Vec<String>,
    pub host: HostOptions,
    pub mounts: Vec<MountPoint>,
    pub state: StateRecord,
    pub restart_count: u32,
}

/// `images/<id>/config.json`
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageRecord {
    pub id: String,
    pub created: i64,
    pub config: ImageConfig,
    /// The image this one was built `FROM` (empty for `scratch` and the base image).
    #[serde(default)]
    pub parent: String,
    /// Bytes in the rootfs.
    pub size: u64,
    /// Dockerfile instructions that made it, for `docker history`-like display.
    #[serde(default)]
    pub history: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_from_before_log_options_get_the_defaults() {
        let old: HostOptions = serde_json::from_str(r#"{"binds": [], "auto_remove": false}"#).unwrap();
        assert_eq!((old.log.max_size, old.log.max_file), (10_000_000, 5));
    }
}
