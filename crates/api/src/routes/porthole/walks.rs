//! `GET /porthole/containers/{id}/walks`: the container's recent path walks, oldest first
//! (each open the engine kept: the path asked, the links followed with the mount and volume
//! each landed in, the error and where a broken walk stopped). Live updates are the `walk`
//! events of `/porthole/events`.

use axum::Json;
use axum::extract::{Path, State};
use porthole_engine::WalkRecord;

use super::super::AppState;
use crate::error::{ApiResult, blocking};

pub async fn walks(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Vec<WalkRecord>>> {
    let engine = s.engine.clone();
    Ok(Json(blocking(move || engine.walks(&id)).await?))
}
