//! The Pulp workload end to end, with the docker CLI and a real HTTP client: the images of
//! `examples/pulp` built, a data container, the worker mirroring a repository into its volumes,
//! the web server publishing them on a port — and `porthole demo` doing all of it.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::pulp::{build, examples};
use common::{Daemon, http_get, http_request};

fn build_all(d: &Daemon) {
    for (tag, dir) in [
        ("pulp-base", "base"),
        ("markllama/pulp-content", "content"),
        ("pulp-worker", "worker"),
        ("pulp-apache", "apache"),
    ] {
        build(d, tag, dir);
    }
}

/// A writable copy of the sample repository, standing in for the remote.
fn upstream() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("tools");
    for file in ["MANIFEST", "README.txt", "hello/hello-1.0.txt", "hello/hello-1.1.txt"] {
        let to = repo.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(examples().join("upstream/tools").join(file), to).unwrap();
    }
    dir
}

/// The host address `docker port` reports for the container's port 80.
fn web_addr(d: &Daemon, container: &str) -> String {
    d.ok(&["port", container, "80"]).lines().next().expect("a published port").to_string()
}

#[test]
fn the_worker_mirrors_and_the_web_server_publishes_through_the_links() {
    if !common::docker_available() {
        return;
    }
    let d = Daemon::start();
    build_all(&d);
    let up = upstream();
    let bind = format!("{}:/srv/upstream:ro", up.path().display());

    d.ok(&["create", "--name", "data", "markllama/pulp-content", "true"]);
    let sync = |name: &str| {
        d.ok(&["run", "--name", name, "--volumes-from", "data", "-v", &bind, "pulp-worker", "pulp-worker"])
    };
    let log = sync("sync1");
    assert!(log.contains("hello/hello-1.0.txt"), "{log}");
    d.ok(&["run", "-d", "--name", "web", "--volumes-from", "data", "-p", "127.0.0.1::80", "pulp-apache"]);
    let web = web_addr(&d, "web");

    // Through the link in /var/www into /var/lib/pulp: byte-identical to the source.
    for file in ["README.txt", "hello/hello-1.0.txt", "hello/hello-1.1.txt"] {
        let a = http_get(&web, &format!("/pub/tools/{file}"));
        assert_eq!(a.status, 200, "{file}");
        assert_eq!(a.body, std::fs::read(up.path().join("tools").join(file)).unwrap(), "{file}");
    }
    let a = http_get(&web, "/pub/tools/");
    assert_eq!(a.status, 200);
    assert!(common::text(&a.body).contains("hello"), "a directory listing: {}", common::text(&a.body));
    assert_eq!(http_get(&web, "/pub/tools/nothing-here").status, 404);
    let a = http_get(&web, "/pub/%2e%2e/%2e%2e/etc/passwd");
    assert!(a.status == 400 || a.status == 404, "{}", a.status);

    // Upstream changes: one file added, one dropped; a re-sync serves the one and 404s the other.
    let repo = up.path().join("tools");
    std::fs::write(repo.join("new.txt"), b"published later\n").unwrap();
    let manifest = std::fs::read_to_string(repo.join("MANIFEST")).unwrap();
    let manifest: String =
        manifest.lines().filter(|l| !l.ends_with("hello-1.1.txt")).map(|l| format!("{l}\n")).collect();
    let digest = sha256_hex(b"published later\n");
    std::fs::write(repo.join("MANIFEST"), format!("{manifest}{digest} 16 new.txt\n")).unwrap();
    sync("sync2");
    assert_eq!(http_get(&web, "/pub/tools/new.txt").body, b"published later\n");
    assert_eq!(http_get(&web, "/pub/tools/hello/hello-1.1.txt").status, 404);

    // 50 clients at once, all answered.
    let clients: Vec<_> = (0..50)
        .map(|_| {
            let web = web.clone();
            std::thread::spawn(move || http_get(&web, "/pub/tools/hello/hello-1.0.txt").status)
        })
        .collect();
    assert!(clients.into_iter().all(|c| c.join().unwrap() == 200));

    // The web server with only the www volume: the link dangles, so 404 — the post's point.
    let www = d.ok(&[
        "inspect",
        "--format",
        "{{range .Mounts}}{{if eq .Destination \"/var/www\"}}{{.Name}}{{end}}{{end}}",
        "data",
    ]);
    let www = format!("{}:/var/www", www.trim());
    d.ok(&["run", "-d", "--name", "lonely", "-v", &www, "-p", "127.0.0.1::80", "pulp-apache"]);
    let lonely = web_addr(&d, "lonely");
    assert_eq!(http_get(&lonely, "/pub/tools/hello/hello-1.0.txt").status, 404);
    assert_eq!(http_get(&web, "/pub/tools/hello/hello-1.0.txt").status, 200);

    // What the dashboard draws: the web server's walk through the link into the content
    // volume, and the lonely one's walk breaking where /var/lib/pulp is missing.
    let walks = |c: &str| -> serde_json::Value {
        serde_json::from_slice(&http_get(&d.addr, &format!("/porthole/containers/{c}/walks")).body).unwrap()
    };
    let served = walks("web");
    let hello = served
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|w| w["path"] == "/var/www/pub/tools/hello/hello-1.0.txt")
        .unwrap_or_else(|| panic!("{served}"));
    let steps = hello["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "{hello}");
    assert_eq!(steps[0]["mount"], "/var/www");
    assert!(steps[0]["target"].as_str().unwrap().starts_with("/var/lib/pulp/content/"), "{hello}");
    assert_eq!(steps[1]["mount"], "/var/lib/pulp");
    let broken = walks("lonely");
    let last = broken.as_array().unwrap().last().unwrap_or_else(|| panic!("{broken}"));
    assert_eq!((&last["error"], &last["broke"]["missing"]), (&serde_json::json!("ENOENT"), &serde_json::json!("lib")));

    // Stopped: the port is closed.
    d.ok(&["stop", "-t", "1", "web"]);
    assert!(http_request(&web, "GET", "/", &[]).is_err(), "the port still answers after stop");
    let access = d.ok(&["logs", "web"]);
    assert!(access.contains("\"GET /pub/tools/new.txt HTTP/1.1\" 200 16"), "common log format: {access}");
}

fn sha256_hex(bytes: &[u8]) -> String {
    let out = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            std::io::Write::write_all(c.stdin.as_mut().unwrap(), bytes)?;
            c.wait_with_output()
        })
        .unwrap();
    common::text(&out.stdout).split(' ').next().unwrap().to_string()
}

/// `porthole demo` on a fresh root: prints the mirrored file's URL, which serves the sample;
/// a second run on the same root reuses the images and containers and serves again.
#[test]
fn porthole_demo_serves_the_mirror_and_a_second_run_reuses_it() {
    let root = tempfile::tempdir().unwrap();
    let sample = std::fs::read(examples().join("upstream/tools/hello/hello-1.0.txt")).unwrap();
    for run in 0..2 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_porthole"))
            .args(["demo", "--listen", "127.0.0.1:0", "--web", "127.0.0.1:0", "--root"])
            .arg(root.path())
            .arg("--module-cache")
            .arg(common::module_cache())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut printed = String::new();
        let mut url = None;
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        for line in lines.by_ref() {
            let line = line.unwrap();
            printed.push_str(&line);
            printed.push('\n');
            if let Some(u) = line.trim().strip_prefix("a mirrored file: http://") {
                url = Some(u.trim().to_string());
                break;
            }
        }
        // Keep reading what it prints after, as a terminal would.
        let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
        let url = url.unwrap_or_else(|| panic!("no URL printed:\n{printed}"));
        if run == 1 {
            assert!(printed.contains("(image pulp-base exists)"), "{printed}");
            assert!(!printed.contains("docker create"), "{printed}");
        }
        let (addr, path) = url.split_once('/').unwrap();
        let a = http_get(addr, &format!("/{path}"));
        assert_eq!((a.status, a.body.as_slice()), (200, sample.as_slice()), "{printed}");
        let pid = rustix::process::Pid::from_child(&child);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        assert!(child.wait().unwrap().success());
        let rest = rest.join().unwrap();
        assert!(rest.iter().any(|l| l.contains("Press Ctrl-C to stop Porthole")), "{rest:?}");
    }
}
