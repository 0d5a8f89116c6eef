//! `GET /containers/{id}/stats`: Docker's stats JSON — memory in use and its limit, CPU time
//! with the machine's (from `/proc/stat`) so the CLI can work out a percentage, block I/O as
//! the bytes the guests read and wrote in files, and the guest count as pids. Streamed once a
//! second by default; `stream=false` answers one sample measured over a second, as Docker
//! does, and `one-shot=true` one sample at once.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use porthole_engine::Stats;
use serde_json::{Value, json};

use super::AppState;
use crate::error::{ApiResult, blocking};
use crate::extract::Params;

/// One sample and when it was taken.
#[derive(Clone, Copy)]
struct Sample {
    stats: Stats,
    at: i64,
    system_ns: u64,
}

async fn sample(s: &AppState, id: &str) -> ApiResult<Sample> {
    let (engine, id) = (s.engine.clone(), id.to_string());
    let stats = blocking(move || engine.stats(&id)).await?;
    Ok(Sample { stats, at: porthole_store::now_nanos(), system_ns: system_cpu_nanos() })
}

pub async fn stats(State(s): State<AppState>, Path(id): Path<String>, params: Params) -> ApiResult<Response> {
    let info = {
        let (engine, id) = (s.engine.clone(), id.clone());
        blocking(move || engine.inspect(&id)).await?
    };
    let (name, full_id) = (format!("/{}", info.record.name.as_str()), info.record.id.to_string());
    let stream = params.get("stream").is_none_or(|_| params.flag("stream"));
    let first = sample(&s, &id).await?;
    if !stream {
        let (pre, now) = if params.flag("one-shot") {
            (None, first)
        } else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            (Some(first), sample(&s, &id).await?)
        };
        let body = format!("{}\n", stats_json(&name, &full_id, pre, now));
        return Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response());
    }
    let body = futures::stream::unfold((s, id, None::<Sample>, Some(first)), move |(s, id, pre, next)| {
        let (name, full_id) = (name.clone(), full_id.clone());
        async move {
            let now = match next {
                Some(n) => n,
                None => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    sample(&s, &id).await.ok()?
                }
            };
            let line = format!("{}\n", stats_json(&name, &full_id, pre, now));
            Some((Ok::<_, std::convert::Infallible>(line), (s, id, Some(now), None)))
        }
    });
    Ok(([(header::CONTENT_TYPE, "application/json")], Body::from_stream(body)).into_response())
}

fn cpu_json(s: Option<Sample>) -> Value {
    let (total, system) = s.map_or((0, 0), |s| (s.stats.cpu_nanos, s.system_ns));
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    json!({
        "cpu_usage": { "total_usage": total, "usage_in_kernelmode": 0, "usage_in_usermode": total },
        "system_cpu_usage": system,
        "online_cpus": cpus,
        "throttling_data": { "periods": 0, "throttled_periods": 0, "throttled_time": 0 },
    })
}

fn stats_json(name: &str, id: &str, pre: Option<Sample>, now: Sample) -> Value {
    let st = now.stats;
    let io = |op: &str, value: u64| json!({ "major": 0, "minor": 0, "op": op, "value": value });
    json!({
        "name": name,
        "id": id,
        "read": porthole_core::time::rfc3339_nanos(now.at),
        "preread": pre.map_or_else(|| "0001-01-01T00:00:00Z".to_string(), |p| porthole_core::time::rfc3339_nanos(p.at)),
        "pids_stats": { "current": st.guests },
        "blkio_stats": {
            "io_service_bytes_recursive": [io("read", st.read_bytes), io("write", st.written_bytes)],
        },
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": cpu_json(Some(now)),
        "precpu_stats": cpu_json(pre),
        "memory_stats": if st.running {
            json!({ "usage": st.memory_bytes, "limit": st.memory_limit, "stats": {} })
        } else {
            json!({})
        },
    })
}

/// The machine's CPU time so far (all CPUs, from the first line of `/proc/stat`), in ns.
fn system_cpu_nanos() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: u64 = stat
        .lines()
        .next()
        .filter(|l| l.starts_with("cpu "))
        .map(|l| l.split_whitespace().skip(1).filter_map(|v| v.parse::<u64>().ok()).sum())
        .unwrap_or(0);
    ticks * 10_000_000
}
