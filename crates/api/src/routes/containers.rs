//! Container lifecycle: create, list, inspect, start, stop, kill, restart, wait, remove,
//! prune, rename, top, diff.

use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use porthole_engine::{RemoveOptions, WaitCondition};

use super::AppState;
use crate::dto::containers::{ChangeJson, ContainerJson, SizedContainer, TopJson};
use crate::dto::create::{CreateBody, CreateResponse, network_warnings};
use crate::error::{ApiError, ApiResult, blocking};
use crate::extract::{JsonBody, Params};
use crate::filters::container_matches;

pub async fn list(State(s): State<AppState>, params: Params) -> ApiResult<Json<Vec<SizedContainer>>> {
    let filters = params.filters()?;
    // As in Docker, a status filter looks at every container, not only running ones.
    let all = params.flag("all") || !filters.values("status").is_empty();
    let engine = s.engine.clone();
    let infos = blocking(move || Ok(engine.list(all))).await?;
    let mut kept = Vec::new();
    for info in infos {
        if container_matches(&info, &filters)? {
            kept.push(info);
        }
    }
    // The Python SDK sends `limit=-1` for "no limit"; Docker treats any limit below 1 so.
    if let Some(limit) = params.number::<i64>("limit")?.filter(|l| *l > 0) {
        kept.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    // `docker ps -s`: each tree measured, off the async workers.
    let size = params.flag("size");
    let now = porthole_store::now_nanos();
    let out = blocking(move || {
        Ok(kept.iter().map(|i| SizedContainer::new(i, now, size.then(|| s.engine.container_sizes(i)))).collect())
    })
    .await?;
    Ok(Json(out))
}

pub async fn create(
    State(s): State<AppState>,
    params: Params,
    JsonBody(body): JsonBody<CreateBody>,
) -> ApiResult<Response> {
    let options = body.into_options(params.get("name").map(String::from))?;
    let warnings = network_warnings(&options.network);
    let engine = s.engine.clone();
    let id = blocking(move || engine.create(options)).await?;
    Ok((StatusCode::CREATED, Json(CreateResponse { id: id.to_string(), warnings })).into_response())
}

pub async fn inspect(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<ContainerJson>> {
    Ok(Json((&blocking(move || s.engine.inspect(&id)).await?).into()))
}

pub async fn start(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    blocking(move || s.engine.start(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn stop(State(s): State<AppState>, Path(id): Path<String>, params: Params) -> ApiResult<StatusCode> {
    let timeout = params.number::<i64>("t")?.map(|t| Duration::from_secs(t.max(0) as u64));
    blocking(move || s.engine.stop(&id, timeout)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `docker kill [-s SIGNAL]`: KILL ends every process, another signal goes to the main one.
pub async fn kill(State(s): State<AppState>, Path(id): Path<String>, params: Params) -> ApiResult<StatusCode> {
    let signal = params.get("signal").map(str::to_string);
    blocking(move || s.engine.kill(&id, signal.as_deref())).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn pause(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    blocking(move || s.engine.pause(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn unpause(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    blocking(move || s.engine.unpause(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn restart(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    blocking(move || s.engine.restart(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Docker's wait: the headers go out at once (the CLI blocks on them before it starts the
/// container), the body `{"StatusCode": N}` when the condition is met.
pub async fn wait(State(s): State<AppState>, Path(id): Path<String>, params: Params) -> ApiResult<Response> {
    let condition = match params.get("condition").unwrap_or("not-running") {
        "" | "not-running" => WaitCondition::NotRunning,
        "next-exit" => WaitCondition::NextExit,
        "removed" => WaitCondition::Removed,
        other => {
            return Err(ApiError::InvalidParameter { name: "condition", value: other.to_string() });
        }
    };
    // Looked up now, waited for without a thread: the wait ends when the client goes away
    // (the body is dropped), and a container --rm removes meanwhile still reports its code.
    let waiting = blocking(move || s.engine.wait_async(&id, condition)).await?;
    let body = futures::stream::once(async move {
        let json = serde_json::json!({ "StatusCode": waiting.await, "Error": null });
        Ok::<_, std::convert::Infallible>(format!("{json}\n"))
    });
    Ok(([(header::CONTENT_TYPE, "application/json")], Body::from_stream(body)).into_response())
}

pub async fn remove(State(s): State<AppState>, Path(id): Path<String>, params: Params) -> ApiResult<StatusCode> {
    let options = RemoveOptions { force: params.flag("force"), volumes: params.flag("v") };
    blocking(move || s.engine.remove(&id, options)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn prune(State(s): State<AppState>, params: Params) -> ApiResult<Json<serde_json::Value>> {
    params.filters()?.only(&[])?;
    let removed = blocking(move || s.engine.container_prune()).await?;
    Ok(Json(serde_json::json!({ "ContainersDeleted": removed, "SpaceReclaimed": 0 })))
}

/// Terminal size changes: guests see no window size, so there is nothing to do, but the CLI
/// sends them for every `-t` session.
pub async fn resize(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    blocking(move || s.engine.inspect(&id)).await?;
    Ok(StatusCode::OK)
}

/// `docker rename OLD NEW`.
pub async fn rename(State(s): State<AppState>, Path(id): Path<String>, params: Params) -> ApiResult<StatusCode> {
    let name = params.get("name").unwrap_or_default().to_string();
    blocking(move || s.engine.rename(&id, &name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `docker top`: the guests running in the container (see [`TopJson`]). Guests are not host
/// processes, so `ps` options have nothing to select from and are refused.
pub async fn top(State(s): State<AppState>, Path(id): Path<String>, params: Params) -> ApiResult<Json<TopJson>> {
    if let Some(args) = params.get("ps_args").filter(|a| !a.is_empty() && *a != "-ef") {
        return Err(ApiError::Unsupported(format!("docker top with ps options ({args})")));
    }
    let (_, processes) = blocking(move || s.engine.top(&id)).await?;
    Ok(Json(TopJson::new(&processes)))
}

/// `docker diff`: the container's changes to its image's files. No change is `null`, as moby
/// sends its empty list.
pub async fn changes(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Option<Vec<ChangeJson>>>> {
    let changes = blocking(move || s.engine.changes(&id)).await?;
    Ok(Json((!changes.is_empty()).then(|| changes.iter().map(ChangeJson::from).collect())))
}

/// `POST /commit?container=…&repo=…&tag=…&comment=…&author=…&changes=…&pause=…`, the body
/// a config to start from (the CLI sends `null`).
pub async fn commit(
    State(s): State<AppState>,
    params: Params,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let container = params.get("container").unwrap_or_default().to_string();
    let config = match body.as_ref() {
        b if b.iter().all(u8::is_ascii_whitespace) || b == b"null" => None,
        b => Some(serde_json::from_slice(b).map_err(|e| ApiError::InvalidJson(e.to_string()))?),
    };
    // The CLI qualifies the name (`docker.io/library/snap`), as for `docker tag`.
    let repo = params.get("repo").map(super::images::short_name);
    let reference = match (repo.filter(|r| !r.is_empty()), params.get("tag").filter(|t| !t.is_empty())) {
        (Some(repo), Some(tag)) => Some(format!("{repo}:{tag}")),
        (Some(repo), None) => Some(repo.to_string()),
        _ => None,
    };
    let opts = porthole_engine::CommitOptions {
        reference,
        comment: params.get("comment").unwrap_or_default().to_string(),
        author: params.get("author").unwrap_or_default().to_string(),
        changes: params.all("changes"),
        // Absent means pause, as in Docker.
        pause: params.get("pause").is_none() || params.flag("pause"),
        config,
    };
    let id = blocking(move || s.engine.commit(&container, opts)).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "Id": format!("sha256:{id}") }))))
}
