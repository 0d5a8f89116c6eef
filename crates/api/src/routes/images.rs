//! Images: list, inspect, tag, remove, prune, save and load (`docker save`/`docker load`,
//! archives of OCI image layouts); pull and push are `registry.rs`'s.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use porthole_engine::{ImageRemove, PruneFilter};

use super::AppState;
use crate::dto::images::{DeleteItem, HistoryResponseItem, ImageInspect, ImagePruneReport, ImageSummary};
use crate::error::{ApiError, ApiResult, blocking};
use crate::extract::Params;
use crate::unsupported;

/// `reference=busybox` keeps images with a tag of that repository (`busybox:*`) or that exact
/// tag.
fn reference_matches(tags: &[String], reference: &str) -> bool {
    tags.iter().any(|t| t == reference || t.rsplit_once(':').is_some_and(|(repo, _)| repo == reference))
}

pub async fn list(State(s): State<AppState>, params: Params) -> ApiResult<Json<Vec<ImageSummary>>> {
    let filters = params.filters()?;
    filters.only(&["reference", "dangling"])?;
    let dangling = filters.boolean("dangling")?;
    let all = params.flag("all");
    let images = blocking(move || Ok(s.engine.image_list(all)))
        .await?
        .into_iter()
        .filter(|(_, tags)| filters.values("reference").iter().all(|r| reference_matches(tags, r)))
        .filter(|(_, tags)| dangling.is_none_or(|d| d == tags.is_empty()))
        .map(ImageSummary::from)
        .collect();
    Ok(Json(images))
}

/// The CLI qualifies Docker Hub names (`docker.io/library/busybox`); local images are
/// named as the user wrote them.
pub(crate) fn short_name(image: &str) -> &str {
    image.strip_prefix("docker.io/library/").or_else(|| image.strip_prefix("docker.io/")).unwrap_or(image)
}

/// Splits `NAME/json` or `NAME/tag` (names contain slashes); any other path under `/images/`
/// (`get`, `load`) is an operation Porthole lacks, refused by name.
fn split(rest: &str, suffix: &str, method: &Method, uri: &Uri) -> ApiResult<String> {
    rest.strip_suffix(suffix)
        .filter(|n| !n.is_empty())
        .map(String::from)
        .ok_or_else(|| unsupported::refuse(method, uri))
}

/// `GET /images/NAME/json` (inspect), `GET /images/NAME/history` and `GET /images/NAME/get`
/// (`docker save` of one image).
pub async fn get(State(s): State<AppState>, Path(rest): Path<String>, method: Method, uri: Uri) -> ApiResult<Response> {
    if let Some(name) = rest.strip_suffix("/get").filter(|n| !n.is_empty()) {
        return save_archive(s, vec![name.to_string()]).await;
    }
    if let Some(name) = rest.strip_suffix("/history").filter(|n| !n.is_empty()).map(String::from) {
        let items = blocking(move || s.engine.image_history(&name)).await?;
        return Ok(Json(items.into_iter().map(HistoryResponseItem::from).collect::<Vec<_>>()).into_response());
    }
    let name = split(&rest, "/json", &method, &uri)?;
    Ok(Json(ImageInspect::from(blocking(move || s.engine.image_inspect(&name)).await?)).into_response())
}

/// `GET /images/get?names=…` (`docker save IMAGE…`).
pub async fn save(State(s): State<AppState>, params: Params) -> ApiResult<Response> {
    save_archive(s, params.all("names")).await
}

/// The archive of `names`, streamed; an unknown name fails before any byte is sent.
async fn save_archive(s: AppState, names: Vec<String>) -> ApiResult<Response> {
    let names: Vec<String> = names.iter().map(|n| short_name(n).to_string()).collect();
    let archive = blocking(move || s.engine.save_archive(&names)).await?;
    let body = super::archive::stream_body(move |out| archive.write_to(out));
    Ok(([(header::CONTENT_TYPE, "application/x-tar")], body).into_response())
}

/// `POST /images/load` (`docker load`): the archive is the body; the answer is Docker's JSON
/// messages, `{"stream": "Loaded image: NAME:TAG\n"}` per image (the same with `quiet`, which
/// only drops progress bars, and Porthole sends none).
pub async fn load(State(s): State<AppState>, body: axum::body::Body) -> ApiResult<Response> {
    let (reader, feeding) = super::archive::ChannelReader::feed(body);
    let lines = blocking(move || s.engine.load_archive(reader)).await;
    let _ = feeding.await;
    let text: String =
        lines?.iter().map(|l| format!("{}\n", serde_json::json!({ "stream": format!("{l}\n") }))).collect();
    Ok(([(header::CONTENT_TYPE, "application/json")], text).into_response())
}

/// `POST /images/NAME/tag` and `POST /images/NAME/push`.
pub async fn post(
    State(s): State<AppState>,
    Path(rest): Path<String>,
    params: Params,
    headers: HeaderMap,
    method: Method,
    uri: Uri,
) -> ApiResult<Response> {
    if let Some(name) = rest.strip_suffix("/push").filter(|n| !n.is_empty()) {
        return super::registry::push(s, name.to_string(), params, headers).await;
    }
    let name = split(&rest, "/tag", &method, &uri)?;
    Ok(tag(s, name, params).await?.into_response())
}

async fn tag(s: AppState, name: String, params: Params) -> ApiResult<StatusCode> {
    let repo = short_name(params.get("repo").unwrap_or_default());
    let target = match params.get("tag").filter(|t| !t.is_empty()) {
        Some(tag) => format!("{repo}:{tag}"),
        None => repo.to_string(),
    };
    blocking(move || s.engine.tag(&name, &target)).await?;
    Ok(StatusCode::CREATED)
}

pub async fn remove(
    State(s): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult<Json<Vec<DeleteItem>>> {
    let opts = ImageRemove { force: params.flag("force"), prune: !params.flag("noprune") };
    let report = blocking(move || s.engine.remove_image_with(&name, opts)).await?;
    Ok(Json(report.iter().filter_map(|l| DeleteItem::from_line(l)).collect()))
}

/// `docker image prune [-a] [--filter until=…|label=…|label!=…]`: the CLI sends
/// `dangling=true`, or `dangling=false` for `-a`.
pub async fn prune(State(s): State<AppState>, params: Params) -> ApiResult<Json<ImagePruneReport>> {
    let filters = params.filters()?;
    filters.only(&["dangling", "until", "label", "label!"])?;
    let all = filters.boolean("dangling")? == Some(false);
    let now = porthole_store::now_nanos();
    let until = match filters.values("until") {
        [] => None,
        [one] => Some(
            porthole_core::time::docker_timestamp(one, now)
                .map_err(|e| ApiError::InvalidParameter { name: "until", value: e })?,
        ),
        _ => return Err(ApiError::InvalidParameter { name: "until", value: "more than one until filter".into() }),
    };
    let filter =
        PruneFilter { until, label: filters.values("label").to_vec(), not_label: filters.values("label!").to_vec() };
    let pruned = blocking(move || s.engine.image_prune(all, &filter)).await?;
    Ok(Json(ImagePruneReport {
        images_deleted: pruned.report.iter().filter_map(|l| DeleteItem::from_line(l)).collect(),
        space_reclaimed: pruned.reclaimed,
    }))
}
