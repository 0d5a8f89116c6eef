//! `GET /porthole/containers/{id}/logs`: the last lines so far, then live output, as
//! server-sent events (one JSON `LogLine` per event) until the page closes it.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event as Sse, KeepAlive};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use porthole_engine::{LogLine, LogOptions, Logs};
use tokio::sync::broadcast::error::RecvError;

use super::super::AppState;
use crate::error::{ApiResult, blocking};

/// Past lines sent at most, read backwards from the end of the log: a chatty container's
/// whole history would stall the page.
const TAIL: usize = 500;

fn line(l: &LogLine) -> Result<Sse, Infallible> {
    Ok(Sse::default().data(serde_json::to_string(l).unwrap_or_default()))
}

pub async fn logs(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let engine = s.engine.clone();
    let (past, live) = blocking(move || {
        let Logs { past, live, .. } = engine.logs(&id, LogOptions { tail: Some(TAIL), ..Default::default() })?;
        // At most TAIL lines, each one write of a guest.
        Ok((past.filter_map(Result::ok).collect::<Vec<_>>(), live))
    })
    .await?;
    let past = futures::stream::iter(past.into_iter().map(|l| line(&l)).collect::<Vec<_>>());
    // The snapshot split past and live exactly: nothing to skip.
    let follow = futures::stream::unfold(live, |mut live| async move {
        loop {
            match live.recv().await {
                Ok(l) => return Some((line(&l), live)),
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Ok(axum::response::Sse::new(past.chain(follow))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}
