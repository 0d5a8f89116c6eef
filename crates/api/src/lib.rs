//! Porthole's HTTP API: the Docker Engine API subset the stock `docker` CLI (version 28) uses,
//! served over TCP (loopback by default) and a unix socket. The only crate that knows HTTP and
//! Docker's JSON: handlers parse, make one engine call and format (`dto`).
//!
//! Layers, outermost first: [`security::guard`] (Host / Origin checks), [`version::strip_version`]
//! (`/v1.NN` prefix, Docker's headers), then the routes (`routes`).

mod dto;
mod error;
mod extract;
mod filters;
mod hijack;
mod routes;
mod security;
mod tty;
mod version;

use std::future::Future;

use axum::Router;
use porthole_engine::Engine;

pub use error::ApiError;
pub use security::Listener;
pub use version::API_VERSION;

/// How a router is served.
#[derive(Debug, Clone, Copy)]
pub struct ApiOptions {
    pub listener: Listener,
}

/// The API over one engine; routers made from one `Api` share its exec instances and event
/// history, so the TCP and unix listeners behave as one daemon.
#[derive(Clone)]
pub struct Api {
    state: routes::AppState,
}

impl Api {
    /// Starts recording events (for `docker events --since`).
    pub fn new(engine: Engine) -> Self {
        Api { state: routes::AppState::new(engine) }
    }

    /// Lets the dashboard offer stop / remove / prune buttons (`porthole serve
    /// --allow-actions`). Off by default: the page is read-only. The Docker API is what the
    /// buttons call, so the same-origin protections apply to them as to any other request.
    pub fn allow_actions(mut self, allow: bool) -> Self {
        self.state.allow_actions = allow;
        self
    }

    pub fn router(&self, options: ApiOptions) -> Router {
        let api = routes::routes(self.state.clone());
        Router::new()
            .fallback_service(api)
            .layer(axum::middleware::from_fn(version::strip_version))
            .layer(axum::middleware::from_fn_with_state(options.listener, security::guard))
    }
}

/// A router over `engine` (a new [`Api`]).
pub fn router(engine: Engine, options: ApiOptions) -> Router {
    Api::new(engine).router(options)
}

/// Serves `api` on a bound TCP listener and, optionally, a bound unix socket until `shutdown`
/// resolves. Connections still open then (event streams, attached sessions) are not waited for.
pub async fn serve(
    api: &Api,
    tcp: tokio::net::TcpListener,
    unix: Option<tokio::net::UnixListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = tcp.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let tcp_server = axum::serve(tcp, api.router(ApiOptions { listener: Listener::Tcp(addr) }))
        .with_graceful_shutdown(stopped(stop_rx.clone()));
    let tcp_task = tokio::spawn(async move { tcp_server.await });
    let unix_task = unix.map(|unix| {
        let server = axum::serve(unix, api.router(ApiOptions { listener: Listener::Unix }))
            .with_graceful_shutdown(stopped(stop_rx));
        tokio::spawn(async move { server.await })
    });
    shutdown.await;
    let _ = stop_tx.send(true);
    // Graceful shutdown waits for open connections; long-lived streams never close on their
    // own, so give the others a moment and then let go.
    let grace = tokio::time::sleep(std::time::Duration::from_secs(2));
    let all = async {
        let _ = tcp_task.await;
        if let Some(t) = unix_task {
            let _ = t.await;
        }
    };
    tokio::select! {
        _ = all => {}
        _ = grace => {}
    }
    Ok(())
}
