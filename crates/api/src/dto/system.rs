//! `docker version` and `docker info`.

use std::collections::BTreeMap;
use std::path::Path;

use porthole_engine::Counts;
use serde::Serialize;

use crate::version::{API_VERSION, MIN_API_VERSION};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Go's name for the host architecture (`GOARCH`), which the CLI prints.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Component {
    pub name: &'static str,
    pub version: &'static str,
    pub details: BTreeMap<&'static str, String>,
}

/// `GET /version`
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VersionJson {
    pub platform: BTreeMap<&'static str, &'static str>,
    pub components: Vec<Component>,
    pub version: &'static str,
    pub api_version: &'static str,
    #[serde(rename = "MinAPIVersion")]
    pub min_api_version: &'static str,
    pub git_commit: &'static str,
    pub go_version: &'static str,
    pub os: &'static str,
    pub arch: &'static str,
    pub kernel_version: &'static str,
    pub build_time: &'static str,
}

impl VersionJson {
    pub fn current() -> Self {
        let details = BTreeMap::from([
            ("ApiVersion", API_VERSION.to_string()),
            ("MinAPIVersion", MIN_API_VERSION.to_string()),
            ("Os", "linux".to_string()),
            ("Arch", go_arch().to_string()),
            ("Experimental", "false".to_string()),
            ("GoVersion", "none (Rust)".to_string()),
            ("GitCommit", String::new()),
            ("KernelVersion", String::new()),
        ]);
        VersionJson {
            platform: BTreeMap::from([("Name", "Porthole")]),
            components: vec![Component { name: "Engine", version: VERSION, details }],
            version: VERSION,
            api_version: API_VERSION,
            min_api_version: MIN_API_VERSION,
            git_commit: "",
            go_version: "none (Rust)",
            os: "linux",
            arch: go_arch(),
            kernel_version: "",
            build_time: "",
        }
    }
}

/// `GET /info`: the fields `docker info` prints.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InfoJson {
    #[serde(rename = "ID")]
    pub id: String,
    pub containers: usize,
    pub containers_running: usize,
    pub containers_paused: usize,
    pub containers_stopped: usize,
    pub images: usize,
    pub driver: &'static str,
    pub driver_status: Vec<[String; 2]>,
    pub plugins: BTreeMap<&'static str, Vec<&'static str>>,
    pub memory_limit: bool,
    pub swap_limit: bool,
    pub logging_driver: &'static str,
    pub cgroup_driver: &'static str,
    #[serde(rename = "NCPU")]
    pub ncpu: usize,
    pub mem_total: u64,
    pub name: &'static str,
    pub operating_system: &'static str,
    #[serde(rename = "OSType")]
    pub os_type: &'static str,
    pub architecture: &'static str,
    pub kernel_version: String,
    pub docker_root_dir: String,
    pub server_version: &'static str,
    pub default_runtime: &'static str,
    pub runtimes: BTreeMap<&'static str, BTreeMap<&'static str, &'static str>>,
    pub security_options: Vec<String>,
    pub swarm: BTreeMap<&'static str, &'static str>,
    pub warnings: Vec<String>,
}

/// Total memory from `/proc/meminfo` (0 where it cannot be read).
fn mem_total() -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kib = text
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    kib.unwrap_or(0) * 1024
}

impl InfoJson {
    pub fn new(counts: Counts, root: &Path, warnings: Vec<String>) -> Self {
        InfoJson {
            id: format!("porthole:{}", root.display()),
            containers: counts.containers,
            containers_running: counts.running,
            containers_paused: 0,
            containers_stopped: counts.stopped,
            images: counts.images,
            driver: "porthole",
            driver_status: vec![
                ["Volumes".into(), counts.volumes.to_string()],
                ["Guests".into(), "WebAssembly (WASI preview 1)".into()],
            ],
            plugins: BTreeMap::from([("Volume", vec!["local"]), ("Network", vec![]), ("Log", vec!["json-file"])]),
            memory_limit: true,
            swap_limit: false,
            logging_driver: "json-file",
            cgroup_driver: "none",
            ncpu: std::thread::available_parallelism().map(usize::from).unwrap_or(1),
            mem_total: mem_total(),
            name: "porthole",
            operating_system: "Porthole (WASI)",
            os_type: "linux",
            architecture: std::env::consts::ARCH,
            kernel_version: String::new(),
            docker_root_dir: root.display().to_string(),
            server_version: VERSION,
            default_runtime: "porthole",
            runtimes: BTreeMap::from([("porthole", BTreeMap::from([("path", "porthole")]))]),
            security_options: Vec::new(),
            swarm: BTreeMap::from([("LocalNodeState", "inactive")]),
            warnings,
        }
    }
}

/// `GET /system/df`: Docker's `DiskUsage`. The CLI's `system df` sums these itself: images
/// in use are those with `Containers > 0`, containers' size is `SizeRw` (reclaimable unless
/// running), volumes' is `UsageData.Size` (reclaimable when `RefCount` is 0).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DiskUsageJson {
    pub layers_size: u64,
    pub images: Vec<crate::dto::images::ImageSummary>,
    pub containers: Vec<crate::dto::containers::SizedContainer>,
    pub volumes: Vec<UsedVolume>,
    pub build_cache: Vec<serde_json::Value>,
}

#[derive(Debug, Serialize)]
pub struct UsedVolume {
    #[serde(flatten)]
    pub volume: crate::dto::volumes::VolumeJson,
    #[serde(rename = "UsageData")]
    pub usage_data: UsageData,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UsageData {
    pub size: u64,
    pub ref_count: usize,
}

impl DiskUsageJson {
    pub fn new(usage: porthole_engine::DiskUsage, now: i64) -> Self {
        let images: Vec<_> = usage
            .images
            .into_iter()
            .map(|i| {
                let mut summary = crate::dto::images::ImageSummary::from((i.record, i.tags));
                summary.containers = i64::try_from(i.containers).unwrap_or(i64::MAX);
                // Images share nothing (each is a whole tree); the CLI skips images whose
                // shared size is unknown (-1) when it sums what is in use.
                summary.shared_size = 0;
                summary
            })
            .collect();
        DiskUsageJson {
            layers_size: images.iter().map(|i| i.size).sum(),
            images,
            containers: usage
                .containers
                .into_iter()
                .map(|c| crate::dto::containers::SizedContainer::new(&c.info, now, Some((c.size, c.size_root_fs))))
                .collect(),
            volumes: usage
                .volumes
                .into_iter()
                .map(|v| UsedVolume {
                    usage_data: UsageData { size: v.usage.0, ref_count: v.users.len() },
                    volume: v.into(),
                })
                .collect(),
            build_cache: Vec::new(),
        }
    }
}
