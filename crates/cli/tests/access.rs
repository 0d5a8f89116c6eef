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

/// Set in the child this suite re-executes as another user, or in another network namespace:
/// the address to send a request to, and an extra header line to send with it.
const CONNECT_ENV: &str = "PORTHOLE_TEST_CONNECT_AS_OTHER_USER";
const HEADER_ENV: &str = "PORTHOLE_TEST_CONNECT_HEADER";

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

/// Not a test: the body of the child process that `other_users_are_refused_over_loopback_tcp`
/// starts as uid 65534, and that the remote test starts in another network namespace. It
/// prints the controller's answer.
#[test]
fn child_connecting_as_another_user() {
    if let Ok(addr) = std::env::var(CONNECT_ENV) {
        let header = std::env::var(HEADER_ENV).map(|h| format!("{h}\r\n")).unwrap_or_default();
        print!("{}", exchange(&addr, &get("/_ping", &addr, &header)));
    }
}

/// Two network namespaces joined by a veth pair, made by this test and removed after it: a
/// server host and a client host, so that remote access is tried between the project's own
/// test hosts and no packet is sent to any address but theirs. `None` where they cannot be
/// made (not root, no `ip`).
struct TestHosts {
    server: String,
    client: String,
    server_ip: String,
}

impl TestHosts {
    fn new() -> Option<Self> {
        let id = std::process::id();
        let hosts = TestHosts {
            server: format!("porthole-srv-{id}"),
            client: format!("porthole-cli-{id}"),
            server_ip: "10.231.0.1".into(),
        };
        let (veth_s, veth_c) = (format!("phs{id}"), format!("phc{id}"));
        let steps: Vec<Vec<&str>> = vec![
            vec!["netns", "add", &hosts.server],
            vec!["netns", "add", &hosts.client],
            vec!["link", "add", &veth_s, "type", "veth", "peer", "name", &veth_c],
            vec!["link", "set", &veth_s, "netns", &hosts.server],
            vec!["link", "set", &veth_c, "netns", &hosts.client],
            vec!["-n", &hosts.server, "addr", "add", "10.231.0.1/30", "dev", &veth_s],
            vec!["-n", &hosts.client, "addr", "add", "10.231.0.2/30", "dev", &veth_c],
            vec!["-n", &hosts.server, "link", "set", &veth_s, "up"],
            vec!["-n", &hosts.client, "link", "set", &veth_c, "up"],
            vec!["-n", &hosts.server, "link", "set", "lo", "up"],
            vec!["-n", &hosts.client, "link", "set", "lo", "up"],
        ];
        for step in steps {
            let ok = Command::new("ip").args(&step).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
            if !ok {
                return None; // Drop removes what was made.
            }
        }
        Some(hosts)
    }

    /// `program` run in the namespace `netns`.
    fn command(netns: &str, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", netns, program]);
        c
    }

    /// This test binary's `child_connecting_as_another_user`, run in the client host.
    fn request_from_client(&self, addr: &str, header: &str) -> String {
        let exe = std::env::current_exe().unwrap();
        let out = Self::command(&self.client, exe.to_str().unwrap())
            .args(["--exact", "child_connecting_as_another_user", "--nocapture", "--test-threads", "1"])
            .env(CONNECT_ENV, addr)
            .env(HEADER_ENV, header)
            .output()
            .unwrap();
        from_status_line(&text(&out.stdout))
    }
}

/// The HTTP response in a child's output (the test harness prints its own lines first).
fn from_status_line(out: &str) -> String {
    out.find("HTTP/1.1 ").map(|i| out[i..].to_string()).unwrap_or_else(|| out.to_string())
}

impl Drop for TestHosts {
    fn drop(&mut self) {
        for ns in [&self.server, &self.client] {
            let _ = Command::new("ip").args(["netns", "del", ns]).stderr(Stdio::null()).status();
        }
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

/// `porthole serve ARGS` must refuse to start; gives what it said.
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

    // The server on a host of its own, reached from another one.
    let Some(hosts) = TestHosts::new() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "cannot make network namespaces for the remote half (CI runs as root)"
        );
        eprintln!("skipping the remote half: no network namespaces here (needs root and ip)");
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let mut server = TestHosts::command(&hosts.server, env!("CARGO_BIN_EXE_porthole"))
        .args(["serve", "--listen", "0.0.0.0:0", "--allow-remote", "--token-file", token_path, "--root"])
        .arg(root.path())
        .arg("--module-cache")
        .arg(common::module_cache())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(server.stdout.take().unwrap()));
    let first = lines.next().unwrap().unwrap();
    let port = first
        .split("http://")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|a| a.rsplit_once(':'))
        .unwrap()
        .1
        .to_string();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    let remote = format!("{}:{port}", hosts.server_ip);
    let bearer = |t: &str| format!("Authorization: Bearer {t}");

    let bare = hosts.request_from_client(&remote, "");
    assert!(bare.starts_with("HTTP/1.1 403") && bare.contains("without the token"), "{bare}");
    let wrong = hosts.request_from_client(&remote, &bearer("nope-nope-nope-nope"));
    assert!(wrong.starts_with("HTTP/1.1 403") && wrong.contains("wrong token"), "{wrong}");
    let right = hosts.request_from_client(&remote, &bearer(token));
    assert!(right.starts_with("HTTP/1.1 200"), "{right}");
    // This user on the server's own loopback needs no token; a wrong one is refused all the same.
    let loopback = format!("127.0.0.1:{port}");
    let exe = std::env::current_exe().unwrap();
    let on_server = |header: &str| {
        let out = TestHosts::command(&hosts.server, exe.to_str().unwrap())
            .args(["--exact", "child_connecting_as_another_user", "--nocapture", "--test-threads", "1"])
            .env(CONNECT_ENV, &loopback)
            .env(HEADER_ENV, header)
            .output()
            .unwrap();
        from_status_line(&text(&out.stdout))
    };
    let own = on_server("");
    assert!(own.starts_with("HTTP/1.1 200"), "{own}");
    let wrong = on_server(&bearer("0123456789abcdef-portholE"));
    assert!(wrong.starts_with("HTTP/1.1 403") && wrong.contains("refusing a request with a wrong token"), "{wrong}");

    // The docker CLI sends the token from config.json's HttpHeaders, as the README says.
    if common::docker_available() {
        let config_dir = tempfile::tempdir().unwrap();
        let config =
            serde_json::json!({ "HttpHeaders": { "Authorization": bearer(token).replace("Authorization: ", "") } });
        std::fs::write(config_dir.path().join("config.json"), config.to_string()).unwrap();
        let out = TestHosts::command(&hosts.client, "docker")
            .args(["volume", "create", "from-afar"])
            .env("DOCKER_HOST", format!("tcp://{remote}"))
            .env("DOCKER_CONFIG", config_dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let _ = server.kill();
    let _ = server.wait();
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

/// Bytes allocated on disk under `dir`, each file once however many hard links it has (the
/// base image links its programs under every applet name), as `du` counts.
fn walk_sizes(dir: &std::path::Path) -> u64 {
    fn walk(dir: &std::path::Path, seen: &mut std::collections::HashSet<(u64, u64)>) -> u64 {
        use std::os::unix::fs::MetadataExt;
        let mut total = 0;
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let m = e.metadata().unwrap();
            total += if m.is_dir() {
                walk(&e.path(), seen)
            } else if seen.insert((m.dev(), m.ino())) {
                m.blocks() * 512
            } else {
                0
            };
        }
        total
    }
    walk(dir, &mut std::collections::HashSet::new())
}
