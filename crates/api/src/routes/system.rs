//! `/_ping`, `/version`, `/info`, `/system/df`.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::dto::system::{DiskUsageJson, InfoJson, VersionJson};
use crate::error::{ApiResult, blocking};

/// Version negotiation: the CLI reads `Api-Version` (added by the version layer) and
/// `Builder-Version` (1: the legacy builder is the default).
pub async fn ping() -> Response {
    let mut r = "OK".into_response();
    let h = r.headers_mut();
    h.insert("Builder-Version", HeaderValue::from_static("1"));
    h.insert("Cache-Control", HeaderValue::from_static("no-cache, no-store, must-revalidate"));
    h.insert("Pragma", HeaderValue::from_static("no-cache"));
    r
}

pub async fn version() -> Json<VersionJson> {
    Json(VersionJson::current())
}

pub async fn info(State(s): State<AppState>) -> ApiResult<Json<InfoJson>> {
    let engine = s.engine.clone();
    let counts = blocking(move || Ok(engine.counts())).await?;
    Ok(Json(InfoJson::new(counts, s.engine.root(), s.engine.warnings().to_vec())))
}

/// `docker system df`.
pub async fn df(State(s): State<AppState>) -> ApiResult<Json<DiskUsageJson>> {
    let usage = blocking(move || s.engine.disk_usage()).await?;
    Ok(Json(DiskUsageJson::new(usage, porthole_store::now_nanos())))
}
