//! Debian's docker-compose (1.29, which drives the engine through the Python Docker SDK) runs
//! `examples/pulp/compose.yaml` against a real `porthole serve`: up, ps, the mirrored file
//! served through the published port, and `down -v` removing what it made (the containers,
//! their anonymous volumes and the project's network, a record only).
//!
//! Skipped (with a note) where docker-compose or the docker CLI is missing, but never under `CI`.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::pulp::{build, examples};
use common::{Daemon, http_get, http_request, text};

fn compose_available() -> bool {
    let found = Command::new("docker-compose").arg("version").output().is_ok_and(|o| o.status.success());
    assert!(found || std::env::var_os("CI").is_none(), "docker-compose is missing; scripts/setup.sh installs it");
    if !found {
        eprintln!("skipping: no docker-compose on this machine (scripts/setup.sh installs it)");
    }
    found
}

/// `docker-compose -p pulp ARGS` in `project` against the daemon.
fn compose(d: &Daemon, project: &Path, args: &[&str]) -> Output {
    Command::new("docker-compose")
        .arg("-p")
        .arg("pulp")
        .args(args)
        .current_dir(project)
        .env("DOCKER_HOST", format!("tcp://{}", d.addr))
        .env("DOCKER_CONFIG", d.docker_config.path())
        .env("COMPOSE_INTERACTIVE_NO_CLI", "1")
        .env_remove("DOCKER_CONTEXT")
        .env_remove("DOCKER_TLS_VERIFY")
        .env_remove("DOCKER_CERT_PATH")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn compose_ok(d: &Daemon, project: &Path, args: &[&str]) -> String {
    let out = compose(d, project, args);
    assert!(out.status.success(), "docker-compose {args:?} failed:\n{}{}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout) + &text(&out.stderr)
}

/// A copy of the example project: the compose file with a free port for 8080, and the upstream
/// repository beside it.
fn project(port: u16) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let file = std::fs::read_to_string(examples().join("compose.yaml")).unwrap();
    assert!(file.contains("127.0.0.1:8080:80"), "the example publishes 8080");
    std::fs::write(dir.path().join("compose.yaml"), file.replace("127.0.0.1:8080:80", &format!("127.0.0.1:{port}:80")))
        .unwrap();
    for file in ["MANIFEST", "README.txt", "hello/hello-1.0.txt", "hello/hello-1.1.txt"] {
        let to = dir.path().join("upstream/tools").join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(examples().join("upstream/tools").join(file), to).unwrap();
    }
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn docker_compose_runs_the_pulp_example_and_down_removes_it() {
    if !common::docker_available() || !compose_available() {
        return;
    }
    let d = Daemon::start();
    for (tag, dir) in [
        ("pulp-base", "base"),
        ("markllama/pulp-content", "content"),
        ("pulp-worker", "worker"),
        ("pulp-apache", "apache"),
    ] {
        build(&d, tag, dir);
    }
    let port = free_port();
    let project = project(port);
    let dir = project.path();
    compose_ok(&d, dir, &["up", "-d"]);

    // The worker mirrors on its first pass; until then the web server answers 404.
    let web = format!("127.0.0.1:{port}");
    let want = std::fs::read(dir.join("upstream/tools/README.txt")).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let a = http_get(&web, "/pub/tools/README.txt");
        if a.status == 200 {
            assert_eq!(a.body, want);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never served: {} {}", a.status, text(&a.body));
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    let ps = compose_ok(&d, dir, &["ps"]);
    for name in ["pulp_content_1", "pulp_worker_1", "pulp_web_1"] {
        assert!(ps.contains(name), "{ps}");
    }
    assert!(ps.contains(&format!("127.0.0.1:{port}->80/tcp")), "{ps}");
    let on_net = d.ok(&["network", "inspect", "--format", "{{len .Containers}}", "pulp_default"]);
    assert_eq!(on_net.trim(), "3");
    let volumes = d.ok(&["volume", "ls", "-q"]);
    assert_eq!(volumes.lines().count(), 2, "the content image's two volumes: {volumes}");
    // Up again: nothing changed, so nothing is recreated (compose finds each container already
    // on the network, by the short-id alias Docker gives).
    let again = compose_ok(&d, dir, &["up", "-d"]);
    assert!(!again.contains("Recreating"), "{again}");

    compose_ok(&d, dir, &["down", "-v"]);
    assert_eq!(d.ok(&["ps", "-aq"]), "");
    assert_eq!(d.ok(&["volume", "ls", "-q"]), "");
    let networks = d.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert_eq!(networks, "bridge\nhost\nnone\n");
    assert!(http_request(&web, "GET", "/", &[]).is_err(), "the port still answers after down");
}
