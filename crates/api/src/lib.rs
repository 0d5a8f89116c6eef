//! Porthole's HTTP API: the Docker Engine API subset the stock `docker` CLI (version 28) uses,
//! served over TCP (loopback by default) and a unix socket. The only crate that knows HTTP and
//! Docker's JSON: handlers parse, make one engine call and format (`dto`).
//!
//! Connections are accepted by [`server`] (which learns who the peer is), then layers, outermost
//! first: [`security::headers`] (framing and sniffing policy on every response),
//! [`security::guard`] (who may connect; Host / Origin checks), [`version::strip_version`]
//! (`/v1.NN` prefix, Docker's headers), then the routes (`routes`).

mod detach;
mod dto;
mod error;
mod extract;
mod filters;
mod hijack;
mod peer;
mod routes;
mod security;
mod server;
mod tty;
mod unsupported;
mod version;

use axum::Router;
use porthole_engine::Engine;

pub use error::ApiError;
pub use security::{Access, Listener, Token, TokenError};
pub use server::{ServeOptions, serve};
pub use version::API_VERSION;

/// How a router is served.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    pub listener: Listener,
    /// Who may use it over TCP.
    pub access: Access,
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
            .layer(axum::middleware::from_fn_with_state((options.listener, options.access), security::guard))
            .layer(axum::middleware::from_fn(security::headers))
    }
}

/// A router over `engine` (a new [`Api`]).
pub fn router(engine: Engine, options: ApiOptions) -> Router {
    Api::new(engine).router(options)
}
