//! `docker network create/ls/inspect/connect/disconnect/rm/prune`: records only (see
//! [`crate::dto::networks`]); a network gives a guest no connectivity, and says so.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use porthole_engine::{NO_CONNECTIVITY, NetworkCreate};

use super::AppState;
use crate::dto::networks::{
    ConnectBody, DisconnectBody, NetworkCreateBody, NetworkCreateResponse, NetworkJson, NetworkPruneReport,
};
use crate::error::{ApiResult, blocking};
use crate::extract::{JsonBody, Params};
use crate::filters::network_matches;

pub async fn create(State(s): State<AppState>, JsonBody(body): JsonBody<NetworkCreateBody>) -> ApiResult<Response> {
    let request = NetworkCreate::try_from(body)?;
    let info = blocking(move || s.engine.network_create(request)).await?;
    let response = NetworkCreateResponse { id: info.record.id.to_string(), warning: NO_CONNECTIVITY };
    Ok((StatusCode::CREATED, Json(response)).into_response())
}

pub async fn list(State(s): State<AppState>, params: Params) -> ApiResult<Json<Vec<NetworkJson>>> {
    let filters = params.filters()?;
    let mut out = Vec::new();
    let networks = blocking(move || Ok(s.engine.network_list())).await?;
    for network in networks.into_iter().map(NetworkJson::from) {
        if network_matches(&network, &filters)? {
            out.push(network);
        }
    }
    Ok(Json(out))
}

pub async fn inspect(State(s): State<AppState>, Path(reference): Path<String>) -> ApiResult<Json<NetworkJson>> {
    Ok(Json(blocking(move || s.engine.network_inspect(&reference)).await?.into()))
}

pub async fn remove(State(s): State<AppState>, Path(reference): Path<String>) -> ApiResult<StatusCode> {
    blocking(move || s.engine.network_remove(&reference)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn prune(State(s): State<AppState>, params: Params) -> ApiResult<Json<NetworkPruneReport>> {
    let f = params.filters()?;
    f.only(&["label"])?;
    let labels = f.values("label").to_vec();
    let removed = blocking(move || s.engine.network_prune(&labels)).await?;
    Ok(Json(NetworkPruneReport { networks_deleted: removed }))
}

pub async fn connect(
    State(s): State<AppState>,
    Path(network): Path<String>,
    JsonBody(body): JsonBody<ConnectBody>,
) -> ApiResult<StatusCode> {
    let aliases = body.endpoint_config.unwrap_or_default().aliases()?;
    blocking(move || s.engine.network_connect(&network, &body.container, &aliases)).await?;
    Ok(StatusCode::OK)
}

/// `-f` changes nothing: there is no endpoint to tear down, only a record.
pub async fn disconnect(
    State(s): State<AppState>,
    Path(network): Path<String>,
    JsonBody(body): JsonBody<DisconnectBody>,
) -> ApiResult<StatusCode> {
    let _ = body.force;
    blocking(move || s.engine.network_disconnect(&network, &body.container)).await?;
    Ok(StatusCode::OK)
}
