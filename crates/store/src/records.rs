//! The records the store keeps as JSON, one file each.
//!
//! The in-memory records (`ContainerRecord`, `VolumeRecord`, `ImageRecord`) are what the engine
//! works with, in core's types. On disk each is written as a store-owned `*File` type with a
//! `version` and serde defaults on every field, converted by `From`/`TryFrom`: a core type can
//! change without changing the files, a file from an older Porthole (no `version`, fields
//! missing) still opens, and one from a newer Porthole is refused (and quarantined by recovery)
//! rather than misread. `ImageConfig` is kept as it is: it is Docker's own JSON shape.

use std::collections::BTreeMap;

use porthole_core::config::ImageConfig;
use porthole_core::guest_path::GuestPath;
use porthole_core::log_config::LogConfig;
use porthole_core::mounts::{MountPoint, MountRequest, MountSource, MountType, VolumeRef};
use porthole_core::names::{ContainerName, Id, NetworkName};
use porthole_core::state::Status;

/// The version of the record files this Porthole writes. Files without one are version 0 (all
/// of HostConfig but `Mounts` was kept then); their missing fields take their defaults.
/// Version 2: an image's `history` is one entry per step (`HistoryEntry`), not a line of text.
pub const RECORD_VERSION: u32 = 2;

/// Why a record file cannot become a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record version {0} is newer than this Porthole reads ({RECORD_VERSION})")]
    TooNew(u32),
    #[error("invalid {field} in record: {value:?}")]
    Invalid { field: &'static str, value: String },
}

fn check_version(version: u32) -> Result<(), RecordError> {
    if version > RECORD_VERSION { Err(RecordError::TooNew(version)) } else { Ok(()) }
}

/// `volumes/<name>/meta.json`
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "VolumeFile", try_from = "VolumeFile")]
pub struct VolumeRecord {
    pub name: String,
    /// Epoch nanoseconds.
    pub created: i64,
    pub labels: BTreeMap<String, String>,
    /// Driver options as given (`--opt size=10m`), shown by inspect as `Options`.
    pub options: BTreeMap<String, String>,
}

/// A volume record on disk.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct VolumeFile {
    version: u32,
    name: String,
    created: i64,
    labels: BTreeMap<String, String>,
    options: BTreeMap<String, String>,
}

impl From<VolumeRecord> for VolumeFile {
    fn from(v: VolumeRecord) -> Self {
        VolumeFile { version: RECORD_VERSION, name: v.name, created: v.created, labels: v.labels, options: v.options }
    }
}

impl TryFrom<VolumeFile> for VolumeRecord {
    type Error = RecordError;
    fn try_from(f: VolumeFile) -> Result<Self, RecordError> {
        check_version(f.version)?;
        if f.name.is_empty() {
            return Err(RecordError::Invalid { field: "name", value: f.name });
        }
        Ok(VolumeRecord { name: f.name, created: f.created, labels: f.labels, options: f.options })
    }
}

/// Docker marks volumes made for a `VOLUME` or `-v /dst` with this label.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

impl VolumeRecord {
    pub fn is_anonymous(&self) -> bool {
        self.labels.contains_key(ANONYMOUS_LABEL)
    }
}

/// `networks/<id>.json`: a network made by `docker network create` (or docker-compose). Guests
/// have no network stack, so this is a record only: it names a network containers can be
/// attached to, and nothing more (the three default networks are fixed and never stored).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "NetworkFile", try_from = "NetworkFile")]
pub struct NetworkRecord {
    pub id: Id,
    pub name: NetworkName,
    /// Epoch nanoseconds.
    pub created: i64,
    /// `bridge` (the only driver a created network may have here).
    pub driver: String,
    pub labels: BTreeMap<String, String>,
    /// Driver options as given (`-o`), shown by inspect as `Options`.
    pub options: BTreeMap<String, String>,
    pub internal: bool,
    pub attachable: bool,
    pub enable_ipv6: bool,
}

/// A network record on disk.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct NetworkFile {
    version: u32,
    id: String,
    name: String,
    created: i64,
    driver: String,
    labels: BTreeMap<String, String>,
    options: BTreeMap<String, String>,
    internal: bool,
    attachable: bool,
    enable_ipv6: bool,
}

impl From<NetworkRecord> for NetworkFile {
    fn from(n: NetworkRecord) -> Self {
        NetworkFile {
            version: RECORD_VERSION,
            id: n.id.to_string(),
            name: n.name.to_string(),
            created: n.created,
            driver: n.driver,
            labels: n.labels,
            options: n.options,
            internal: n.internal,
            attachable: n.attachable,
            enable_ipv6: n.enable_ipv6,
        }
    }
}

impl TryFrom<NetworkFile> for NetworkRecord {
    type Error = RecordError;
    fn try_from(f: NetworkFile) -> Result<Self, RecordError> {
        check_version(f.version)?;
        Ok(NetworkRecord {
            id: Id::new(&f.id).map_err(|_| RecordError::Invalid { field: "id", value: f.id })?,
            name: NetworkName::new(&f.name).map_err(|_| RecordError::Invalid { field: "name", value: f.name })?,
            created: f.created,
            driver: f.driver,
            labels: f.labels,
            options: f.options,
            internal: f.internal,
            attachable: f.attachable,
            enable_ipv6: f.enable_ipv6,
        })
    }
}

/// A container's place on one network (`NetworkSettings.Networks.<name>`): only the aliases it
/// was given, since a guest gets no address.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Endpoint {
    pub aliases: Vec<String>,
}

/// What the user asked for at create that Docker reports under `HostConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostOptions {
    pub binds: Vec<String>,
    /// `--mount` requests as given (`HostConfig.Mounts`).
    pub mounts: Vec<MountRequest>,
    pub volumes_from: Vec<String>,
    pub auto_remove: bool,
    pub read_only_rootfs: bool,
    /// `-p` as given (`8080:80/tcp` → host port by container port).
    pub port_bindings: BTreeMap<String, Vec<String>>,
    /// `-P`: publish every exposed port on a free host port.
    pub publish_all_ports: bool,
    pub memory_bytes: Option<u64>,
    /// `--pids-limit` when given (positive): how many processes the container may hold.
    pub pids_limit: Option<u64>,
    /// `--storage-opt size=`: a quota in bytes on the writable rootfs.
    pub storage_size: Option<u64>,
    /// `--log-driver` / `--log-opt`, defaults merged in; records older than it get the defaults.
    pub log: LogConfig,
    /// `--network` as given (`HostConfig.NetworkMode`; empty means `default`).
    pub network_mode: String,
    /// The networks it is attached to, by network id (a default network's fixed id or a
    /// created one's): from create, `network connect` and `disconnect`, until it is removed.
    /// Records from before networks have none, and are shown on `bridge`.
    pub networks: BTreeMap<String, Endpoint>,
}

/// Run state, as `State` in `docker inspect`.
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[serde(into = "ContainerFile", try_from = "ContainerFile")]
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
    /// The image layers under the container's rootfs, bottom first (`layers/<id>/`): its
    /// rootfs is then only its writable upper layer. Empty for a container made before layers
    /// existed, whose rootfs is a whole copy of its image and stands alone.
    pub layers: Vec<String>,
}

/// `images/<id>/config.json`
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "ImageFile", try_from = "ImageFile")]
pub struct ImageRecord {
    pub id: String,
    pub created: i64,
    pub config: ImageConfig,
    /// The image this one was made from: the previous step's image for a build step (so a
    /// build leaves a chain of intermediate images), the container's image for a commit;
    /// empty for `scratch` and the base image.
    pub parent: String,
    /// Bytes in its layers.
    pub size: u64,
    /// One entry per step that made it, oldest first, its parent's entries included (what
    /// `docker history` lists); the entries that are not `empty_layer` pair with `layers`.
    pub history: Vec<HistoryEntry>,
    /// Its layers (`<root>/layers/<id>/`), bottom first; shared with containers made from it.
    pub layers: Vec<String>,
}

/// One step of an image's making, as OCI's and Docker's image `history` keep it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct HistoryEntry {
    /// Epoch nanoseconds.
    pub created: i64,
    /// Docker's text: `/bin/sh -c #(nop)  CMD ["sh"]`, `/bin/sh -c echo hi`, … The build
    /// cache matches a step by it (with the parent and the config).
    pub created_by: String,
    /// `docker commit -m`.
    pub comment: String,
    /// `docker commit -a`, `MAINTAINER`.
    pub author: String,
    /// True when the step made no layer (metadata only, or no file changed).
    pub empty_layer: bool,
}

/// A history entry on disk: a line of text in files before version 2 (a flattened build's
/// Dockerfile lines, none of them a layer of its own).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum HistoryFile {
    Entry(HistoryEntry),
    Line(String),
}

/// An image record on disk.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct ImageFile {
    version: u32,
    id: String,
    created: i64,
    config: ImageConfig,
    parent: String,
    size: u64,
    history: Vec<HistoryFile>,
    layers: Vec<String>,
}

impl From<ImageRecord> for ImageFile {
    fn from(i: ImageRecord) -> Self {
        ImageFile {
            version: RECORD_VERSION,
            id: i.id,
            created: i.created,
            config: i.config,
            parent: i.parent,
            size: i.size,
            history: i.history.into_iter().map(HistoryFile::Entry).collect(),
            layers: i.layers,
        }
    }
}

impl TryFrom<ImageFile> for ImageRecord {
    type Error = RecordError;
    fn try_from(f: ImageFile) -> Result<Self, RecordError> {
        check_version(f.version)?;
        if f.id.is_empty() {
            return Err(RecordError::Invalid { field: "id", value: f.id });
        }
        let created = f.created;
        let history = f
            .history
            .into_iter()
            .map(|h| match h {
                HistoryFile::Entry(e) => e,
                HistoryFile::Line(created_by) => {
                    HistoryEntry { created, created_by, empty_layer: true, ..Default::default() }
                }
            })
            .collect();
        Ok(ImageRecord {
            id: f.id,
            created: f.created,
            config: f.config,
            parent: f.parent,
            size: f.size,
            history,
            layers: f.layers,
        })
    }
}

/// A container record on disk.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct ContainerFile {
    version: u32,
    id: String,
    name: String,
    created: i64,
    image: String,
    image_id: String,
    config: ImageConfig,
    tty: bool,
    open_stdin: bool,
    path: String,
    args: Vec<String>,
    host: HostFile,
    mounts: Vec<MountFile>,
    state: StateFile,
    restart_count: u32,
    layers: Vec<String>,
}

impl From<ContainerRecord> for ContainerFile {
    fn from(c: ContainerRecord) -> Self {
        ContainerFile {
            version: RECORD_VERSION,
            id: c.id.to_string(),
            name: c.name.to_string(),
            created: c.created,
            image: c.image,
            image_id: c.image_id,
            config: c.config,
            tty: c.tty,
            open_stdin: c.open_stdin,
            path: c.path,
            args: c.args,
            host: c.host.into(),
            mounts: c.mounts.into_iter().map(MountFile::from).collect(),
            state: c.state.into(),
            restart_count: c.restart_count,
            layers: c.layers,
        }
    }
}

impl TryFrom<ContainerFile> for ContainerRecord {
    type Error = RecordError;
    fn try_from(f: ContainerFile) -> Result<Self, RecordError> {
        check_version(f.version)?;
        Ok(ContainerRecord {
            id: Id::new(&f.id).map_err(|_| RecordError::Invalid { field: "id", value: f.id })?,
            name: ContainerName::new(&f.name).map_err(|_| RecordError::Invalid { field: "name", value: f.name })?,
            created: f.created,
            image: f.image,
            image_id: f.image_id,
            config: f.config,
            tty: f.tty,
            open_stdin: f.open_stdin,
            path: f.path,
            args: f.args,
            host: f.host.into(),
            mounts: f.mounts.into_iter().map(MountPoint::try_from).collect::<Result<_, _>>()?,
            state: f.state.into(),
            restart_count: f.restart_count,
            layers: f.layers,
        })
    }
}

/// `HostOptions` on disk.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct HostFile {
    binds: Vec<String>,
    mounts: Vec<MountRequestFile>,
    volumes_from: Vec<String>,
    auto_remove: bool,
    read_only_rootfs: bool,
    port_bindings: BTreeMap<String, Vec<String>>,
    publish_all_ports: bool,
    memory_bytes: Option<u64>,
    pids_limit: Option<u64>,
    storage_size: Option<u64>,
    /// The json-file options (`max-size`, `max-file`), defaults merged in.
    log_options: BTreeMap<String, String>,
    network_mode: String,
    networks: BTreeMap<String, Endpoint>,
}

impl From<HostOptions> for HostFile {
    fn from(h: HostOptions) -> Self {
        HostFile {
            binds: h.binds,
            mounts: h.mounts.into_iter().map(MountRequestFile::from).collect(),
            volumes_from: h.volumes_from,
            auto_remove: h.auto_remove,
            read_only_rootfs: h.read_only_rootfs,
            port_bindings: h.port_bindings,
            publish_all_ports: h.publish_all_ports,
            memory_bytes: h.memory_bytes,
            pids_limit: h.pids_limit,
            storage_size: h.storage_size,
            log_options: h.log.options,
            network_mode: h.network_mode,
            networks: h.networks,
        }
    }
}

impl From<HostFile> for HostOptions {
    fn from(h: HostFile) -> Self {
        HostOptions {
            binds: h.binds,
            mounts: h.mounts.into_iter().map(MountRequest::from).collect(),
            volumes_from: h.volumes_from,
            auto_remove: h.auto_remove,
            read_only_rootfs: h.read_only_rootfs,
            port_bindings: h.port_bindings,
            publish_all_ports: h.publish_all_ports,
            memory_bytes: h.memory_bytes,
            pids_limit: h.pids_limit,
            storage_size: h.storage_size,
            // Options this controller wrote itself; a record from before them gets the defaults.
            log: LogConfig::parse("", &h.log_options).unwrap_or_default(),
            network_mode: h.network_mode,
            networks: h.networks,
        }
    }
}

/// A mount's type on disk (core's `MountType`, spelled as Docker does).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum MountKind {
    #[default]
    Volume,
    Bind,
    Tmpfs,
}

impl From<MountType> for MountKind {
    fn from(t: MountType) -> Self {
        match t {
            MountType::Volume => MountKind::Volume,
            MountType::Bind => MountKind::Bind,
            MountType::Tmpfs => MountKind::Tmpfs,
        }
    }
}

impl From<MountKind> for MountType {
    fn from(k: MountKind) -> Self {
        match k {
            MountKind::Volume => MountType::Volume,
            MountKind::Bind => MountType::Bind,
            MountKind::Tmpfs => MountType::Tmpfs,
        }
    }
}

/// A `--mount` request on disk (`HostConfig.Mounts`).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct MountRequestFile {
    kind: Option<MountKind>,
    source: String,
    target: String,
    readonly: bool,
    nocopy: bool,
    propagation: Option<String>,
    labels: BTreeMap<String, String>,
    create_source: bool,
}

impl From<MountRequest> for MountRequestFile {
    fn from(m: MountRequest) -> Self {
        MountRequestFile {
            kind: m.kind.map(MountKind::from),
            source: m.source,
            target: m.target,
            readonly: m.readonly,
            nocopy: m.nocopy,
            propagation: m.propagation,
            labels: m.labels,
            create_source: m.create_source,
        }
    }
}

impl From<MountRequestFile> for MountRequest {
    fn from(m: MountRequestFile) -> Self {
        MountRequest {
            kind: m.kind.map(MountType::from),
            source: m.source,
            target: m.target,
            readonly: m.readonly,
            nocopy: m.nocopy,
            propagation: m.propagation,
            labels: m.labels,
            create_source: m.create_source,
        }
    }
}

/// A resolved mount point on disk (core's `MountPoint`), flat as it was before the kinds had
/// their own fields: `volume`/`named`/`copy_data`/`volume_labels` belong to volumes,
/// `source`/`create_source`/`propagation` to binds, so files of either shape read the same.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct MountFile {
    kind: MountKind,
    destination: String,
    volume: Option<String>,
    source: Option<String>,
    rw: bool,
    mode: String,
    propagation: String,
    copy_data: bool,
    create_source: bool,
    named: bool,
    volume_labels: BTreeMap<String, String>,
    inherited_from: Option<String>,
}

impl From<MountPoint> for MountFile {
    fn from(m: MountPoint) -> Self {
        let mut f = MountFile {
            destination: m.destination.to_string(),
            rw: m.rw,
            mode: m.mode,
            inherited_from: m.inherited_from,
            ..MountFile::default()
        };
        match m.source {
            MountSource::Volume { volume, labels, copy_data } => {
                f.kind = MountKind::Volume;
                f.named = matches!(volume, VolumeRef::Named(_));
                f.volume = volume.name().map(str::to_string);
                f.volume_labels = labels;
                f.copy_data = copy_data;
            }
            MountSource::Bind { path, propagation, create_source } => {
                f.kind = MountKind::Bind;
                f.source = Some(path);
                f.propagation = propagation;
                f.create_source = create_source;
            }
            MountSource::Tmpfs => f.kind = MountKind::Tmpfs,
        }
        f
    }
}

impl TryFrom<MountFile> for MountPoint {
    type Error = RecordError;
    fn try_from(m: MountFile) -> Result<Self, RecordError> {
        let destination = GuestPath::new(&m.destination)
            .ok_or(RecordError::Invalid { field: "mount destination", value: m.destination.clone() })?;
        let source = match m.kind {
            // A recorded volume mount always has its volume: `New` exists only in a plan.
            MountKind::Volume => {
                let name = m.volume.ok_or(RecordError::Invalid { field: "mount volume", value: m.destination })?;
                let volume = if m.named { VolumeRef::Named(name) } else { VolumeRef::Anonymous(name) };
                MountSource::Volume { volume, labels: m.volume_labels, copy_data: m.copy_data }
            }
            MountKind::Bind => MountSource::Bind {
                path: m.source.ok_or(RecordError::Invalid { field: "bind source", value: m.destination })?,
                propagation: m.propagation,
                create_source: m.create_source,
            },
            MountKind::Tmpfs => MountSource::Tmpfs,
        };
        Ok(MountPoint { destination, source, rw: m.rw, mode: m.mode, inherited_from: m.inherited_from })
    }
}

/// A container state on disk (core's `Status`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum StatusFile {
    #[default]
    Created,
    Running,
    Exited,
    Dead,
}

/// `StateRecord` on disk.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct StateFile {
    status: StatusFile,
    exit_code: i32,
    oom_killed: bool,
    error: String,
    started_at: i64,
    finished_at: i64,
}

impl From<StateRecord> for StateFile {
    fn from(s: StateRecord) -> Self {
        let status = match s.status {
            Status::Created => StatusFile::Created,
            Status::Running => StatusFile::Running,
            Status::Exited => StatusFile::Exited,
            Status::Dead => StatusFile::Dead,
        };
        StateFile {
            status,
            exit_code: s.exit_code,
            oom_killed: s.oom_killed,
            error: s.error,
            started_at: s.started_at,
            finished_at: s.finished_at,
        }
    }
}

impl From<StateFile> for StateRecord {
    fn from(s: StateFile) -> Self {
        let status = match s.status {
            StatusFile::Created => Status::Created,
            StatusFile::Running => Status::Running,
            StatusFile::Exited => Status::Exited,
            StatusFile::Dead => Status::Dead,
        };
        StateRecord {
            status,
            exit_code: s.exit_code,
            oom_killed: s.oom_killed,
            error: s.error,
            started_at: s.started_at,
            finished_at: s.finished_at,
        }
    }
}
