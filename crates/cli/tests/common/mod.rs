//! The harness shared by the end-to-end tests: a real `porthole serve` on a temporary root
//! and a free port, and the stock docker CLI pointed at it.

#![allow(dead_code)]

pub mod pulp;
pub mod terminal;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// A running `porthole serve`, stopped with SIGTERM when dropped.
pub struct Daemon {
    pub child: Child,
    pub addr: String,
    pub root: tempfile::TempDir,
    pub docker_config: tempfile::TempDir,
}

pub fn docker_available() -> bool {
    let found = Command::new("docker").arg("--version").output().is_ok_and(|o| o.status.success());
    // CI installs the CLI (scripts/setup.sh); there a missing one is a failure, not a skip.
    assert!(found || std::env::var_os("CI").is_none(), "the docker CLI is missing; scripts/setup.sh installs it");
    if !found {
        eprintln!("skipping: no docker CLI on this machine (scripts/setup.sh installs it)");
    }
    found
}

/// Compiled guests are shared by every test's daemon, so each guest is compiled once.
pub fn module_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("porthole-module-cache")
}

impl Daemon {
    pub fn start() -> Daemon {
        let root = tempfile::tempdir().unwrap();
        Self::start_on(root)
    }

    pub fn start_on(root: tempfile::TempDir) -> Daemon {
        Self::start_with(root, &["--listen", "127.0.0.1:0"])
    }

    /// `porthole serve ARGS` on `root` (ARGS must include `--listen`).
    pub fn start_with(root: tempfile::TempDir, args: &[&str]) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_porthole"))
            .arg("serve")
            .args(args)
            .arg("--root")
            .arg(root.path())
            .arg("--module-cache")
            .arg(module_cache())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("porthole printed nothing").unwrap();
        let addr = first
            .strip_prefix("Porthole listening on http://")
            .and_then(|rest| rest.split_once(' '))
            .map(|(addr, _)| addr.to_string())
            .unwrap_or_else(|| panic!("unexpected first line: {first}"));
        assert!(first.ends_with("porthole.sock"), "{first}");
        assert_eq!(lines.next().unwrap().unwrap(), "ready");
        Daemon { child, addr, root, docker_config: tempfile::tempdir().unwrap() }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("docker");
        c.args(args)
            .env("DOCKER_HOST", format!("tcp://{}", self.addr))
            .env("DOCKER_BUILDKIT", "0")
            .env("DOCKER_CONFIG", self.docker_config.path())
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH")
            .stdin(Stdio::null());
        c
    }

    pub fn docker(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs docker and requires success; gives stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(
            out.status.success(),
            "docker {args:?} failed ({}):\n{}{}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Builds `tag`: `FROM busybox`, the guest at `wasm` copied to `/bin/NAME`, then `rest`
    /// (more Dockerfile lines).
    pub fn build_guest_image(&self, tag: &str, wasm: &str, name: &str, rest: &str) {
        let context = tempfile::tempdir().unwrap();
        std::fs::copy(wasm, context.path().join("guest.wasm")).unwrap();
        let dockerfile = format!("FROM busybox\nCOPY guest.wasm /bin/{name}\n{rest}");
        std::fs::write(context.path().join("Dockerfile"), dockerfile).unwrap();
        self.ok(&["build", "-q", "-t", tag, context.path().to_str().unwrap()]);
    }

    /// Runs docker and requires failure; gives stderr.
    pub fn fails(&self, args: &[&str]) -> (Option<i32>, String) {
        let out = self.docker(args);
        assert!(!out.status.success(), "docker {args:?} succeeded:\n{}", text(&out.stdout));
        (out.status.code(), text(&out.stderr))
    }

    /// `docker events --since 0 --until 0s FILTERS --format {{.Action}}`, asked again (up to
    /// 30 s) until `done` holds: events reach the history a moment after what caused them.
    pub fn actions_until(&self, filters: &[&str], done: impl Fn(&str) -> bool) -> String {
        let mut args = vec!["events", "--since", "0", "--until", "0s", "--format", "{{.Action}}"];
        args.extend_from_slice(filters);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let actions = self.ok(&args);
            if done(&actions) {
                return actions;
            }
            assert!(Instant::now() < deadline, "events never got there: {actions}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Raw HTTP/1.1 exchange with the daemon (for what the CLI never sends).
    pub fn http(&self, request: &str) -> String {
        let mut s = std::net::TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }
}

impl Daemon {
    /// SIGTERM, as a service manager would; gives how it exited.
    pub fn terminate(&mut self) -> Option<ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        let pid = rustix::process::Pid::from_child(&self.child);
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }

    /// SIGKILL, as a crash would (nothing is flushed or saved); hands back its root, for a
    /// restart on the same state.
    pub fn kill(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self.root, tempfile::tempdir().unwrap())
    }

    /// Stops the daemon and hands back its root, for a restart on the same state.
    pub fn stop(mut self) -> (Option<ExitStatus>, tempfile::TempDir) {
        let status = self.terminate();
        let root = std::mem::replace(&mut self.root, tempfile::tempdir().unwrap());
        (status, root)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.terminate();
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// An HTTP/1.1 answer: status, headers (lower-case names) and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// One request (`Connection: close`, so the body is everything after the head), as a real
/// client sends it; `extra` holds more header lines.
pub fn http_request(addr: &str, method: &str, path: &str, extra: &[&str]) -> std::io::Result<Answer> {
    let mut conn = std::net::TcpStream::connect(addr)?;
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for line in extra {
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes())?;
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw)?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| std::io::Error::other("no head"))?;
    let head = text(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(Answer { status, headers, body: raw[split + 4..].to_vec() })
}

pub fn http_get(addr: &str, path: &str) -> Answer {
    http_request(addr, "GET", path, &[]).unwrap_or_else(|e| panic!("GET http://{addr}{path}: {e}"))
}
