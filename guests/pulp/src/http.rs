//! HTTP/1.1 requests as far as a static file server needs them: parse a request head out of a
//! byte buffer (or say it is incomplete, or which status refuses it), and write a response head.
//! Limits are checked before the head is complete, so a client cannot make the server buffer a
//! megabyte of request line.

use std::fmt::Write as _;

/// Longest request line accepted; longer gets 414 (Apache's default is the same 8 KiB).
pub const MAX_REQUEST_LINE: usize = 8 * 1024;
/// Largest request head (request line and headers); larger gets 431.
pub const MAX_HEAD: usize = 32 * 1024;

/// The statuses this server answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    PartialContent,
    MovedPermanently,
    NotModified,
    BadRequest,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    UriTooLong,
    RangeNotSatisfiable,
    HeadersTooLarge,
    InternalError,
    VersionNotSupported,
}

impl Status {
    pub fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::PartialContent => 206,
            Status::MovedPermanently => 301,
            Status::NotModified => 304,
            Status::BadRequest => 400,
            Status::Forbidden => 403,
            Status::NotFound => 404,
            Status::MethodNotAllowed => 405,
            Status::RequestTimeout => 408,
            Status::UriTooLong => 414,
            Status::RangeNotSatisfiable => 416,
            Status::HeadersTooLarge => 431,
            Status::InternalError => 500,
            Status::VersionNotSupported => 505,
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::PartialContent => "Partial Content",
            Status::MovedPermanently => "Moved Permanently",
            Status::NotModified => "Not Modified",
            Status::BadRequest => "Bad Request",
            Status::Forbidden => "Forbidden",
            Status::NotFound => "Not Found",
            Status::MethodNotAllowed => "Method Not Allowed",
            Status::RequestTimeout => "Request Timeout",
            Status::UriTooLong => "URI Too Long",
            Status::RangeNotSatisfiable => "Range Not Satisfiable",
            Status::HeadersTooLarge => "Request Header Fields Too Large",
            Status::InternalError => "Internal Server Error",
            Status::VersionNotSupported => "HTTP Version Not Supported",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Other(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

/// A parsed request head. Header names are lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub target: String,
    pub version: Version,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn connection_has(&self, token: &str) -> bool {
        self.header("connection").is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }

    /// Whether the connection may carry another request after this one: HTTP/1.1 unless
    /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`, and never after a
    /// request with a body this server does not read.
    pub fn keep_alive(&self) -> bool {
        let wanted = match self.version {
            Version::Http11 => !self.connection_has("close"),
            Version::Http10 => self.connection_has("keep-alive"),
        };
        wanted && !self.has_body()
    }

    pub fn has_body(&self) -> bool {
        self.header("transfer-encoding").is_some() || self.header("content-length").is_some_and(|v| v.trim() != "0")
    }
}

/// Why a request head was refused, with the status that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub status: Status,
    pub why: &'static str,
}

fn refuse(status: Status, why: &'static str) -> ParseError {
    ParseError { status, why }
}

/// Parses the request head at the start of `buf`: `Ok(None)` if more bytes are needed,
/// otherwise the request and how many bytes its head took.
pub fn parse(buf: &[u8]) -> Result<Option<(Request, usize)>, ParseError> {
    // Empty lines before a request line are ignored (RFC 9112, 2.2).
    let skip = buf.iter().take_while(|b| **b == b'\r' || **b == b'\n').count();
    let rest = &buf[skip..];
    let line_end = rest.iter().position(|b| *b == b'\n');
    if line_end.unwrap_or(rest.len()) > MAX_REQUEST_LINE {
        return Err(refuse(Status::UriTooLong, "request line too long"));
    }
    let Some(head_len) = head_end(rest) else {
        if rest.len() > MAX_HEAD {
            return Err(refuse(Status::HeadersTooLarge, "request head too large"));
        }
        return Ok(None);
    };
    if head_len > MAX_HEAD {
        return Err(refuse(Status::HeadersTooLarge, "request head too large"));
    }
    let head =
        std::str::from_utf8(&rest[..head_len]).map_err(|_| refuse(Status::BadRequest, "request head is not UTF-8"))?;
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().unwrap_or_default();
    let (method, target, version) = request_line_parts(request_line)?;
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        if line.starts_with([' ', '\t']) {
            return Err(refuse(Status::BadRequest, "obsolete header line folding"));
        }
        let (name, value) =
            line.split_once(':').ok_or_else(|| refuse(Status::BadRequest, "header line without a colon"))?;
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(refuse(Status::BadRequest, "invalid header name"));
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    let req = Request { method, target, version, headers };
    if req.version == Version::Http11 && req.header("host").is_none() {
        return Err(refuse(Status::BadRequest, "HTTP/1.1 request without Host"));
    }
    Ok(Some((req, skip + head_len)))
}

/// Length of the head including its blank line (CRLF CRLF, or bare LF LF as RFC 9112 tolerates).
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(p) = buf[i..].iter().position(|b| *b == b'\n') {
        let nl = i + p;
        match buf.get(nl + 1) {
            Some(b'\n') => return Some(nl + 2),
            Some(b'\r') if buf.get(nl + 2) == Some(&b'\n') => return Some(nl + 3),
            _ => i = nl + 1,
        }
    }
    None
}

fn request_line_parts(line: &str) -> Result<(Method, String, Version), ParseError> {
    let bad = || refuse(Status::BadRequest, "malformed request line");
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    if method.is_empty()
        || !method.bytes().all(is_tchar)
        || target.is_empty()
        || !target.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(bad());
    }
    let version = match version {
        "HTTP/1.1" => Version::Http11,
        "HTTP/1.0" => Version::Http10,
        v if v.len() == 8 && v.starts_with("HTTP/") && v.as_bytes()[6] == b'.' => {
            return Err(refuse(Status::VersionNotSupported, "unsupported HTTP version"));
        }
        _ => return Err(bad()),
    };
    let method = match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        m => Method::Other(m.to_string()),
    };
    Ok((method, target.to_string(), version))
}

/// RFC 9110's `tchar`: what a method or header name may hold.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The request line at the start of `buf` (after any empty lines, without its line end), for
/// the access log: whatever the client sent, even if it is not HTTP.
pub fn request_line(buf: &[u8]) -> &[u8] {
    let skip = buf.iter().take_while(|b| **b == b'\r' || **b == b'\n').count();
    let rest = &buf[skip..];
    let line = rest.split(|b| *b == b'\n').next().unwrap_or_default();
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A response head: status line, `headers` as given, then the blank line.
pub fn response_head(status: Status, headers: &[(&str, String)]) -> String {
    let mut s = format!("HTTP/1.1 {} {}\r\n", status.code(), status.reason());
    for (name, value) in headers {
        let _ = write!(s, "{name}: {value}\r\n");
    }
    s.push_str("\r\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders the outcome of parsing `input` as one line.
    fn check(input: impl AsRef<[u8]>, expect: &str) {
        let input = input.as_ref();
        let got = match parse(input) {
            Ok(None) => "incomplete".to_string(),
            Ok(Some((r, used))) => {
                let h: Vec<String> = r.headers.iter().map(|(n, v)| format!("{n}={v}")).collect();
                format!(
                    "{:?} {} {:?} [{}] keep-alive={} used={used}",
                    r.method,
                    r.target,
                    r.version,
                    h.join(" "),
                    r.keep_alive()
                )
            }
            Err(e) => format!("{} {}", e.status.code(), e.why),
        };
        assert_eq!(got, expect, "input {:?}", String::from_utf8_lossy(input));
    }

    #[test]
    fn well_formed_requests() {
        check("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "Get / Http11 [host=x] keep-alive=true used=27");
        check("HEAD /a?b HTTP/1.0\r\n\r\nGET", "Head /a?b Http10 [] keep-alive=false used=22");
        check(
            "\r\nGET / HTTP/1.0\nConnection: Keep-Alive\n\n",
            "Get / Http10 [connection=Keep-Alive] keep-alive=true used=41",
        );
        check(
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            "Get / Http11 [host=x connection=close] keep-alive=false used=46",
        );
        check(
            "POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
            "Other(\"POST\") /f Http11 [host=x content-length=3] keep-alive=false used=48",
        );
    }

    #[test]
    fn incomplete_heads_wait_for_more() {
        check("", "incomplete");
        check("GET / HTTP/1.1\r\nHost: x\r\n", "incomplete");
        check("GET / HT", "incomplete");
    }

    #[test]
    fn malformed_heads_are_refused_with_their_status() {
        check(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\n", "400 request head is not UTF-8");
        check("hello\r\n\r\n", "400 malformed request line");
        check("GET  / HTTP/1.1\r\n\r\n", "400 malformed request line");
        check("GET / HTTP/1.1\r\n\r\n", "400 HTTP/1.1 request without Host");
        check("GET / HTTP/2.0\r\n\r\n", "505 unsupported HTTP version");
        check("GET / FTP/1.0\r\n\r\n", "400 malformed request line");
        check("GET / HTTP/1.1\r\nHost x\r\n\r\n", "400 header line without a colon");
        check("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", "400 obsolete header line folding");
        check("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", "400 invalid header name");
    }

    #[test]
    fn oversized_heads_are_refused_before_they_end() {
        let long_line = format!("GET /{} HTTP/1.1", "a".repeat(MAX_REQUEST_LINE));
        check(&long_line, "414 request line too long");
        check(format!("{long_line}\r\nHost: x\r\n\r\n"), "414 request line too long");
        let many_headers = format!("GET / HTTP/1.1\r\n{}", "X-A: b\r\n".repeat(MAX_HEAD / 8 + 1));
        check(&many_headers, "431 request head too large");
    }

    #[test]
    fn request_lines_for_the_log() {
        assert_eq!(request_line(b"\r\nGET / HTTP/1.1\r\nHost: x\r\n"), b"GET / HTTP/1.1");
        assert_eq!(request_line(b"garbage without end"), b"garbage without end");
        assert_eq!(request_line(b""), b"");
    }

    #[test]
    fn response_heads() {
        let h = response_head(Status::NotFound, &[("Content-Length", "0".into())]);
        assert_eq!(h, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    }
}
