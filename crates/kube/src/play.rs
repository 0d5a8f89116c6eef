//! `kube play`: a manifest (Pods and PersistentVolumeClaims, `---` separated) → a `PlayPlan`
//! the CLI carries out through the Docker API. Everything is checked here, before anything is
//! made, so a bad manifest changes nothing: kinds, fields Porthole cannot honour (by path),
//! values it cannot honour (a restart policy, a pull policy, a protocol), references.
//!
//! The names follow podman's `kube play`: container `<pod>-<container>`, an `emptyDir` a volume
//! `<pod>-<volume>` owned by the pod, a claim the named volume `<claimName>`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, PersistentVolumeClaim, Pod, Volume};
use serde_json::Value;

use crate::fields::{Object, first_unsupported};
use crate::names::is_dns_label;

/// Why a manifest cannot be played. `doc` is the document's 1-based position in the file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlayError {
    #[error("document {doc}: {message}")]
    Yaml { doc: usize, message: String },
    #[error("document {doc}: kind {kind:?} is not supported by Porthole (it plays Pod and PersistentVolumeClaim)")]
    Kind { doc: usize, kind: String },
    #[error("document {doc}: apiVersion {api_version:?} is not supported (Pod and PersistentVolumeClaim are v1)")]
    ApiVersion { doc: usize, api_version: String },
    #[error("document {doc}: field {path} is not supported by Porthole")]
    UnsupportedField { doc: usize, path: String },
    #[error("pod {pod}: {field}: {value:?} is not supported by Porthole: {why}")]
    UnsupportedValue { pod: String, field: String, value: String, why: &'static str },
    #[error("{object}: {field} is required")]
    Missing { object: String, field: &'static str },
    #[error("{object}: name {name:?} is not a valid name (lower-case letters, digits and '-', at most 63)")]
    BadName { object: String, name: String },
    #[error("pod {pod}: container {container}: volume {volume:?} is not one of the pod's volumes")]
    UnknownVolume { pod: String, container: String, volume: String },
    #[error("{object}: {name:?} is given twice")]
    Duplicate { object: String, name: String },
    #[error("the manifest has no Pod")]
    NoPod,
}

/// What `kube play` makes, in order: claims' volumes, then each pod's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayPlan {
    /// Named volumes for the PersistentVolumeClaim documents.
    pub claims: Vec<String>,
    pub pods: Vec<PodPlan>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodPlan {
    pub name: String,
    pub volumes: Vec<PlannedVolume>,
    pub containers: Vec<PlannedContainer>,
}

/// A pod volume and what backs it locally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedVolume {
    /// Its name in the pod.
    pub name: String,
    pub kind: VolumeKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeKind {
    /// A volume made for the pod and removed with it.
    EmptyDir { volume: String },
    /// A named volume, created if missing, kept by `kube down` unless forced.
    Claim { volume: String, read_only: bool },
    /// A bind mount of a host directory (made when missing).
    HostPath { path: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedContainer {
    /// The Docker container's name, `<pod>-<container>`.
    pub name: String,
    /// Its name in the pod.
    pub pod_container: String,
    pub image: String,
    /// `command`: replaces the image's ENTRYPOINT (and, as on a cluster, its CMD).
    pub entrypoint: Option<Vec<String>>,
    /// `args`: replaces the image's CMD.
    pub cmd: Option<Vec<String>>,
    /// `KEY=VALUE`.
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    pub mounts: Vec<PlannedMount>,
    pub ports: Vec<PlannedPort>,
    /// The pod's labels to put on the container (`POD_LABEL`, `CONTAINER_LABEL`).
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMount {
    pub kind: MountKind,
    pub target: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountKind {
    Volume(String),
    Bind(String),
}

/// A port to publish (`hostPort`) or only expose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedPort {
    pub container_port: u16,
    pub host_ip: Option<String>,
    pub host_port: Option<u16>,
}

/// The plan for a manifest's text.
pub fn plan(yaml: &str) -> Result<PlayPlan, PlayError> {
    let mut claims = Vec::new();
    let mut pods = Vec::new();
    for (i, doc) in serde_yaml_ng::Deserializer::from_str(yaml).enumerate() {
        let doc_no = i + 1;
        let yaml_err = |e: &dyn std::fmt::Display| PlayError::Yaml { doc: doc_no, message: e.to_string() };
        let value: Value = serde::Deserialize::deserialize(doc).map_err(|e| yaml_err(&e))?;
        if value.is_null() {
            continue; // an empty document (a trailing `---`)
        }
        let kind = value["kind"].as_str().unwrap_or_default().to_string();
        let object = match kind.as_str() {
            "Pod" => Object::Pod,
            "PersistentVolumeClaim" => Object::Claim,
            _ => return Err(PlayError::Kind { doc: doc_no, kind }),
        };
        let api_version = value["apiVersion"].as_str().unwrap_or_default();
        if api_version != "v1" {
            return Err(PlayError::ApiVersion { doc: doc_no, api_version: api_version.into() });
        }
        if let Some(path) = first_unsupported(&value, object) {
            return Err(PlayError::UnsupportedField { doc: doc_no, path });
        }
        match object {
            Object::Pod => {
                let pod: Pod = serde_json::from_value(value).map_err(|e| yaml_err(&e))?;
                pods.push(pod_plan(&pod)?);
            }
            Object::Claim => {
                let claim: PersistentVolumeClaim = serde_json::from_value(value).map_err(|e| yaml_err(&e))?;
                claims.push(object_name(&claim.metadata.name, "PersistentVolumeClaim")?);
            }
        }
    }
    if pods.is_empty() {
        return Err(PlayError::NoPod);
    }
    Ok(PlayPlan { claims, pods })
}

fn object_name(name: &Option<String>, what: &str) -> Result<String, PlayError> {
    let name = name.clone().ok_or(PlayError::Missing { object: what.into(), field: "metadata.name" })?;
    if !is_dns_label(&name) {
        return Err(PlayError::BadName { object: what.into(), name });
    }
    Ok(name)
}

fn pod_plan(pod: &Pod) -> Result<PodPlan, PlayError> {
    let name = object_name(&pod.metadata.name, "Pod")?;
    let object = format!("pod {name}");
    let spec = pod.spec.as_ref().ok_or(PlayError::Missing { object: object.clone(), field: "spec" })?;
    let unsupported = |field: &str, value: &str, why| PlayError::UnsupportedValue {
        pod: name.clone(),
        field: field.into(),
        value: value.into(),
        why,
    };
    match spec.restart_policy.as_deref() {
        Some("Never") => {}
        other => {
            return Err(unsupported(
                "restartPolicy",
                other.unwrap_or("Always"),
                "Porthole never restarts a container; set restartPolicy: Never",
            ));
        }
    }
    let mut volumes: Vec<PlannedVolume> = Vec::new();
    for v in spec.volumes.iter().flatten() {
        if volumes.iter().any(|p| p.name == v.name) {
            return Err(PlayError::Duplicate { object: format!("{object}: volume"), name: v.name.clone() });
        }
        volumes.push(PlannedVolume { name: v.name.clone(), kind: volume_kind(&name, v, &unsupported)? });
    }
    let mut containers: Vec<PlannedContainer> = Vec::new();
    for c in &spec.containers {
        if !is_dns_label(&c.name) {
            return Err(PlayError::BadName { object: format!("{object}: container"), name: c.name.clone() });
        }
        if containers.iter().any(|p| p.pod_container == c.name) {
            return Err(PlayError::Duplicate { object: format!("{object}: container"), name: c.name.clone() });
        }
        containers.push(container_plan(&name, c, &volumes, &unsupported)?);
    }
    if containers.is_empty() {
        return Err(PlayError::Missing { object, field: "spec.containers" });
    }
    Ok(PodPlan { name, volumes, containers })
}

type Unsupported<'a> = dyn Fn(&str, &str, &'static str) -> PlayError + 'a;

fn volume_kind(pod: &str, v: &Volume, unsupported: &Unsupported) -> Result<VolumeKind, PlayError> {
    let object = format!("pod {pod}: volume {}", v.name);
    if !is_dns_label(&v.name) {
        return Err(PlayError::BadName { object, name: v.name.clone() });
    }
    match (&v.empty_dir, &v.persistent_volume_claim, &v.host_path) {
        // Its fields (medium, sizeLimit) are refused by `fields`: a memory-backed volume cannot
        // be shared by guests, and a size limit would need a quota Porthole gives volumes only.
        (Some(_), None, None) => Ok(VolumeKind::EmptyDir { volume: format!("{pod}-{}", v.name) }),
        (None, Some(c), None) => {
            if !is_dns_label(&c.claim_name) {
                return Err(PlayError::BadName { object: format!("{object}: claimName"), name: c.claim_name.clone() });
            }
            Ok(VolumeKind::Claim { volume: c.claim_name.clone(), read_only: c.read_only == Some(true) })
        }
        (None, None, Some(h)) => {
            match h.type_.as_deref().unwrap_or("") {
                "" | "DirectoryOrCreate" => {}
                other => {
                    return Err(unsupported(
                        "hostPath.type",
                        other,
                        "Porthole binds directories, made when missing (use DirectoryOrCreate)",
                    ));
                }
            }
            if !h.path.starts_with('/') {
                return Err(unsupported("hostPath.path", &h.path, "a host path must be absolute"));
            }
            Ok(VolumeKind::HostPath { path: h.path.clone() })
        }
        _ => Err(PlayError::Missing { object, field: "one of emptyDir, persistentVolumeClaim, hostPath" }),
    }
}

fn container_plan(
    pod: &str,
    c: &Container,
    volumes: &[PlannedVolume],
    unsupported: &Unsupported,
) -> Result<PlannedContainer, PlayError> {
    let object = format!("pod {pod}: container {}", c.name);
    let image = c.image.clone().filter(|i| !i.is_empty()).ok_or(PlayError::Missing { object, field: "image" })?;
    if let Some(policy) = c.image_pull_policy.as_deref().filter(|p| *p != "IfNotPresent" && *p != "Never") {
        return Err(unsupported("imagePullPolicy", policy, "Porthole runs local images only (IfNotPresent or Never)"));
    }
    let mut mounts = Vec::new();
    for m in c.volume_mounts.iter().flatten() {
        let v = volumes.iter().find(|v| v.name == m.name).ok_or_else(|| PlayError::UnknownVolume {
            pod: pod.into(),
            container: c.name.clone(),
            volume: m.name.clone(),
        })?;
        let (kind, forced_ro) = match &v.kind {
            VolumeKind::EmptyDir { volume } => (MountKind::Volume(volume.clone()), false),
            VolumeKind::Claim { volume, read_only } => (MountKind::Volume(volume.clone()), *read_only),
            VolumeKind::HostPath { path } => (MountKind::Bind(path.clone()), false),
        };
        mounts.push(PlannedMount {
            kind,
            target: m.mount_path.clone(),
            read_only: forced_ro || m.read_only == Some(true),
        });
    }
    let mut ports = Vec::new();
    for p in c.ports.iter().flatten() {
        if let Some(proto) = p.protocol.as_deref().filter(|p| *p != "TCP") {
            return Err(unsupported("ports.protocol", proto, "guests have TCP only"));
        }
        let port = |n: i32, field: &str| {
            u16::try_from(n)
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| unsupported(field, &n.to_string(), "not a port number"))
        };
        ports.push(PlannedPort {
            container_port: port(p.container_port, "ports.containerPort")?,
            host_ip: p.host_ip.clone().filter(|ip| !ip.is_empty()),
            host_port: p.host_port.map(|h| port(h, "ports.hostPort")).transpose()?,
        });
    }
    Ok(PlannedContainer {
        name: format!("{pod}-{}", c.name),
        pod_container: c.name.clone(),
        image,
        // On a cluster `command` alone drops the image's CMD.
        cmd: c.args.clone().or_else(|| c.command.as_ref().map(|_| Vec::new())),
        entrypoint: c.command.clone(),
        env: c.env.iter().flatten().map(|e| format!("{}={}", e.name, e.value.as_deref().unwrap_or(""))).collect(),
        working_dir: c.working_dir.clone().filter(|w| !w.is_empty()),
        mounts,
        ports,
        labels: BTreeMap::from([
            (crate::POD_LABEL.to_string(), pod.to_string()),
            (crate::CONTAINER_LABEL.to_string(), c.name.clone()),
        ]),
    })
}
