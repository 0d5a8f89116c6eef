//! Networks: `docker network ls` and `inspect` show Docker's default networks as records
//! (see [`crate::dto::networks`]); creating or connecting one is refused by name, by the
//! fallback in [`crate::unsupported`].

use axum::Json;
use axum::extract::Path;

use crate::dto::networks::NetworkJson;
use crate::error::{ApiError, ApiResult};
use crate::extract::Params;
use crate::filters::network_matches;

pub async fn list(params: Params) -> ApiResult<Json<Vec<NetworkJson>>> {
    let filters = params.filters()?;
    let mut out = Vec::new();
    for network in NetworkJson::all() {
        if network_matches(&network, &filters)? {
            out.push(network);
        }
    }
    Ok(Json(out))
}

pub async fn inspect(Path(reference): Path<String>) -> ApiResult<Json<NetworkJson>> {
    NetworkJson::find(&reference).map(Json).ok_or(ApiError::NoSuchNetwork(reference))
}
