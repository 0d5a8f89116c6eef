//! `POST /build` (the legacy builder, `DOCKER_BUILDKIT=0`): the body is the context as a tar
//! stream, saved and unpacked into a temporary directory under the state root; progress is
//! streamed as JSON messages (`{"stream": …}`, `{"aux": {"ID": …}}`, `{"errorDetail": …}`).

use std::collections::BTreeMap;
use std::path::Path;

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use porthole_engine::{BuildOptions, CancelToken, Engine};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use super::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Params;

/// `buildargs`, the JSON object of `--build-arg`s. A `null` value (`--build-arg NAME` with
/// NAME unset in the client's environment) leaves the Dockerfile's default, as in Docker.
fn build_args(json: Option<&str>) -> Result<BTreeMap<String, String>, ApiError> {
    let Some(json) = json.filter(|j| !j.is_empty()) else { return Ok(BTreeMap::new()) };
    let args: Option<BTreeMap<String, Option<String>>> = serde_json::from_str(json)
        .map_err(|e| ApiError::InvalidParameter { name: "buildargs", value: e.to_string() })?;
    Ok(args.unwrap_or_default().into_iter().filter_map(|(k, v)| Some((k, v?))).collect())
}

/// The largest build context accepted, both as received and as it would be unpacked.
pub const CONTEXT_LIMIT: u64 = 512 << 20;

/// The build parameters Porthole reads. `rm` and `forcerm` (keep or remove the steps'
/// containers) ask nothing of it: a step's container is never one Porthole keeps, so there
/// is nothing to leave behind (the Python SDK sends `rm=False` by default).
const HONOURED: &[&str] = &["t", "q", "nocache", "dockerfile", "buildargs", "remote", "rm", "forcerm"];

/// The other parameters the docker CLI sends, each with the flag a user gives. Sent at their
/// default (an older CLI sends every one) they mean nothing; with any other value they are
/// refused by name rather than ignored.
const REFUSED: &[(&str, &str)] = &[
    ("pull", "--pull"),
    ("squash", "--squash"),
    ("isolation", "--isolation"),
    ("cpusetcpus", "--cpuset-cpus"),
    ("cpusetmems", "--cpuset-mems"),
    ("cpushares", "--cpu-shares"),
    ("cpuquota", "--cpu-quota"),
    ("cpuperiod", "--cpu-period"),
    ("memory", "--memory"),
    ("memswap", "--memory-swap"),
    ("cgroupparent", "--cgroup-parent"),
    ("shmsize", "--shm-size"),
    ("networkmode", "--network"),
    ("target", "--target"),
    ("ulimits", "--ulimit"),
    ("labels", "--label"),
    ("cachefrom", "--cache-from"),
    ("platform", "--platform"),
    ("securityopt", "--security-opt"),
    ("extrahosts", "--add-host"),
    ("outputs", "--output"),
    ("session", "--session (BuildKit)"),
    ("version", "a builder version other than 1 (BuildKit)"),
];

/// A parameter's value that asks for nothing: what a CLI sends for an option left alone.
/// Booleans as Docker reads them (the Python SDK sends `False`, `True`).
fn is_default(key: &str, value: &str) -> bool {
    let value = value.to_ascii_lowercase();
    match key {
        "version" => value == "1" || value.is_empty(),
        "networkmode" => value.is_empty() || value == "default",
        _ => matches!(value.as_str(), "" | "0" | "null" | "{}" | "[]" | "false" | "no"),
    }
}

/// Refuses, by its docker flag, every build option Porthole does not implement.
fn refuse_unimplemented(params: &Params) -> Result<(), ApiError> {
    if params.get("remote").is_some_and(|r| !r.is_empty()) {
        return Err(ApiError::Unsupported("building from a remote context".into()));
    }
    for (key, value) in params.pairs().filter(|(k, _)| !HONOURED.contains(k)) {
        if is_default(key, value) {
            continue;
        }
        let flag = REFUSED.iter().find(|(k, _)| *k == key).map_or(key, |(_, flag)| flag);
        return Err(ApiError::Unsupported(format!("docker build {flag}")));
    }
    Ok(())
}

pub async fn build(State(s): State<AppState>, params: Params, body: Body) -> ApiResult<Response> {
    refuse_unimplemented(&params)?;
    let build_args = build_args(params.get("buildargs"))?;
    let io = |context| move |source| ApiError::Io { context, source };
    let dir = tempfile::Builder::new()
        .prefix(".build-context-")
        .tempdir_in(s.engine.root())
        .map_err(io("creating the build directory"))?;
    let archive = dir.path().join("context.tar");
    receive(body, &archive).await?;
    let counted = archive.clone();
    if tokio::task::spawn_blocking(move || unpacked_size(&counted)).await?.map_err(io("reading the build context"))?
        > CONTEXT_LIMIT
    {
        return Err(ApiError::ContextTooLarge);
    }
    let options = BuildOptions {
        context: dir.path().join("context"),
        dockerfile: params.get("dockerfile").filter(|d| !d.is_empty()).map(String::from),
        tags: params.all("t"),
        build_args,
        no_cache: params.flag("nocache"),
    };
    let quiet = params.flag("q");
    let (tx, rx) = mpsc::unbounded_channel::<serde_json::Value>();
    let engine = s.engine.clone();
    // A client that goes away (Ctrl-C on docker build) drops the response stream: the build
    // stops, its running step too.
    // (Checked by polling a weak sender: a strong one would keep the stream open forever.)
    let cancel = CancelToken::default();
    let (weak, token) = (tx.downgrade(), cancel.clone());
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            match weak.upgrade() {
                None => break,
                Some(tx) if tx.is_closed() => break token.cancel(),
                Some(_) => {}
            }
        }
    });
    tokio::task::spawn_blocking(move || {
        match run_to_end(&engine, &archive, options, quiet, &cancel, &tx) {
            Ok(id) => {
                if quiet {
                    let _ = tx.send(json!({ "stream": format!("sha256:{id}\n") }));
                }
                let _ = tx.send(json!({ "aux": { "ID": format!("sha256:{id}") } }));
            }
            Err(message) => {
                let _ = tx.send(json!({ "errorDetail": { "message": message }, "error": message }));
            }
        }
        // The context goes once the build is over.
        drop(dir);
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|m| (Ok::<_, std::convert::Infallible>(format!("{m}\n")), rx))
    });
    Ok(([(header::CONTENT_TYPE, "application/json")], Body::from_stream(stream)).into_response())
}

/// Saves the request body to `path`, refusing contexts over the limit.
async fn receive(body: Body, path: &Path) -> ApiResult<()> {
    let io = |context| move |source| ApiError::Io { context, source };
    let mut file = tokio::fs::File::create(path).await.map_err(io("saving the build context"))?;
    let mut stream = body.into_data_stream();
    let mut total = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::Io { context: "receiving the build context", source: std::io::Error::other(e) })?;
        total += chunk.len() as u64;
        if total > CONTEXT_LIMIT {
            return Err(ApiError::ContextTooLarge);
        }
        file.write_all(&chunk).await.map_err(io("saving the build context"))?;
    }
    file.flush().await.map_err(io("saving the build context"))
}

/// What unpacking `archive` would write: the sizes its headers declare (a sparse entry's full
/// size, a PAX size), not the bytes it occupies, so a few KiB cannot unpack to gigabytes.
fn unpacked_size(archive: &Path) -> std::io::Result<u64> {
    let mut tar = tar::Archive::new(std::fs::File::open(archive)?);
    let mut total = 0u64;
    for entry in tar.entries_with_seek()? {
        total = total.saturating_add(entry?.size());
    }
    Ok(total)
}

/// [`run`], with a panic (a bug) turned into the error the CLI shows, so the stream ends with
/// an `errorDetail` rather than just ending.
fn run_to_end(
    engine: &Engine,
    archive: &Path,
    options: BuildOptions,
    quiet: bool,
    cancel: &CancelToken,
    tx: &mpsc::UnboundedSender<serde_json::Value>,
) -> Result<String, String> {
    caught(|| run(engine, archive, options, quiet, cancel, tx))
}

/// Runs `f`, a panic in it becoming `Err` with its message.
fn caught(f: impl FnOnce() -> Result<String, String>) -> Result<String, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(format!("the build panicked: {}", crate::error::panic_message(&*payload))))
}

/// Unpacks and builds; the error is the message the CLI shows.
fn run(
    engine: &Engine,
    archive: &Path,
    options: BuildOptions,
    quiet: bool,
    cancel: &CancelToken,
    tx: &mpsc::UnboundedSender<serde_json::Value>,
) -> Result<String, String> {
    let file = std::fs::File::open(archive).map_err(|e| format!("reading the build context: {e}"))?;
    std::fs::create_dir_all(&options.context).map_err(|e| format!("unpacking the build context: {e}"))?;
    tar::Archive::new(file).unpack(&options.context).map_err(|e| format!("unpacking the build context: {e}"))?;
    let _ = std::fs::remove_file(archive);
    let mut progress = |text: &str| {
        // One message per line, as Docker sends them: the Python SDK finds the image id by
        // matching a whole message against `^Successfully built <id>$`.
        for line in text.split_inclusive('\n').filter(|_| !quiet) {
            let _ = tx.send(json!({ "stream": line }));
        }
    };
    engine.build_cancellable(options, cancel, &mut progress).map(|out| out.image_id).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    fn params(query: &str) -> super::Params {
        super::Params::from_query(query)
    }

    #[test]
    fn options_left_alone_pass_and_others_are_refused_by_flag() {
        let sent_by_old_clis = "t=a&rm=1&forcerm=0&pull=0&shmsize=0&memory=0&labels=%7B%7D&cachefrom=%5B%5D&networkmode=default&version=1&nocache=1";
        assert!(super::refuse_unimplemented(&params(sent_by_old_clis)).is_ok());
        let sent_by_the_python_sdk = "t=py%3A1&q=False&nocache=False&rm=True&forcerm=False&pull=False";
        assert!(super::refuse_unimplemented(&params(sent_by_the_python_sdk)).is_ok());
        for (query, flag) in [
            ("target=build", "docker build --target"),
            ("pull=1", "docker build --pull"),
            ("version=2", "docker build a builder version other than 1 (BuildKit)"),
            ("frobnicate=1", "docker build frobnicate"),
        ] {
            let err = super::refuse_unimplemented(&params(query)).unwrap_err().to_string();
            assert_eq!(err, format!("{flag} is not supported by Porthole"), "{query}");
        }
    }

    #[test]
    fn a_panic_in_a_build_is_its_error_message() {
        assert_eq!(super::caught(|| Ok("id".into())), Ok("id".into()));
        assert_eq!(
            super::caught(|| panic!("the parser requires FROM")),
            Err("the build panicked: the parser requires FROM".into())
        );
    }
}
