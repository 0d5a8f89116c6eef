//! Registry JSON: `X-Registry-Auth` (moby's `registry.AuthConfig`, base64url-encoded JSON),
//! `POST /auth`'s body and answer, and a progress message of a pull or push stream.

use base64::Engine as _;
use porthole_engine::{Credentials, Progress};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::ApiError;

/// moby's `AuthConfig`: what `docker login` stores and the CLI sends.
#[derive(Debug, Default, Deserialize)]
pub struct AuthConfig {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default, rename = "serveraddress")]
    pub server_address: String,
}

impl From<AuthConfig> for Credentials {
    fn from(a: AuthConfig) -> Credentials {
        Credentials { username: a.username, password: a.password }
    }
}

/// Decodes an `X-Registry-Auth` header as moby does: base64url (padded or not, and the
/// standard alphabet the oldest clients sent), then JSON; absent or empty is anonymous.
pub fn decode_registry_auth(header: Option<&str>) -> Result<Credentials, ApiError> {
    let Some(text) = header.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(Credentials::default()) };
    let engines = [
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
    ];
    let bytes = engines.iter().find_map(|e| e.decode(text).ok()).ok_or_else(invalid_auth)?;
    let config: AuthConfig = serde_json::from_slice(&bytes).map_err(|_| invalid_auth())?;
    Ok(config.into())
}

fn invalid_auth() -> ApiError {
    ApiError::InvalidParameter { name: "X-Registry-Auth", value: "invalid X-Registry-Auth header".into() }
}

/// `POST /auth`'s answer.
#[derive(Debug, Serialize)]
pub struct AuthResponse {
    #[serde(rename = "Status")]
    pub status: &'static str,
    #[serde(rename = "IdentityToken")]
    pub identity_token: String,
}

/// One line of Docker's JSON progress stream (`jsonmessage.JSONMessage`).
pub fn progress_message(p: &Progress) -> Value {
    let mut m = json!({ "status": p.status() });
    if let Some(id) = p.id() {
        m["id"] = json!(id);
    }
    if p.is_layer_step() {
        m["progressDetail"] = json!({});
    }
    m
}

/// The `aux` message a push ends with, which the CLI reads for the digest.
pub fn push_aux(p: &Progress) -> Option<Value> {
    match p {
        Progress::PushDigest { tag, digest, size } => {
            Some(json!({ "progressDetail": {}, "aux": { "Tag": tag, "Digest": digest, "Size": size } }))
        }
        _ => None,
    }
}

/// How a stream reports a failure after it began.
pub fn error_message(text: &str) -> Value {
    json!({ "errorDetail": { "message": text }, "error": text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_auth_is_decoded_as_moby_does() {
        let json = r#"{"username":"someone","password":"p+/w?","serveraddress":"127.0.0.1:5000"}"#;
        for engine in [base64::engine::general_purpose::URL_SAFE, base64::engine::general_purpose::STANDARD_NO_PAD] {
            let header = engine.encode(json);
            let c = decode_registry_auth(Some(&header)).unwrap();
            assert_eq!((c.username.as_str(), c.password.as_str()), ("someone", "p+/w?"));
        }
        // What the CLI sends with no login: `{}`, or nothing.
        assert_eq!(decode_registry_auth(Some("e30=")).unwrap(), Credentials::default());
        assert_eq!(decode_registry_auth(None).unwrap(), Credentials::default());
        assert!(decode_registry_auth(Some("!!!")).is_err());
    }

    #[test]
    fn progress_lines_have_dockers_fields() {
        let layer = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            progress_message(&Progress::PullComplete(layer)),
            json!({ "status": "Pull complete", "id": "abababababab", "progressDetail": {} })
        );
        assert_eq!(
            progress_message(&Progress::PullingFrom { name: "busybox".into(), tag_or_digest: "latest".into() }),
            json!({ "status": "Pulling from busybox", "id": "latest" })
        );
    }
}
