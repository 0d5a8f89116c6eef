//! Containers: `ContainerInfo` into `docker inspect` and `docker ps` JSON.

use std::collections::BTreeMap;

use porthole_core::config::ImageConfig;
use porthole_core::mounts::{MountPoint, MountRequest, MountType};
use porthole_engine::ContainerInfo;
use serde::Serialize;

use super::create::{PortBinding, RestartPolicy, binding_of};
use super::{human_duration, time};

/// One entry of `.Mounts` (Docker's `MountPoint`): `Name` and `Driver` only for volumes.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MountJson {
    #[serde(rename = "Type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub source: String,
    pub destination: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub driver: String,
    pub mode: String,
    #[serde(rename = "RW")]
    pub rw: bool,
    pub propagation: String,
}

fn mounts(info: &ContainerInfo) -> Vec<MountJson> {
    info.record.mounts.iter().zip(&info.sources).map(|(m, src)| mount_json(m, &src.display().to_string())).collect()
}

fn mount_json(m: &MountPoint, source: &str) -> MountJson {
    MountJson {
        kind: m.kind().as_str(),
        driver: if m.kind() == MountType::Volume { "local".into() } else { String::new() },
        name: m.volume().unwrap_or_default().to_string(),
        source: if m.kind() == MountType::Tmpfs { String::new() } else { source.to_string() },
        destination: m.destination.to_string(),
        mode: m.mode.clone(),
        rw: m.rw,
        propagation: m.propagation().to_string(),
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StateJson {
    pub status: &'static str,
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    pub dead: bool,
    pub pid: u32,
    pub exit_code: i32,
    pub error: String,
    pub started_at: String,
    pub finished_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthJson>,
}

/// `State.Health`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthJson {
    pub status: &'static str,
    pub failing_streak: u32,
    pub log: Vec<ProbeJson>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProbeJson {
    pub start: String,
    pub end: String,
    pub exit_code: i32,
    pub output: String,
}

impl From<&porthole_core::health::Health> for HealthJson {
    fn from(h: &porthole_core::health::Health) -> Self {
        HealthJson {
            status: h.status.as_str(),
            failing_streak: h.failing_streak,
            log: h
                .log
                .iter()
                .map(|p| ProbeJson {
                    start: time(p.start),
                    end: time(p.end),
                    exit_code: p.exit_code,
                    output: p.output.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostConfigJson {
    pub binds: Option<Vec<String>>,
    pub volumes_from: Option<Vec<String>>,
    pub auto_remove: bool,
    pub readonly_rootfs: bool,
    pub port_bindings: BTreeMap<String, Vec<PortBinding>>,
    pub publish_all_ports: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<MountRequestJson>,
    pub memory: u64,
    /// `--pids-limit` as given; `null` when unset, as Docker shows it.
    pub pids_limit: Option<u64>,
    /// `--storage-opt size=` in bytes, as Docker shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_opt: Option<BTreeMap<String, String>>,
    pub network_mode: String,
    pub privileged: bool,
    pub restart_policy: RestartPolicy,
    pub log_config: LogConfigJson,
}

/// `HostConfig.LogConfig`: always json-file, with the options as merged at create.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogConfigJson {
    #[serde(rename = "Type")]
    pub kind: &'static str,
    pub config: BTreeMap<String, String>,
}

/// A `--mount` as `HostConfig.Mounts` shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MountRequestJson {
    #[serde(rename = "Type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source: String,
    pub target: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

impl From<&MountRequest> for MountRequestJson {
    fn from(m: &MountRequest) -> Self {
        MountRequestJson {
            kind: m.kind.unwrap_or(MountType::Volume).as_str(),
            source: m.source.clone(),
            target: m.target.clone(),
            read_only: m.readonly,
        }
    }
}

/// The container's `Config`: the image config with the container's own fields.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConfigJson {
    #[serde(flatten)]
    pub config: ImageConfig,
    pub domainname: &'static str,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    pub image: String,
}

/// `GET /containers/{id}/json`
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerJson {
    pub id: String,
    pub created: String,
    pub path: String,
    pub args: Vec<String>,
    pub state: StateJson,
    pub image: String,
    pub name: String,
    pub restart_count: u32,
    pub driver: &'static str,
    pub platform: &'static str,
    pub log_path: String,
    /// Docker 1.x's view of the mounts, which Docker dropped in 1.8 and Porthole keeps because
    /// the 2014 walkthrough prints it (`inspect --format '{{.Volumes}}'`): destination → host
    /// directory, and destination → writable.
    pub volumes: BTreeMap<String, String>,
    #[serde(rename = "VolumesRW")]
    pub volumes_rw: BTreeMap<String, bool>,
    pub host_config: HostConfigJson,
    pub mounts: Vec<MountJson>,
    pub config: ConfigJson,
    pub graph_driver: GraphDriver,
    pub network_settings: NetworkSettings,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GraphDriver {
    pub name: &'static str,
    pub data: BTreeMap<&'static str, String>,
}

#[derive(Debug, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkSettings {
    /// While it runs: each exposed or published port → its host addresses (`null` for one
    /// exposed but not published), as `docker port` reads them.
    pub ports: BTreeMap<String, Option<Vec<PortBinding>>>,
    pub networks: BTreeMap<String, EndpointSettings>,
}

/// One network in `NetworkSettings.Networks`: the network and the aliases, no addresses (a
/// guest has none; the network is a record).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointSettings {
    #[serde(rename = "IPAMConfig")]
    pub ipam_config: Option<()>,
    pub links: Option<Vec<String>>,
    pub aliases: Option<Vec<String>>,
    pub mac_address: String,
    #[serde(rename = "NetworkID")]
    pub network_id: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    pub gateway: String,
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: u8,
    #[serde(rename = "IPv6Gateway")]
    pub ipv6_gateway: String,
    #[serde(rename = "GlobalIPv6Address")]
    pub global_ipv6_address: String,
    #[serde(rename = "GlobalIPv6PrefixLen")]
    pub global_ipv6_prefix_len: u8,
    pub driver_opts: Option<BTreeMap<String, String>>,
}

/// `NetworkSettings.Networks`, by network name.
fn networks(info: &ContainerInfo) -> BTreeMap<String, EndpointSettings> {
    let endpoint = |a: &porthole_engine::Attachment| EndpointSettings {
        ipam_config: None,
        links: None,
        aliases: Some(a.endpoint.aliases.clone()).filter(|a| !a.is_empty()),
        mac_address: String::new(),
        network_id: a.id.to_string(),
        endpoint_id: String::new(),
        gateway: String::new(),
        ip_address: String::new(),
        ip_prefix_len: 0,
        ipv6_gateway: String::new(),
        global_ipv6_address: String::new(),
        global_ipv6_prefix_len: 0,
        driver_opts: None,
    };
    info.networks.iter().map(|a| (a.name.clone(), endpoint(a))).collect()
}

/// `HostConfig.NetworkMode`: `--network` as given, `default` when none was.
fn network_mode(info: &ContainerInfo) -> String {
    let mode = &info.record.host.network_mode;
    if mode.is_empty() { "default".into() } else { mode.clone() }
}

fn port_bindings(info: &ContainerInfo) -> BTreeMap<String, Vec<PortBinding>> {
    info.record
        .host
        .port_bindings
        .iter()
        .map(|(port, hosts)| (port.clone(), hosts.iter().map(|h| binding_of(h)).collect()))
        .collect()
}

/// `NetworkSettings.Ports`: empty unless running, as Docker's.
fn network_ports(info: &ContainerInfo) -> BTreeMap<String, Option<Vec<PortBinding>>> {
    let mut out = BTreeMap::new();
    if !info.record.state.status.is_running() {
        return out;
    }
    for key in info.record.config.exposed_port_keys() {
        out.insert(key, None);
    }
    for p in &info.ports {
        let binding = PortBinding { host_ip: p.host.ip().to_string(), host_port: p.host.port().to_string() };
        out.entry(p.container.to_string()).or_insert(None).get_or_insert_with(Vec::new).push(binding);
    }
    out
}

fn non_empty(v: &[String]) -> Option<Vec<String>> {
    (!v.is_empty()).then(|| v.to_vec())
}

impl From<&ContainerInfo> for ContainerJson {
    fn from(info: &ContainerInfo) -> Self {
        let r = &info.record;
        let status = r.state.status;
        let mut config = r.config.clone();
        if config.hostname.is_empty() {
            config.hostname = r.id.short().to_string();
        }
        ContainerJson {
            id: r.id.to_string(),
            created: time(r.created),
            path: r.path.clone(),
            args: r.args.clone(),
            state: StateJson {
                status: if info.paused { "paused" } else { status.as_str() },
                running: status.is_running(),
                paused: info.paused,
                restarting: false,
                oom_killed: r.state.oom_killed,
                dead: status == porthole_core::state::Status::Dead,
                pid: 0,
                exit_code: r.state.exit_code,
                error: r.state.error.clone(),
                started_at: time(r.state.started_at),
                finished_at: time(r.state.finished_at),
                health: info.health.as_ref().map(HealthJson::from),
            },
            image: format!("sha256:{}", r.image_id),
            name: format!("/{}", r.name.as_str()),
            restart_count: r.restart_count,
            driver: "porthole",
            platform: "linux",
            log_path: info.log_path.display().to_string(),
            volumes: r
                .mounts
                .iter()
                .zip(&info.sources)
                .map(|(m, s)| (m.destination.to_string(), s.display().to_string()))
                .collect(),
            volumes_rw: r.mounts.iter().map(|m| (m.destination.to_string(), m.rw)).collect(),
            host_config: HostConfigJson {
                binds: non_empty(&r.host.binds),
                volumes_from: non_empty(&r.host.volumes_from),
                auto_remove: r.host.auto_remove,
                readonly_rootfs: r.host.read_only_rootfs,
                port_bindings: port_bindings(info),
                publish_all_ports: r.host.publish_all_ports,
                mounts: r.host.mounts.iter().map(MountRequestJson::from).collect(),
                memory: r.host.memory_bytes.unwrap_or(0),
                pids_limit: r.host.pids_limit,
                storage_opt: r.host.storage_size.map(|s| BTreeMap::from([("size".to_string(), s.to_string())])),
                network_mode: network_mode(info),
                privileged: false,
                restart_policy: RestartPolicy { name: "no".into(), maximum_retry_count: 0 },
                log_config: LogConfigJson {
                    kind: porthole_core::log_config::JSON_FILE,
                    config: r.host.log.options.clone(),
                },
            },
            mounts: mounts(info),
            config: ConfigJson {
                config,
                domainname: "",
                attach_stdin: r.open_stdin,
                attach_stdout: true,
                attach_stderr: true,
                tty: r.tty,
                open_stdin: r.open_stdin,
                stdin_once: r.open_stdin,
                image: r.image.clone(),
            },
            graph_driver: GraphDriver {
                name: "porthole",
                data: BTreeMap::from([("MergedDir", info.rootfs.display().to_string())]),
            },
            network_settings: NetworkSettings { ports: network_ports(info), networks: networks(info) },
        }
    }
}

/// One row of `GET /containers/json` (`docker ps`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerSummary {
    pub id: String,
    pub names: Vec<String>,
    pub image: String,
    #[serde(rename = "ImageID")]
    pub image_id: String,
    pub command: String,
    pub created: i64,
    pub ports: Vec<PortJson>,
    pub labels: BTreeMap<String, String>,
    pub state: &'static str,
    pub status: String,
    pub host_config: BTreeMap<&'static str, String>,
    pub network_settings: NetworkSettings,
    pub mounts: Vec<MountJson>,
}

#[derive(Debug, Serialize)]
pub struct PortJson {
    #[serde(rename = "IP", skip_serializing_if = "String::is_empty")]
    pub ip: String,
    #[serde(rename = "PrivatePort")]
    pub private_port: u16,
    #[serde(rename = "PublicPort", skip_serializing_if = "Option::is_none")]
    pub public_port: Option<u16>,
    #[serde(rename = "Type")]
    pub kind: String,
}

/// `docker ps`'s STATUS column.
fn status_text(info: &ContainerInfo, now: i64) -> String {
    let s = &info.record.state;
    match s.status {
        porthole_core::state::Status::Created => "Created".into(),
        porthole_core::state::Status::Running => {
            let health = info.health.as_ref().map_or("", |h| h.status.ps_suffix());
            let paused = if info.paused { " (Paused)" } else { "" };
            format!("Up {}{paused}{health}", human_duration(now - s.started_at))
        }
        porthole_core::state::Status::Exited => {
            format!("Exited ({}) {} ago", s.exit_code, human_duration(now - s.finished_at))
        }
        porthole_core::state::Status::Dead => "Dead".into(),
    }
}

/// `docker ps`'s PORTS: while it runs, each bound address, and each exposed port that is not
/// published by its number alone, as Docker lists them.
fn ports(info: &ContainerInfo) -> Vec<PortJson> {
    let mut out = Vec::new();
    for (key, bindings) in network_ports(info) {
        let (number, proto) = key.split_once('/').unwrap_or((&key, "tcp"));
        let Ok(private_port) = number.parse() else {
            continue;
        };
        let kind = proto.to_string();
        match bindings {
            None => out.push(PortJson { ip: String::new(), private_port, public_port: None, kind }),
            Some(bs) => out.extend(bs.into_iter().map(|b| PortJson {
                ip: b.host_ip,
                private_port,
                public_port: b.host_port.parse().ok(),
                kind: kind.clone(),
            })),
        }
    }
    out
}

impl ContainerSummary {
    pub fn new(info: &ContainerInfo, now: i64) -> Self {
        let r = &info.record;
        let command = std::iter::once(&r.path).chain(&r.args).cloned().collect::<Vec<_>>().join(" ");
        ContainerSummary {
            id: r.id.to_string(),
            names: vec![format!("/{}", r.name.as_str())],
            image: r.image.clone(),
            image_id: format!("sha256:{}", r.image_id),
            command,
            created: r.created / 1_000_000_000,
            ports: ports(info),
            labels: r.config.labels.clone().unwrap_or_default(),
            state: if info.paused { "paused" } else { r.state.status.as_str() },
            status: status_text(info, now),
            host_config: BTreeMap::from([("NetworkMode", network_mode(info))]),
            network_settings: NetworkSettings { ports: BTreeMap::new(), networks: networks(info) },
            mounts: mounts(info),
        }
    }
}

/// A `GET /containers/json` row with, when asked (`size=1`, `docker ps -s`; always in
/// `system df`), the bytes of the container's own layer (`SizeRw`) and of it with the image's
/// under it (`SizeRootFs`, `docker ps -s`'s "virtual").
#[derive(Debug, Serialize)]
pub struct SizedContainer {
    #[serde(flatten)]
    pub summary: ContainerSummary,
    #[serde(rename = "SizeRw", skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<u64>,
    #[serde(rename = "SizeRootFs", skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<u64>,
}

impl SizedContainer {
    pub fn new(info: &ContainerInfo, now: i64, sizes: Option<(u64, u64)>) -> Self {
        let summary = ContainerSummary::new(info, now);
        SizedContainer { summary, size_rw: sizes.map(|s| s.0), size_root_fs: sizes.map(|s| s.1) }
    }
}

/// One entry of `GET /containers/{id}/changes` (moby's `container.FilesystemChange`): `Kind`
/// 0 modified, 1 added, 2 deleted.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChangeJson {
    pub path: String,
    pub kind: u8,
}

impl From<&porthole_engine::Change> for ChangeJson {
    fn from(c: &porthole_engine::Change) -> Self {
        Self { path: c.path.clone(), kind: c.kind as u8 }
    }
}

/// `GET /containers/{id}/top`: `ps -ef`'s columns. PIDs are the guests' numbers in the
/// container (see `porthole_engine::Process`); no CPU time is measured per guest, so `TIME`
/// says `-` rather than a made-up zero.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TopJson {
    pub titles: [&'static str; 8],
    pub processes: Vec<[String; 8]>,
}

/// `ps`'s TIME column: CPU time as `HH:MM:SS`.
fn cpu_time(nanos: u64) -> String {
    let s = nanos / 1_000_000_000;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

impl TopJson {
    pub fn new(processes: &[porthole_engine::Process]) -> Self {
        let row = |p: &porthole_engine::Process| {
            // `ps` shows the start as HH:MM (UTC here, as the controller's clock).
            let stime = porthole_core::time::rfc3339_secs(p.started).get(11..16).unwrap_or("").to_string();
            let tty = if p.tty { "pts/0" } else { "?" };
            [
                "root".into(),
                p.pid.to_string(),
                // What the engine started has the controller, outside the container, as parent.
                p.ppid.to_string(),
                "0".into(),
                stime,
                tty.into(),
                cpu_time(p.cpu_nanos),
                p.cmd.join(" "),
            ]
        };
        TopJson {
            titles: ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
            processes: processes.iter().map(row).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use porthole_core::mounts::{MountRequest, MountRequests, MountSource, VolumeRef, resolve_mounts};

    use super::*;

    /// `.Mounts` of each kind of mount, as Docker shows them: `Name` and `Driver` only for
    /// volumes, no `Source` for a tmpfs, `Propagation` only for binds.
    #[test]
    fn mounts_of_each_kind_as_docker_shows_them() {
        let req = MountRequests {
            binds: vec!["data:/data:ro".into(), "/host/:/dst".into()],
            mounts: vec![MountRequest { kind: Some(MountType::Tmpfs), target: "/tmp".into(), ..Default::default() }],
            volumes: vec!["/anon".into()],
            ..Default::default()
        };
        let mut plan = resolve_mounts(&req, &[], |_| None).unwrap();
        let mut lines = Vec::new();
        for m in &mut plan.mounts {
            if let MountSource::Volume { volume: volume @ VolumeRef::New, .. } = &mut m.source {
                *volume = VolumeRef::Anonymous("f00".into());
            }
            let source = match (m.volume(), m.bind_path()) {
                (Some(v), _) => format!("/root/volumes/{v}/_data"),
                (None, Some(p)) => p.to_string(),
                (None, None) => String::new(),
            };
            lines.push(serde_json::to_string(&mount_json(m, &source)).unwrap());
        }
        assert_eq!(
            lines.join("\n"),
            r#"{"Type":"volume","Name":"f00","Source":"/root/volumes/f00/_data","Destination":"/anon","Driver":"local","Mode":"","RW":true,"Propagation":""}
{"Type":"volume","Name":"data","Source":"/root/volumes/data/_data","Destination":"/data","Driver":"local","Mode":"ro","RW":false,"Propagation":""}
{"Type":"bind","Source":"/host","Destination":"/dst","Mode":"","RW":true,"Propagation":"rprivate"}
{"Type":"tmpfs","Source":"","Destination":"/tmp","Mode":"","RW":true,"Propagation":""}"#
        );
    }
}
