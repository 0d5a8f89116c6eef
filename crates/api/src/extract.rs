//! Request parsing shared by the routes: query parameters as Docker sends them (repeated
//! keys, `1`/`true` booleans, JSON `filters`) and JSON bodies whose errors are Docker-shaped.

use std::collections::BTreeMap;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The query string, in order, with repeated keys kept (`/build?t=a&t=b`).
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Every parameter, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn all(&self, key: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
    }

    /// A boolean flag the way Docker reads one: absent, empty, `0`, `false` or `no` is false.
    pub fn flag(&self, key: &str) -> bool {
        self.get(key).is_some_and(|v| !matches!(v.to_ascii_lowercase().as_str(), "" | "0" | "false" | "no"))
    }

    pub fn number<T: std::str::FromStr>(&self, key: &'static str) -> Result<Option<T>, ApiError> {
        match self.get(key).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| ApiError::InvalidParameter { name: key, value: v.to_string() }),
        }
    }

    /// `filters={"name":{"a":true}}` (or the older `{"name":["a"]}`) as key → values.
    pub fn filters(&self) -> Result<Filters, ApiError> {
        let Some(raw) = self.get("filters").filter(|f| !f.is_empty()) else {
            return Ok(Filters::default());
        };
        let value: serde_json::Value =
            serde_json::from_str(raw).map_err(|e| ApiError::InvalidJson(format!("invalid filter: {e}")))?;
        let mut out = BTreeMap::new();
        for (key, v) in value.as_object().into_iter().flatten() {
            let values: Vec<String> = match v {
                serde_json::Value::Object(m) => {
                    m.iter().filter(|(_, on)| on.as_bool() != Some(false)).map(|(k, _)| k.clone()).collect()
                }
                serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(String::from)).collect(),
                _ => return Err(ApiError::InvalidFilter(key.clone())),
            };
            out.insert(key.clone(), values);
        }
        Ok(Filters(out))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Params::from_query(parts.uri.query().unwrap_or("")))
    }
}

impl Params {
    /// The parameters of a query string (`a=1&b=2`, percent-encoded).
    pub fn from_query(query: &str) -> Self {
        Params(form_urlencoded(query))
    }
}

/// `application/x-www-form-urlencoded` decoding of a query string.
fn form_urlencoded(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Docker's `filters`: each key with the values given for it.
#[derive(Debug, Default, Clone)]
pub struct Filters(BTreeMap<String, Vec<String>>);

impl Filters {
    pub fn values(&self, key: &str) -> &[String] {
        self.0.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Refuses keys outside `known`, as Docker does (`invalid filter 'x'`).
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(ApiError::InvalidFilter(k.clone())),
            None => Ok(()),
        }
    }

    /// A boolean filter (`dangling=true`, `all=1`); `None` when absent, an error for any other
    /// value.
    pub fn boolean(&self, key: &'static str) -> Result<Option<bool>, ApiError> {
        match self.values(key).first().map(String::as_str) {
            None => Ok(None),
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            // Docker's text: `invalid filter 'dangling=invalid'`.
            Some(v) => Err(ApiError::InvalidFilter(format!("{key}={v}"))),
        }
    }
}

/// A JSON body; an empty body is the type's default (the CLI sends none for some calls), and
/// malformed JSON is a 400 with serde's explanation.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes =
            axum::body::Bytes::from_request(req, state).await.map_err(|e| ApiError::InvalidJson(e.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(T::default()));
        }
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| ApiError::InvalidJson(format!("invalid JSON: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode_like_go() {
        let p = Params(form_urlencoded(
            "t=a%2Fb%3Alatest&t=c&q=1&filters=%7B%22name%22%3A%7B%22x%22%3Atrue%7D%7D&rm=false",
        ));
        assert_eq!(p.all("t"), ["a/b:latest", "c"]);
        assert!(p.flag("q"));
        assert!(!p.flag("rm"));
        assert_eq!(p.filters().unwrap().values("name"), ["x"]);
    }
}
