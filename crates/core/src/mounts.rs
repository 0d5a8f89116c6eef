//! Docker's mount rules, as pure functions: parsing `-v`/`--volume`, `--mount` and
//! `--volumes-from`, and `resolve_mounts()`, which turns a create request and an image's
//! `VOLUME`s into the container's mount points with moby's precedence and error texts
//! (moby `volume/mounts/linux_parser.go`, `daemon/volumes.go`, `daemon/create_unix.go`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::guest_path::{GuestPath, clean};
use crate::names::{NameError, VolumeName};

/// The three kinds of mount, as Docker names them (`type=` of `--mount`, `Type` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MountType {
    Volume,
    Bind,
    Tmpfs,
}

impl MountType {
    pub fn as_str(self) -> &'static str {
        match self {
            MountType::Volume => "volume",
            MountType::Bind => "bind",
            MountType::Tmpfs => "tmpfs",
        }
    }
}

/// A mount as the user asked for it (Docker's `mount.Mount`), from `-v` or `--mount`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MountRequest {
    pub kind: Option<MountType>,
    /// Volume name or host path; empty for an anonymous volume.
    pub source: String,
    pub target: String,
    pub readonly: bool,
    pub nocopy: bool,
    pub propagation: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// Create a missing bind source (`-v` always does; `--mount` only with `bind-create-src`).
    pub create_source: bool,
}

/// Why a mount specification was refused; the texts are Docker's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MountError {
    #[error("invalid volume specification: '{0}'")]
    InvalidSpec(String),
    #[error("invalid volume specification: '{raw}': {detail}")]
    InvalidSpecDetail { raw: String, detail: String },
    #[error("invalid mode: {0}")]
    InvalidMode(String),
    #[error("invalid mount config for type \"{kind}\": {detail}")]
    MountConfig { kind: String, detail: String },
    #[error("Duplicate mount point: {0}")]
    DuplicateMountPoint(String),
    #[error("No such container: {0}")]
    NoSuchContainer(String),
    #[error("volumes-from specification cannot be an empty string")]
    EmptyVolumesFrom,
    #[error(transparent)]
    Name(#[from] NameError),
    #[error("invalid field '{0}' must be a key=value pair")]
    NotKeyValue(String),
    #[error("unexpected key '{key}' in '{field}'")]
    UnexpectedKey { key: String, field: String },
    #[error("invalid value for {key}: {value}")]
    InvalidValue { key: String, value: String },
    #[error("target is required")]
    TargetRequired,
    #[error("cannot mix '{prefix}-*' options with mount type '{kind}'")]
    MixedOptions { prefix: &'static str, kind: String },
    #[error(
        "mode ro-non-recursive is not supported by Porthole: a read-only mount is read-only all the way down (use ro)"
    )]
    NonRecursiveReadOnly,
}

const PROPAGATION_MODES: [&str; 6] = ["private", "rprivate", "shared", "rshared", "slave", "rslave"];

/// moby's `linuxValidMountMode`: known options, at most one of each family.
fn valid_mode(mode: &str) -> bool {
    if mode.is_empty() {
        return true;
    }
    let mut counts = [0; 5];
    for opt in mode.split(',') {
        let family = match opt {
            // `rro` and `ro-force-recursive` are what Porthole's `ro` always is.
            "rw" | "ro" | "rro" | "ro-force-recursive" | "ro-non-recursive" => 0,
            "z" | "Z" => 1,
            o if PROPAGATION_MODES.contains(&o) => 2,
            "nocopy" => 3,
            "consistent" | "cached" | "delegated" => 4,
            _ => return false,
        };
        counts[family] += 1;
    }
    counts.iter().all(|c| *c <= 1)
}

fn mode_has(mode: &str, opt: &str) -> bool {
    mode.split(',').any(|o| o == opt)
}

fn mode_propagation(mode: &str) -> Option<String> {
    mode.split(',').find(|o| PROPAGATION_MODES.contains(o)).map(str::to_string)
}

/// The server-side checks moby makes on every mount (`validateMountConfigImpl`), minus the
/// existence of a bind source, which needs the file system.
fn validate(req: &MountRequest) -> Result<(), MountError> {
    let kind = req.kind.map(MountType::as_str).unwrap_or("");
    let fail = |detail: String| MountError::MountConfig { kind: kind.to_string(), detail };
    if req.target.is_empty() {
        return Err(fail("field Target must not be empty".into()));
    }
    if clean(&req.target) == "/" {
        return Err(fail("invalid specification: destination can't be '/'".into()));
    }
    if !req.target.starts_with('/') {
        return Err(fail(format!("invalid mount path: '{}' mount path must be absolute", req.target)));
    }
    match req.kind {
        Some(MountType::Bind) => {
            if req.source.is_empty() {
                return Err(fail("field Source must not be empty".into()));
            }
            if !req.source.starts_with('/') {
                return Err(fail(format!("invalid mount path: '{}' mount path must be absolute", req.source)));
            }
        }
        Some(MountType::Volume) => {
            if req.readonly && req.source.is_empty() {
                return Err(fail("must not set ReadOnly mode when using anonymous volumes".into()));
            }
            // Propagation is a bind option (`-v name:/dst:shared` is refused by moby).
            if req.propagation.is_some() {
                return Err(fail("field BindOptions must not be specified".into()));
            }
        }
        Some(MountType::Tmpfs) => {
            if !req.source.is_empty() {
                return Err(fail("invalid option: Source must not be specified for tmpfs".into()));
            }
        }
        None => return Err(fail("mount type unknown".into())),
    }
    Ok(())
}

/// A parsed `-v SPEC`: the request and the mode text as written (Docker's `Mode` field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeFlag {
    pub request: MountRequest,
    pub mode: String,
}

/// Parses `-v`: `name:/dst[:opts]`, `/host:/dst[:opts]` or `/dst` (moby `ParseMountRaw`).
pub fn parse_volume_flag(raw: &str) -> Result<VolumeFlag, MountError> {
    let invalid = || MountError::InvalidSpec(raw.to_string());
    if raw.matches(':').count() > 2 {
        return Err(invalid());
    }
    let parts: Vec<&str> = raw.splitn(3, ':').collect();
    if parts[0].is_empty() {
        return Err(invalid());
    }
    let (source, target, mode) = match parts.as_slice() {
        [target] => ("", *target, ""),
        // `/foo:rw` names a destination and a mode but no source: not a volume.
        [_, second] if valid_mode(second) && !second.is_empty() => return Err(invalid()),
        [source, target] => (*source, *target, ""),
        [source, target, mode] => (*source, *target, *mode),
        _ => return Err(invalid()),
    };
    if !valid_mode(mode) {
        return Err(MountError::InvalidMode(mode.to_string()));
    }
    if mode_has(mode, "ro-non-recursive") {
        return Err(MountError::NonRecursiveReadOnly);
    }
    let kind = if source.starts_with('/') { MountType::Bind } else { MountType::Volume };
    let request = MountRequest {
        kind: Some(kind),
        source: source.to_string(),
        target: target.to_string(),
        readonly: ["ro", "rro", "ro-force-recursive"].iter().any(|ro| mode_has(mode, ro)),
        nocopy: mode_has(mode, "nocopy"),
        propagation: mode_propagation(mode),
        labels: BTreeMap::new(),
        create_source: true,
    };
    validate(&request).map_err(|e| MountError::InvalidSpecDetail { raw: raw.to_string(), detail: e.to_string() })?;
    Ok(VolumeFlag { request, mode: mode.to_string() })
}

/// Splits one CSV record as Go's `encoding/csv` would for `--mount` values.
fn csv_fields(value: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

fn parse_bool(key: &str, value: &str) -> Result<bool, MountError> {
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(MountError::InvalidValue { key: key.to_string(), value: value.to_string() }),
    }
}

/// Parses `--mount type=…,src=…,dst=…,…` as the docker CLI does (`opts/mount.go`); the type
/// defaults to `volume`.
pub fn parse_mount_flag(value: &str) -> Result<MountRequest, MountError> {
    let mut req = MountRequest::default();
    let (mut volume_opts, mut bind_opts) = (false, false);
    for field in csv_fields(value) {
        let (key, val) = match field.split_once('=') {
            Some((k, v)) => (k.to_lowercase(), Some(v.to_string())),
            None => (field.to_lowercase(), None),
        };
        match (key.as_str(), val) {
            ("readonly" | "ro", None) => req.readonly = true,
            ("volume-nocopy", None) => {
                req.nocopy = true;
                volume_opts = true;
            }
            ("bind-create-src", None) => {
                req.create_source = true;
                bind_opts = true;
            }
            (_, None) => return Err(MountError::NotKeyValue(field)),
            ("type", Some(v)) => {
                req.kind = match v.to_lowercase().as_str() {
                    "volume" => Some(MountType::Volume),
                    "bind" => Some(MountType::Bind),
                    "tmpfs" => Some(MountType::Tmpfs),
                    _ => {
                        return Err(MountError::MountConfig { kind: v, detail: "mount type unknown".into() });
                    }
                }
            }
            ("source" | "src", Some(v)) => req.source = v,
            ("target" | "dst" | "destination", Some(v)) => req.target = v,
            ("readonly" | "ro", Some(v)) => req.readonly = parse_bool(&key, &v)?,
            ("volume-nocopy", Some(v)) => {
                req.nocopy = parse_bool(&key, &v)?;
                volume_opts = true;
            }
            ("volume-label", Some(v)) => {
                let (k, lv) = v.split_once('=').unwrap_or((v.as_str(), ""));
                req.labels.insert(k.to_string(), lv.to_string());
                volume_opts = true;
            }
            ("bind-propagation", Some(v)) => {
                req.propagation = Some(v.to_lowercase());
                bind_opts = true;
            }
            ("bind-create-src", Some(v)) => {
                req.create_source = parse_bool(&key, &v)?;
                bind_opts = true;
            }
            ("consistency", Some(_)) => {}
            (_, Some(_)) => return Err(MountError::UnexpectedKey { key, field }),
        }
    }
    let kind = *req.kind.get_or_insert(MountType::Volume);
    if req.target.is_empty() {
        return Err(MountError::TargetRequired);
    }
    if volume_opts && kind != MountType::Volume {
        return Err(MountError::MixedOptions { prefix: "volume", kind: kind.as_str().into() });
    }
    if bind_opts && kind != MountType::Bind {
        return Err(MountError::MixedOptions { prefix: "bind", kind: kind.as_str().into() });
    }
    Ok(req)
}

/// `--volumes-from c[:ro|:rw]`: the container reference and whether mounts stay writable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumesFrom {
    pub container: String,
    pub read_write: bool,
}

/// Parses `--volumes-from` (moby `ParseVolumesFrom`): no propagation or copy modes allowed.
pub fn parse_volumes_from(spec: &str) -> Result<VolumesFrom, MountError> {
    if spec.is_empty() {
        return Err(MountError::EmptyVolumesFrom);
    }
    let (container, mode) = spec.split_once(':').unwrap_or((spec, ""));
    if !valid_mode(mode) || mode_propagation(mode).is_some() || mode_has(mode, "nocopy") {
        return Err(MountError::InvalidMode(mode.to_string()));
    }
    Ok(VolumesFrom { container: container.to_string(), read_write: !mode_has(mode, "ro") })
}

/// One mount of a container, as `docker inspect` reports it and as the engine sets it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountPoint {
    pub destination: GuestPath,
    /// What is mounted there; each kind carries only the fields that kind has.
    pub source: MountSource,
    pub rw: bool,
    /// Docker's `Mode`: the `-v` options as written, `z` for local named volumes.
    pub mode: String,
    /// The container this mount was taken from by `--volumes-from`.
    pub inherited_from: Option<String>,
}

/// What a mount point mounts: a volume, a host path, or a tmpfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountSource {
    Volume {
        volume: VolumeRef,
        /// Labels for a volume created by this mount (`--mount volume-label=…`).
        labels: BTreeMap<String, String>,
        /// Copy the image's content at the destination into the volume if it is empty (at
        /// create); false with `nocopy` and for mounts taken by `--volumes-from`.
        copy_data: bool,
    },
    Bind {
        /// The host path, cleaned (a directory, or one file).
        path: String,
        /// Docker's `Propagation` (`rprivate` unless asked otherwise).
        propagation: String,
        /// Create a missing source directory (`-v` always; `--mount` with `bind-create-src`).
        create_source: bool,
    },
    /// A container-private directory, empty at each start's creation.
    Tmpfs,
}

/// Which volume a volume mount uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeRef {
    /// A volume the user named (`-v name:/dst`): kept by `rm -v`.
    Named(String),
    /// A volume made for a `VOLUME` or `-v /dst`, named by the engine: removed by `rm -v`.
    Anonymous(String),
    /// An anonymous volume the engine has still to create: found only in a plan.
    New,
}

impl VolumeRef {
    /// The volume's name, once it has one.
    pub fn name(&self) -> Option<&str> {
        match self {
            VolumeRef::Named(n) | VolumeRef::Anonymous(n) => Some(n),
            VolumeRef::New => None,
        }
    }
}

impl MountPoint {
    pub fn kind(&self) -> MountType {
        match self.source {
            MountSource::Volume { .. } => MountType::Volume,
            MountSource::Bind { .. } => MountType::Bind,
            MountSource::Tmpfs => MountType::Tmpfs,
        }
    }

    /// The volume mounted here, if it is a volume that has a name.
    pub fn volume(&self) -> Option<&str> {
        match &self.source {
            MountSource::Volume { volume, .. } => volume.name(),
            _ => None,
        }
    }

    /// The name of the anonymous volume mounted here, if that is what is mounted.
    pub fn anonymous_volume(&self) -> Option<&str> {
        match &self.source {
            MountSource::Volume { volume: VolumeRef::Anonymous(n), .. } => Some(n),
            _ => None,
        }
    }

    /// The host path of a bind.
    pub fn bind_path(&self) -> Option<&str> {
        match &self.source {
            MountSource::Bind { path, .. } => Some(path),
            _ => None,
        }
    }

    /// Docker's `Propagation`: a bind's, empty for the other kinds.
    pub fn propagation(&self) -> &str {
        match &self.source {
            MountSource::Bind { propagation, .. } => propagation,
            _ => "",
        }
    }
}

/// What a container's create request says about mounts.
#[derive(Debug, Clone, Default)]
pub struct MountRequests {
    /// `-v`/`--volume` values with a source (HostConfig.Binds).
    pub binds: Vec<String>,
    /// `--mount` values (HostConfig.Mounts).
    pub mounts: Vec<MountRequest>,
    /// `--volumes-from` values, in order.
    pub volumes_from: Vec<String>,
    /// `-v /dst` destinations (Config.Volumes), merged with the image's `VOLUME`s.
    pub volumes: Vec<String>,
}

/// The mount points of a new container, parents before children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountPlan {
    pub mounts: Vec<MountPoint>,
}

/// Resolves a create request against an image's `VOLUME`s and the existing containers
/// (`containers(reference)` gives a container's id and mounts), with moby's precedence:
/// `--volumes-from` first (a later source wins), then `-v` binds and named volumes, then
/// `--mount` (both replace a volumes-from entry silently, but not each other), then an
/// anonymous volume for each `VOLUME`/`-v /dst` destination that has no mount yet.
pub fn resolve_mounts(
    req: &MountRequests,
    image_volumes: &[String],
    containers: impl Fn(&str) -> Option<(String, Vec<MountPoint>)>,
) -> Result<MountPlan, MountError> {
    let mut points: BTreeMap<GuestPath, MountPoint> = BTreeMap::new();
    let mut explicit: BTreeSet<GuestPath> = BTreeSet::new();

    for spec in &req.volumes_from {
        let from = parse_volumes_from(spec)?;
        let (id, mounts) =
            containers(&from.container).ok_or_else(|| MountError::NoSuchContainer(from.container.clone()))?;
        for m in mounts {
            // The volume or path is shared as it is; what to do at creation is not.
            let source = match m.source {
                MountSource::Volume { volume, labels, .. } => MountSource::Volume { volume, labels, copy_data: false },
                MountSource::Bind { path, propagation, .. } => {
                    MountSource::Bind { path, propagation, create_source: false }
                }
                MountSource::Tmpfs => MountSource::Tmpfs,
            };
            let inherited = MountPoint {
                destination: m.destination,
                source,
                rw: m.rw && from.read_write,
                mode: String::new(),
                inherited_from: Some(id.clone()),
            };
            points.insert(inherited.destination.clone(), inherited);
        }
    }

    for raw in &req.binds {
        let flag = parse_volume_flag(raw)?;
        let mount = planned(&flag.request, flag.mode)?;
        if !explicit.insert(mount.destination.clone()) {
            return Err(MountError::DuplicateMountPoint(mount.destination.to_string()));
        }
        points.insert(mount.destination.clone(), mount);
    }

    for request in &req.mounts {
        validate(request)?;
        let mount = planned(request, String::new())?;
        if !explicit.insert(mount.destination.clone()) {
            return Err(MountError::DuplicateMountPoint(request.target.clone()));
        }
        points.insert(mount.destination.clone(), mount);
    }

    for spec in image_volumes.iter().chain(&req.volumes) {
        let Some(destination) = GuestPath::new(spec) else {
            return Err(MountError::InvalidSpecDetail {
                raw: spec.clone(),
                detail: format!("invalid mount path: '{spec}' mount path must be absolute"),
            });
        };
        if destination.is_root() {
            return Err(MountError::InvalidSpecDetail {
                raw: spec.clone(),
                detail: "invalid specification: destination can't be '/'".into(),
            });
        }
        points.entry(destination.clone()).or_insert_with(|| MountPoint {
            destination,
            source: MountSource::Volume { volume: VolumeRef::New, labels: BTreeMap::new(), copy_data: true },
            rw: true,
            mode: String::new(),
            inherited_from: None,
        });
    }

    let mut mounts: Vec<MountPoint> = points.into_values().collect();
    mounts.sort_by(|a, b| {
        (a.destination.components().count(), &a.destination).cmp(&(b.destination.components().count(), &b.destination))
    });
    Ok(MountPlan { mounts })
}

/// The mount point for a validated `-v` or `--mount` request.
fn planned(req: &MountRequest, mode: String) -> Result<MountPoint, MountError> {
    let destination = GuestPath::new(&req.target).expect("validated as absolute");
    let (source, mode) = match req.kind.unwrap_or(MountType::Volume) {
        MountType::Volume => {
            let volume = if req.source.is_empty() {
                VolumeRef::New
            } else {
                VolumeName::new(&req.source)?;
                VolumeRef::Named(req.source.clone())
            };
            let source = MountSource::Volume { volume, labels: req.labels.clone(), copy_data: !req.nocopy };
            // moby's setBindModeIfNull: local volumes get SELinux-shared `z` when no mode was given.
            (source, if mode.is_empty() { "z".into() } else { mode })
        }
        MountType::Bind => {
            let propagation = req.propagation.clone().unwrap_or_else(|| "rprivate".into());
            (MountSource::Bind { path: clean(&req.source), propagation, create_source: req.create_source }, mode)
        }
        MountType::Tmpfs => (MountSource::Tmpfs, mode),
    };
    Ok(MountPoint { destination, source, rw: !req.readonly, mode, inherited_from: None })
}

impl fmt::Display for MountPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match &self.source {
            MountSource::Bind { path, .. } => format!("bind {path}"),
            MountSource::Volume { volume: VolumeRef::Named(v), .. } => format!("volume {v}"),
            MountSource::Volume { volume: VolumeRef::Anonymous(v), .. } => format!("anonymous {v}"),
            MountSource::Volume { volume: VolumeRef::New, .. } => "anonymous (new)".to_string(),
            MountSource::Tmpfs => "tmpfs".to_string(),
        };
        write!(f, "{} <- {what} {}", self.destination, if self.rw { "rw" } else { "ro" })?;
        if !self.mode.is_empty() {
            write!(f, " mode={}", self.mode)?;
        }
        if !self.propagation().is_empty() {
            write!(f, " propagation={}", self.propagation())?;
        }
        match &self.source {
            MountSource::Volume { copy_data: true, .. } => f.write_str(" copy")?,
            MountSource::Bind { create_source: true, .. } => f.write_str(" create-source")?,
            _ => {}
        }
        if let Some(c) = &self.inherited_from {
            write!(f, " from={c}")?;
        }
        Ok(())
    }
}

impl fmt::Display for MountPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for m in &self.mounts {
            writeln!(f, "{m}")?;
        }
        Ok(())
    }
}
