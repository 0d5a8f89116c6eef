//! `GET /porthole/containers/{id}/logs`: the log so far, then live output, as server-sent
//! events (one JSON `LogLine` per event) until the page closes it.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event as Sse, KeepAlive};
use axum::response::{IntoResponse, Response};
use porthole_engine::LogLine;
use tokio::sync::broadcast::error::RecvError;

use super::super::AppState;
use crate::error::{ApiResult, blocking};

/// Past lines sent at most: a chatty container's whole history would stall the page.
const TAIL: usize = 500;

fn line(l: &LogLine) -> Result<Sse, Infallible> {
    Ok(Sse::default().data(serde_json::to_string(l).unwrap_or_default()))
}

pub async fn logs(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let engine = s.engine.clone();
    let (past, live, _running) = blocking(move || engine.logs(&id)).await?;
    let last = past.last().map(|l| l.time.clone());
    let skip = past.len().saturating_sub(TAIL);
    let past = futures::stream::iter(past.into_iter().skip(skip).map(|l| line(&l)).collect::<Vec<_>>());
    let follow = futures::stream::unfold((live, last), |(mut live, last)| async move {
        loop {
            match live.recv().await {
                // Lines already in the file were sent above.
                Ok(l) if last.as_ref().is_some_and(|t| l.time <= *t) => continue,
                Ok(l) => return Some((line(&l), (live, last))),
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    });
    use futures::StreamExt;
    Ok(axum::response::Sse::new(past.chain(follow))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}
