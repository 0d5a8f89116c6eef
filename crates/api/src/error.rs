//! API errors: every failure becomes Docker's error body `{"message": "…"}` with the status
//! code Docker uses for it, so the docker CLI prints `Error response from daemon: …`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use porthole_engine::{EngineError, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("page not found")]
    PageNotFound,
    #[error("{0}")]
    InvalidJson(String),
    #[error("invalid value for {name}: {value}")]
    InvalidParameter { name: &'static str, value: String },
    #[error("invalid filter '{0}'")]
    InvalidFilter(String),
    /// An option the docker CLI sends that Porthole cannot honour; refused rather than ignored.
    #[error("{0} is not supported by Porthole")]
    Unsupported(String),
    /// A Docker API operation Porthole does not implement, named by its docker command (see
    /// [`crate::unsupported`]).
    #[error("{0} is not supported by Porthole")]
    NotImplemented(String),
    #[error("client version {0} is too new. Maximum supported API version is {max}", max = crate::version::API_VERSION)]
    VersionTooNew(String),
    /// `detachKeys` of an attach that moby's `term.ToBytes` refuses.
    #[error("Invalid detach keys ({0}) provided")]
    InvalidDetachKeys(String),
    /// `DetachKeys` of an exec (moby's text differs from attach's, and its status is a 500: an
    /// untyped error in `ContainerExecCreate`).
    #[error("Invalid escape keys ({0}) provided")]
    InvalidEscapeKeys(String),
    #[error("No such exec instance: {0}")]
    NoSuchExec(String),
    #[error("container {0} is not running")]
    NotRunning(String),
    #[error("build context is larger than {limit} MiB", limit = crate::routes::build::CONTEXT_LIMIT >> 20)]
    ContextTooLarge,
    #[error("{0}")]
    Forbidden(String),
    /// A volume driver other than `local` (Docker looks it up among plugins and fails).
    #[error("error looking up volume plugin {0}: plugin \"{0}\" not found")]
    PluginNotFound(String),
    #[error("Minimum memory limit allowed is 6MB")]
    MemoryBelowMinimum,
    /// `--log-driver` / `--log-opt` refused, with Docker's text where it has one.
    #[error(transparent)]
    LogConfig(#[from] porthole_core::log_config::LogConfigError),
    #[error("{context}: {source}")]
    Io { context: &'static str, source: std::io::Error },
    #[error("the engine task failed: {0}")]
    Task(String),
    /// A bug: the engine call panicked. The client gets a 500 saying so, not a dropped
    /// connection.
    #[error("the engine task panicked: {0}")]
    Panicked(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Engine(e) => match e.kind() {
                ErrorKind::NotFound => StatusCode::NOT_FOUND,
                ErrorKind::Conflict => StatusCode::CONFLICT,
                ErrorKind::Invalid => StatusCode::BAD_REQUEST,
                ErrorKind::Forbidden => StatusCode::FORBIDDEN,
                ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
                ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ApiError::PageNotFound | ApiError::NoSuchExec(_) | ApiError::PluginNotFound(_) => StatusCode::NOT_FOUND,
            ApiError::InvalidJson(_)
            | ApiError::InvalidParameter { .. }
            | ApiError::InvalidFilter(_)
            | ApiError::InvalidDetachKeys(_)
            | ApiError::Unsupported(_)
            | ApiError::VersionTooNew(_)
            | ApiError::ContextTooLarge
            | ApiError::MemoryBelowMinimum
            | ApiError::LogConfig(_) => StatusCode::BAD_REQUEST,
            ApiError::NotRunning(_) => StatusCode::CONFLICT,
            ApiError::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Io { .. } | ApiError::Task(_) | ApiError::Panicked(_) | ApiError::InvalidEscapeKeys(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        match e.try_into_panic() {
            Ok(payload) => ApiError::Panicked(panic_message(&*payload)),
            Err(e) => ApiError::Task(e.to_string()),
        }
    }
}

/// The text a panic was raised with (`panic!("…")`, `expect("…")`), where there is one.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(s), _) => s.to_string(),
        (_, Some(s)) => s.clone(),
        _ => "no message".into(),
    }
}

/// Docker's error body.
#[derive(serde::Serialize)]
pub struct ErrorBody {
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(ErrorBody { message: self.to_string() })).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Runs a blocking engine call on tokio's blocking pool.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, EngineError> + Send + 'static) -> ApiResult<T> {
    Ok(tokio::task::spawn_blocking(f).await??)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panic in a blocking engine call is a 500 with the panic's message.
    #[tokio::test]
    async fn a_panic_in_a_blocking_task_is_a_500_with_its_message() {
        let e =
            blocking(|| -> Result<(), EngineError> { panic!("index out of bounds: the len is 0") }).await.unwrap_err();
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(e.to_string(), "the engine task panicked: index out of bounds: the len is 0");
        let owned = blocking(|| -> Result<(), EngineError> { panic!("{} failed", "step") }).await.unwrap_err();
        assert_eq!(owned.to_string(), "the engine task panicked: step failed");
    }
}
