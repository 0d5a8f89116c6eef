//! Browser protection for a daemon that can run programs and write files: a web page must not
//! reach it by DNS rebinding (a `Host` that is not ours) or by cross-site requests (an `Origin`
//! other than our own, or `Sec-Fetch-Site: cross-site`) to anything that changes state.

use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Which listener a router serves; it decides which `Host` values are acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// TCP at this (bound) address: only loopback names and the address itself are accepted.
    Tcp(SocketAddr),
    /// The unix socket: only local users with access to the file reach it, and the docker CLI
    /// sends `Host: api.moby.localhost`, so any `Host` is accepted.
    Unix,
}

impl Listener {
    /// Is `host` (a `Host` header value) a name this listener answers to?
    pub fn accepts_host(&self, host: &str) -> bool {
        let Listener::Tcp(addr) = self else {
            return true;
        };
        if host == addr.to_string() {
            return true;
        }
        let (name, port) = match host.rsplit_once(':') {
            Some((n, p)) if !n.ends_with(':') && (n.starts_with('[') || !n.contains(':')) => (n, Some(p)),
            _ => (host, None),
        };
        let port_ok = port.is_none_or(|p| p.parse::<u16>() == Ok(addr.port()));
        port_ok && matches!(name.to_ascii_lowercase().as_str(), "localhost" | "127.0.0.1" | "[::1]")
    }
}

/// Middleware enforcing the rules above.
pub async fn guard(State(listener): State<Listener>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if !listener.accepts_host(host) {
        return ApiError::Forbidden(format!(
            "refusing a request for host {host:?}: Porthole answers only to localhost"
        ))
        .into_response();
    }
    let mutating = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if mutating {
        let cross_site =
            headers.get("sec-fetch-site").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
        let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
        let foreign_origin = origin.is_some_and(|o| !same_origin(o, host));
        if cross_site || foreign_origin {
            return ApiError::Forbidden("refusing a cross-site request from a web page".into()).into_response();
        }
    }
    next.run(req).await
}

fn same_origin(origin: &str, host: &str) -> bool {
    origin.strip_prefix("http://").is_some_and(|o| o.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_only() {
        let l = Listener::Tcp("127.0.0.1:2375".parse().unwrap());
        for ok in ["127.0.0.1:2375", "localhost", "localhost:2375", "127.0.0.1", "[::1]:2375", "[::1]"] {
            assert!(l.accepts_host(ok), "{ok}");
        }
        for bad in ["evil.example:2375", "localhost:80", "", "127.0.0.2:2375", "localhost.evil.example"] {
            assert!(!l.accepts_host(bad), "{bad}");
        }
        assert!(Listener::Unix.accepts_host("api.moby.localhost"));
        assert!(same_origin("http://localhost:2375", "localhost:2375"));
        assert!(!same_origin("http://evil.example", "localhost:2375"));
    }
}
