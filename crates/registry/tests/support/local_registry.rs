//! A real registry for tests: Debian's `docker-registry` (the CNCF distribution registry) on
//! a free loopback port, with its storage in a temporary directory, killed when dropped.
//! Shared by this crate's tests and the CLI's end-to-end test (`#[path]`-included there).

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

/// A running registry; killed when dropped.
pub struct LocalRegistry {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the registry, or `None` where it is not installed (never under CI: there the setup
/// script installs it and its absence is a failure).
pub fn start_registry() -> Option<LocalRegistry> {
    start(false)
}

/// The account of [`start_registry_with_login`]'s registry.
pub const USER: &str = "porthole";
pub const PASSWORD: &str = "porthole-test";
/// `PASSWORD` hashed with bcrypt, as `htpasswd -B` writes it (the registry takes no other).
const HTPASSWD: &str = "porthole:$2b$05$r/3G8/ObiGJSHJATXQ.X4uPX1SSfMPwG/SDoWzRjN/mR.OKdEKUQG";

/// A registry that asks for [`USER`] and [`PASSWORD`] (basic auth, from an htpasswd file).
pub fn start_registry_with_login() -> Option<LocalRegistry> {
    start(true)
}

fn start(login: bool) -> Option<LocalRegistry> {
    if !Path::new(REGISTRY_BIN).exists() {
        assert!(std::env::var_os("CI").is_none(), "{REGISTRY_BIN} is missing: run scripts/setup.sh");
        eprintln!("skipped: {REGISTRY_BIN} is not installed (scripts/setup.sh installs it)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("config.yml");
    let mut yaml = format!(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
        dir.path().join("data").display()
    );
    if login {
        let htpasswd = dir.path().join("htpasswd");
        std::fs::write(&htpasswd, format!("{HTPASSWD}\n")).unwrap();
        yaml.push_str(&format!("auth:\n  htpasswd:\n    realm: porthole-test\n    path: {}\n", htpasswd.display()));
    }
    std::fs::write(&config, yaml).unwrap();
    let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
    let child = Command::new(REGISTRY_BIN)
        .arg("serve")
        .arg(&config)
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("starting docker-registry");
    let registry = LocalRegistry { child, port, _dir: dir };
    // Readiness, not timing: wait until it accepts connections (a registry that never does
    // fails the test after a generous while).
    for _ in 0..300 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(registry);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("docker-registry did not listen on 127.0.0.1:{port}");
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
