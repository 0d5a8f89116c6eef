//! `docker exec`: the create body and `GET /exec/{id}/json`.

use serde::{Deserialize, Serialize};

/// `POST /containers/{id}/exec`
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecCreateBody {
    pub user: String,
    pub privileged: bool,
    pub tty: bool,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    pub env: Option<Vec<String>>,
    pub working_dir: String,
    pub cmd: Vec<String>,
    /// `--detach-keys` (moby's key spec; empty: `ctrl-p,ctrl-q`).
    pub detach_keys: String,
}

/// `POST /exec/{id}/start`
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecStartBody {
    pub detach: bool,
    pub tty: bool,
}

#[derive(Debug, Serialize)]
pub struct ProcessConfig {
    pub tty: bool,
    pub entrypoint: String,
    pub arguments: Vec<String>,
    pub privileged: bool,
    pub user: String,
}

/// `GET /exec/{id}/json`
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecInspect {
    #[serde(rename = "ID")]
    pub id: String,
    pub running: bool,
    pub exit_code: Option<i32>,
    pub process_config: ProcessConfig,
    pub open_stdin: bool,
    pub open_stdout: bool,
    pub open_stderr: bool,
    #[serde(rename = "ContainerID")]
    pub container_id: String,
    pub pid: u32,
    pub can_remove: bool,
    pub detach_keys: String,
}
