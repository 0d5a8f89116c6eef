//! Previews for the dashboard, read-only: `GET /porthole/containers/{id}/rm-preview` (the
//! volumes `docker rm -v` would delete) and `GET /porthole/volumes/prune-preview?all=1` (the
//! volumes `docker volume prune [-a]` would delete).

use axum::Json;
use axum::extract::{Path, State};

use super::super::AppState;
use crate::error::{ApiResult, blocking};
use crate::extract::Params;

#[derive(serde::Serialize)]
pub struct Preview {
    /// The `docker` command previewed.
    command: String,
    /// Names of the volumes it would delete.
    volumes: Vec<String>,
}

pub async fn rm(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Preview>> {
    let engine = s.engine.clone();
    let command = format!("docker rm -v {id}");
    let volumes = blocking(move || engine.rm_volumes_preview(&id)).await?;
    Ok(Json(Preview { command, volumes }))
}

pub async fn prune(State(s): State<AppState>, params: Params) -> ApiResult<Json<Preview>> {
    let all = params.flag("all");
    let command = if all { "docker volume prune --all" } else { "docker volume prune" }.to_string();
    let engine = s.engine.clone();
    let volumes = blocking(move || Ok(engine.prune_preview(all))).await?;
    Ok(Json(Preview { command, volumes }))
}
