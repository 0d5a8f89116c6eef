//! `GET /porthole/graph` (JSON: nodes with column and row, edges with labels) and
//! `GET /porthole/graph.svg` (the same graph drawn; also the dashboard's "export SVG").

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use porthole_core::graph::Graph;

use super::super::AppState;
use crate::error::{ApiResult, blocking};

pub async fn graph(State(s): State<AppState>) -> ApiResult<Json<Graph>> {
    let engine = s.engine.clone();
    // Sizes of volumes are measured on disk, so off the async threads.
    Ok(Json(blocking(move || Ok(engine.graph())).await?))
}

pub async fn svg(State(s): State<AppState>) -> ApiResult<Response> {
    let engine = s.engine.clone();
    let svg = blocking(move || Ok(engine.graph().to_svg())).await?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], svg)
        .into_response())
}
