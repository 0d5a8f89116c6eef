//! `docker volume create/ls/inspect/rm/prune`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use porthole_engine::VolumeFilters;

use super::AppState;
use crate::dto::volumes::{VolumeCreateBody, VolumeJson, VolumeList, VolumePruneReport};
use crate::error::{ApiResult, blocking};
use crate::extract::{JsonBody, Params};

pub async fn create(State(s): State<AppState>, JsonBody(body): JsonBody<VolumeCreateBody>) -> ApiResult<Response> {
    body.check()?;
    let name = Some(body.name).filter(|n| !n.is_empty());
    let labels = body.labels.unwrap_or_default();
    let options = body.driver_opts.unwrap_or_default();
    let info = blocking(move || s.engine.volume_create(name.as_deref(), labels, options)).await?;
    Ok((StatusCode::CREATED, Json(VolumeJson::from(info))).into_response())
}

pub async fn list(State(s): State<AppState>, params: Params) -> ApiResult<Json<VolumeList>> {
    let f = params.filters()?;
    f.only(&["dangling", "name", "label", "driver"])?;
    let filters = VolumeFilters {
        dangling: f.boolean("dangling")?,
        names: f.values("name").to_vec(),
        labels: f.values("label").to_vec(),
        drivers: f.values("driver").to_vec(),
    };
    let volumes = blocking(move || s.engine.volume_list(&filters)).await?;
    Ok(Json(VolumeList { volumes: volumes.into_iter().map(VolumeJson::from).collect(), warnings: Vec::new() }))
}

pub async fn inspect(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult<Json<VolumeJson>> {
    Ok(Json(blocking(move || s.engine.volume_inspect(&name)).await?.into()))
}

pub async fn remove(State(s): State<AppState>, Path(name): Path<String>, params: Params) -> ApiResult<StatusCode> {
    let force = params.flag("force");
    blocking(move || s.engine.volume_remove(&name, force)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `all=true` arrives as a filter (API ≥ 1.42): without it only anonymous volumes go.
pub async fn prune(State(s): State<AppState>, params: Params) -> ApiResult<Json<VolumePruneReport>> {
    let f = params.filters()?;
    f.only(&["all", "label"])?;
    let all = f.boolean("all")?.unwrap_or(false);
    let labels = f.values("label").to_vec();
    let (removed, reclaimed) = blocking(move || s.engine.volume_prune(all, &labels)).await?;
    Ok(Json(VolumePruneReport { volumes_deleted: removed, space_reclaimed: reclaimed }))
}
