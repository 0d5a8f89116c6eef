//! `GET /containers/{id}/logs`: the log so far (`--tail`, `--timestamps`), then with
//! `--follow` the live output until the container exits. Multiplexed frames unless TTY.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use porthole_engine::LogLine;
use tokio::sync::mpsc;

use super::AppState;
use super::attach::{Streams, follow_output};
use crate::error::{ApiError, ApiResult, blocking};
use crate::extract::Params;
use crate::hijack::{Out, StreamKind, content_type, encode};

pub async fn logs(State(s): State<AppState>, Path(id): Path<String>, params: Params) -> ApiResult<Response> {
    let events = s.engine.subscribe();
    let engine = s.engine.clone();
    let (info, (past, live, running)) = blocking(move || Ok((engine.inspect(&id)?, engine.logs(&id)?))).await?;
    let id = info.record.id.to_string();
    let tty = info.record.tty;
    let streams =
        Streams { stdout: params.flag("stdout"), stderr: params.flag("stderr"), timestamps: params.flag("timestamps") };
    let tail = match params.get("tail").unwrap_or("all") {
        "all" | "" => None,
        n => Some(n.parse::<usize>().map_err(|_| ApiError::InvalidParameter { name: "tail", value: n.to_string() })?),
    };
    let last_time = past.last().map(|l| l.time.clone());
    let wanted: Vec<LogLine> = past.into_iter().filter(|l| streams.wants(l)).collect();
    let skip = tail.map_or(0, |n| wanted.len().saturating_sub(n));

    let (tx, rx) = mpsc::unbounded_channel();
    for line in wanted.into_iter().skip(skip) {
        let _ = tx.send(Out::Data(StreamKind::from(line.stream), streams.payload(&line)));
    }
    if params.flag("follow") && running {
        tokio::spawn(async move { follow_output(live, events, &id, streams, last_time, tx).await });
    } else {
        let _ = tx.send(Out::End);
    }
    let stream = futures::stream::unfold(rx, move |mut rx| async move {
        match rx.recv().await {
            Some(Out::Data(stream, bytes)) => {
                Some((Ok::<_, std::convert::Infallible>(encode(stream, &bytes, tty)), rx))
            }
            Some(Out::End) | None => None,
        }
    });
    Ok(([(header::CONTENT_TYPE, content_type(tty))], Body::from_stream(stream)).into_response())
}
