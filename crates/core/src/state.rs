//! The container state machine, with Docker's states and the transitions it allows.

use std::fmt;

/// Docker's container states (`State.Status`); Porthole has no paused or restarting guests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Exited,
    Dead,
}

/// Why a transition is not allowed; texts are Docker's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error(
        "cannot remove container \"/{0}\": container is running: stop the container before removing or force remove"
    )]
    RemoveRunning(String),
    #[error("Container {0} is not running")]
    NotRunning(String),
    #[error("container {0} is marked for removal and cannot be started")]
    Dead(String),
    #[error("Container {0} is already paused")]
    AlreadyPaused(String),
    #[error("Container {0} is not paused")]
    NotPaused(String),
    #[error("Container {0} is paused, unpause the container before exec")]
    Paused(String),
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Exited => "exited",
            Status::Dead => "dead",
        }
    }

    pub fn is_running(self) -> bool {
        self == Status::Running
    }

    /// `start` of a running container is a no-op in Docker (304), so only dead ones fail.
    pub fn can_start(self, name: &str) -> Result<bool, StateError> {
        match self {
            Status::Created | Status::Exited => Ok(true),
            Status::Running => Ok(false),
            Status::Dead => Err(StateError::Dead(name.to_string())),
        }
    }

    pub fn can_remove(self, force: bool, name: &str) -> Result<(), StateError> {
        if self == Status::Running && !force { Err(StateError::RemoveRunning(name.to_string())) } else { Ok(()) }
    }

    /// `kill` needs a running container; `stop` of a stopped one is a no-op.
    pub fn can_kill(self, name: &str) -> Result<(), StateError> {
        if self == Status::Running { Ok(()) } else { Err(StateError::NotRunning(name.to_string())) }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a guest ended, as the container's exit code (Docker's conventions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Exited(i32),
    /// Stopped or killed: 137, as for SIGKILL.
    Killed,
    /// Ended by another signal it did not catch (`docker stop`'s TERM, `docker kill -s`):
    /// 128 + the signal.
    Signaled(i32),
    /// Out of memory: 137 with `OOMKilled`, as Docker reports.
    OutOfMemory,
    /// A wasm trap (a Rust panic aborts this way): 134, as for SIGABRT.
    Trapped,
}

impl Ending {
    pub fn exit_code(self) -> i32 {
        match self {
            Ending::Exited(c) => c,
            Ending::Signaled(sig) => 128 + sig,
            Ending::Killed | Ending::OutOfMemory => 137,
            Ending::Trapped => 134,
        }
    }
}

/// Engine-side failures before the guest runs, with Docker's exit codes.
pub mod exit_codes {
    /// The engine could not run the container (`docker run` prints the error and exits 125).
    pub const ENGINE_ERROR: i32 = 125;
    /// The command exists but cannot run (not a WebAssembly program).
    pub const NOT_EXECUTABLE: i32 = 126;
    /// The command was not found.
    pub const NOT_FOUND: i32 = 127;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        assert_eq!(Status::Created.can_start("c"), Ok(true));
        assert_eq!(Status::Exited.can_start("c"), Ok(true));
        assert_eq!(Status::Running.can_start("c"), Ok(false));
        assert!(Status::Dead.can_start("c").is_err());
        assert_eq!(
            Status::Running.can_remove(false, "web").unwrap_err().to_string(),
            "cannot remove container \"/web\": container is running: stop the container before removing or force remove"
        );
        assert!(Status::Running.can_remove(true, "web").is_ok());
        assert_eq!(Status::Exited.can_kill("web").unwrap_err().to_string(), "Container web is not running");
        assert_eq!(Ending::Killed.exit_code(), 137);
        assert_eq!(Ending::Exited(3).exit_code(), 3);
    }
}
