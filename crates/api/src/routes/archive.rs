//! `docker cp`: `HEAD` (what a path is), `GET` (a path as a tar stream) and `PUT` (a tar
//! stream unpacked into a directory) on `/containers/{id}/archive?path=`. The engine does the
//! file work on the blocking pool; these handlers only carry the streams across.

use std::io::{self, Read, Write};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use tokio::sync::mpsc;

use super::AppState;
use crate::dto::archive::{PathStatJson, STAT_HEADER};
use crate::error::{ApiError, ApiResult, blocking};
use crate::extract::Params;

fn path_param(params: &Params) -> ApiResult<String> {
    match params.get("path").filter(|p| !p.is_empty()) {
        Some(p) => Ok(p.to_string()),
        None => Err(ApiError::InvalidParameter { name: "path", value: String::new() }),
    }
}

fn with_stat(mut response: Response, stat: &porthole_engine::PathStat) -> Response {
    if let Ok(value) = HeaderValue::from_str(&PathStatJson::from(stat).header()) {
        response.headers_mut().insert(STAT_HEADER, value);
    }
    response
}

pub async fn stat(State(s): State<AppState>, Path(id): Path<String>, params: Params) -> ApiResult<Response> {
    let path = path_param(&params)?;
    let stat = blocking(move || s.engine.path_stat(&id, &path)).await?;
    Ok(with_stat(StatusCode::OK.into_response(), &stat))
}

pub async fn get(State(s): State<AppState>, Path(id): Path<String>, params: Params) -> ApiResult<Response> {
    let path = path_param(&params)?;
    let (stat, source) = blocking(move || s.engine.archive(&id, &path)).await?;
    let body = stream_body(move |out| source.write_to(out));
    let response = ([(header::CONTENT_TYPE, "application/x-tar")], body).into_response();
    Ok(with_stat(response, &stat))
}

pub async fn put(
    State(s): State<AppState>,
    Path(id): Path<String>,
    params: Params,
    body: Body,
) -> ApiResult<StatusCode> {
    let path = path_param(&params)?;
    let (reader, feeding) = ChannelReader::feed(body);
    let result = blocking(move || s.engine.extract(&id, &path, reader)).await;
    let _ = feeding.await;
    result.map(|()| StatusCode::OK)
}

/// Streams what `write` writes (on the blocking pool) as the response body; a failure midway
/// ends the body with an error, so the client sees a cut stream.
pub(crate) fn stream_body(write: impl FnOnce(io::BufWriter<ChannelWriter>) -> io::Result<()> + Send + 'static) -> Body {
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(8);
    tokio::task::spawn_blocking(move || {
        let out = io::BufWriter::with_capacity(64 * 1024, ChannelWriter(tx.clone()));
        if let Err(e) = write(out) {
            let _ = tx.blocking_send(Err(e));
        }
    });
    Body::from_stream(futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|chunk| (chunk, rx)) }))
}

/// A blocking `Write` into an async channel (the response body).
pub(crate) struct ChannelWriter(pub(crate) mpsc::Sender<io::Result<Bytes>>);

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A blocking `Read` from an async channel (the request body).
pub(crate) struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl ChannelReader {
    /// A reader of `body`, fed by a task (await it after the reader is done). If the reader
    /// stops early (a refused entry, a full volume), the rest is read and dropped: a client cut
    /// off mid-upload would see a broken pipe, not the error.
    pub(crate) fn feed(body: Body) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(8);
        let feeding = tokio::spawn(async move {
            let mut stream = body.into_data_stream();
            let mut open = true;
            while let Some(chunk) = stream.next().await {
                open = open && tx.send(chunk.map_err(io::Error::other)).await.is_ok();
            }
        });
        (Self { rx, current: Bytes::new() }, feeding)
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.current = chunk?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
