//! API versions: Docker clients prefix paths with `/v1.NN`; the prefix is stripped before
//! routing (refusing versions newer than ours), and every response carries the headers the
//! CLI negotiates with (`Api-Version`, `Ostype`, …).

use axum::extract::Request;
use axum::http::{HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// The API version Porthole speaks (Docker Engine 28.1's); the docker 28 CLI negotiates down to it.
pub const API_VERSION: &str = "1.49";
/// The oldest version a client may ask for.
pub const MIN_API_VERSION: &str = "1.24";

/// `/v1.49/containers/json` → `("1.49", "/containers/json")`.
fn split_version(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/v")?;
    let (version, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (major, minor) = version.split_once('.')?;
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (numeric(major) && numeric(minor)).then_some((version, if tail.is_empty() { "/" } else { tail }))
}

fn parse(version: &str) -> (u32, u32) {
    let (a, b) = version.split_once('.').unwrap_or((version, "0"));
    (a.parse().unwrap_or(0), b.parse().unwrap_or(0))
}

/// Middleware: strips the version prefix (so one set of routes serves every version) and adds
/// Docker's response headers.
pub async fn strip_version(mut req: Request, next: Next) -> Response {
    if let Some((version, rest)) = split_version(req.uri().path()) {
        if parse(version) > parse(API_VERSION) {
            return ApiError::VersionTooNew(version.to_string()).into_response();
        }
        let path_and_query = match req.uri().query() {
            Some(q) => format!("{rest}?{q}"),
            None => rest.to_string(),
        };
        let mut parts = req.uri().clone().into_parts();
        parts.path_and_query = path_and_query.parse().ok();
        if let Ok(uri) = Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert("Api-Version", HeaderValue::from_static(API_VERSION));
    headers.insert("Docker-Experimental", HeaderValue::from_static("false"));
    headers.insert("Ostype", HeaderValue::from_static("linux"));
    headers.insert("Server", HeaderValue::from_static(concat!("Porthole/", env!("CARGO_PKG_VERSION"))));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_prefixes() {
        assert_eq!(split_version("/v1.49/containers/json"), Some(("1.49", "/containers/json")));
        assert_eq!(split_version("/v1.49"), Some(("1.49", "/")));
        assert_eq!(split_version("/volumes"), None);
        assert_eq!(split_version("/vx.1/a"), None);
        assert!(parse("1.50") > parse(API_VERSION));
        assert!(parse("1.9") < parse(API_VERSION));
    }
}
