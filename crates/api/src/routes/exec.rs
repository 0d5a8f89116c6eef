//! `docker exec`: exec instances are created, then started (hijacked unless detached) and
//! inspected for their exit code, which the CLI reads after the session ends.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::Json;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hyper::upgrade::OnUpgrade;
use porthole_engine::{Engine, ExecOptions, Input, Stdio, Tty};
use tokio::net::unix::pipe;
use tokio::sync::mpsc;

use super::AppState;
use crate::detach;
use crate::dto::exec::{ExecCreateBody, ExecInspect, ExecStartBody, ProcessConfig};
use crate::error::{ApiError, ApiResult, blocking};
use crate::extract::JsonBody;
use crate::hijack::{self, ChannelWriter, Out, OutSender, StreamKind};

/// The exec instances of this daemon's lifetime.
#[derive(Default)]
pub struct Execs(Mutex<HashMap<String, ExecEntry>>);

#[derive(Debug, Clone)]
pub struct ExecEntry {
    container: String,
    body: ExecCreateBody,
    running: bool,
    exit_code: Option<i32>,
}

impl Execs {
    fn get(&self, id: &str) -> ApiResult<ExecEntry> {
        self.0.lock().unwrap().get(id).cloned().ok_or_else(|| ApiError::NoSuchExec(id.to_string()))
    }

    fn update(&self, id: &str, f: impl FnOnce(&mut ExecEntry)) {
        if let Some(e) = self.0.lock().unwrap().get_mut(id) {
            f(e);
        }
    }
}

pub async fn create(
    State(s): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ExecCreateBody>,
) -> ApiResult<Response> {
    if body.privileged {
        return Err(ApiError::Unsupported("--privileged".into()));
    }
    if !body.user.is_empty() {
        return Err(ApiError::Unsupported("-u/--user".into()));
    }
    if detach::parse_keys(&body.detach_keys).is_err() {
        return Err(ApiError::InvalidEscapeKeys(body.detach_keys));
    }
    if body.cmd.is_empty() {
        return Err(ApiError::InvalidParameter { name: "Cmd", value: "[] (no exec command specified)".into() });
    }
    let engine = s.engine.clone();
    let info = blocking(move || engine.inspect(&id)).await?;
    if !info.record.state.status.is_running() {
        return Err(ApiError::NotRunning(info.record.id.to_string()));
    }
    let exec_id = porthole_store::random_id().to_string();
    let entry = ExecEntry { container: info.record.id.to_string(), body, running: false, exit_code: None };
    s.execs.0.lock().unwrap().insert(exec_id.clone(), entry);
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "Id": exec_id }))).into_response())
}

pub async fn start(State(s): State<AppState>, Path(exec_id): Path<String>, mut req: Request) -> ApiResult<Response> {
    let entry = s.execs.get(&exec_id)?;
    let on_upgrade = hyper::upgrade::on(&mut req);
    let JsonBody(start) = JsonBody::<ExecStartBody>::from_request(req, &()).await?;
    s.execs.update(&exec_id, |e| e.running = true);
    let tty = entry.body.tty;
    if start.detach {
        tokio::spawn(async move {
            let code = run(&s.engine, &entry, Stdio { tty, ..Stdio::default() }).await;
            s.execs.update(&exec_id, |e| (e.running, e.exit_code) = (false, Some(code.0)));
        });
        return Ok(StatusCode::OK.into_response());
    }
    tokio::spawn(session(s, exec_id, entry, on_upgrade));
    Ok(hijack::switching_protocols(tty))
}

/// How long after `101 Switching Protocols` an exec's guest starts (see [`session`]).
const FIRST_OUTPUT_GRACE: std::time::Duration = std::time::Duration::from_millis(100);

async fn session(s: AppState, exec_id: String, entry: ExecEntry, on_upgrade: OnUpgrade) {
    let Some((reader, writer)) = hijack::take(on_upgrade).await else {
        return;
    };
    // The Python SDK reads the 101's headers through a buffered reader and then the stream from
    // the raw socket, so output that arrives with the headers is lost (docker-py #3332). Docker
    // spawns a process first, which takes this long; a guest is ready far sooner.
    tokio::time::sleep(FIRST_OUTPUT_GRACE).await;
    let tty = entry.body.tty;
    let (tx, rx) = mpsc::unbounded_channel();
    let writing = tokio::spawn(hijack::pump_output(rx, writer, tty));
    let echo = ChannelWriter { tx: tx.clone(), stream: StreamKind::Stdout };
    // Created only from a body whose keys parsed.
    let keys = detach::parse_keys(&entry.body.detach_keys).unwrap_or_else(|_| detach::DEFAULT_KEYS.to_vec());
    let (stdin, input) = match stdin_pipe(entry.body.attach_stdin, tty.then_some(echo)) {
        Ok((stdin, Some(sender))) => (stdin, Some(tokio::spawn(input_session(reader, sender, tx.clone(), tty, keys)))),
        Ok((stdin, None)) => (stdin, None),
        Err(e) => {
            report(&tx, &format!("creating the stdin pipe: {e}"));
            (Input::Null, None)
        }
    };
    let stdio = Stdio {
        stdin,
        stdout: Box::new(ChannelWriter { tx: tx.clone(), stream: StreamKind::Stdout }),
        stderr: Box::new(ChannelWriter {
            tx: tx.clone(),
            stream: if tty { StreamKind::Stdout } else { StreamKind::Stderr },
        }),
        tty,
    };
    let (code, error) = run(&s.engine, &entry, stdio).await;
    if let Some(message) = error {
        report(&tx, &message);
    }
    // Recorded before the session closes: the CLI inspects the exec right after.
    s.execs.update(&exec_id, |e| (e.running, e.exit_code) = (false, Some(code)));
    let _ = tx.send(Out::End);
    let _ = writing.await;
    if let Some(input) = input {
        input.abort();
    }
}

/// The client's input to the exec's stdin. Detached (or a TTY client gone), the session's
/// connection closes and the guest runs on; its stdin stays open (the writer is given back and kept until the guest ends)
/// unless the input ended as [`hijack::closes_stdin`] says it closes.
async fn input_session(
    reader: impl tokio::io::AsyncRead + Unpin,
    sender: pipe::Sender,
    tx: OutSender,
    tty: bool,
    keys: Vec<u8>,
) -> Option<pipe::Sender> {
    let (end, sender) = hijack::pump_input(reader, async { Some(sender) }, tty, keys).await;
    if hijack::ends_session(end, tty) {
        let _ = tx.send(Out::End);
    }
    sender.filter(|_| !hijack::closes_stdin(end, tty))
}

/// Shows an error on the session, as Docker prints `OCI runtime exec failed: …` there.
fn report(tx: &OutSender, message: &str) {
    let _ = tx.send(Out::Data(StreamKind::Stderr, format!("{message}\n").into_bytes()));
}

/// A pipe for the guest's stdin when the client sends input; with a TTY, the terminal's line
/// discipline over it, echoing to `tty_echo` (the session's output).
fn stdin_pipe(attach: bool, tty_echo: Option<ChannelWriter>) -> std::io::Result<(Input, Option<pipe::Sender>)> {
    if !attach {
        return Ok((Input::Null, None));
    }
    let (read, write) = rustix::pipe::pipe()?;
    let read = std::fs::File::from(read);
    let input = match tty_echo {
        Some(echo) => Input::Tty(Tty::new(read, Box::new(echo))),
        None => Input::File(read),
    };
    Ok((input, Some(pipe::Sender::from_owned_fd(write)?)))
}

/// Runs the exec on the blocking pool; an exec that cannot start exits 126 (127 when the
/// command does not exist), as with Docker.
async fn run(engine: &Engine, entry: &ExecEntry, stdio: Stdio) -> (i32, Option<String>) {
    let (engine, container) = (engine.clone(), entry.container.clone());
    let options = ExecOptions {
        cmd: entry.body.cmd.clone(),
        env: entry.body.env.clone().unwrap_or_default(),
        workdir: Some(entry.body.working_dir.clone()).filter(|w| !w.is_empty()),
        stdio,
        timeout: None,
    };
    match tokio::task::spawn_blocking(move || engine.exec(&container, options)).await {
        Ok(Ok(code)) => (code, None),
        Ok(Err(e)) => {
            let message = e.to_string();
            (if message.contains("not found") { 127 } else { 126 }, Some(message))
        }
        Err(e) => (126, Some(crate::error::ApiError::from(e).to_string())),
    }
}

pub async fn inspect(State(s): State<AppState>, Path(exec_id): Path<String>) -> ApiResult<Json<ExecInspect>> {
    let e = s.execs.get(&exec_id)?;
    let (entrypoint, arguments) = e.body.cmd.split_first().map(|(c, a)| (c.clone(), a.to_vec())).unwrap_or_default();
    Ok(Json(ExecInspect {
        id: exec_id,
        running: e.running,
        exit_code: e.exit_code,
        process_config: ProcessConfig {
            tty: e.body.tty,
            entrypoint,
            arguments,
            privileged: false,
            user: String::new(),
        },
        open_stdin: e.body.attach_stdin,
        open_stdout: e.body.attach_stdout,
        open_stderr: e.body.attach_stderr,
        container_id: e.container,
        pid: 0,
        can_remove: !e.running,
        detach_keys: String::new(),
    }))
}

pub async fn resize(State(s): State<AppState>, Path(exec_id): Path<String>) -> ApiResult<StatusCode> {
    s.execs.get(&exec_id)?;
    Ok(StatusCode::OK)
}
