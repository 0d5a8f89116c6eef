//! `GET /porthole/events`: every engine event as server-sent events (JSON `data:`), walks
//! included (the engine sends them on a channel of their own), with file and walk floods
//! coalesced (see `coalesce`). When the stream falls behind the engine, a `resync`
//! event tells the page to fetch the graph again instead of trusting what it missed.
//! `?history=1` first replays what happened since the controller started (Docker's events,
//! as `docker events --since` has them), so a page opened late still has the class's story.

use std::collections::HashSet;
use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::response::sse::{Event as Sse, KeepAlive};
use axum::response::{IntoResponse, Response};
use porthole_core::event::Event;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use super::super::AppState;
use super::coalesce::Coalescer;
use crate::extract::Params;

fn message(e: &Event) -> Sse {
    Sse::default().data(serde_json::to_string(e).unwrap_or_default())
}

/// What to send for `e`: bursts of the window it ends, then `e` unless it is held back.
fn pass(coalescer: &mut Coalescer, e: Event) -> Vec<Sse> {
    let mut out: Vec<Sse> = coalescer.flush(Instant::now(), e.time_nano).iter().map(message).collect();
    if coalescer.offer(&e) {
        out.push(message(&e));
    }
    out
}

fn resync(missed: u64) -> Sse {
    Sse::default().event("resync").data(format!("{{\"missed\":{missed}}}"))
}

pub async fn events(State(s): State<AppState>, params: Params) -> Response {
    // Subscribed before the history is read, so nothing falls between; what is in both is
    // sent once.
    let mut live = s.engine.subscribe();
    let mut walks = s.engine.subscribe_walks();
    let past = if params.flag("history") { s.history.since(0) } else { Vec::new() };
    let replayed: HashSet<String> = past.iter().map(|e| serde_json::to_string(e).unwrap_or_default()).collect();
    let replayed_until = past.last().map_or(i64::MIN, |e| e.time_nano);
    let (tx, rx) = mpsc::channel::<Sse>(256);
    tokio::spawn(async move {
        let mut coalescer = Coalescer::new(Instant::now());
        let mut tick = tokio::time::interval(Coalescer::WINDOW);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Sent first, so a page that reconnects after a restart knows to catch up; `retry`
        // makes the browser try again within a second when the controller is restarted.
        let hello = Sse::default().event("hello").retry(Duration::from_secs(1)).data("{}");
        if tx.send(hello).await.is_err() {
            return;
        }
        for e in &past {
            if tx.send(message(e)).await.is_err() {
                return;
            }
        }
        loop {
            let out = tokio::select! {
                event = live.recv() => match event {
                    Ok(e) if e.time_nano <= replayed_until
                        && replayed.contains(&serde_json::to_string(&e).unwrap_or_default()) => vec![],
                    Ok(e) => pass(&mut coalescer, e),
                    Err(RecvError::Lagged(n)) => vec![resync(n)],
                    Err(RecvError::Closed) => return,
                },
                event = walks.recv() => match event {
                    Ok(e) => pass(&mut coalescer, e),
                    Err(RecvError::Lagged(n)) => vec![resync(n)],
                    Err(RecvError::Closed) => return,
                },
                _ = tick.tick(), if coalescer.pending() => {
                    coalescer.flush(Instant::now(), porthole_store::now_nanos()).iter().map(message).collect()
                }
                _ = tx.closed() => return,
            };
            for m in out {
                if tx.send(m).await.is_err() {
                    return;
                }
            }
        }
    });
    let stream =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|m| (Ok::<_, Infallible>(m), rx)) });
    axum::response::Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response()
}
