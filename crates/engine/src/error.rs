//! Engine errors, each with a kind the API maps to a status code (404, 409, 400, 500) and a
//! message in Docker's words where Docker has one.

use porthole_core::mounts::MountError;
use porthole_core::names::NameError;
use porthole_core::ports::PortError;
use porthole_core::state::StateError;
use porthole_runtime::NamespaceError;
use porthole_runtime::{Exit, LoadError, RuntimeError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Conflict,
    Invalid,
    /// Docker's 403: allowed in general, not for this one (a pre-defined network, say).
    Forbidden,
    /// Docker's 401: a registry refused the credentials.
    Unauthorized,
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("No such container: {0}")]
    NoSuchContainer(String),
    #[error("No such image: {0}")]
    NoSuchImage(String),
    #[error("get {0}: no such volume")]
    NoSuchVolume(String),
    /// A path inside a volume or container that does not exist (file browsing).
    #[error("no such file or directory: {0}")]
    NoSuchPath(String),
    /// A lesson name no shipped lesson has.
    #[error("no such lesson: {0}")]
    NoSuchLesson(String),
    #[error("lesson {lesson} has no step {step} (its steps are 1 to {count})")]
    NoSuchLessonStep { lesson: String, step: usize, count: usize },
    #[error("network {0} not found")]
    NoSuchNetwork(String),
    /// A container created on a network that does not exist. Docker's text, but 400 rather than
    /// its 404: a 404 on create makes the docker CLI announce "Unable to find image … locally"
    /// and try a pull before showing the real error.
    #[error("network {0} not found")]
    CreateOnNoSuchNetwork(String),
    /// A network driver that means real connectivity (or a swarm).
    #[error("network driver {0} is not supported by Porthole")]
    NetworkDriver(String),
    /// A driver Docker would look up among plugins and not find.
    #[error("plugin \"{0}\" not found")]
    NoSuchPlugin(String),
    #[error("{name} is a pre-defined network and cannot be {verb}")]
    PredefinedNetwork { name: String, verb: &'static str },
    #[error("network with name {0} already exists")]
    NetworkNameInUse(String),
    #[error("error while removing network: network {name} id {id} has active endpoints")]
    NetworkInUse { name: String, id: String },
    #[error("endpoint with name {container} already exists in network {network}")]
    AlreadyConnected { container: String, network: String },
    #[error("container {container} is not connected to network {network}")]
    NotConnected { container: String, network: String },
    #[error("container cannot be disconnected from host network or connected to host network")]
    NetworkHost,
    #[error("container cannot be connected to multiple networks with one of the networks in private (none) mode")]
    NetworkNoneAlone,
    #[error("remove {name}: volume is in use - [{}]", users.join(", "))]
    VolumeInUse { name: String, users: Vec<String> },
    #[error(
        "Conflict. The container name \"/{name}\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name."
    )]
    NameInUse { name: String, id: String },
    /// `docker cp` of a path that does not exist (moby's text).
    #[error("Could not find the file {path} in container {container}")]
    NoSuchFileInContainer { path: String, container: String },
    #[error("extraction point is not a directory")]
    ExtractNotDirectory,
    #[error("container rootfs is marked read-only")]
    ReadOnlyRootfs,
    #[error("mounted volume is marked read-only")]
    ReadOnlyVolume,
    /// An archive entry whose name climbs above where it is unpacked (Docker's untar text).
    #[error("{name:?} is outside of {dest:?}")]
    ArchiveBreakout { name: String, dest: String },
    #[error("cannot overwrite directory {path:?} with non-directory {name:?}")]
    OverwriteDir { path: String, name: String },
    #[error("cannot overwrite non-directory {path:?} with directory {name:?}")]
    OverwriteNonDir { path: String, name: String },
    #[error("cannot replace the mount point {0} from an archive")]
    ArchiveMountPoint(String),
    /// Devices, pipes and malformed links: nothing a copy into a guest's tree can hold.
    #[error("unsupported archive entry {0}")]
    ArchiveEntryType(String),
    #[error("Neither old nor new names may be empty")]
    RenameEmpty,
    #[error("Renaming a container with the same name as its current name")]
    RenameToSame,
    #[error("multiple IDs found with provided prefix: {0}")]
    Ambiguous(String),
    #[error(
        "conflict: unable to remove repository reference \"{reference}\" (must force) - container {container} is using its referenced image {image}"
    )]
    ImageInUse { reference: String, container: String, image: String },
    /// moby's `imageDeleteConflict`.
    #[error("conflict: unable to delete {image} ({forced}) - {message}")]
    ImageConflict { image: String, forced: &'static str, message: String },
    #[error(transparent)]
    Mount(#[from] MountError),
    #[error(transparent)]
    Name(#[from] NameError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Build(String),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    /// wasmtime could not be configured, or a guest could not be instantiated.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The base image's own toolbox could not be loaded (user programs fail as their container's
    /// start or exec does, in Docker's words, never as this).
    #[error("loading the base image's {0}: {1}")]
    Toolbox(&'static str, #[source] LoadError),
    /// `busybox --list` (or `userland --list`) did not exit 0, so the base image's applets are
    /// unknown.
    #[error("{0} --list failed: {1:?}")]
    ToolboxList(&'static str, Exit),
    /// The mount table of a guest is not a valid namespace (a duplicate mount point after its
    /// symlinks were resolved in the rootfs, say).
    #[error(transparent)]
    Namespace(#[from] NamespaceError),
    /// A host path given as a bind mount's source that is neither a directory nor a file with a
    /// parent directory.
    #[error("cannot mount {}: not a file or directory", .0.display())]
    NotMountable(std::path::PathBuf),
    /// The WASI host of a guest could not be set up (its descriptor table: `EMFILE`, `ENFILE`).
    #[error("preparing the guest: {0}")]
    PrepareGuest(#[source] std::io::Error),
    /// The OS random source failed (naming a container).
    #[error("random source: {0}")]
    Random(#[source] getrandom::Error),
    /// A `-p`/`-P` binding Porthole refuses (a UDP port, a non-loopback address).
    #[error(transparent)]
    Port(#[from] PortError),
    /// A published port's host address could not be bound at start: taken (by anyone), or not
    /// allowed. Docker's words, which name the container ("endpoint") and the address.
    #[error("driver failed programming external connectivity on endpoint {name} ({id}): {reason}")]
    Publish { name: String, id: String, reason: String },
    /// An image archive or layout that cannot be loaded (`docker load`), naming what in it.
    #[error(transparent)]
    Archive(crate::oci::ArchiveError),
    /// `docker push` of a name no local image has.
    #[error("An image does not exist locally with the tag: {0}")]
    NoSuchTag(String),
    /// A registry refused, could not be reached, or answered with an error (`docker pull`,
    /// `push`, `login`).
    #[error(transparent)]
    Registry(#[from] porthole_registry::RegistryError),
    /// A thread running part of the operation panicked: a bug, not a guest failure.
    #[error("{0} panicked")]
    Panicked(&'static str),
}

impl EngineError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            EngineError::NoSuchContainer(_)
            | EngineError::NoSuchImage(_)
            | EngineError::NoSuchVolume(_)
            | EngineError::NoSuchPath(_)
            | EngineError::NoSuchFileInContainer { .. }
            | EngineError::NoSuchLesson(_)
            | EngineError::NoSuchNetwork(_)
            | EngineError::NoSuchPlugin(_)
            | EngineError::NoSuchTag(_)
            | EngineError::NoSuchLessonStep { .. } => ErrorKind::NotFound,
            EngineError::Registry(e) => match e.kind() {
                porthole_registry::ErrorKind::NotFound => ErrorKind::NotFound,
                porthole_registry::ErrorKind::Invalid => ErrorKind::Invalid,
                porthole_registry::ErrorKind::Unauthorized => ErrorKind::Unauthorized,
                porthole_registry::ErrorKind::Other => ErrorKind::Internal,
            },
            EngineError::NetworkNameInUse(_) => ErrorKind::Conflict,
            EngineError::PredefinedNetwork { .. }
            | EngineError::NetworkInUse { .. }
            | EngineError::AlreadyConnected { .. }
            | EngineError::NotConnected { .. }
            | EngineError::NetworkHost
            | EngineError::NetworkNoneAlone => ErrorKind::Forbidden,
            EngineError::VolumeInUse { .. }
            | EngineError::NameInUse { .. }
            | EngineError::ImageInUse { .. }
            | EngineError::ImageConflict { .. } => ErrorKind::Conflict,
            EngineError::State(StateError::RemoveRunning(_)) => ErrorKind::Conflict,
            EngineError::State(_) => ErrorKind::Conflict,
            // `--volumes-from nosuch` included: a 404 on create makes the docker CLI announce
            // "Unable to find image … locally" and try a pull before showing the real error.
            EngineError::Mount(_)
            | EngineError::Name(_)
            | EngineError::Invalid(_)
            | EngineError::RenameEmpty
            | EngineError::ExtractNotDirectory
            | EngineError::ReadOnlyRootfs
            | EngineError::ReadOnlyVolume
            | EngineError::ArchiveBreakout { .. }
            | EngineError::OverwriteDir { .. }
            | EngineError::OverwriteNonDir { .. }
            | EngineError::ArchiveMountPoint(_)
            | EngineError::ArchiveEntryType(_)
            | EngineError::RenameToSame
            | EngineError::Ambiguous(_)
            | EngineError::Build(_)
            | EngineError::Namespace(_)
            | EngineError::NotMountable(_)
            | EngineError::CreateOnNoSuchNetwork(_)
            | EngineError::NetworkDriver(_)
            | EngineError::Port(_)
            | EngineError::Archive(_) => ErrorKind::Invalid,
            EngineError::Io { .. }
            | EngineError::Runtime(_)
            | EngineError::Toolbox(..)
            | EngineError::ToolboxList(..)
            | EngineError::PrepareGuest(_)
            | EngineError::Random(_)
            | EngineError::Publish { .. }
            | EngineError::Panicked(_) => ErrorKind::Internal,
        }
    }
}

/// Adds what was being done to an I/O error.
pub trait IoContext<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, EngineError>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, EngineError> {
        self.map_err(|source| EngineError::Io { context: what(), source })
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    /// Each typed failure: its message, whether it keeps its cause, and the status it maps to.
    #[test]
    fn typed_failures_keep_their_source_and_kind() {
        let cases: Vec<(EngineError, &str, bool, ErrorKind)> = vec![
            (
                EngineError::PrepareGuest(std::io::Error::from_raw_os_error(24)),
                "preparing the guest: Too many open files (os error 24)",
                true,
                ErrorKind::Internal,
            ),
            (
                EngineError::NotMountable("/".into()),
                "cannot mount /: not a file or directory",
                false,
                ErrorKind::Invalid,
            ),
            (
                NamespaceError::DuplicateMountPoint("/data".into()).into(),
                "duplicate mount point: /data",
                false,
                ErrorKind::Invalid,
            ),
            (
                EngineError::ToolboxList("busybox", Exit::Code(1)),
                "busybox --list failed: Code(1)",
                false,
                ErrorKind::Internal,
            ),
            (EngineError::Panicked("the RUN step"), "the RUN step panicked", false, ErrorKind::Internal),
        ];
        for (e, text, has_source, kind) in cases {
            assert_eq!(e.to_string(), text);
            assert_eq!(e.source().is_some(), has_source, "{text}");
            assert_eq!(e.kind(), kind, "{text}");
        }
    }
}
