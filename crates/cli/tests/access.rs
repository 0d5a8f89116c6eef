//! Who may drive the controller and the limits it enforces on connections, end to end against
//! `porthole serve`: another local user is refused over loopback TCP, a reachable address needs
//! `--allow-remote` and a token, half-sent headers are cut off, the dashboard cannot be framed,
//! the state root is private, and a sparse build context is counted by what it would unpack to.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Daemon, text};

/// Set in the child this suite re-executes as another user: the address to send a request to.
const CONNECT_ENV: &str = "PORTHOLE_TEST_CONNECT_AS_OTHER_USER";

/// One HTTP/1.1 exchange over a fresh connection to `addr`.
fn exchange(addr: &str, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    text(&out)
}

fn get(path: &str, host: &str, extra: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n")
}

/// Not a test: the body of the child process `other_users_are_refused_over_loopback_tcp`
/// starts as uid 65534. It prints the controller's answer.
#[test]
fn child_connecting_as_another_user() {
    if let Ok(addr) = std::env::var(CONNECT_ENV) {
        print!("{}", exchange(&addr, &get("/_ping", &addr, "")));
    }
}

#[test]
fn other_users_are_refused_over_loopback_tcp() {
    let d = Daemon::start();
    let own = exchange(&d.addr, &get("/_ping", &d.addr, ""));
    assert!(own.starts_with("HTTP/1.1 200"), "{own}");

    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_connecting_as_another_user", "--nocapture", "--test-threads", "1"])
        .env(CONNECT_ENV, &d.addr)
        .current_dir("/")
        .uid(65534)
        .gid(65534)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output();
    let out = match child {
        Ok(out) => out,
        Err(e) => {
            // Only root can become another user; CI runs the tests as root.
            assert!(std::env::var_os("CI").is_none(), "cannot start a process as uid 65534: {e}");
            eprintln!("skipping: cannot start a process as uid 65534 here: {e}");
            return;
        }
    };
    let answer = text(&out.stdout);
    assert!(answer.contains("HTTP/1.1 403"), "{answer}\n{}", text(&out.stderr));
    let me = rustix::process::geteuid().as_raw();
    assert!(
        answer.contains(&format!(
            "refusing a connection from uid 65534: over TCP Porthole serves only the user it runs as (uid {me})"
        )),
        "{answer}"
    );
    // The controller's own user is still served.
    let again = exchange(&d.addr, &get("/containers/json", &d.addr, ""));
    assert!(again.starts_with("HTTP/1.1 200"), "{again}");
}

/// A non-loopback address of this machine, if it has one: connections to it are not loopback.
fn outward_address() -> Option<std::net::IpAddr> {
    // Connecting a UDP socket sends nothing; it only picks the source address of the route.
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    probe.connect("198.51.100.1:9").ok()?;
    Some(probe.local_addr().ok()?.ip()).filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
}

fn serve_fails(args: &[&str]) -> String {
    let root = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_porthole"))
        .arg("serve")
        .args(args)
        .arg("--root")
        .arg(root.path())
        .output()
        .unwrap();
    assert!(!out.status.success(), "porthole serve {args:?} started");
    text(&out.stderr)
}

#[test]
fn reachable_addresses_need_allow_remote_and_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    let token = "0123456789abcdef-porthole";
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let token_path = token_file.to_str().unwrap();

    let err = serve_fails(&["--listen", "0.0.0.0:0"]);
    assert!(err.contains("refusing to listen on 0.0.0.0:0, which other machines can reach"), "{err}");
    assert!(err.contains("--allow-remote --token-file FILE"), "{err}");
    let err = serve_fails(&["--listen", "0.0.0.0:0", "--token-file", token_path]);
    assert!(err.contains("refusing to listen on 0.0.0.0:0"), "{err}");
    let err = serve_fails(&["--listen", "0.0.0.0:0", "--allow-remote"]);
    assert!(err.contains("--token-file"), "{err}");
    let short = dir.path().join("short");
    std::fs::write(&short, "abc").unwrap();
    let err = serve_fails(&["--listen", "0.0.0.0:0", "--allow-remote", "--token-file", short.to_str().unwrap()]);
    assert!(err.contains("the token is 3 characters long; use at least 16"), "{err}");

    let d = Daemon::start_with(
        tempfile::tempdir().unwrap(),
        &["--listen", "0.0.0.0:0", "--allow-remote", "--token-file", token_path],
    );
    let port = d.addr.rsplit_once(':').unwrap().1;
    let loopback = format!("127.0.0.1:{port}");
    let bearer = |t: &str| format!("Authorization: Bearer {t}\r\n");
    // This user on loopback needs no token; a wrong one is refused all the same.
    let own = exchange(&loopback, &get("/_ping", &loopback, ""));
    assert!(own.starts_with("HTTP/1.1 200"), "{own}");
    let wrong = exchange(&loopback, &get("/_ping", &loopback, &bearer("0123456789abcdef-portholE")));
    assert!(wrong.starts_with("HTTP/1.1 403") && wrong.contains("refusing a request with a wrong token"), "{wrong}");

    let Some(ip) = outward_address() else {
        assert!(std::env::var_os("CI").is_none(), "no non-loopback address to test remote clients with");
        eprintln!("skipping the remote half: this machine has no non-loopback address");
        return;
    };
    let remote = std::net::SocketAddr::new(ip, port.parse().unwrap()).to_string();
    let bare = exchange(&remote, &get("/_ping", &remote, ""));
    assert!(bare.starts_with("HTTP/1.1 403") && bare.contains("without the token"), "{bare}");
    let wrong = exchange(&remote, &get("/_ping", &remote, &bearer("nope-nope-nope-nope")));
    assert!(wrong.starts_with("HTTP/1.1 403") && wrong.contains("wrong token"), "{wrong}");
    let right = exchange(&remote, &get("/containers/json", &remote, &bearer(token)));
    assert!(right.starts_with("HTTP/1.1 200"), "{right}");

    // The docker CLI sends it from config.json's HttpHeaders, as the README says.
    if !common::docker_available() {
        return;
    }
    let config = serde_json::json!({ "HttpHeaders": { "Authorization": format!("Bearer {token}") } });
    std::fs::write(d.docker_config.path().join("config.json"), config.to_string()).unwrap();
    let out = Command::new("docker")
        .args(["volume", "create", "from-afar"])
        .env("DOCKER_HOST", format!("tcp://{remote}"))
        .env("DOCKER_CONFIG", d.docker_config.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn a_client_that_sends_half_a_header_is_disconnected() {
    let d = Daemon::start_with(tempfile::tempdir().unwrap(), &["--listen", "127.0.0.1:0", "--header-timeout", "1"]);
    let mut s = TcpStream::connect(&d.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /_ping HTTP/1.1\r\nHost: localh").unwrap();
    let started = Instant::now();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(5), "closed after {took:?}");
    assert!(!text(&out).contains("200 OK"), "{}", text(&out));

    // An idle kept-alive connection is closed too; a streamed response is not cut off.
    let mut s = TcpStream::connect(&d.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(get("/_ping", &d.addr, "").replace("Connection: close\r\n", "").as_bytes()).unwrap();
    let started = Instant::now();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    assert!(text(&out).starts_with("HTTP/1.1 200"), "{}", text(&out));
    assert!(started.elapsed() < Duration::from_secs(5), "idle connection kept {:?}", started.elapsed());

    let mut events = TcpStream::connect(&d.addr).unwrap();
    events.write_all(get("/events", &d.addr, "").as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(exchange(&d.addr, &get("/_ping", &d.addr, "")).lines().next(), Some("HTTP/1.1 200 OK"));
    let create = "POST /volumes/create HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 17\r\nConnection: close\r\n\r\n{\"Name\": \"later\"}";
    assert!(exchange(&d.addr, create).starts_with("HTTP/1.1 201"));
    events.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = vec![0u8; 65536];
    let mut seen = String::new();
    while !seen.contains("\"later\"") {
        let n = events.read(&mut buf).expect("the event stream was cut off");
        assert!(n > 0, "the event stream was closed: {seen}");
        seen.push_str(&text(&buf[..n]));
    }
}

#[test]
fn dashboard_cannot_be_framed_and_the_root_is_private() {
    let parent = tempfile::tempdir().unwrap();
    let root = parent.path().join("fresh/root");
    let mut child = Command::new(env!("CARGO_BIN_EXE_porthole"))
        .args(["serve", "--listen", "127.0.0.1:0", "--module-cache"])
        .arg(common::module_cache())
        .arg("--root")
        .arg(&root)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    let mut stdout = child.stdout.take().unwrap();
    let mut byte = [0u8];
    while !first.ends_with('\n') && stdout.read(&mut byte).unwrap() == 1 {
        first.push(byte[0] as char);
    }
    let addr = first.strip_prefix("Porthole listening on http://").unwrap().split_once(' ').unwrap().0.to_string();
    for dir in ["", "volumes", "containers", "images", "module-cache"] {
        let mode = std::fs::metadata(root.join(dir)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", root.join(dir).display());
    }
    let page = exchange(&addr, &get("/", &addr, "")).to_ascii_lowercase();
    let _ = child.kill();
    let _ = child.wait();
    assert!(page.starts_with("http/1.1 200"), "{page}");
    for header in [
        "content-security-policy: frame-ancestors 'none'",
        "x-frame-options: deny",
        "x-content-type-options: nosniff",
        "referrer-policy: no-referrer",
    ] {
        assert!(page.contains(header), "{header} missing:\n{page}");
    }
}

/// A GNU sparse tar of a few KiB whose one file declares 2 GiB.
fn sparse_bomb() -> Vec<u8> {
    let real = 2u64 << 30;
    let mut header = tar::Header::new_gnu();
    header.set_path("big").unwrap();
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::GNUSparse);
    header.set_size(512);
    let gnu = header.as_gnu_mut().unwrap();
    gnu.set_real_size(real);
    gnu.sparse[0].set_offset(real - 512);
    gnu.sparse[0].set_length(512);
    header.set_cksum();
    let mut out = header.as_bytes().to_vec();
    out.extend_from_slice(&[b'x'; 512]);
    out.extend_from_slice(&[0u8; 1024]);
    out
}

#[test]
fn a_sparse_build_context_is_counted_by_what_it_would_unpack() {
    let d = Daemon::start();
    let bomb = sparse_bomb();
    assert!(bomb.len() < 3 * 1024);
    let mut request = format!(
        "POST /v1.49/build?t=bomb HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-tar\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        d.addr,
        bomb.len()
    )
    .into_bytes();
    request.extend_from_slice(&bomb);
    let mut s = TcpStream::connect(&d.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(&request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let answer = text(&out);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("build context is larger than 512 MiB"), "{answer}");
    let used: u64 = walk_sizes(d.root.path());
    assert!(used < 64 << 20, "the root holds {used} bytes after a refused context");
}

/// Bytes allocated on disk under `dir`.
fn walk_sizes(dir: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let m = e.metadata().unwrap();
            if m.is_dir() { walk_sizes(&e.path()) } else { m.blocks() * 512 }
        })
        .sum()
}
