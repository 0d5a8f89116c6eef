//! A small client of a running controller's JSON (`/porthole/*` for `porthole lesson`, the
//! Docker API for `porthole kube`): one HTTP/1.1 request per connection, over TCP or the unix
//! socket `DOCKER_HOST` names.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::de::DeserializeOwned;

/// Where the controller listens, as the docker CLI is told (`DOCKER_HOST`).
#[derive(Debug, Clone)]
pub enum Host {
    Tcp(String),
    Unix(std::path::PathBuf),
}

impl Host {
    /// `tcp://ADDR`, `unix:///PATH`, or a bare `ADDR`; `None` is `DOCKER_HOST`, else
    /// `127.0.0.1:2375`.
    pub fn new(given: Option<&str>) -> anyhow::Result<Host> {
        let from_env = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty());
        let spec = given.map(str::to_string).or(from_env).unwrap_or_else(|| "127.0.0.1:2375".into());
        if let Some(path) = spec.strip_prefix("unix://") {
            return Ok(Host::Unix(path.into()));
        }
        let addr = spec.strip_prefix("tcp://").or_else(|| spec.strip_prefix("http://")).unwrap_or(&spec);
        if addr.contains("://") {
            bail!("unsupported host {spec:?}: give tcp://ADDR or unix:///PATH");
        }
        Ok(Host::Tcp(addr.trim_end_matches('/').to_string()))
    }

    /// The value the docker CLI needs in `DOCKER_HOST`.
    pub fn docker_host(&self) -> String {
        match self {
            Host::Tcp(a) => format!("tcp://{a}"),
            Host::Unix(p) => format!("unix://{}", p.display()),
        }
    }

    pub fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.request("GET", path, None)
    }

    pub fn post<T: DeserializeOwned>(&self, path: &str, body: &impl serde::Serialize) -> anyhow::Result<T> {
        self.request("POST", path, Some(serde_json::to_vec(body)?))
    }

    pub fn delete(&self, path: &str) -> anyhow::Result<()> {
        self.request::<serde_json::Value>("DELETE", path, None).map(drop)
    }

    /// A GET whose `404` means "there is none": `None`, not an error.
    pub fn find<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<Option<T>> {
        match self.call("GET", path, None)? {
            (404, _) => Ok(None),
            answer => self.decode("GET", path, answer).map(Some),
        }
    }

    fn request<T: DeserializeOwned>(&self, method: &str, path: &str, body: Option<Vec<u8>>) -> anyhow::Result<T> {
        let answer = self.call(method, path, body)?;
        self.decode(method, path, answer)
    }

    /// Status and body; a body-less answer (`204`) decodes as JSON `null`.
    fn call(&self, method: &str, path: &str, body: Option<Vec<u8>>) -> anyhow::Result<(u16, Vec<u8>)> {
        let host = match self {
            Host::Tcp(a) => a.as_str(),
            Host::Unix(_) => "localhost",
        };
        let body = body.unwrap_or_default();
        let mut raw = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        raw.extend_from_slice(&body);
        let answer = self.exchange(&raw).with_context(|| format!("asking the controller at {}", self.docker_host()))?;
        parse_answer(&answer)
    }

    fn decode<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        (status, body): (u16, Vec<u8>),
    ) -> anyhow::Result<T> {
        if status >= 400 {
            let message = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_string))
                .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
            bail!("{method} {path}: {status}: {message}");
        }
        let body: &[u8] = if body.is_empty() { b"null" } else { &body };
        serde_json::from_slice(body).with_context(|| format!("{method} {path}: unexpected answer"))
    }

    fn exchange(&self, request: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        match self {
            Host::Tcp(addr) => {
                let mut s = TcpStream::connect(addr)?;
                s.set_read_timeout(Some(Duration::from_secs(120)))?;
                s.write_all(request)?;
                s.read_to_end(&mut out)?;
            }
            Host::Unix(path) => {
                let mut s = UnixStream::connect(path)?;
                s.set_read_timeout(Some(Duration::from_secs(120)))?;
                s.write_all(request)?;
                s.read_to_end(&mut out)?;
            }
        }
        Ok(out)
    }
}

/// Status and body of a whole HTTP/1.1 answer (the body de-chunked if it was sent in chunks).
fn parse_answer(raw: &[u8]) -> anyhow::Result<(u16, Vec<u8>)> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").context("the controller's answer has no head")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let status =
        head.split(' ').nth(1).and_then(|s| s.parse().ok()).context("the controller's answer has no status")?;
    let body = &raw[split + 4..];
    let chunked = head.lines().any(|l| {
        l.split_once(':').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("transfer-encoding") && v.trim().eq_ignore_ascii_case("chunked")
        })
    });
    Ok((status, if chunked { dechunk(body)? } else { body.to_vec() }))
}

fn dechunk(mut body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n").context("a truncated chunk")?;
        let size = std::str::from_utf8(&body[..line_end])?.split(';').next().unwrap_or("").trim().to_string();
        let size = usize::from_str_radix(&size, 16).context("a bad chunk size")?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(body.get(..size).context("a truncated chunk")?);
        body = body.get(size + 2..).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_as_docker_names_them() {
        let cases = [
            ("tcp://127.0.0.1:2375", "tcp://127.0.0.1:2375"),
            ("127.0.0.1:9", "tcp://127.0.0.1:9"),
            ("http://[::1]:2375/", "tcp://[::1]:2375"),
            ("unix:///run/p.sock", "unix:///run/p.sock"),
        ];
        for (given, expected) in cases {
            assert_eq!(Host::new(Some(given)).unwrap().docker_host(), expected, "{given}");
        }
        assert_eq!(
            Host::new(Some("ssh://me@box")).unwrap_err().to_string(),
            "unsupported host \"ssh://me@box\": give tcp://ADDR or unix:///PATH"
        );
    }

    #[test]
    fn answers_plain_and_chunked() {
        let plain = b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(parse_answer(plain).unwrap(), (404, b"{}".to_vec()));
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n[1,\r\n2;x=y\r\n2]\r\n0\r\n\r\n";
        assert_eq!(parse_answer(chunked).unwrap(), (200, b"[1,2]".to_vec()));
        assert!(parse_answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nab").is_err());
    }
}
