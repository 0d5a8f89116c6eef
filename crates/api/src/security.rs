//! Who may drive a daemon that can run programs and read and write files.
//!
//! - Other users: over the unix socket its 0600 mode decides; over loopback TCP only
//!   connections from the controller's own user are served (the owner of the client's socket
//!   is read from the kernel's tables, see [`crate::peer`]), unless the client sends the token.
//! - Other machines: only with `--allow-remote` and a token every request must carry
//!   (`Authorization: Bearer <token>`).
//! - Web pages: not by DNS rebinding (a `Host` that is not ours), not by cross-site requests
//!   (an `Origin` other than our own, or `Sec-Fetch-Site: cross-site`) to anything that
//!   changes state, and not by framing the dashboard (clickjacking its action buttons).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Who is on the other end of a connection, as found when it was accepted; every request on
/// it carries this as an extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// A client of the unix socket (its file mode decided who could connect).
    Unix,
    /// A loopback TCP client whose socket the kernel says belongs to `uid` (`None`: not found).
    Loopback { uid: Option<u32> },
    /// A TCP client on another machine (or another address of this one).
    Remote(IpAddr),
}

/// A shared secret remote clients send as `Authorization: Bearer <token>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

/// Why a token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is {0} characters long; use at least {min}", min = Token::MIN_LEN)]
    TooShort(usize),
    #[error("the token must be printable ASCII without spaces (it travels in an HTTP header)")]
    NotPrintable,
}

impl Token {
    pub const MIN_LEN: usize = 16;

    pub fn new(text: &str) -> Result<Token, TokenError> {
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(TokenError::NotPrintable);
        }
        if text.len() < Self::MIN_LEN {
            return Err(TokenError::TooShort(text.len()));
        }
        Ok(Token(text.to_string()))
    }

    /// Is `authorization` (an `Authorization` header) `Bearer <this token>`? Compared in time
    /// that does not depend on where the first difference is.
    fn admits(&self, authorization: &HeaderValue) -> bool {
        let Some(sent) = authorization.as_bytes().strip_prefix(b"Bearer ") else {
            return false;
        };
        let want = self.0.as_bytes();
        sent.len() == want.len() && sent.iter().zip(want).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

/// Who may use the TCP listener.
#[derive(Debug, Clone)]
pub struct Access {
    /// The controller's (effective) user: its loopback connections are served.
    pub uid: u32,
    /// With `--token-file`: requests carrying it are served from anywhere.
    pub token: Option<Token>,
}

impl Access {
    /// Only the calling process's user, no token.
    pub fn own_user() -> Access {
        Access { uid: rustix::process::geteuid().as_raw(), token: None }
    }
}

/// How a request was admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admission {
    /// By who is connecting (the unix socket, or the controller's user on loopback).
    Local,
    /// By the token.
    Token,
}

impl Access {
    /// Decides whether a request from `peer` carrying `authorization` is served; the refusal
    /// says why, for the 403.
    fn admit(&self, peer: Option<Peer>, authorization: Option<&HeaderValue>) -> Result<Admission, String> {
        if let (Some(token), Some(sent)) = (&self.token, authorization)
            && token.admits(sent)
        {
            return Ok(Admission::Token);
        }
        let wrong_token = authorization.is_some() && self.token.is_some();
        match peer {
            Some(Peer::Unix) => Ok(Admission::Local),
            _ if wrong_token => Err("refusing a request with a wrong token".into()),
            Some(Peer::Loopback { uid: Some(uid) }) if uid == self.uid => Ok(Admission::Local),
            Some(Peer::Loopback { uid: Some(uid) }) => Err(format!(
                "refusing a connection from uid {uid}: over TCP Porthole serves only the user it runs as \
                 (uid {own}); other users need the unix socket's permission or the token",
                own = self.uid
            )),
            Some(Peer::Loopback { uid: None }) => {
                Err("refusing a loopback connection whose owner is not in the kernel's socket tables".into())
            }
            Some(Peer::Remote(ip)) if self.token.is_some() => {
                Err(format!("refusing a request from {ip} without the token (send \"Authorization: Bearer <token>\")"))
            }
            Some(Peer::Remote(ip)) => Err(format!("refusing a request from {ip}: Porthole serves only this machine")),
            None => Err("refusing a request from an unknown peer".into()),
        }
    }
}

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
pub async fn guard(State((listener, access)): State<(Listener, Access)>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let peer = match listener {
        Listener::Unix => Some(Peer::Unix),
        Listener::Tcp(_) => req.extensions().get::<Peer>().copied(),
    };
    let admission = match access.admit(peer, headers.get(header::AUTHORIZATION)) {
        Ok(a) => a,
        Err(reason) => return ApiError::Forbidden(reason).into_response(),
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    // A token holder is no web page rebinding a name to us; any `Host` is theirs to send.
    if admission == Admission::Local && !listener.accepts_host(host) {
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

/// The dashboard (and everything else) may not be framed, sniffed into another type, or
/// leak its URLs to other sites.
pub async fn headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("frame-ancestors 'none'"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
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

    #[test]
    fn who_is_admitted() {
        let token = Token::new("s3cret-s3cret-s3cret").unwrap();
        let own = Access { uid: 1000, token: None };
        let with_token = Access { uid: 1000, token: Some(token) };
        let bearer = |t: &str| HeaderValue::from_str(&format!("Bearer {t}")).unwrap();
        let right = bearer("s3cret-s3cret-s3cret");
        let wrong = bearer("s3cret-s3cret-s3creT");
        let remote = Peer::Remote("192.0.2.7".parse().unwrap());
        type Case<'a> = (&'a Access, Option<Peer>, Option<&'a HeaderValue>, Result<Admission, &'a str>);
        let cases: [Case; 10] = [
            (&own, Some(Peer::Unix), None, Ok(Admission::Local)),
            (&own, Some(Peer::Loopback { uid: Some(1000) }), None, Ok(Admission::Local)),
            (
                &own,
                Some(Peer::Loopback { uid: Some(65534) }),
                None,
                Err(
                    "refusing a connection from uid 65534: over TCP Porthole serves only the user it runs as (uid 1000); other users need the unix socket's permission or the token",
                ),
            ),
            (
                &own,
                Some(Peer::Loopback { uid: None }),
                None,
                Err("refusing a loopback connection whose owner is not in the kernel's socket tables"),
            ),
            (&own, Some(remote), None, Err("refusing a request from 192.0.2.7: Porthole serves only this machine")),
            (&own, None, None, Err("refusing a request from an unknown peer")),
            (&with_token, Some(remote), Some(&right), Ok(Admission::Token)),
            (&with_token, Some(Peer::Loopback { uid: Some(65534) }), Some(&right), Ok(Admission::Token)),
            (&with_token, Some(remote), Some(&wrong), Err("refusing a request with a wrong token")),
            (
                &with_token,
                Some(remote),
                None,
                Err("refusing a request from 192.0.2.7 without the token (send \"Authorization: Bearer <token>\")"),
            ),
        ];
        for (access, peer, auth, expect) in cases {
            assert_eq!(access.admit(peer, auth), expect.map_err(String::from), "{peer:?} {auth:?}");
        }
        assert_eq!(Token::new("short"), Err(TokenError::TooShort(5)));
        assert_eq!(Token::new("with space and more"), Err(TokenError::NotPrintable));
    }
}
