//! Hijacked connections (`attach`, `exec start`): the HTTP exchange ends with `101 Switching
//! Protocols` and the socket carries the guest's streams. Output is raw with a TTY (after
//! `ONLCR`), else Docker's multiplexed frames `[stream, 0, 0, 0, len u32 BE] payload`; input
//! goes to the guest's stdin as typed (with a TTY, the guest's side applies the line
//! discipline: `porthole_runtime::Tty`), and a TTY session ends on its detach keys
//! (`detach.rs`, looked for in the raw bytes) with the guest running on.

use std::future::Future;

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::Response;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::mpsc;

use crate::detach::DetachScanner;
use crate::tty::onlcr;

/// Docker's stream numbers in multiplexed frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Stdout = 1,
    Stderr = 2,
}

impl From<porthole_engine::LogStream> for StreamKind {
    fn from(s: porthole_engine::LogStream) -> Self {
        match s {
            porthole_engine::LogStream::Stdout => StreamKind::Stdout,
            porthole_engine::LogStream::Stderr => StreamKind::Stderr,
        }
    }
}

/// What the output side of a session writes.
#[derive(Debug)]
pub enum Out {
    Data(StreamKind, Vec<u8>),
    /// The guest is done: close the connection.
    End,
}

pub type OutSender = mpsc::UnboundedSender<Out>;

/// Docker's content type for a raw (TTY) or multiplexed stream.
pub fn content_type(tty: bool) -> &'static str {
    if tty { "application/vnd.docker.raw-stream" } else { "application/vnd.docker.multiplexed-stream" }
}

/// One multiplexed frame.
pub fn frame(stream: StreamKind, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.extend_from_slice(&[stream as u8, 0, 0, 0]);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Output bytes as the client expects them on the wire.
pub fn encode(stream: StreamKind, payload: &[u8], tty: bool) -> Vec<u8> {
    if tty { onlcr(payload) } else { frame(stream, payload) }
}

/// The `101` that hands the connection over (the docker CLI requires it).
pub fn switching_protocols(tty: bool) -> Response {
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "tcp")
        .header(header::CONTENT_TYPE, content_type(tty))
        .body(Body::empty())
        .expect("static response parts are valid")
}

type Conn = TokioIo<Upgraded>;

/// Waits for the upgrade to complete and splits the raw connection.
pub async fn take(on_upgrade: OnUpgrade) -> Option<(ReadHalf<Conn>, WriteHalf<Conn>)> {
    match on_upgrade.await {
        Ok(upgraded) => Some(tokio::io::split(TokioIo::new(upgraded))),
        Err(e) => {
            tracing::debug!("connection upgrade failed: {e}");
            None
        }
    }
}

/// Writes the session's output until `Out::End` (or every sender is gone), then closes.
pub async fn pump_output(mut rx: mpsc::UnboundedReceiver<Out>, mut conn: impl AsyncWrite + Unpin, tty: bool) {
    while let Some(Out::Data(stream, bytes)) = rx.recv().await {
        if conn.write_all(&encode(stream, &bytes, tty)).await.is_err() {
            return;
        }
        let _ = conn.flush().await;
    }
    let _ = conn.shutdown().await;
}

/// Why a session's input ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputEnd {
    /// The client closed its side (or the connection broke).
    Disconnected,
    /// The detach keys, with a TTY: the session ends and the guest runs on, its stdin open.
    Detached,
}

/// Delivers the client's input to the guest, as typed, until the client closes it or types
/// `detach_keys` (TTY only; looked for in the raw bytes, as moby's escape proxy does; Ctrl-D
/// is the guest-side line discipline's). `stdin` resolves to the guest's stdin once it exists
/// (attach may come before start). Gives the writer back, for a caller that must keep the
/// guest's stdin open (see [`closes_stdin`]).
pub async fn pump_input<W: AsyncWrite + Unpin>(
    mut conn: impl AsyncRead + Unpin,
    stdin: impl Future<Output = Option<W>>,
    tty: bool,
    detach_keys: Vec<u8>,
) -> (InputEnd, Option<W>) {
    let Some(mut stdin) = stdin.await else { return (InputEnd::Disconnected, None) };
    let mut detach = tty.then(|| DetachScanner::new(detach_keys));
    let mut buf = vec![0u8; 8192];
    let ended = loop {
        let n = match conn.read(&mut buf).await {
            Ok(0) | Err(_) => break InputEnd::Disconnected,
            Ok(n) => n,
        };
        let (typed, detached) = match &mut detach {
            Some(scanner) => {
                let scanned = scanner.feed(&buf[..n]);
                (scanned.pass, scanned.detached)
            }
            None => (buf[..n].to_vec(), false),
        };
        if !typed.is_empty() && stdin.write_all(&typed).await.is_err() {
            break InputEnd::Disconnected;
        }
        if detached {
            break InputEnd::Detached;
        }
    };
    let _ = stdin.flush().await;
    (ended, Some(stdin))
}

/// Whether the session ends (its connection closes, the guest runs on) when its input ends: on
/// detach, and when a TTY client closes its side, as moby's `CopyStreams` closes the attach's
/// output "no matter what, when stdin is closed" with a TTY. The docker CLI relies on it: over
/// TCP it misses its own detach (the escape error comes back wrapped), half-closes and waits
/// for the daemon to end the stream.
pub fn ends_session(end: InputEnd, tty: bool) -> bool {
    match end {
        InputEnd::Detached => true,
        InputEnd::Disconnected => tty,
    }
}

/// Whether the guest's stdin closes when a session's input ends: when a client
/// without a TTY closes its side (`StdinOnce`); never on detach, and never when a TTY client
/// goes away (moby closes it only `if cfg.CloseStdin && !cfg.TTY`), so `docker run -it` can be
/// detached and attached again.
pub fn closes_stdin(end: InputEnd, tty: bool) -> bool {
    match end {
        InputEnd::Disconnected => !tty,
        InputEnd::Detached => false,
    }
}

/// A `Write` for the guest's stdout/stderr (exec) that feeds a session's output.
pub struct ChannelWriter {
    pub tx: OutSender,
    pub stream: StreamKind,
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // A closed session only means nobody watches any more; the guest keeps running.
        let _ = self.tx.send(Out::Data(self.stream, buf.to_vec()));
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames() {
        assert_eq!(frame(StreamKind::Stderr, b"hi"), [2, 0, 0, 0, 0, 0, 0, 2, b'h', b'i']);
        assert_eq!(encode(StreamKind::Stdout, b"a\n", true), b"a\r\n");
    }
}
