//! `GET /containers/{id}/logs`: the log so far (`--tail`, `--since`, `--until`,
//! `--timestamps`), then with `--follow` the live output until the container exits (or a line
//! passes `--until`). Multiplexed frames unless TTY.
//!
//! The past is read on a blocking thread into a small channel as the client takes it, so a
//! log of any size is sent without being held in memory.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use porthole_core::time::rfc3339_nanos;
use porthole_engine::{LogOptions, LogReader, Logs};
use tokio::sync::mpsc;

use super::AppState;
use super::attach::{Streams, follow_output};
use crate::error::{ApiError, ApiResult, blocking};
use crate::extract::Params;
use crate::hijack::{Out, StreamKind, content_type, encode};

/// Encoded lines read ahead of the client at most.
const READ_AHEAD: usize = 64;

pub async fn logs(State(s): State<AppState>, Path(id): Path<String>, params: Params) -> ApiResult<Response> {
    let events = s.engine.subscribe();
    let tail = match params.get("tail").unwrap_or("all") {
        "all" | "" => None,
        n => Some(n.parse::<usize>().map_err(|_| ApiError::InvalidParameter { name: "tail", value: n.to_string() })?),
    };
    let since = timestamp(&params, "since")?;
    let until = timestamp(&params, "until")?;
    let engine = s.engine.clone();
    let opts = LogOptions { tail, since, until };
    let (info, Logs { past, live, running }) =
        blocking(move || Ok((engine.inspect(&id)?, engine.logs(&id, opts)?))).await?;
    let id = info.record.id.to_string();
    let tty = info.record.tty;
    let streams =
        Streams { stdout: params.flag("stdout"), stderr: params.flag("stderr"), timestamps: params.flag("timestamps") };
    let follow = params.flag("follow") && running;

    let past = past_stream(past, streams, tty);
    // Started once the past is sent: the live channel holds what is written meanwhile, and the
    // snapshot split the two exactly.
    let rest = futures::stream::once(async move {
        let (tx, rx) = mpsc::unbounded_channel();
        if follow {
            let until = until.map(rfc3339_nanos);
            tokio::spawn(async move { follow_output(live, events, &id, streams, until, tx).await });
        }
        futures::stream::unfold(rx, move |mut rx| async move {
            match rx.recv().await {
                Some(Out::Data(stream, bytes)) => Some((Ok::<_, Infallible>(encode(stream, &bytes, tty)), rx)),
                Some(Out::End) | None => None,
            }
        })
    })
    .flatten();
    Ok(([(header::CONTENT_TYPE, content_type(tty))], Body::from_stream(past.chain(rest))).into_response())
}

/// `since` / `until` as the CLI sends them (`--since 10m` becomes `1732982400.000000000`):
/// seconds and nanoseconds since the epoch; absent, empty or `0` is none.
fn timestamp(params: &Params, name: &'static str) -> Result<Option<i64>, ApiError> {
    let text = params.get(name).unwrap_or("");
    if matches!(text, "" | "0") {
        return Ok(None);
    }
    let invalid = || ApiError::InvalidParameter { name, value: text.to_string() };
    let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
    let secs: i64 = secs.parse().map_err(|_| invalid())?;
    let nanos: i64 = if frac.is_empty() {
        0
    } else if frac.len() <= 9 && frac.bytes().all(|b| b.is_ascii_digit()) {
        format!("{frac:0<9}").parse().map_err(|_| invalid())?
    } else {
        return Err(invalid());
    };
    secs.checked_mul(1_000_000_000).and_then(|s| s.checked_add(nanos)).map(Some).ok_or_else(invalid)
}

/// The lines of `past` the client asked for, encoded, read as they are sent.
fn past_stream(
    past: LogReader,
    streams: Streams,
    tty: bool,
) -> impl futures::Stream<Item = Result<Vec<u8>, Infallible>> + Send {
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    tokio::task::spawn_blocking(move || {
        for line in past {
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!("reading a container log: {e}");
                    break;
                }
            };
            // A client gone stops the reading.
            if streams.wants(&line)
                && tx.blocking_send(encode(StreamKind::from(line.stream), &streams.payload(&line), tty)).is_err()
            {
                break;
            }
        }
    });
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (Ok(b), rx)) })
}
