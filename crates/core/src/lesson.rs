//! Classroom lessons: the `lessons/*.toml` format, parsed into [`Lesson`]s whose steps carry
//! declarative [`Check`]s, evaluated against a plain [`Snapshot`] of the engine's state (never
//! against a command's output). Pure: the engine gathers the snapshot a check needs
//! ([`needs`]), this module decides pass or fail and says why.
//!
//! The format is documented in `lessons/README.md`.

mod check;
mod created;
#[cfg(test)]
mod tests;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::guest_path::GuestPath;

pub use check::{CheckOutcome, FileFact, FileOutcome, HttpFact, Need, Reason, Snapshot, StepOutcome, evaluate, needs};
pub use created::{Created, created};

/// A lesson: what it teaches and its steps, in order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    pub title: String,
    /// What the student can do or explain at the end.
    pub goal: String,
    pub steps: Vec<Step>,
}

/// One step: narration, what is run (or what the student must do), what to look at, and what
/// must hold before and after.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub narration: String,
    /// Preparations the runner makes itself before the commands (building the Pulp images).
    #[serde(default)]
    pub setup: Vec<Setup>,
    /// Files the runner writes under its work directory first (a Dockerfile, a page to bind).
    #[serde(default)]
    pub files: Vec<LessonFile>,
    /// Docker commands the runner shows and runs (with the host's `sh -c`).
    #[serde(default)]
    pub run: Vec<String>,
    /// What the student must do instead; the runner waits and checks. `--auto` runs `solution`.
    pub task: Option<String>,
    #[serde(default)]
    pub solution: Vec<String>,
    /// What the dashboard should focus while the step is on screen.
    pub focus: Option<Focus>,
    /// What must hold before the step (else the student is told which one is missing).
    #[serde(default)]
    pub requires: Vec<Check>,
    /// What must hold after it.
    #[serde(default)]
    pub checks: Vec<Check>,
}

impl Step {
    /// The commands `--auto` runs: the step's own, or its task's solution.
    pub fn commands(&self) -> &[String] {
        if self.task.is_some() { &self.solution } else { &self.run }
    }
}

/// A file a step writes: `path` relative to the runner's work directory (`{workdir}` in
/// commands), and its text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LessonFile {
    pub path: RelativePath,
    pub text: String,
}

/// A relative path without `..`: it stays inside the work directory.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct RelativePath(String);

impl RelativePath {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RelativePath {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let ok = !s.is_empty() && !s.starts_with('/') && s.split('/').all(|c| !c.is_empty() && c != "." && c != "..");
        if ok {
            Ok(RelativePath(s))
        } else {
            Err(format!("invalid file path {s:?}: must be relative, without . or .."))
        }
    }
}

impl From<RelativePath> for String {
    fn from(p: RelativePath) -> String {
        p.0
    }
}

/// A preparation the runner knows how to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Setup {
    /// `pulp-base`, `markllama/pulp-content`, `pulp-worker`, `pulp-apache` built from
    /// `examples/pulp` with the guests' bytes (skipped for those that exist).
    PulpImages,
    /// The sample repository written to `{workdir}/upstream/tools`.
    PulpUpstream,
}

/// A node of the dashboard's graph, or a file in a container.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub enum Focus {
    Container(String),
    Volume(String),
    Image(String),
    File { container: String, path: GuestPath },
}

impl TryFrom<String> for Focus {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        let bad =
            || format!("invalid focus {s:?}: expected container:NAME, volume:NAME, image:NAME or file:CONTAINER:/PATH");
        let (kind, rest) = s.split_once(':').ok_or_else(bad)?;
        if rest.is_empty() {
            return Err(bad());
        }
        Ok(match kind {
            "container" => Focus::Container(rest.into()),
            "volume" => Focus::Volume(rest.into()),
            "image" => Focus::Image(rest.into()),
            "file" => {
                let (container, path) = rest.split_once(':').ok_or_else(bad)?;
                Focus::File { container: container.into(), path: path_field(path)? }
            }
            _ => return Err(bad()),
        })
    }
}

impl From<Focus> for String {
    fn from(f: Focus) -> String {
        f.to_string()
    }
}

impl fmt::Display for Focus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Focus::Container(n) => write!(f, "container:{n}"),
            Focus::Volume(n) => write!(f, "volume:{n}"),
            Focus::Image(n) => write!(f, "image:{n}"),
            Focus::File { container, path } => write!(f, "file:{container}:{path}"),
        }
    }
}

/// An absolute container path as a lesson writes it (`/var/www`), cleaned.
fn path_field(s: &str) -> Result<GuestPath, String> {
    if !s.starts_with('/') {
        return Err(format!("invalid path {s:?}: must be absolute"));
    }
    GuestPath::new(s).ok_or_else(|| format!("invalid path {s:?}"))
}

/// A path field of a check: absolute, cleaned.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct LessonPath(pub GuestPath);

impl TryFrom<String> for LessonPath {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        path_field(&s).map(LessonPath)
    }
}

impl From<LessonPath> for String {
    fn from(p: LessonPath) -> String {
        p.0.to_string()
    }
}

impl fmt::Display for LessonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What kind of thing a mount shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    /// A named volume.
    Named,
    /// An anonymous volume (an image `VOLUME`, or `-v /path`).
    Anonymous,
    /// A host directory or file.
    Bind,
}

/// A fact about the engine's state a step expects. Written in a lesson as `{ kind = … }`
/// (or the bare name for `no_anonymous_volumes`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    ContainerExists(String),
    ContainerAbsent(String),
    ContainerRunning(String),
    /// The container exists and is not running (created or exited).
    ContainerStopped(String),
    ImageExists(String),
    VolumeExists(String),
    VolumeAbsent(String),
    /// `container` has a mount at `destination`, and it is what the given fields say.
    Mounts {
        container: String,
        destination: LessonPath,
        kind: Option<MountKind>,
        /// The volume's name (for a named volume).
        volume: Option<String>,
        /// The host path's last component, for a bind (host paths differ per machine).
        bind_ends_with: Option<String>,
        rw: Option<bool>,
        /// Taken by `--volumes-from` this container (by name).
        from: Option<String>,
    },
    /// `container` has no mount at `destination`.
    NoMount {
        container: String,
        destination: LessonPath,
    },
    /// `a` and `b` both mount the same volume at `destination`.
    VolumesShared {
        a: String,
        b: String,
        destination: LessonPath,
    },
    /// Exactly `n` anonymous volumes exist.
    AnonymousVolumeCount(usize),
    NoAnonymousVolumes,
    /// The file at `path`, resolved as `container`'s guests would, contains `contains`.
    FileContent {
        container: String,
        path: LessonPath,
        contains: String,
    },
    /// `path` resolves to an existing file in `container` (through links across mounts),
    /// ending in the mount at `through_mount` when given.
    FileResolves {
        container: String,
        path: LessonPath,
        through_mount: Option<LessonPath>,
    },
    /// `path` leads nowhere in `container` (missing, or a link whose target is not there).
    FileDangles {
        container: String,
        path: LessonPath,
    },
    /// `GET path` on the container's first published port answers `status`.
    HttpServes {
        container: String,
        path: String,
        status: u16,
    },
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::ContainerExists(c) => write!(f, "container {c} exists"),
            Check::ContainerAbsent(c) => write!(f, "container {c} does not exist"),
            Check::ContainerRunning(c) => write!(f, "container {c} is running"),
            Check::ContainerStopped(c) => write!(f, "container {c} exists and is not running"),
            Check::ImageExists(i) => write!(f, "image {i} exists"),
            Check::VolumeExists(v) => write!(f, "volume {v} exists"),
            Check::VolumeAbsent(v) => write!(f, "volume {v} does not exist"),
            Check::Mounts { container, destination, kind, volume, bind_ends_with, rw, from } => {
                write!(f, "container {container} mounts")?;
                match (kind, volume, bind_ends_with) {
                    (_, Some(v), _) => write!(f, " volume {v}")?,
                    (_, _, Some(b)) => write!(f, " a host directory …/{b}")?,
                    (Some(MountKind::Named), ..) => write!(f, " a named volume")?,
                    (Some(MountKind::Anonymous), ..) => write!(f, " an anonymous volume")?,
                    (Some(MountKind::Bind), ..) => write!(f, " a host directory")?,
                    (None, ..) => write!(f, " something")?,
                }
                write!(f, " at {destination}")?;
                match rw {
                    Some(true) => write!(f, " read-write")?,
                    Some(false) => write!(f, " read-only")?,
                    None => {}
                }
                if let Some(from) = from {
                    write!(f, " (--volumes-from {from})")?;
                }
                Ok(())
            }
            Check::NoMount { container, destination } => {
                write!(f, "container {container} mounts nothing at {destination}")
            }
            Check::VolumesShared { a, b, destination } => {
                write!(f, "containers {a} and {b} share one volume at {destination}")
            }
            Check::AnonymousVolumeCount(n) => write!(f, "{n} anonymous volume(s) exist"),
            Check::NoAnonymousVolumes => write!(f, "no anonymous volume is left"),
            Check::FileContent { container, path, contains } => {
                write!(f, "{path} in container {container} contains {contains:?}")
            }
            Check::FileResolves { container, path, through_mount } => {
                write!(f, "{path} resolves to a file in container {container}")?;
                if let Some(m) = through_mount {
                    write!(f, ", in the mount at {m}")?;
                }
                Ok(())
            }
            Check::FileDangles { container, path } => write!(f, "{path} leads nowhere in container {container}"),
            Check::HttpServes { container, path, status } => {
                write!(f, "container {container}'s published port answers GET {path} with {status}")
            }
        }
    }
}

/// Why a lesson file was refused: where, which field, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}{}: {message}", field.as_ref().map(|f| format!(", field `{f}`")).unwrap_or_default())]
pub struct LessonError {
    /// 1-based.
    pub line: usize,
    pub field: Option<String>,
    pub message: String,
}

/// Parses a lesson file. Errors carry the line and, where one is to blame, the field.
pub fn parse(text: &str) -> Result<Lesson, LessonError> {
    let lesson: Lesson = toml::from_str(text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start);
        let message = e.message().trim_end().to_string();
        LessonError { line: line_of(text, at), field: field_of(text, at, &message), message }
    })?;
    validate(&lesson, text)?;
    Ok(lesson)
}

/// What serde cannot say: a step that does nothing and checks nothing, a task without a
/// solution for `--auto`.
fn validate(lesson: &Lesson, text: &str) -> Result<(), LessonError> {
    if lesson.steps.is_empty() {
        return Err(LessonError {
            line: 1,
            field: Some("steps".into()),
            message: "a lesson needs at least one step".into(),
        });
    }
    // Steps start at their `[[steps]]` header: the n-th one is step n.
    let headers: Vec<usize> =
        text.lines().enumerate().filter(|(_, l)| l.trim() == "[[steps]]").map(|(i, _)| i + 1).collect();
    for (i, step) in lesson.steps.iter().enumerate() {
        let line = headers.get(i).copied().unwrap_or(1);
        let refuse = |field: &str, message: String| Err(LessonError { line, field: Some(field.into()), message });
        if step.task.is_some() && step.solution.is_empty() {
            return refuse("solution", format!("step {} has a task but no solution for --auto", i + 1));
        }
        if step.task.is_some() && !step.run.is_empty() {
            return refuse("task", format!("step {} has both run and task: the student does a task", i + 1));
        }
        if step.task.is_some() && step.checks.is_empty() {
            return refuse("checks", format!("step {} has a task but no check of it", i + 1));
        }
    }
    Ok(())
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The field an error is about: named in serde's message (missing or unknown field), else the
/// key of the `key = value` the error points into.
fn field_of(text: &str, offset: usize, message: &str) -> Option<String> {
    for prefix in ["missing field `", "unknown field `", "unknown variant `", "duplicate key `"] {
        if let Some(rest) = message.split(prefix).nth(1) {
            return rest.split('`').next().map(str::to_string);
        }
    }
    // An unknown key inside an inline table of a check.
    if let Some(rest) = message.split("unexpected keys in table: ").nth(1) {
        return rest.split(',').next().map(|k| k.trim().to_string());
    }
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    // The innermost key before the error on its line (`{ container = 3 }` → `container`).
    let before = &text[start..offset];
    let key = before.rsplit_once('=').map(|(k, _)| k)?;
    let key = key.rsplit(['{', ',', '[']).next()?.trim();
    (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
        .then(|| key.to_string())
}
