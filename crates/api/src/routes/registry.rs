//! `docker pull` (`POST /images/create`), `docker push` (`POST /images/{name}/push`) and
//! `docker login` (`POST /auth`). A pull or push answers with Docker's JSON progress stream;
//! a failure before its first message is the response's status (moby writes nothing before
//! the registry has answered the manifest request), one after it the stream's last message.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use porthole_engine::{Credentials, EngineError, Progress, Reference};
use serde_json::Value;
use tokio::sync::mpsc;

use super::AppState;
use crate::dto::registry::{AuthConfig, AuthResponse, decode_registry_auth, error_message, progress_message, push_aux};
use crate::error::{ApiError, ApiResult, blocking};
use crate::extract::Params;

/// `POST /images/create?fromImage=NAME&tag=TAG`: the tag may be a digest, as moby allows.
pub async fn pull(State(s): State<AppState>, params: Params, headers: HeaderMap) -> ApiResult<Response> {
    // The same endpoint imports a tarball as an image.
    if params.get("fromSrc").is_some() {
        return Err(ApiError::NotImplemented("docker import".into()));
    }
    // Guests are WASI modules: `--platform` may only ask for what is pulled anyway.
    if let Some(platform) = params.get("platform").filter(|p| !p.is_empty() && *p != "wasi/wasm") {
        return Err(ApiError::Unsupported(format!("--platform {platform} (Porthole runs wasi/wasm images)")));
    }
    let reference = pull_reference(params.get("fromImage").unwrap_or_default(), params.get("tag"))?;
    let credentials = credentials(&headers)?;
    let engine = s.engine.clone();
    progress_stream(move |progress| engine.pull(&reference, &credentials, progress)).await
}

/// `POST /images/{name}/push?tag=TAG`.
pub async fn push(s: AppState, name: String, params: Params, headers: HeaderMap) -> ApiResult<Response> {
    let mut reference = Reference::normalized(&name).map_err(invalid_reference)?;
    if let Some(tag) = params.get("tag").filter(|t| !t.is_empty()) {
        reference = reference.with_tag(tag).map_err(invalid_reference)?;
    }
    let reference = reference.tag_name_only();
    let credentials = credentials(&headers)?;
    let engine = s.engine.clone();
    progress_stream(move |progress| engine.push(&reference, &credentials, progress)).await
}

/// `POST /auth`: Docker checks the credentials against the registry and stores nothing.
pub async fn auth(State(s): State<AppState>, Json(config): Json<AuthConfig>) -> ApiResult<Json<AuthResponse>> {
    let server = config.server_address.clone();
    let credentials: Credentials = config.into();
    blocking(move || s.engine.login(&server, &credentials)).await?;
    Ok(Json(AuthResponse { status: "Login Succeeded", identity_token: String::new() }))
}

fn credentials(headers: &HeaderMap) -> ApiResult<Credentials> {
    decode_registry_auth(headers.get("X-Registry-Auth").and_then(|v| v.to_str().ok()))
}

fn invalid_reference(e: porthole_engine::ReferenceError) -> ApiError {
    ApiError::Engine(EngineError::Registry(e.into()))
}

/// moby's `postImagesCreate`: `fromImage` normalized, `tag` a tag or a digest, `latest` when
/// neither is given.
fn pull_reference(image: &str, tag: Option<&str>) -> ApiResult<Reference> {
    let named = Reference::normalized(image).map_err(invalid_reference)?;
    let reference = match tag.filter(|t| !t.is_empty()) {
        Some(d) if d.contains(':') => named.with_digest(d),
        Some(t) => named.with_tag(t),
        None => Ok(named),
    };
    Ok(reference.map_err(invalid_reference)?.tag_name_only())
}

enum Message {
    Progress(Progress),
    Done(Result<(), EngineError>),
}

/// Runs `work` on a blocking thread and streams its progress as Docker's JSON messages.
async fn progress_stream(
    work: impl FnOnce(&mut dyn FnMut(Progress)) -> Result<(), EngineError> + Send + 'static,
) -> ApiResult<Response> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    tokio::task::spawn_blocking(move || {
        let result = work(&mut |p| {
            let _ = tx.send(Message::Progress(p));
        });
        let _ = tx.send(Message::Done(result));
    });
    let first = match rx.recv().await {
        Some(Message::Done(Err(e))) => return Err(e.into()),
        Some(first) => first,
        None => return Err(ApiError::Panicked("the registry transfer".into())),
    };
    let lines = |m: Message| -> Vec<Value> {
        match m {
            Message::Progress(p) => std::iter::once(progress_message(&p)).chain(push_aux(&p)).collect(),
            Message::Done(Ok(())) => Vec::new(),
            Message::Done(Err(e)) => vec![error_message(&e.to_string())],
        }
    };
    let head = futures::stream::iter(lines(first));
    let rest = futures::stream::unfold(rx, move |mut rx| async move {
        let m = rx.recv().await?;
        Some((futures::stream::iter(lines(m)), rx))
    });
    let body = futures::StreamExt::flatten(futures::StreamExt::chain(futures::stream::once(async { head }), rest));
    let body = futures::StreamExt::map(body, |v| Ok::<_, std::convert::Infallible>(format!("{v}\r\n")));
    Ok(([(header::CONTENT_TYPE, "application/json")], Body::from_stream(body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_references_follow_moby() {
        let rows = [
            ("busybox", None, "docker.io/library/busybox:latest"),
            ("docker.io/library/busybox", Some("1.36"), "docker.io/library/busybox:1.36"),
            ("127.0.0.1:5000/app", Some("1"), "127.0.0.1:5000/app:1"),
            (
                "app",
                Some("sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582"),
                "docker.io/library/app@sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582",
            ),
        ];
        for (image, tag, expected) in rows {
            assert_eq!(pull_reference(image, tag).unwrap().to_string(), expected, "{image}");
        }
        let err = pull_reference("Busybox", None).unwrap_err().to_string();
        assert_eq!(err, "invalid reference format: repository name (library/Busybox) must be lowercase");
    }
}
