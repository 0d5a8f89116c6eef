//! `POST /containers/{id}/attach`: the hijacked session of `docker run` (without `-d`),
//! `docker start -a` and `docker attach`. Output flows until the container exits; input goes
//! to the guest's stdin once it runs (attach usually comes before start).

use axum::extract::{Path, Request, State};
use axum::response::Response;
use hyper::upgrade::OnUpgrade;
use porthole_core::event::{Event, EventType};
use porthole_engine::{Engine, LogLine};
use tokio::net::unix::pipe;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::mpsc;

use super::AppState;
use crate::detach;
use crate::error::{ApiError, ApiResult, blocking};
use crate::extract::Params;
use crate::hijack::{self, Out, OutSender, StreamKind};

pub async fn attach(
    State(s): State<AppState>,
    Path(id): Path<String>,
    params: Params,
    mut req: Request,
) -> ApiResult<Response> {
    // Subscribed before answering: the CLI starts the container as soon as it has the 101.
    let engine = s.engine.clone();
    let (info, output) = blocking(move || Ok((engine.inspect(&id)?, engine.output(&id)?))).await?;
    let id = info.record.id.to_string();
    let tty = info.record.tty;
    let with_stdin = params.flag("stdin") && info.record.open_stdin;
    let detach_keys = detach::parse_keys(params.get("detachKeys").unwrap_or_default())
        .map_err(|_| ApiError::InvalidDetachKeys(params.get("detachKeys").unwrap_or_default().to_string()))?;
    let streams = Streams { stdout: params.flag("stdout"), stderr: params.flag("stderr"), timestamps: false };
    let events = s.engine.subscribe();
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(session(
        s.engine.clone(),
        Session { id, tty, with_stdin, streams, detach_keys },
        output,
        events,
        on_upgrade,
    ));
    Ok(hijack::switching_protocols(tty))
}

struct Session {
    id: String,
    tty: bool,
    with_stdin: bool,
    streams: Streams,
    detach_keys: Vec<u8>,
}

/// Which of the guest's streams a client asked for, and how.
#[derive(Debug, Clone, Copy)]
pub struct Streams {
    pub stdout: bool,
    pub stderr: bool,
    /// Prefix each write with its time (`logs --timestamps`).
    pub timestamps: bool,
}

impl Streams {
    pub fn wants(&self, line: &LogLine) -> bool {
        match line.stream {
            porthole_engine::LogStream::Stdout => self.stdout,
            porthole_engine::LogStream::Stderr => self.stderr,
        }
    }

    pub fn payload(&self, line: &LogLine) -> Vec<u8> {
        if self.timestamps { format!("{} {}", line.time, line.log).into_bytes() } else { line.log.clone().into_bytes() }
    }
}

async fn session(
    engine: Engine,
    s: Session,
    output: broadcast::Receiver<LogLine>,
    events: broadcast::Receiver<Event>,
    on_upgrade: OnUpgrade,
) {
    let Some((reader, writer)) = hijack::take(on_upgrade).await else {
        return;
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let writing = tokio::spawn(hijack::pump_output(rx, writer, s.tty));
    let input = s.with_stdin.then(|| {
        let (engine, id) = (engine.clone(), s.id.clone());
        let starts = engine.subscribe();
        let (tty, keys) = (s.tty, s.detach_keys.clone());
        tokio::spawn(async move {
            let (end, _) = hijack::pump_input(reader, guest_stdin(&engine, &id, starts), tty, keys).await;
            if hijack::closes_stdin(end, tty) {
                // The client is done typing: the guest reads end-of-file (`StdinOnce`).
                let _ = engine.close_stdin(&id);
            }
            end
        })
    });
    let (abort_input, tty) = (input.as_ref().map(|h| h.abort_handle()), s.tty);
    let detached = async move {
        if let Some(handle) = input
            && handle.await.is_ok_and(|end| hijack::ends_session(end, tty))
        {
            return;
        }
        std::future::pending().await
    };
    tokio::select! {
        () = follow_output(output, events, &s.id, s.streams, None, tx.clone()) => {}
        // Detached (or a TTY client gone): the connection closes, the container runs on.
        () = detached => {
            let _ = tx.send(Out::End);
        }
    }
    let _ = writing.await;
    if let Some(input) = abort_input {
        input.abort();
    }
}

/// The write end of the guest's stdin, once the container runs.
async fn guest_stdin(engine: &Engine, id: &str, mut events: broadcast::Receiver<Event>) -> Option<pipe::Sender> {
    loop {
        let (e, reference) = (engine.clone(), id.to_string());
        if let Some(file) = blocking(move || e.attach(&reference)).await.ok()?.stdin {
            return pipe::Sender::from_file(file).ok();
        }
        loop {
            match events.recv().await {
                Ok(e) if is_container(&e, id, &["start"]) => break,
                Ok(e) if is_container(&e, id, &["destroy"]) => return None,
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => break,
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

fn is_container(e: &Event, id: &str, actions: &[&str]) -> bool {
    e.kind == EventType::Container && e.actor_id == id && actions.contains(&e.action.as_str())
}

/// Sends the container's output to `tx` until it exits (its `die` event), then `Out::End`.
/// With `until` (RFC 3339), it ends at the first line written after it (`logs -f --until`).
pub async fn follow_output(
    mut output: broadcast::Receiver<LogLine>,
    mut events: broadcast::Receiver<Event>,
    id: &str,
    streams: Streams,
    until: Option<String>,
    tx: OutSender,
) {
    let past_until = |line: &LogLine| until.as_ref().is_some_and(|u| line.time > *u);
    let send = |line: LogLine| {
        if streams.wants(&line) {
            let _ = tx.send(Out::Data(StreamKind::from(line.stream), streams.payload(&line)));
        }
    };
    loop {
        tokio::select! {
            biased;
            line = output.recv() => match line {
                Ok(line) if past_until(&line) => break,
                Ok(line) => send(line),
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            },
            event = events.recv() => match event {
                Ok(e) if is_container(&e, id, &["die", "destroy"]) => {
                    // Everything the guest wrote was sent before its exit was announced.
                    while let Ok(line) = output.try_recv() {
                        if past_until(&line) {
                            break;
                        }
                        send(line);
                    }
                    break;
                }
                Err(RecvError::Closed) => break,
                _ => {}
            },
        }
    }
    let _ = tx.send(Out::End);
}
