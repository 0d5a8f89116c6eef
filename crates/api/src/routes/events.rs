//! `GET /events`: Docker's event stream, with `--since` served from a recent history and
//! `--until` ending the stream; `--filter type=|event=|container=|volume=|image=`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use porthole_core::event::{Event, EventType};
use porthole_engine::Engine;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use super::AppState;
use crate::dto::events::{EventJson, docker_type};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Filters, Params};

/// How many recent events `--since` can reach back to.
const KEEP: usize = 4096;

/// The recent events (file events excluded: they are Porthole's own and would crowd out the
/// others).
#[derive(Default)]
pub struct History(Mutex<VecDeque<Event>>);

impl History {
    /// Starts recording the engine's events on a thread of its own; it ends with the engine.
    pub fn record(engine: &Engine) -> Arc<Self> {
        let history = Arc::new(History::default());
        let mut rx = engine.subscribe();
        let h = history.clone();
        let spawned = std::thread::Builder::new().name("event-history".into()).spawn(move || {
            loop {
                match rx.blocking_recv() {
                    Ok(e) if docker_type(e.kind).is_some() => {
                        let mut q = h.0.lock().unwrap();
                        if q.len() == KEEP {
                            q.pop_front();
                        }
                        q.push_back(e);
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                }
            }
        });
        if let Err(e) = spawned {
            tracing::warn!("event history disabled: {e}");
        }
        history
    }

    pub fn since(&self, nanos: i64) -> Vec<Event> {
        self.0.lock().unwrap().iter().filter(|e| e.time_nano >= nanos).cloned().collect()
    }
}

/// Docker's `since`/`until`: Unix time as `seconds[.nanoseconds]` (the CLI converts
/// durations and dates to that form).
fn parse_time(name: &'static str, value: Option<&str>) -> ApiResult<Option<i64>> {
    let Some(v) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let invalid = || ApiError::InvalidParameter { name, value: v.to_string() };
    let (secs, frac) = v.split_once('.').unwrap_or((v, ""));
    let secs: i64 = secs.parse().map_err(|_| invalid())?;
    let frac: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
    let nanos: i64 = frac.parse().map_err(|_| invalid())?;
    Ok(Some(secs * 1_000_000_000 + nanos))
}

fn matches(e: &Event, f: &Filters) -> bool {
    let any = |key: &str, ok: &dyn Fn(&str) -> bool| f.values(key).is_empty() || f.values(key).iter().any(|v| ok(v));
    let of_kind = |kind: EventType, v: &str| {
        e.kind == kind && (e.actor_id.starts_with(v) || e.attributes.get("name").is_some_and(|n| n == v))
    };
    any("type", &|v| docker_type(e.kind) == Some(v))
        && any("event", &|v| e.action == v)
        && any("container", &|v| of_kind(EventType::Container, v))
        && any("volume", &|v| of_kind(EventType::Volume, v))
        && any("image", &|v| of_kind(EventType::Image, v))
        && any("network", &|v| of_kind(EventType::Network, v))
}

fn line(e: &Event) -> Option<String> {
    EventJson::new(e).and_then(|j| serde_json::to_string(&j).ok()).map(|s| s + "\n")
}

pub async fn events(State(s): State<AppState>, params: Params) -> ApiResult<Response> {
    let since = parse_time("since", params.get("since"))?;
    let until = parse_time("until", params.get("until"))?;
    let filters = params.filters()?;
    filters.only(&["type", "event", "container", "volume", "image"])?;
    let mut live = s.engine.subscribe();
    let past = since.map(|t| s.history.since(t)).unwrap_or_default();
    let last_past = past.last().map(|e| e.time_nano);
    let in_window = move |e: &Event| until.is_none_or(|u| e.time_nano <= u) && matches(e, &filters);

    let (tx, rx) = mpsc::channel::<String>(256);
    tokio::spawn(async move {
        for l in past.iter().filter(|e| in_window(e)).filter_map(line) {
            if tx.send(l).await.is_err() {
                return;
            }
        }
        let now = porthole_store::now_nanos();
        let remaining = until.map(|u| Duration::from_nanos(u.saturating_sub(now).max(0) as u64));
        // Without `--until` the stream lasts as long as the client (a century, in practice).
        let deadline = tokio::time::sleep(remaining.unwrap_or(Duration::from_secs(100 * 365 * 86_400)));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                event = live.recv() => match event {
                    Ok(e) if last_past.is_none_or(|t| e.time_nano > t) && in_window(&e) => {
                        let Some(l) = line(&e) else { continue };
                        if tx.send(l).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                },
                _ = &mut deadline => return,
                _ = tx.closed() => return,
            }
        }
    });
    let body = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|l| (Ok::<_, std::convert::Infallible>(l), rx))
    });
    Ok(([(header::CONTENT_TYPE, "application/json")], Body::from_stream(body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("since", Some("12.5")).unwrap(), Some(12_500_000_000));
        assert_eq!(parse_time("since", Some("12")).unwrap(), Some(12_000_000_000));
        assert!(parse_time("since", Some("10m")).is_err());
    }
}
