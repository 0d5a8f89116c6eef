//! Evaluating a [`Check`] against a [`Snapshot`]: the world as the dashboard's graph sees it,
//! plus the file resolutions and HTTP answers the checks asked for ([`needs`]).

use std::fmt;

use serde::Serialize;

use super::{Check, LessonPath, MountKind, Step};
use crate::graph::{ContainerSummary, GraphInput, MountSummary};
use crate::guest_path::GuestPath;

/// What the engine must look up beyond the world for a set of checks (I/O it does).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    /// Resolve `path` in `container`'s namespace (and read it, if it is a file).
    File { container: String, path: GuestPath },
    /// `GET path` on the container's first published port.
    Http { container: String, path: String },
}

/// The lookups `checks` need, without repeats.
pub fn needs<'a>(checks: impl IntoIterator<Item = &'a Check>) -> Vec<Need> {
    let mut out: Vec<Need> = checks
        .into_iter()
        .filter_map(|c| match c {
            Check::FileContent { container, path, .. }
            | Check::FileResolves { container, path, .. }
            | Check::FileDangles { container, path } => {
                Some(Need::File { container: container.clone(), path: path.0.clone() })
            }
            Check::HttpServes { container, path, .. } => {
                Some(Need::Http { container: container.clone(), path: path.clone() })
            }
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The engine's state at one moment, as the checks need it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    pub world: GraphInput,
    pub files: Vec<FileFact>,
    pub http: Vec<HttpFact>,
}

/// Where a path led in a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileFact {
    pub container: String,
    pub path: GuestPath,
    pub outcome: FileOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileOutcome {
    /// A regular file at guest path `to`, in the mount at `mount` (`/` for the rootfs); its
    /// first bytes as text.
    File { to: GuestPath, mount: GuestPath, content: String },
    /// Something other than a regular file (a directory) at `to`.
    NotAFile { to: GuestPath },
    /// The walk failed: `why` as the guest would hear it (`ENOENT`).
    Broken { why: String },
    /// The container does not exist (or its files could not be opened).
    NoContainer { why: String },
}

/// What `GET path` on a container's published port answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpFact {
    pub container: String,
    pub path: String,
    /// The status, or why there was none.
    pub outcome: Result<u16, String>,
}

/// Why a check failed, in words for a student.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum Reason {
    #[error("there is no container {0}")]
    NoSuchContainer(String),
    #[error("container {0} exists")]
    ContainerExists(String),
    #[error("container {container} is {state}")]
    ContainerState { container: String, state: String },
    #[error("there is no image {0}")]
    NoSuchImage(String),
    #[error("there is no volume {0}")]
    NoSuchVolume(String),
    #[error("volume {0} exists")]
    VolumeExists(String),
    #[error("container {container} mounts nothing at {destination}")]
    NoMountAt { container: String, destination: String },
    #[error("container {container} mounts {found} at {destination}, not {expected}")]
    MountDiffers { container: String, destination: String, expected: String, found: String },
    #[error("containers {a} and {b} mount different volumes at {destination}: {va} and {vb}")]
    NotShared { a: String, b: String, destination: String, va: String, vb: String },
    #[error("{found} anonymous volume(s) exist, not {expected}{}", if names.is_empty() { String::new() } else { format!(": {names}") })]
    AnonymousCount { expected: usize, found: usize, names: String },
    #[error("{path} in container {container}: {why}")]
    FileBroken { container: String, path: String, why: String },
    #[error("{path} in container {container} leads to {to}, which is not a file")]
    NotAFile { container: String, path: String, to: String },
    #[error("{path} in container {container} resolves to {to}, in the mount at {mount}, not through {expected}")]
    WrongMount { container: String, path: String, to: String, mount: String, expected: String },
    #[error("{path} in container {container} does not contain {expected:?} (it starts {start:?})")]
    ContentDiffers { container: String, path: String, expected: String, start: String },
    #[error("{path} in container {container} resolves to {to}: it does not dangle")]
    Resolves { container: String, path: String, to: String },
    #[error("GET {path} on container {container}'s port: {why}")]
    HttpFailed { container: String, path: String, why: String },
    #[error("GET {path} on container {container}'s port answered {found}, not {expected}")]
    HttpStatus { container: String, path: String, expected: u16, found: u16 },
    #[error("the engine did not look up what this check needs")]
    NotGathered,
}

/// Whether `check` holds in `snap`, and if not, why.
pub fn evaluate(check: &Check, snap: &Snapshot) -> Result<(), Reason> {
    let container = |name: &str| container(snap, name);
    match check {
        Check::ContainerExists(c) => container(c).map(drop),
        Check::ContainerAbsent(c) => match container(c) {
            Ok(_) => Err(Reason::ContainerExists(c.clone())),
            Err(_) => Ok(()),
        },
        Check::ContainerRunning(c) => {
            let found = container(c)?;
            if found.state == "running" { Ok(()) } else { Err(state(found)) }
        }
        Check::ContainerStopped(c) => {
            let found = container(c)?;
            if found.state == "running" { Err(state(found)) } else { Ok(()) }
        }
        Check::ImageExists(i) => {
            let tag = if i.contains(':') { i.clone() } else { format!("{i}:latest") };
            let found = snap.world.images.iter().any(|img| img.tags.contains(&tag));
            if found { Ok(()) } else { Err(Reason::NoSuchImage(i.clone())) }
        }
        Check::VolumeExists(v) => volume_present(snap, v).then_some(()).ok_or_else(|| Reason::NoSuchVolume(v.clone())),
        Check::VolumeAbsent(v) => {
            (!volume_present(snap, v)).then_some(()).ok_or_else(|| Reason::VolumeExists(v.clone()))
        }
        Check::Mounts { container: c, destination, kind, volume, bind_ends_with, rw, from } => {
            let found = container(c)?;
            let m = mount_at(found, destination)?;
            let differs = |expected: String| Reason::MountDiffers {
                container: c.clone(),
                destination: destination.to_string(),
                expected,
                found: describe_mount(snap, m),
            };
            if let Some(kind) = kind
                && mount_kind(snap, m) != *kind
            {
                return Err(differs(kind_word(*kind).into()));
            }
            if let Some(v) = volume
                && m.volume.as_deref() != Some(v.as_str())
            {
                return Err(differs(format!("volume {v}")));
            }
            if let Some(b) = bind_ends_with
                && !m.bind_source.as_deref().is_some_and(|s| s.trim_end_matches('/').ends_with(b.as_str()))
            {
                return Err(differs(format!("a host directory …/{b}")));
            }
            if let Some(rw) = rw
                && m.rw != *rw
            {
                return Err(differs(if *rw { "read-write" } else { "read-only" }.into()));
            }
            if let Some(from) = from {
                let source = m.inherited_from.as_deref().and_then(|id| name_of(snap, id));
                if source != Some(from.as_str()) {
                    return Err(differs(format!("taken from {from} by --volumes-from")));
                }
            }
            Ok(())
        }
        Check::NoMount { container: c, destination } => {
            let found = container(c)?;
            match mount_at(found, destination) {
                Ok(m) => Err(Reason::MountDiffers {
                    container: c.clone(),
                    destination: destination.to_string(),
                    expected: "nothing".into(),
                    found: describe_mount(snap, m),
                }),
                Err(_) => Ok(()),
            }
        }
        Check::VolumesShared { a, b, destination } => {
            let ma = mount_at(container(a)?, destination)?;
            let mb = mount_at(container(b)?, destination)?;
            match (&ma.volume, &mb.volume) {
                (Some(va), Some(vb)) if va == vb => Ok(()),
                _ => Err(Reason::NotShared {
                    a: a.clone(),
                    b: b.clone(),
                    destination: destination.to_string(),
                    va: describe_mount(snap, ma),
                    vb: describe_mount(snap, mb),
                }),
            }
        }
        Check::AnonymousVolumeCount(n) => anonymous_count(snap, *n),
        Check::NoAnonymousVolumes => anonymous_count(snap, 0),
        Check::FileContent { container: c, path, contains } => match file(snap, c, path)? {
            FileOutcome::File { content, .. } if content.contains(contains.as_str()) => Ok(()),
            FileOutcome::File { content, .. } => Err(Reason::ContentDiffers {
                container: c.clone(),
                path: path.to_string(),
                expected: contains.clone(),
                start: content.chars().take(60).collect(),
            }),
            other => Err(not_a_file(c, path, other)),
        },
        Check::FileResolves { container: c, path, through_mount } => match file(snap, c, path)? {
            FileOutcome::File { to, mount, .. } => match through_mount {
                Some(expected) if *mount != expected.0 => Err(Reason::WrongMount {
                    container: c.clone(),
                    path: path.to_string(),
                    to: to.to_string(),
                    mount: mount.to_string(),
                    expected: expected.to_string(),
                }),
                _ => Ok(()),
            },
            other => Err(not_a_file(c, path, other)),
        },
        Check::FileDangles { container: c, path } => match file(snap, c, path)? {
            FileOutcome::Broken { .. } => Ok(()),
            FileOutcome::File { to, .. } | FileOutcome::NotAFile { to } => {
                Err(Reason::Resolves { container: c.clone(), path: path.to_string(), to: to.to_string() })
            }
            other => Err(not_a_file(c, path, other)),
        },
        Check::HttpServes { container: c, path, status } => {
            let fact = snap.http.iter().find(|h| h.container == *c && h.path == *path).ok_or(Reason::NotGathered)?;
            match &fact.outcome {
                Ok(s) if s == status => Ok(()),
                Ok(s) => {
                    Err(Reason::HttpStatus { container: c.clone(), path: path.clone(), expected: *status, found: *s })
                }
                Err(why) => Err(Reason::HttpFailed { container: c.clone(), path: path.clone(), why: why.clone() }),
            }
        }
    }
}

fn container<'a>(snap: &'a Snapshot, name: &str) -> Result<&'a ContainerSummary, Reason> {
    snap.world.containers.iter().find(|c| c.name == name).ok_or_else(|| Reason::NoSuchContainer(name.into()))
}

fn name_of<'a>(snap: &'a Snapshot, id: &str) -> Option<&'a str> {
    snap.world.containers.iter().find(|c| c.id == id).map(|c| c.name.as_str())
}

fn state(c: &ContainerSummary) -> Reason {
    Reason::ContainerState { container: c.name.clone(), state: c.state.clone() }
}

fn volume_present(snap: &Snapshot, name: &str) -> bool {
    snap.world.volumes.iter().any(|v| v.name == name)
}

fn mount_at<'a>(c: &'a ContainerSummary, destination: &LessonPath) -> Result<&'a MountSummary, Reason> {
    c.mounts
        .iter()
        .find(|m| m.destination == destination.0.as_str())
        .ok_or_else(|| Reason::NoMountAt { container: c.name.clone(), destination: destination.to_string() })
}

fn mount_kind(snap: &Snapshot, m: &MountSummary) -> MountKind {
    match &m.volume {
        Some(v) if snap.world.volumes.iter().any(|s| s.name == *v && s.anonymous) => MountKind::Anonymous,
        Some(_) => MountKind::Named,
        None => MountKind::Bind,
    }
}

fn kind_word(kind: MountKind) -> &'static str {
    match kind {
        MountKind::Named => "a named volume",
        MountKind::Anonymous => "an anonymous volume",
        MountKind::Bind => "a host directory",
    }
}

/// `anonymous volume 3f2a…`, `volume data read-only`, `host directory /srv/site`.
fn describe_mount(snap: &Snapshot, m: &MountSummary) -> String {
    let what = match (&m.volume, &m.bind_source) {
        (Some(v), _) if mount_kind(snap, m) == MountKind::Anonymous => format!("anonymous volume {}", short(v)),
        (Some(v), _) => format!("volume {v}"),
        (None, Some(src)) => format!("host directory {src}"),
        (None, None) => "a tmpfs".into(),
    };
    let mode = if m.rw { "read-write" } else { "read-only" };
    match m.inherited_from.as_deref().and_then(|id| name_of(snap, id)) {
        Some(from) => format!("{what} {mode} (from {from})"),
        None => format!("{what} {mode}"),
    }
}

fn short(name: &str) -> &str {
    if name.len() == 64 { &name[..12] } else { name }
}

fn anonymous_count(snap: &Snapshot, expected: usize) -> Result<(), Reason> {
    let names: Vec<&str> = snap.world.volumes.iter().filter(|v| v.anonymous).map(|v| short(&v.name)).collect();
    if names.len() == expected {
        Ok(())
    } else {
        Err(Reason::AnonymousCount { expected, found: names.len(), names: names.join(", ") })
    }
}

fn file<'a>(snap: &'a Snapshot, c: &str, path: &LessonPath) -> Result<&'a FileOutcome, Reason> {
    container(snap, c)?;
    snap.files.iter().find(|f| f.container == c && f.path == path.0).map(|f| &f.outcome).ok_or(Reason::NotGathered)
}

fn not_a_file(c: &str, path: &LessonPath, outcome: &FileOutcome) -> Reason {
    match outcome {
        FileOutcome::NotAFile { to } => {
            Reason::NotAFile { container: c.into(), path: path.to_string(), to: to.to_string() }
        }
        FileOutcome::Broken { why } | FileOutcome::NoContainer { why } => {
            Reason::FileBroken { container: c.into(), path: path.to_string(), why: why.clone() }
        }
        FileOutcome::File { to, .. } => {
            Reason::NotAFile { container: c.into(), path: path.to_string(), to: to.to_string() }
        }
    }
}

/// One check's result, for the runner and the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CheckOutcome {
    pub check: String,
    pub passed: bool,
    pub reason: Option<String>,
}

/// A step evaluated now: its preconditions and its checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StepOutcome {
    pub preconditions: Vec<CheckOutcome>,
    pub checks: Vec<CheckOutcome>,
    /// Every precondition and every check holds.
    pub passed: bool,
}

impl StepOutcome {
    /// Evaluates `step`'s preconditions and checks against `snap`.
    pub fn of(step: &Step, snap: &Snapshot) -> StepOutcome {
        let run = |checks: &[Check]| -> Vec<CheckOutcome> {
            checks
                .iter()
                .map(|c| {
                    let result = evaluate(c, snap);
                    CheckOutcome {
                        check: c.to_string(),
                        passed: result.is_ok(),
                        reason: result.err().map(|r| r.to_string()),
                    }
                })
                .collect()
        };
        let preconditions = run(&step.requires);
        let checks = run(&step.checks);
        let passed = preconditions.iter().chain(&checks).all(|c| c.passed);
        StepOutcome { preconditions, checks, passed }
    }

    /// The first precondition that does not hold.
    pub fn missing_precondition(&self) -> Option<&CheckOutcome> {
        self.preconditions.iter().find(|c| !c.passed)
    }
}

impl fmt::Display for CheckOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            None => write!(f, "ok: {}", self.check),
            Some(r) => write!(f, "FAILED: {}: {r}", self.check),
        }
    }
}
