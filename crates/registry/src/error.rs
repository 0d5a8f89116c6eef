//! The registry client's errors, worded as Docker words them where it has words (moby's
//! `notFoundError`, its login failure, Go's `Get "URL": …` for a registry it cannot reach).

use crate::ReferenceError;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error("insecure registry {0} should not contain '://'")]
    InsecureRegistry(String),
    /// The registry did not answer: refused, no such host, or nothing within the connect
    /// timeout.
    #[error("Get \"{url}\": {cause}")]
    Unreachable { url: String, cause: String },
    #[error("manifest for {reference} not found: {code}: {message}")]
    ManifestUnknown { reference: String, code: String, message: String },
    #[error("repository {name} not found: {code}: {message}")]
    NameUnknown { name: String, code: String, message: String },
    #[error(
        "pull access denied for {name}, repository does not exist or may require 'docker login': {code}: {message}"
    )]
    PullDenied { name: String, code: String, message: String },
    /// Any other error the registry answered with (`errcode.Error`'s text).
    #[error("{code}: {message}")]
    Registry { code: String, message: String },
    #[error("unauthorized: authentication required")]
    Unauthorized,
    #[error("login attempt to {url} failed with status: {status}")]
    LoginFailed { url: String, status: String },
    /// An index without a `wasi/wasm` manifest (Docker: `no matching manifest for
    /// linux/amd64 in the manifest list entries`), naming what it has.
    #[error("no matching manifest for wasi/wasm in the manifest list entries (it offers {offered})")]
    NoWasiManifest { offered: String },
    #[error("unsupported manifest media type {0}")]
    UnsupportedManifest(String),
    #[error("invalid manifest {digest}: {reason}")]
    InvalidManifest { digest: String, reason: String },
    #[error("{context}: {source}")]
    Layout { context: String, source: std::io::Error },
    #[error("invalid OCI image layout: {0}")]
    InvalidLayout(String),
    #[error("{0}")]
    Distribution(#[from] oci_client::errors::OciDistributionError),
    #[error("starting the registry client: {0}")]
    Runtime(std::io::Error),
}

/// What kind of failure, for the status an API answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Invalid,
    Unauthorized,
    Other,
}

impl RegistryError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            RegistryError::ManifestUnknown { .. }
            | RegistryError::NameUnknown { .. }
            | RegistryError::PullDenied { .. } => ErrorKind::NotFound,
            RegistryError::Reference(_)
            | RegistryError::InsecureRegistry(_)
            | RegistryError::NoWasiManifest { .. }
            | RegistryError::InvalidLayout(_) => ErrorKind::Invalid,
            RegistryError::Unauthorized | RegistryError::LoginFailed { .. } => ErrorKind::Unauthorized,
            _ => ErrorKind::Other,
        }
    }

    pub(crate) fn layout(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> RegistryError {
        let context = context.into();
        move |source| RegistryError::Layout { context, source }
    }
}
