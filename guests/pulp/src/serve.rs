//! What to answer to a request, from the document root: status, headers and a body that is
//! bytes or a slice of an open file. The server loop only moves these bytes; every rule of the
//! protocol that depends on the files is here, and runs natively in tests.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::http::{Method, Request, Status};
use crate::range::{self, Selection};
use crate::urlpath::DocPath;
use crate::{listing, mime};

/// A response before it is written.
#[derive(Debug)]
pub struct Reply {
    pub status: Status,
    pub headers: Vec<(&'static str, String)>,
    pub body: Body,
}

#[derive(Debug)]
pub enum Body {
    Empty,
    Bytes(Vec<u8>),
    /// `len` bytes of `file` from `start`.
    File {
        file: File,
        start: u64,
        len: u64,
    },
}

impl Body {
    pub fn len(&self) -> u64 {
        match self {
            Body::Empty => 0,
            Body::Bytes(b) => b.len() as u64,
            Body::File { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Reply {
    /// A small HTML page saying `status`.
    pub fn error(status: Status) -> Reply {
        let page = format!(
            "<!DOCTYPE html>\n<html><head><title>{0} {1}</title></head><body><h1>{0} {1}</h1></body></html>\n",
            status.code(),
            status.reason()
        );
        let mut r = Reply::bytes(status, "text/html; charset=utf-8", page.into_bytes());
        if status == Status::MethodNotAllowed {
            r.headers.push(("Allow", "GET, HEAD".into()));
        }
        r
    }

    fn bytes(status: Status, content_type: &str, body: Vec<u8>) -> Reply {
        let headers = vec![("Content-Type", content_type.to_string()), ("Content-Length", body.len().to_string())];
        Reply { status, headers, body: Body::Bytes(body) }
    }
}

/// Answers `req` from the files under `root`.
pub fn respond(root: &Path, req: &Request) -> Reply {
    let head = match req.method {
        Method::Get => false,
        Method::Head => true,
        Method::Other(_) => return Reply::error(Status::MethodNotAllowed),
    };
    let mut reply = match DocPath::parse(&req.target) {
        Ok(path) => lookup(root, &path, req),
        Err(_) => Reply::error(Status::BadRequest),
    };
    if head {
        // HEAD answers with GET's headers, Content-Length included, and no body.
        reply.body = Body::Empty;
    }
    reply
}

fn lookup(root: &Path, path: &DocPath, req: &Request) -> Reply {
    let fs_path: PathBuf = path.segments.iter().fold(root.to_path_buf(), |p, s| p.join(s));
    // `metadata` follows symlinks: a link into another mount is served, a dangling one is a 404.
    let meta = match fs::metadata(&fs_path) {
        Ok(m) => m,
        Err(e) => return Reply::error(io_status(&e)),
    };
    if meta.is_dir() {
        if !path.trailing_slash {
            let mut r = Reply::error(Status::MovedPermanently);
            r.headers.push(("Location", path.url(true)));
            return r;
        }
        let index = fs_path.join("index.html");
        return match fs::metadata(&index) {
            Ok(m) if m.is_file() => file(&index, &m, req),
            _ => directory(&fs_path, path),
        };
    }
    if path.trailing_slash {
        return Reply::error(Status::NotFound);
    }
    file(&fs_path, &meta, req)
}

/// Not there (a dangling link included) is 404, not allowed 403; anything else, such as running
/// out of descriptors, is the server's trouble: 500.
fn io_status(e: &io::Error) -> Status {
    match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => Status::NotFound,
        io::ErrorKind::PermissionDenied => Status::Forbidden,
        _ => Status::InternalError,
    }
}

fn file(fs_path: &Path, meta: &fs::Metadata, req: &Request) -> Reply {
    if !meta.is_file() {
        return Reply::error(Status::Forbidden);
    }
    let f = match File::open(fs_path) {
        Ok(f) => f,
        Err(e) => return Reply::error(io_status(&e)),
    };
    let len = meta.len();
    let modified = meta.modified().unwrap_or(UNIX_EPOCH);
    let last_modified = httpdate::fmt_http_date(modified);
    if not_modified_since(req.header("if-modified-since"), modified) {
        return Reply {
            status: Status::NotModified,
            headers: vec![("Last-Modified", last_modified)],
            body: Body::Empty,
        };
    }
    let name = fs_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut headers = vec![
        ("Content-Type", mime::content_type(&name).to_string()),
        ("Last-Modified", last_modified),
        ("Accept-Ranges", "bytes".to_string()),
    ];
    let (status, start, count) = match range::select(req.header("range"), len) {
        Selection::Full => (Status::Ok, 0, len),
        Selection::Part { start, end } => {
            headers.push(("Content-Range", format!("bytes {start}-{end}/{len}")));
            (Status::PartialContent, start, end - start + 1)
        }
        Selection::Unsatisfiable => {
            let mut r = Reply::error(Status::RangeNotSatisfiable);
            r.headers.push(("Content-Range", format!("bytes */{len}")));
            return r;
        }
    };
    headers.push(("Content-Length", count.to_string()));
    Reply { status, headers, body: Body::File { file: f, start, len: count } }
}

/// Whether `If-Modified-Since` says the client's copy is current; dates it cannot parse are
/// ignored, as RFC 9110 asks.
fn not_modified_since(header: Option<&str>, modified: SystemTime) -> bool {
    let Some(since) = header.and_then(|h| httpdate::parse_http_date(h).ok()) else { return false };
    let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    secs(modified) <= secs(since)
}

fn directory(fs_path: &Path, path: &DocPath) -> Reply {
    let entries = match fs::read_dir(fs_path) {
        Ok(e) => e,
        Err(e) => return Reply::error(io_status(&e)),
    };
    let mut names: Vec<(String, bool)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        // Dot files are hidden, the worker's half-made links (`.tmp-*`) among them.
        .filter(|n| !n.starts_with('.'))
        .map(|n| {
            let dir = fs::metadata(fs_path.join(&n)).is_ok_and(|m| m.is_dir());
            (n, dir)
        })
        .collect();
    names.sort();
    Reply::bytes(Status::Ok, "text/html; charset=utf-8", listing::html(&path.url(true), &names).into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::Scratch;
    use std::io::{Read, Seek, SeekFrom};

    fn get(root: &Path, target: &str, headers: &[(&str, &str)]) -> String {
        request(root, Method::Get, target, headers)
    }

    /// Renders the reply: status, headers but the date-dependent ones, and the body.
    fn request(root: &Path, method: Method, target: &str, headers: &[(&str, &str)]) -> String {
        let req = Request {
            method,
            target: target.into(),
            version: crate::http::Version::Http11,
            headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        };
        let reply = respond(root, &req);
        let mut s = format!("{}", reply.status.code());
        for (n, v) in &reply.headers {
            if *n != "Last-Modified" {
                s.push_str(&format!(" {n}={v}"));
            }
        }
        let body = match reply.body {
            Body::Empty => String::new(),
            Body::Bytes(b) if reply.status.code() >= 300 => format!("<{} bytes>", b.len()),
            Body::Bytes(b) => String::from_utf8(b).unwrap(),
            Body::File { mut file, start, len } => {
                file.seek(SeekFrom::Start(start)).unwrap();
                let mut b = vec![0; len as usize];
                file.read_exact(&mut b).unwrap();
                String::from_utf8(b).unwrap()
            }
        };
        format!("{s} | {body}")
    }

    fn tree() -> Scratch {
        let s = Scratch::new("serve");
        fs::create_dir_all(s.0.join("www/pub/r")).unwrap();
        fs::create_dir_all(s.0.join("content")).unwrap();
        fs::write(s.0.join("content/abc"), "0123456789").unwrap();
        std::os::unix::fs::symlink(s.0.join("content/abc"), s.0.join("www/pub/r/f.txt")).unwrap();
        std::os::unix::fs::symlink(s.0.join("content/gone"), s.0.join("www/pub/r/dangling")).unwrap();
        fs::write(s.0.join("www/pub/r/.tmp-x"), "").unwrap();
        fs::write(s.0.join("secret"), "no").unwrap();
        s
    }

    #[test]
    fn files_through_links_ranges_and_listings() {
        let s = tree();
        let root = s.0.join("www");
        assert_eq!(
            get(&root, "/pub/r/f.txt", &[]),
            "200 Content-Type=text/plain; charset=utf-8 Accept-Ranges=bytes Content-Length=10 | 0123456789"
        );
        assert_eq!(
            get(&root, "/pub/r/f.txt", &[("range", "bytes=2-4")]),
            "206 Content-Type=text/plain; charset=utf-8 Accept-Ranges=bytes Content-Range=bytes 2-4/10 Content-Length=3 | 234"
        );
        assert_eq!(
            get(&root, "/pub/r/f.txt", &[("range", "bytes=10-")]),
            "416 Content-Type=text/html; charset=utf-8 Content-Length=130 Content-Range=bytes */10 | <130 bytes>"
        );
        assert_eq!(
            request(&root, Method::Head, "/pub/r/f.txt", &[]),
            "200 Content-Type=text/plain; charset=utf-8 Accept-Ranges=bytes Content-Length=10 | "
        );
        assert_eq!(
            get(&root, "/pub/r/", &[]),
            "200 Content-Type=text/html; charset=utf-8 Content-Length=254 | <!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of /pub/r/</title></head>\n<body><h1>Index of /pub/r/</h1>\n<ul>\n<li><a href=\"../\">../</a></li>\n<li><a href=\"dangling\">dangling</a></li>\n<li><a href=\"f.txt\">f.txt</a></li>\n</ul>\n</body></html>\n"
        );
        assert_eq!(
            get(&root, "/pub/r", &[]),
            "301 Content-Type=text/html; charset=utf-8 Content-Length=122 Location=/pub/r/ | <122 bytes>"
        );
    }

    #[test]
    fn conditional_requests() {
        let s = tree();
        let root = s.0.join("www");
        let later = httpdate::fmt_http_date(SystemTime::now() + std::time::Duration::from_secs(60));
        assert_eq!(get(&root, "/pub/r/f.txt", &[("if-modified-since", &later)]), "304 | ");
        let earlier = "Thu, 01 Jan 1970 00:00:01 GMT";
        assert!(get(&root, "/pub/r/f.txt", &[("if-modified-since", earlier)]).starts_with("200 "));
        assert!(get(&root, "/pub/r/f.txt", &[("if-modified-since", "yesterday")]).starts_with("200 "));
    }

    #[test]
    fn refusals() {
        let s = tree();
        let root = s.0.join("www");
        let status = |target: &str| get(&root, target, &[])[..3].to_string();
        assert_eq!(status("/pub/r/dangling"), "404");
        assert_eq!(status("/nothing"), "404");
        assert_eq!(status("/pub/r/f.txt/x"), "404");
        assert_eq!(status("/pub/r/f.txt/"), "404");
        assert_eq!(status("/../secret"), "400");
        assert_eq!(status("/%2e%2e/secret"), "400");
        assert_eq!(status("/a%00"), "400");
        assert_eq!(request(&root, Method::Other("POST".into()), "/", &[])[..3], *"405");
        assert!(request(&root, Method::Other("PUT".into()), "/", &[]).contains(" Allow=GET, HEAD "));
    }
}
