//! The Pulp workload's guests, run for real in a mount namespace laid out as the containers have
//! it: the upstream repository read-only at `/srv/upstream`, the content volume at
//! `/var/lib/pulp`, the web volume at `/var/www`, each a separate host directory. `pulp-worker`
//! mirrors and is checked on the host's files; `httpd` serves on a handed-in listener and is
//! checked with an HTTP client over TCP.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use porthole_runtime::{Exit, Limits};
use porthole_wasi::{Stdio, StopSignal, WasiHost};
use sha2::{Digest, Sha256};

const CONTENT: &str = "/var/lib/pulp/content";

struct Layout {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    upstream: PathBuf,
    pulp: PathBuf,
    www: PathBuf,
}

impl Layout {
    fn new() -> Layout {
        let tmp = tempfile::tempdir().unwrap();
        let dir = |name: &str| {
            let d = tmp.path().join(name);
            fs::create_dir_all(&d).unwrap();
            d
        };
        let (root, upstream, pulp, www) = (dir("rootfs"), dir("upstream"), dir("pulp"), dir("www"));
        fs::create_dir_all(upstream.join("sample")).unwrap();
        Layout { root, upstream, pulp, www, _tmp: tmp }
    }

    fn mounts(&self, with_content: bool) -> Vec<common::M<'_>> {
        let mut m = vec![("/srv/upstream", self.upstream.as_path(), true), ("/var/www", self.www.as_path(), false)];
        if with_content {
            m.push(("/var/lib/pulp", self.pulp.as_path(), false));
        }
        m
    }

    /// Writes the sample repository: `files` upstream and a MANIFEST listing them, then `extra`.
    fn repository(&self, files: &[(&str, &[u8])], extra: &str) {
        let repo = self.upstream.join("sample");
        fs::remove_dir_all(&repo).unwrap();
        let mut manifest = String::new();
        for (path, data) in files {
            let p = repo.join(path);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, data).unwrap();
            manifest.push_str(&format!("{} {} {path}\n", sha(data), data.len()));
        }
        manifest.push_str(extra);
        fs::write(repo.join("MANIFEST"), manifest).unwrap();
    }

    fn worker(&self) -> (String, Exit) {
        common::run(porthole_guests::PULP_WORKER, &[], &self.root, &self.mounts(true))
    }

    /// Every entry under the two volumes with what a write, a rename or a new link would
    /// change: inode, size, modification and change times.
    fn snapshot(&self) -> BTreeMap<PathBuf, (u64, u64, i64, i64, i64, i64)> {
        let mut out = BTreeMap::new();
        let mut stack = vec![self.pulp.clone(), self.www.clone()];
        while let Some(p) = stack.pop() {
            let m = fs::symlink_metadata(&p).unwrap();
            out.insert(p.clone(), (m.ino(), m.size(), m.mtime(), m.mtime_nsec(), m.ctime(), m.ctime_nsec()));
            if m.is_dir() {
                stack.extend(fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            }
        }
        out
    }
}

fn sha(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes that are not all alike, so a misplaced chunk shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn worker_mirrors_then_changes_nothing_then_follows_upstream() {
    let l = Layout::new();
    let (a, b) = (b"alpha\n".as_slice(), pattern(300_000));
    l.repository(&[("a.txt", a), ("dir/b.bin", &b)], "");
    let (out, exit) = l.worker();
    assert_eq!(exit, Exit::Code(0), "{out}");
    let (sa, sb) = (sha(a), sha(&b));
    assert_eq!(
        out,
        format!(
            "created {CONTENT}\n\
             stored {sa} sample/a.txt (6 bytes)\n\
             linked /var/www/pub/sample/a.txt -> {CONTENT}/{sa}\n\
             stored {sb} sample/dir/b.bin (300000 bytes)\n\
             linked /var/www/pub/sample/dir/b.bin -> {CONTENT}/{sb}\n\
             sync sample: 2 stored, 2 linked, 0 relinked, 0 unlinked, 0 unchanged, 0 refused\n"
        )
    );
    // On the host: each file once in the content volume, an absolute link in the web volume.
    assert_eq!(fs::read(l.pulp.join("content").join(&sb)).unwrap(), b);
    assert_eq!(fs::read_link(l.www.join("pub/sample/dir/b.bin")).unwrap(), Path::new(&format!("{CONTENT}/{sb}")));
    assert_eq!(fs::read_dir(l.pulp.join("content")).unwrap().count(), 2);

    let before = l.snapshot();
    let (out, exit) = l.worker();
    assert_eq!(
        (out.as_str(), exit),
        ("sync sample: 0 stored, 0 linked, 0 relinked, 0 unlinked, 2 unchanged, 0 refused\n", Exit::Code(0))
    );
    assert_eq!(l.snapshot(), before, "a sync with nothing new changes nothing");

    let (a2, c) = (b"alpha, second edition\n".as_slice(), b"new\n".as_slice());
    l.repository(&[("a.txt", a2), ("c.txt", c)], "");
    let (out, exit) = l.worker();
    let (sa2, sc) = (sha(a2), sha(c));
    assert_eq!(exit, Exit::Code(0), "{out}");
    assert_eq!(
        out,
        format!(
            "stored {sa2} sample/a.txt (22 bytes)\n\
             relinked /var/www/pub/sample/a.txt -> {CONTENT}/{sa2}\n\
             stored {sc} sample/c.txt (4 bytes)\n\
             linked /var/www/pub/sample/c.txt -> {CONTENT}/{sc}\n\
             unlinked /var/www/pub/sample/dir/b.bin\n\
             removed empty directory /var/www/pub/sample/dir\n\
             sync sample: 2 stored, 1 linked, 1 relinked, 1 unlinked, 0 unchanged, 0 refused\n"
        )
    );
    assert_eq!(fs::read_link(l.www.join("pub/sample/a.txt")).unwrap(), Path::new(&format!("{CONTENT}/{sa2}")));
    assert!(!l.www.join("pub/sample/dir").exists());
    let mut names: Vec<String> = fs::read_dir(l.www.join("pub/sample"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["a.txt", "c.txt"], "no temporary link is left behind");
}

#[test]
fn worker_refuses_bad_entries_and_syncs_the_rest() {
    let l = Layout::new();
    let repo = l.upstream.join("sample");
    let (good, zero) = (b"good\n".as_slice(), sha(b""));
    let extra = format!(
        "{zero} 1 missing.txt\n{} 4 liar.txt\n{zero} 0 ../../etc/passwd\n{zero} 0 /etc/passwd\n{zero} 0 escape\n",
        sha(b"true")
    );
    l.repository(&[("good.txt", good)], &extra);
    fs::write(repo.join("liar.txt"), "lies").unwrap();
    // Inside the container this would resolve to the content volume: outside the repository.
    std::os::unix::fs::symlink("/var/lib/pulp/secret", repo.join("escape")).unwrap();
    fs::write(l.pulp.join("secret"), "").unwrap();
    let (out, exit) = l.worker();
    assert_eq!(exit, Exit::Code(1), "{out}");
    let sg = sha(good);
    assert_eq!(
        out,
        format!(
            "created {CONTENT}\n\
             refused sample: MANIFEST line 4: path leaves the repository: ../../etc/passwd\n\
             refused sample: MANIFEST line 5: absolute path: /etc/passwd\n\
             stored {sg} sample/good.txt (5 bytes)\n\
             linked /var/www/pub/sample/good.txt -> {CONTENT}/{sg}\n\
             refused sample/missing.txt: missing upstream file: /srv/upstream/sample/missing.txt\n\
             refused sample/liar.txt: digest mismatch: manifest says {}, file has {}\n\
             refused sample/escape: upstream symlink points outside the repository: escape -> /var/lib/pulp/secret\n\
             sync sample: 1 stored, 1 linked, 0 relinked, 0 unlinked, 0 unchanged, 5 refused\n",
            sha(b"true"),
            sha(b"lies"),
        )
    );
    let stored: Vec<_> = fs::read_dir(l.pulp.join("content")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(stored, [std::ffi::OsString::from(sg)], "nothing refused is stored, no temporary file stays");
}

#[test]
fn worker_with_an_interval_syncs_again_until_stopped() {
    let l = Layout::new();
    l.repository(&[("a.txt", b"a\n")], "");
    let out = common::Captured::default();
    let signal = StopSignal::default();
    let stopper = common::runtime().stopper_for(&signal);
    let stdio = Stdio { stdout: Box::new(out.clone()), ..Stdio::default() };
    let host = WasiHost::builder(common::namespace(&l.root, &l.mounts(true)))
        .args(["pulp-worker", "--interval", "1"])
        .stdio(stdio)
        .stop_signal(signal)
        .build()
        .unwrap();
    let guest = std::thread::spawn(move || {
        common::runtime().run(&common::program(porthole_guests::PULP_WORKER), host, &Limits::default()).unwrap()
    });
    // Once a second round has run (it found nothing new), a later one must pick up a new file.
    while !out.text().contains("sync sample: 0 stored") {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    l.repository(&[("a.txt", b"a\n"), ("b.txt", b"b\n")], "");
    while !out.text().contains("linked /var/www/pub/sample/b.txt") {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    stopper.stop();
    assert_eq!(guest.join().unwrap(), Exit::Stopped);
    let link = fs::read_link(l.www.join("pub/sample/b.txt")).unwrap();
    assert_eq!(link, Path::new(&format!("{CONTENT}/{}", sha(b"b\n"))));
    assert_eq!(fs::read(l.pulp.join("content").join(sha(b"b\n"))).unwrap(), b"b\n");
}

/// `httpd` running in a thread on a listener bound to 127.0.0.1:0.
struct Httpd {
    addr: SocketAddr,
    stopper: porthole_runtime::Stopper,
    guest: std::thread::JoinHandle<(String, Exit)>,
}

impl Httpd {
    fn start(l: &Layout, with_content: bool, args: &[&str]) -> Httpd {
        Httpd::start_with_fds(l, with_content, args, None)
    }

    /// As `start`, with at most `max_fds` descriptors for the guest.
    fn start_with_fds(l: &Layout, with_content: bool, args: &[&str], max_fds: Option<usize>) -> Httpd {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let signal = StopSignal::default();
        let stopper = common::runtime().stopper_for(&signal);
        let ns = common::namespace(&l.root, &l.mounts(with_content));
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let guest = std::thread::spawn(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            // The host tells the guest where its listener is (LISTEN_FD, after the preopens).
            common::run_with(
                porthole_guests::HTTPD,
                &args,
                ns,
                |b| {
                    let b = b.listener(listener, "80/tcp").stop_signal(signal);
                    match max_fds {
                        Some(n) => b.max_fds(n),
                        None => b,
                    }
                },
                &Limits::default(),
            )
        });
        Httpd { addr, stopper, guest }
    }

    /// Stops the server and returns its access log.
    fn stop(self) -> String {
        self.stopper.stop();
        let (out, exit) = self.guest.join().unwrap();
        assert_eq!(exit, Exit::Stopped, "{out}");
        out
    }
}

/// A response as the client saw it.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Sends `request` (raw bytes) on `conn` and reads one response; `head` says the body is absent.
fn exchange(conn: &mut BufReader<TcpStream>, request: &[u8], head: bool) -> Response {
    conn.get_mut().write_all(request).unwrap();
    read_response(conn, head)
}

fn read_response(conn: &mut BufReader<TcpStream>, head: bool) -> Response {
    let mut line = String::new();
    conn.read_line(&mut line).unwrap();
    let status = line.split(' ').nth(1).unwrap_or_else(|| panic!("status line {line:?}")).parse().unwrap();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        conn.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':').unwrap();
        headers.push((n.to_string(), v.trim().to_string()));
    }
    let mut r = Response { status, headers, body: Vec::new() };
    let len: usize = r.header("content-length").map(|v| v.parse().unwrap()).unwrap_or(0);
    if !head && status != 304 {
        r.body.resize(len, 0);
        conn.read_exact(&mut r.body).unwrap();
    }
    r
}

fn connect(addr: SocketAddr) -> BufReader<TcpStream> {
    BufReader::new(TcpStream::connect(addr).unwrap())
}

/// One GET on a fresh connection, closed after.
fn get(addr: SocketAddr, target: &str, headers: &str) -> Response {
    let req = format!("GET {target} HTTP/1.1\r\nHost: test\r\n{headers}Connection: close\r\n\r\n");
    exchange(&mut connect(addr), req.as_bytes(), false)
}

/// The Pulp layout mirrored by the worker: a small text file and a 10 MiB one.
fn mirrored() -> (Layout, Vec<u8>) {
    let l = Layout::new();
    let big = pattern(10 << 20);
    l.repository(&[("hello.txt", b"hello, world\n"), ("big/blob.bin", &big)], "");
    let (out, exit) = l.worker();
    assert_eq!(exit, Exit::Code(0), "{out}");
    (l, big)
}

#[test]
fn httpd_serves_mirrored_files_through_links_into_the_content_volume() {
    let (l, big) = mirrored();
    let server = Httpd::start(&l, true, &[]);
    let addr = server.addr;

    let r = get(addr, "/pub/sample/hello.txt", "");
    assert_eq!((r.status, r.body.as_slice()), (200, b"hello, world\n".as_slice()));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    let r = get(addr, "/pub/sample/big/blob.bin", "");
    assert_eq!(r.status, 200);
    assert!(r.body == big, "10 MiB body differs ({} bytes received)", r.body.len());

    let r = get(addr, "/pub/sample/big/blob.bin", "Range: bytes=1000-1999\r\n");
    assert_eq!((r.status, r.header("content-range")), (206, Some("bytes 1000-1999/10485760")));
    assert!(r.body == big[1000..2000]);
    assert_eq!(get(addr, "/pub/sample/hello.txt", "Range: bytes=99-\r\n").status, 416);

    let modified = get(addr, "/pub/sample/hello.txt", "").header("last-modified").unwrap().to_string();
    let r = get(addr, "/pub/sample/hello.txt", &format!("If-Modified-Since: {modified}\r\n"));
    assert_eq!((r.status, r.body.len()), (304, 0));

    assert_eq!(get(addr, "/pub/sample/nothing.txt", "").status, 404);
    let listing = get(addr, "/pub/sample/", "");
    assert_eq!(listing.status, 200);
    let page = String::from_utf8(listing.body).unwrap();
    assert!(
        page.contains("<a href=\"big/\">big/</a>") && page.contains("<a href=\"hello.txt\">hello.txt</a>"),
        "{page}"
    );

    // Inside the root only: the content volume is reachable through links, never by name.
    let sha_hello = sha(b"hello, world\n");
    for target in [
        format!("/%2e%2e/lib/pulp/content/{sha_hello}"),
        format!("/pub/%2E%2E/%2e%2e/%2e%2e/lib/pulp/content/{sha_hello}"),
        format!("/../lib/pulp/content/{sha_hello}"),
        "/pub%2f..%2f..%2flib".to_string(),
        "/pub/sample/hello.txt%00".to_string(),
    ] {
        let r = get(addr, &target, "");
        assert_eq!(r.status, 400, "{target}");
    }

    // Keep-alive: HEAD then GET on one connection.
    let mut conn = connect(addr);
    let r = exchange(&mut conn, b"HEAD /pub/sample/hello.txt HTTP/1.1\r\nHost: t\r\n\r\n", true);
    assert_eq!((r.status, r.header("content-length"), r.header("connection")), (200, Some("13"), Some("keep-alive")));
    let r = exchange(&mut conn, b"GET /pub/sample/hello.txt HTTP/1.1\r\nHost: t\r\n\r\n", false);
    assert_eq!(r.body, b"hello, world\n");

    let log = server.stop();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines[0], "httpd: serving /var/www on fd [7]");
    assert!(
        lines[1].starts_with("- - - [") && lines[1].ends_with("] \"GET /pub/sample/hello.txt HTTP/1.1\" 200 13"),
        "{log}"
    );
    assert!(
        lines.iter().any(|l| l.ends_with(&format!("\"GET /%2e%2e/lib/pulp/content/{sha_hello} HTTP/1.1\" 400 110"))),
        "{log}"
    );
    assert!(lines.iter().any(|l| l.ends_with("\"HEAD /pub/sample/hello.txt HTTP/1.1\" 200 -")), "{log}");
}

#[test]
fn httpd_without_the_content_volume_finds_dangling_links() {
    let (l, _) = mirrored();
    let server = Httpd::start(&l, false, &[]);
    let listing = get(server.addr, "/pub/sample/", "");
    assert!(String::from_utf8(listing.body).unwrap().contains("hello.txt"));
    assert_eq!(get(server.addr, "/pub/sample/hello.txt", "").status, 404);
    server.stop();
}

#[test]
fn httpd_answers_50_concurrent_clients_while_slow_ones_wait() {
    let (l, big) = mirrored();
    let server = Httpd::start(&l, true, &[]);
    let addr = server.addr;

    // A client that sent half a request head, and one that asked for 10 MiB and reads nothing.
    let mut half = connect(addr);
    half.get_mut().write_all(b"GET /pub/sample/hello.txt HTTP/1.1\r\nHo").unwrap();
    let mut stalled = connect(addr);
    stalled.get_mut().write_all(b"GET /pub/sample/big/blob.bin HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();

    let clients: Vec<_> = (0..50)
        .map(|i| {
            std::thread::spawn(move || {
                let target = if i % 10 == 0 { "/pub/sample/big/blob.bin" } else { "/pub/sample/hello.txt" };
                (target, get(addr, target, ""))
            })
        })
        .collect();
    for c in clients {
        let (target, r) = c.join().unwrap();
        assert_eq!(r.status, 200, "{target}");
        let want: &[u8] = if target.ends_with(".bin") { &big } else { b"hello, world\n" };
        assert!(r.body == want, "{target}: body differs");
    }

    // The slow ones were only waiting on themselves.
    let r = read_response(&mut stalled, false);
    assert!(r.status == 200 && r.body == big);
    let r = exchange(&mut half, b"st: t\r\n\r\n", false);
    assert_eq!((r.status, r.body.as_slice()), (200, b"hello, world\n".as_slice()));
    let log = server.stop();
    assert_eq!(log.lines().filter(|l| l.contains("\" 200 ")).count(), 52, "{log}");
}

#[test]
fn httpd_answers_garbage_huge_and_timed_out_requests_and_keeps_serving() {
    let (l, _) = mirrored();
    let server = Httpd::start(&l, true, &["--timeout", "1"]);
    let addr = server.addr;

    let r = exchange(&mut connect(addr), b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", false);
    assert_eq!((r.status, r.header("connection")), (400, Some("close")));
    let r = exchange(&mut connect(addr), b"hello there\r\n\r\n", false);
    assert_eq!(r.status, 400);
    let r = exchange(&mut connect(addr), b"GET / HTTP/1.1\r\n\r\n", false);
    assert_eq!(r.status, 400, "HTTP/1.1 without Host");
    let r = exchange(&mut connect(addr), b"DELETE /pub/sample/hello.txt HTTP/1.1\r\nHost: t\r\n\r\n", false);
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, HEAD")));

    // A 1 MiB request line: refused once it passes the limit, and the answer arrives intact
    // although the client is still sending.
    let mut huge = connect(addr);
    let line = format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(1 << 20));
    let r = exchange(&mut huge, line.as_bytes(), false);
    assert_eq!((r.status, r.header("connection")), (414, Some("close")));
    let mut rest = Vec::new();
    huge.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "nothing after the 414");

    // Half a head and then silence: answered 408 once the timeout passes.
    let mut slow = connect(addr);
    slow.get_mut().write_all(b"GET /pub/sample/hello.txt HTTP/1.1\r\n").unwrap();
    let r = read_response(&mut slow, false);
    assert_eq!((r.status, r.header("connection")), (408, Some("close")));

    assert_eq!(get(addr, "/pub/sample/hello.txt", "").status, 200, "still serving");
    let log = server.stop();
    for want in [
        "\"\\x16\\x03\\x01\\x00\\xa5\\x01\\x00\\x00\\xa1\\x03\\x03\" 400 ",
        "\"hello there\" 400 ",
        "\"DELETE /pub/sample/hello.txt HTTP/1.1\" 405 ",
        &format!("\"GET /{}...\" 414 ", "a".repeat(195)),
        "\"GET /pub/sample/hello.txt HTTP/1.1\" 408 ",
    ] {
        assert!(log.lines().any(|l| l.contains(want)), "no {want:?} in\n{log}");
    }
}

#[test]
fn httpd_out_of_descriptors_answers_every_client_and_recovers() {
    let (l, _) = mirrored();
    // 0-2 stdio, 3 the root, 4-6 the mounts, 7 the listener: three left for connections and files.
    let server = Httpd::start_with_fds(&l, true, &[], Some(11));
    let addr = server.addr;
    let clients: Vec<_> = (0..8).map(|_| std::thread::spawn(move || get(addr, "/pub/sample/hello.txt", ""))).collect();
    for c in clients {
        let r = c.join().unwrap();
        assert!(r.status == 200 && r.body == b"hello, world\n" || r.status == 500, "{r:?}");
    }
    assert_eq!(get(addr, "/pub/sample/hello.txt", "").status, 200, "serving again once descriptors are back");
    server.stop();
}

#[test]
fn httpd_without_a_listener_says_to_publish_a_port() {
    let l = Layout::new();
    let (out, err) = (common::Captured::default(), common::Captured::default());
    let stdio = Stdio { stdout: Box::new(out.clone()), stderr: Box::new(err.clone()), ..Stdio::default() };
    let host = WasiHost::builder(common::namespace(&l.root, &[])).arg("httpd").stdio(stdio).build().unwrap();
    let exit = common::runtime().run(&common::program(porthole_guests::HTTPD), host, &Limits::default()).unwrap();
    assert_eq!(exit, Exit::Code(1));
    assert_eq!(
        err.text(),
        "httpd: no listening socket was handed in (LISTEN_FD is not set); publish a port with -p, e.g. docker run -p 8080:80 ...\n"
    );
}
