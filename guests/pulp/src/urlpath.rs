//! From a request target to a path under the document root. Segments are percent-decoded one by
//! one, after splitting on `/`, and a decoded segment that is `..`, holds a `/` or a NUL is
//! refused, so no spelling of a target (`/../`, `/%2e%2e/`, `/a%2f..%2fb`) names anything but a
//! path lexically inside the root. Symlinks found there are followed by the file system, as the
//! Pulp layout needs; that is the root's content, not the request's doing.

use std::fmt::Write as _;

/// A request path: decoded segments under the document root, none empty, `.` or `..`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocPath {
    pub segments: Vec<String>,
    /// The target ended in `/` (a directory URL).
    pub trailing_slash: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    NotOriginForm,
    BadEscape,
    NotUtf8,
    Nul,
    DotDot,
    EncodedSlash,
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PathError::NotOriginForm => "target does not start with /",
            PathError::BadEscape => "invalid percent escape",
            PathError::NotUtf8 => "path is not UTF-8",
            PathError::Nul => "path holds a NUL byte",
            PathError::DotDot => "path climbs with ..",
            PathError::EncodedSlash => "path holds an encoded /",
        })
    }
}

impl DocPath {
    pub fn parse(target: &str) -> Result<DocPath, PathError> {
        let path = target.split(['?', '#']).next().unwrap_or_default();
        if !path.starts_with('/') {
            return Err(PathError::NotOriginForm);
        }
        let mut segments = Vec::new();
        for raw in path.split('/') {
            let seg = String::from_utf8(decode(raw)?).map_err(|_| PathError::NotUtf8)?;
            match seg.as_str() {
                "" | "." => {}
                ".." => return Err(PathError::DotDot),
                s if s.contains('\0') => return Err(PathError::Nul),
                s if s.contains('/') => return Err(PathError::EncodedSlash),
                _ => segments.push(seg),
            }
        }
        Ok(DocPath { segments, trailing_slash: path.ends_with('/') })
    }

    /// The canonical URL path, percent-encoded, with a trailing `/` if `dir`.
    pub fn url(&self, dir: bool) -> String {
        let mut s = String::new();
        for seg in &self.segments {
            s.push('/');
            s.push_str(&encode(seg));
        }
        if dir || s.is_empty() {
            s.push('/');
        }
        s
    }
}

fn decode(raw: &str) -> Result<Vec<u8>, PathError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(PathError::BadEscape)?;
            let hex = std::str::from_utf8(hex).map_err(|_| PathError::BadEscape)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| PathError::BadEscape)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// Percent-encodes everything but RFC 3986's unreserved characters and a few safe sub-delims.
pub fn encode(segment: &str) -> String {
    let mut s = String::new();
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) {
            s.push(b as char);
        } else {
            let _ = write!(s, "%{b:02X}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(target: &str, expect: &str) {
        let got = match DocPath::parse(target) {
            Ok(p) => format!("{:?} dir={}", p.segments, p.trailing_slash),
            Err(e) => e.to_string(),
        };
        assert_eq!(got, expect, "{target}");
    }

    #[test]
    fn targets_inside_the_root() {
        check("/", "[] dir=true");
        check("/pub/sample/a.txt?x=1#f", "[\"pub\", \"sample\", \"a.txt\"] dir=false");
        check("//pub/./x/", "[\"pub\", \"x\"] dir=true");
        check("/with%20space/%C3%A9", "[\"with space\", \"é\"] dir=false");
        check("/a..b/...", "[\"a..b\", \"...\"] dir=false");
    }

    #[test]
    fn targets_that_would_leave_the_root_are_refused() {
        check("/../etc/passwd", "path climbs with ..");
        check("/pub/%2e%2e/%2E%2E/etc/passwd", "path climbs with ..");
        check("/pub/.%2e/x", "path climbs with ..");
        check("/a%2f..%2f..%2fetc", "path holds an encoded /");
        check("/etc%00.txt", "path holds a NUL byte");
        check("/%zz", "invalid percent escape");
        check("/%2", "invalid percent escape");
        check("/%ff", "path is not UTF-8");
        check("http://x/", "target does not start with /");
        check("*", "target does not start with /");
    }

    #[test]
    fn urls_are_re_encoded() {
        let p = DocPath::parse("/with%20space/a&b").unwrap();
        assert_eq!(p.url(false), "/with%20space/a&b");
        assert_eq!(p.url(true), "/with%20space/a&b/");
        assert_eq!(DocPath::parse("/").unwrap().url(false), "/");
    }
}
