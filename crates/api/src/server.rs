//! Accepting connections: who the peer is (see [`crate::peer`]), `TCP_NODELAY`, HTTP/1.1 by
//! hyper with a header timeout and upgrades (attach, exec), and shutdown that lets go of
//! long-lived streams after a moment.

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

use crate::security::{Access, Listener, Peer};
use crate::{Api, ApiOptions};

/// How connections are served.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Who may use the TCP listener.
    pub access: Access,
    /// A connection must deliver a complete request header within this long of opening or of
    /// its previous response, else it is closed: this is both the header timeout and the idle
    /// timeout of kept-alive connections. A request being answered (a streamed log, events,
    /// `wait`) or an upgraded session (attach, exec) is never cut off by it.
    pub header_timeout: Duration,
}

impl ServeOptions {
    pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(30);
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions { access: Access::own_user(), header_timeout: Self::DEFAULT_HEADER_TIMEOUT }
    }
}

/// Serves `api` on a bound TCP listener and, optionally, a bound unix socket until `shutdown`
/// resolves. Connections still open then (event streams, attached sessions) are given two
/// seconds and then dropped.
pub async fn serve(
    api: &Api,
    tcp: tokio::net::TcpListener,
    unix: Option<tokio::net::UnixListener>,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let local = tcp.local_addr()?;
    let tcp_router = api.router(ApiOptions { listener: Listener::Tcp(local), access: options.access.clone() });
    let unix_router = api.router(ApiOptions { listener: Listener::Unix, access: options.access.clone() });
    let (stop_tx, stop_rx) = watch::channel(false);
    // Each connection holds a receiver; when all are dropped every connection has ended.
    let (open_tx, open_rx) = watch::channel(());
    let conn = Connections { stop: stop_rx, open: open_rx, header_timeout: options.header_timeout };
    let mut shutdown = pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = tcp.accept() => match accepted {
                Ok((stream, client)) => {
                    // Small request/response exchanges and interactive sessions: no Nagle delay.
                    let _ = stream.set_nodelay(true);
                    // The address the client reached (the listener's may be 0.0.0.0).
                    let server = stream.local_addr().unwrap_or(local);
                    let router = tcp_router.clone();
                    let conn = conn.clone();
                    tokio::spawn(async move {
                        // Asked right away, while the client's socket surely exists.
                        let peer = tokio::task::spawn_blocking(move || crate::peer::tcp_peer(client, server))
                            .await
                            .unwrap_or(Peer::Loopback { uid: None });
                        conn.serve(stream, peer, router).await;
                    });
                }
                Err(e) => accept_failed(e).await,
            },
            accepted = accept_unix(unix.as_ref()) => match accepted {
                Ok(stream) => {
                    let (router, conn) = (unix_router.clone(), conn.clone());
                    tokio::spawn(async move { conn.serve(stream, Peer::Unix, router).await });
                }
                Err(e) => accept_failed(e).await,
            },
        }
    }
    let _ = stop_tx.send(true);
    drop(conn);
    // Graceful shutdown waits for open requests; long-lived streams never end on their own.
    let _ = tokio::time::timeout(Duration::from_secs(2), open_tx.closed()).await;
    Ok(())
}

async fn accept_unix(unix: Option<&tokio::net::UnixListener>) -> std::io::Result<tokio::net::UnixStream> {
    match unix {
        Some(l) => l.accept().await.map(|(s, _)| s),
        None => std::future::pending().await,
    }
}

/// Out of descriptors and the like: wait a little rather than spin.
async fn accept_failed(e: std::io::Error) {
    tracing::warn!("accepting a connection: {e}");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

#[derive(Clone)]
struct Connections {
    stop: watch::Receiver<bool>,
    open: watch::Receiver<()>,
    header_timeout: Duration,
}

impl Connections {
    async fn serve<IO>(mut self, io: IO, peer: Peer, router: Router)
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let app = TowerToHyperService::new(router);
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(peer);
            app.call(req)
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(self.header_timeout);
        let mut conn = pin!(builder.serve_connection(TokioIo::new(io), service).with_upgrades());
        let stopping = async {
            let _ = self.stop.wait_for(|s| *s).await;
        };
        let finished = tokio::select! {
            _ = conn.as_mut() => true,
            _ = stopping => false,
        };
        if !finished {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
        drop(self.open);
    }
}
