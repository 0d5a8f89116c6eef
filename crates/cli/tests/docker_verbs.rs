//! End to end with the docker CLI: the verbs beyond the lifecycle (`system df`, `rename`,
//! `image prune`, `top`, `network ls`) and the refusal, by name, of those Porthole lacks.
//!
//! Skipped (with a note) where no `docker` CLI is installed, but never under `CI`.

mod common;
use common::{Daemon, docker_available};

/// Verbs Porthole lacks answer with the command's name, never a bare `page not found`.
#[test]
fn unsupported_verbs_are_refused_by_name() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    d.ok(&["create", "--name", "cc", "busybox", "true"]);
    for (args, command) in [
        (&["diff", "cc"][..], "docker diff"),
        (&["commit", "cc"], "docker commit"),
        (&["pause", "cc"], "docker pause"),
        (&["unpause", "cc"], "docker unpause"),
        (&["export", "cc"], "docker export"),
        (&["history", "busybox"], "docker history"),
        (&["save", "busybox"], "docker save"),
        (&["update", "--cpus", "1", "cc"], "docker update"),
        (&["network", "create", "n"], "docker network create"),
        (&["swarm", "init"], "docker swarm init"),
        (&["plugin", "ls"], "docker plugin ls"),
    ] {
        let (_, stderr) = d.fails(args);
        assert!(
            stderr.contains(&format!("Error response from daemon: {command} is not supported by Porthole")),
            "docker {args:?}: {stderr}"
        );
    }
    // `docker load` reads a tar from stdin; the refusal comes before anything is loaded.
    let mut load = d.command(&["load"]);
    let out = load.stdin(std::process::Stdio::piped()).output().unwrap();
    assert!(
        common::text(&out.stderr).contains("docker load is not supported by Porthole"),
        "{}",
        common::text(&out.stderr)
    );
    // Unknown operations under Docker's API name the request itself.
    let odd = common::http_request(&d.addr, "POST", "/v1.49/containers/c/frobnicate", &["Content-Length: 0"]).unwrap();
    assert_eq!(odd.status, 501);
    assert_eq!(common::text(&odd.body), r#"{"message":"POST /containers/c/frobnicate is not supported by Porthole"}"#);
}

/// Docker's default networks are listed as records that say they give no connectivity.
#[test]
fn networks_are_records_of_the_defaults() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    let ls = d.ok(&["network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}"]);
    assert_eq!(ls, "bridge bridge local\nhost host local\nnone null local\n");
    assert_eq!(d.ok(&["network", "ls", "-q", "--filter", "name=none"]).trim(), "c91b590418c7");
    let note = d.ok(&["network", "inspect", "--format", "{{index .Labels \"io.porthole.note\"}}", "bridge"]);
    assert_eq!(note.trim(), "Porthole guests have no network: this network gives no connectivity");
    let (_, missing) = d.fails(&["network", "inspect", "nosuch"]);
    assert!(missing.contains("network nosuch not found"), "{missing}");
    let (_, connect) = d.fails(&["network", "connect", "bridge", "nosuch"]);
    assert!(connect.contains("docker network connect is not supported by Porthole"), "{connect}");
}
