//! `POST /containers/create`: Docker's `Config` + `HostConfig` body into `CreateOptions`,
//! refusing options Porthole cannot honour by name.

use std::collections::BTreeMap;

use porthole_core::log_config::LogConfig;
use porthole_core::mounts::{MountRequest, MountRequests, MountType};
use porthole_core::size::ByteSize;
use porthole_engine::{CreateOptions, NetworkRequest};
use serde::{Deserialize, Serialize};

use crate::dto::networks::EndpointConfig;
use crate::error::ApiError;

/// `POST /containers/create`: the fields Porthole reads; everything else the CLI sends is
/// either checked in [`HostConfigBody::refuse_unsupported`] or has no effect in Docker either
/// without a kernel (hostname, domainname…).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateBody {
    pub user: String,
    pub tty: bool,
    pub open_stdin: bool,
    pub env: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub image: String,
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    pub working_dir: String,
    pub hostname: String,
    pub healthcheck: Option<porthole_core::health::Healthcheck>,
    pub labels: Option<BTreeMap<String, String>>,
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    pub host_config: HostConfigBody,
    pub networking_config: Option<NetworkingConfig>,
}

/// `NetworkingConfig`: each network's endpoint (compose gives its service name as an alias).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkingConfig {
    pub endpoints_config: Option<BTreeMap<String, Option<EndpointConfig>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfigBody {
    pub binds: Option<Vec<String>>,
    pub mounts: Option<Vec<MountBody>>,
    pub volumes_from: Option<Vec<String>>,
    pub auto_remove: bool,
    pub readonly_rootfs: bool,
    pub port_bindings: Option<BTreeMap<String, Option<Vec<PortBinding>>>>,
    pub publish_all_ports: bool,
    pub memory: i64,
    pub nano_cpus: i64,
    pub cpu_shares: i64,
    pub cpu_period: i64,
    pub cpu_quota: i64,
    pub cpuset_cpus: String,
    pub pids_limit: Option<i64>,
    pub volume_driver: String,
    pub privileged: bool,
    pub network_mode: String,
    pub cap_add: Option<Vec<String>>,
    pub devices: Option<Vec<serde_json::Value>>,
    pub pid_mode: String,
    pub ipc_mode: String,
    pub restart_policy: Option<RestartPolicy>,
    pub tmpfs: Option<BTreeMap<String, String>>,
    pub storage_opt: Option<BTreeMap<String, String>>,
    pub log_config: Option<LogConfigBody>,
}

/// `--log-driver` / `--log-opt`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LogConfigBody {
    #[serde(rename = "Type")]
    pub kind: String,
    pub config: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize, Serialize, Clone)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestartPolicy {
    pub name: String,
    pub maximum_retry_count: i64,
}

#[derive(Debug, Default, Deserialize, Serialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "PascalCase", default)]
pub struct PortBinding {
    pub host_ip: String,
    pub host_port: String,
}

/// Docker's `mount.Mount` (`--mount`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MountBody {
    #[serde(rename = "Type")]
    pub kind: String,
    pub source: String,
    pub target: String,
    pub read_only: bool,
    pub bind_options: Option<BindOptions>,
    pub volume_options: Option<VolumeOptions>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct BindOptions {
    pub propagation: String,
    pub create_mountpoint: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeOptions {
    pub no_copy: bool,
    pub labels: Option<BTreeMap<String, String>>,
    pub driver_config: Option<DriverConfig>,
}

/// `--mount volume-driver=…,volume-opt=…`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DriverConfig {
    pub name: String,
    pub options: Option<BTreeMap<String, String>>,
}

/// Docker's smallest `--memory` (`linuxMinMemory`).
const MIN_MEMORY: i64 = 6 << 20;

/// Only the `local` volume driver exists here; any other is a plugin Docker would fail to
/// find, and is refused the same way.
pub fn check_volume_driver(driver: &str) -> Result<(), ApiError> {
    match driver {
        "" | "local" => Ok(()),
        other => Err(ApiError::PluginNotFound(other.to_string())),
    }
}

impl TryFrom<MountBody> for MountRequest {
    type Error = ApiError;

    fn try_from(m: MountBody) -> Result<Self, ApiError> {
        let kind = match m.kind.as_str() {
            "volume" | "" => MountType::Volume,
            "bind" => MountType::Bind,
            "tmpfs" => MountType::Tmpfs,
            other => return Err(ApiError::Unsupported(format!("mount type {other:?}"))),
        };
        let bind = m.bind_options.unwrap_or_default();
        let volume = m.volume_options.unwrap_or_default();
        if let Some(driver) = &volume.driver_config {
            check_volume_driver(&driver.name)?;
            if driver.options.as_ref().is_some_and(|o| !o.is_empty()) {
                return Err(ApiError::Unsupported("--mount volume-opt".into()));
            }
        }
        Ok(MountRequest {
            kind: Some(kind),
            source: m.source,
            target: m.target,
            readonly: m.read_only,
            nocopy: volume.no_copy,
            propagation: Some(bind.propagation).filter(|p| !p.is_empty()),
            labels: volume.labels.unwrap_or_default(),
            create_source: bind.create_mountpoint,
        })
    }
}

impl HostConfigBody {
    /// Options Porthole cannot honour are refused by name rather than silently ignored.
    fn refuse_unsupported(&self, user: &str) -> Result<(), ApiError> {
        let refuse = |flag: &str| Err(ApiError::Unsupported(flag.to_string()));
        if self.privileged {
            return refuse("--privileged");
        }
        // Another container's network stack: there is none to share.
        if self.network_mode.starts_with("container:") {
            return refuse(&format!("--network {}", self.network_mode));
        }
        if !user.is_empty() {
            return refuse("-u/--user");
        }
        if self.cap_add.as_ref().is_some_and(|c| !c.is_empty()) {
            return refuse("--cap-add");
        }
        if self.devices.as_ref().is_some_and(|d| !d.is_empty()) {
            return refuse("--device");
        }
        if !self.pid_mode.is_empty() {
            return refuse(&format!("--pid {}", self.pid_mode));
        }
        if !matches!(self.ipc_mode.as_str(), "" | "private" | "shareable") {
            return refuse(&format!("--ipc {}", self.ipc_mode));
        }
        if self.restart_policy.as_ref().is_some_and(|r| !matches!(r.name.as_str(), "" | "no")) {
            return refuse("--restart");
        }
        if self.tmpfs.as_ref().is_some_and(|t| !t.is_empty()) {
            return refuse("--tmpfs (use --mount type=tmpfs)");
        }
        // Guests share the controller's threads: there is no scheduler share to give them.
        if self.nano_cpus != 0 {
            return refuse("--cpus");
        }
        if self.cpu_shares != 0 {
            return refuse("-c/--cpu-shares");
        }
        if self.cpu_period != 0 {
            return refuse("--cpu-period");
        }
        if self.cpu_quota != 0 {
            return refuse("--cpu-quota");
        }
        if !self.cpuset_cpus.is_empty() {
            return refuse("--cpuset-cpus");
        }
        if self.memory != 0 && self.memory < MIN_MEMORY {
            return Err(ApiError::MemoryBelowMinimum);
        }
        check_volume_driver(&self.volume_driver)
    }

    /// `--storage-opt size=20m`, the quota on the writable rootfs; `size` is the only key.
    fn storage_size(&self) -> Result<Option<u64>, ApiError> {
        let opts = self.storage_opt.clone().unwrap_or_default();
        if let Some(key) = opts.keys().find(|k| k.as_str() != "size") {
            return Err(ApiError::Unsupported(format!("--storage-opt {key}")));
        }
        let size = opts.get("size").map(|s| ByteSize::parse(s)).transpose();
        size.map(|s| s.map(|b| b.0))
            .map_err(|e| ApiError::InvalidParameter { name: "--storage-opt size", value: e.to_string() })
    }
}

/// `Entrypoint: [""]` is how the CLI says `--entrypoint ""` (reset the image's).
fn entrypoint(e: Option<Vec<String>>) -> Option<Vec<String>> {
    e.map(|v| if v.len() == 1 && v[0].is_empty() { Vec::new() } else { v })
}

/// `8080` with host IP `127.0.0.1` → `127.0.0.1:8080`, the engine's record of a binding.
fn binding_text(b: &PortBinding) -> String {
    if b.host_ip.is_empty() { b.host_port.clone() } else { format!("{}:{}", b.host_ip, b.host_port) }
}

/// The inverse of `binding_text`, for inspect.
pub fn binding_of(text: &str) -> PortBinding {
    match text.rsplit_once(':') {
        Some((ip, port)) => PortBinding { host_ip: ip.to_string(), host_port: port.to_string() },
        None => PortBinding { host_ip: String::new(), host_port: text.to_string() },
    }
}

impl CreateBody {
    pub fn into_options(self, name: Option<String>) -> Result<CreateOptions, ApiError> {
        let host = self.host_config;
        host.refuse_unsupported(&self.user)?;
        let storage_size = host.storage_size()?;
        let log = host.log_config.unwrap_or_default();
        let log = LogConfig::parse(&log.kind, &log.config.unwrap_or_default())?;
        let mounts =
            host.mounts.unwrap_or_default().into_iter().map(MountRequest::try_from).collect::<Result<_, _>>()?;
        let endpoints = self.networking_config.and_then(|n| n.endpoints_config).unwrap_or_default();
        let network = NetworkRequest {
            mode: host.network_mode.clone(),
            endpoints: endpoints
                .into_iter()
                .map(|(name, e)| Ok((name, e.unwrap_or_default().aliases()?)))
                .collect::<Result<_, ApiError>>()?,
        };
        let port_bindings = host
            .port_bindings
            .unwrap_or_default()
            .into_iter()
            .map(|(port, bindings)| (port, bindings.unwrap_or_default().iter().map(binding_text).collect()))
            .collect();
        Ok(CreateOptions {
            name,
            image: self.image,
            cmd: self.cmd.filter(|c| !c.is_empty()),
            entrypoint: entrypoint(self.entrypoint),
            env: self.env.unwrap_or_default(),
            workdir: Some(self.working_dir).filter(|w| !w.is_empty()),
            hostname: Some(self.hostname).filter(|h| !h.is_empty()),
            healthcheck: self.healthcheck,
            labels: self.labels.unwrap_or_default(),
            tty: self.tty,
            open_stdin: self.open_stdin,
            mounts: MountRequests {
                binds: host.binds.unwrap_or_default(),
                mounts,
                volumes_from: host.volumes_from.unwrap_or_default(),
                volumes: self.volumes.unwrap_or_default().into_keys().collect(),
            },
            auto_remove: host.auto_remove,
            read_only_rootfs: host.readonly_rootfs,
            port_bindings,
            exposed_ports: self.exposed_ports.unwrap_or_default().into_keys().collect(),
            publish_all_ports: host.publish_all_ports,
            memory_bytes: u64::try_from(host.memory).ok().filter(|m| *m > 0),
            // 0 and -1 are Docker's "unlimited": the runtime's default applies.
            pids_limit: host.pids_limit.and_then(|p| u64::try_from(p).ok()).filter(|p| *p > 0),
            storage_size,
            log,
            network,
        })
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateResponse {
    pub id: String,
    pub warnings: Vec<String>,
}

/// The create warnings for a container put on a network by name (the docker CLI prints them):
/// on `bridge` (where every container is) or `none` nothing needs saying.
pub fn network_warnings(network: &NetworkRequest) -> Vec<String> {
    let quiet = |name: &str| matches!(name, "" | "default" | "bridge" | "none");
    let named = !quiet(&network.mode) || network.endpoints.keys().any(|k| !quiet(k));
    if named { vec![porthole_engine::NO_CONNECTIVITY.to_string()] } else { Vec::new() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A create body (JSON) → `ok` or the refusal's status and text.
    fn check(body: &str) -> String {
        let body: CreateBody = serde_json::from_str(body).unwrap();
        match body.into_options(None) {
            Ok(_) => "ok".into(),
            Err(e) => format!("{} {e}", e.status().as_u16()),
        }
    }

    #[test]
    fn limits_are_refused_by_name_or_with_dockers_text() {
        let cases = [
            (r#"{"HostConfig": {"Memory": 1}}"#, "400 Minimum memory limit allowed is 6MB"),
            (r#"{"HostConfig": {"Memory": 6291455}}"#, "400 Minimum memory limit allowed is 6MB"),
            (r#"{"HostConfig": {"Memory": 6291456}}"#, "ok"),
            (r#"{"HostConfig": {"Memory": 0, "PidsLimit": -1}}"#, "ok"),
            (r#"{"HostConfig": {"NanoCpus": 500000000}}"#, "400 --cpus is not supported by Porthole"),
            (r#"{"HostConfig": {"CpuShares": 512}}"#, "400 -c/--cpu-shares is not supported by Porthole"),
            (r#"{"HostConfig": {"CpuQuota": 50000}}"#, "400 --cpu-quota is not supported by Porthole"),
            (r#"{"HostConfig": {"CpuPeriod": 100000}}"#, "400 --cpu-period is not supported by Porthole"),
            (r#"{"HostConfig": {"CpusetCpus": "0"}}"#, "400 --cpuset-cpus is not supported by Porthole"),
            (r#"{"HostConfig": {"VolumeDriver": "local"}}"#, "ok"),
            (
                r#"{"HostConfig": {"VolumeDriver": "foo"}}"#,
                r#"404 error looking up volume plugin foo: plugin "foo" not found"#,
            ),
            (
                r#"{"HostConfig": {"Mounts": [{"Type": "volume", "Target": "/v", "VolumeOptions": {"DriverConfig": {"Name": "foo"}}}]}}"#,
                r#"404 error looking up volume plugin foo: plugin "foo" not found"#,
            ),
            (
                r#"{"HostConfig": {"Mounts": [{"Type": "volume", "Target": "/v", "VolumeOptions": {"DriverConfig": {"Name": "local", "Options": {"type": "tmpfs"}}}}]}}"#,
                "400 --mount volume-opt is not supported by Porthole",
            ),
            (r#"{"HostConfig": {"StorageOpt": {"size": "20m"}}}"#, "ok"),
            (r#"{"HostConfig": {"NetworkMode": "pulp_default"}}"#, "ok"),
            (
                r#"{"HostConfig": {"NetworkMode": "container:web"}}"#,
                "400 --network container:web is not supported by Porthole",
            ),
            (r#"{"NetworkingConfig": {"EndpointsConfig": {"n": {"Aliases": ["web"]}, "m": null}}}"#, "ok"),
            (
                r#"{"NetworkingConfig": {"EndpointsConfig": {"n": {"IPAMConfig": {"IPv4Address": "10.0.0.2"}}}}}"#,
                "400 --ip/--ip6 (a network gives no addresses) is not supported by Porthole",
            ),
            (
                r#"{"HostConfig": {"StorageOpt": {"size": "lots"}}}"#,
                "400 invalid value for --storage-opt size: invalid size: 'lots'",
            ),
            (
                r#"{"HostConfig": {"StorageOpt": {"dm.basesize": "1g"}}}"#,
                "400 --storage-opt dm.basesize is not supported by Porthole",
            ),
            (r#"{"HostConfig": {"LogConfig": {"Type": "json-file", "Config": {"max-size": "1m"}}}}"#, "ok"),
            (r#"{"HostConfig": {"LogConfig": {"Type": "", "Config": {}}}}"#, "ok"),
            (
                r#"{"HostConfig": {"LogConfig": {"Type": "json-file", "Config": {"foo": "1"}}}}"#,
                "400 unknown log opt 'foo' for json-file log driver",
            ),
            (
                r#"{"HostConfig": {"LogConfig": {"Type": "", "Config": {"max-size": "lots"}}}}"#,
                "400 invalid size: 'lots'",
            ),
            (
                r#"{"HostConfig": {"LogConfig": {"Type": "splunk"}}}"#,
                "400 --log-driver splunk is not supported by Porthole",
            ),
            (
                r#"{"HostConfig": {"LogConfig": {"Type": "foo"}}}"#,
                "400 logger: no log driver named 'foo' is registered",
            ),
        ];
        for (body, expect) in cases {
            assert_eq!(check(body), expect, "{body}");
        }
    }
}
