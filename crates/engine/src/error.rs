//! Engine errors, each with a kind the API maps to a status code (404, 409, 400, 500) and a
//! message in Docker's words where Docker has one.

use porthole_core::mounts::MountError;
use porthole_core::names::NameError;
use porthole_core::state::StateError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Conflict,
    Invalid,
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
    #[error("remove {name}: volume is in use - [{}]", users.join(", "))]
    VolumeInUse { name: String, users: Vec<String> },
    #[error(
        "Conflict. The container name \"/{name}\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name."
    )]
    NameInUse { name: String, id: String },
    #[error("multiple IDs found with provided prefix: {0}")]
    Ambiguous(String),
    #[error(
        "conflict: unable to remove repository reference \"{reference}\" (must force) - container {container} is using its referenced image {image}"
    )]
    ImageInUse { reference: String, container: String, image: String },
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
    #[error("{0}")]
    Runtime(String),
}

impl EngineError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            EngineError::NoSuchContainer(_)
            | EngineError::NoSuchImage(_)
            | EngineError::NoSuchVolume(_)
            | EngineError::NoSuchPath(_) => ErrorKind::NotFound,
            EngineError::Mount(m) if m.is_not_found() => ErrorKind::NotFound,
            EngineError::VolumeInUse { .. } | EngineError::NameInUse { .. } | EngineError::ImageInUse { .. } => {
                ErrorKind::Conflict
            }
            EngineError::State(StateError::RemoveRunning(_)) => ErrorKind::Conflict,
            EngineError::State(_) => ErrorKind::Conflict,
            EngineError::Mount(_)
            | EngineError::Name(_)
            | EngineError::Invalid(_)
            | EngineError::Ambiguous(_)
            | EngineError::Build(_) => ErrorKind::Invalid,
            EngineError::Io { .. } | EngineError::Runtime(_) => ErrorKind::Internal,
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
