//! Resource options through the stock docker CLI: Docker's memory minimum, the default memory
//! cap ending a runaway guest as OOMKilled, options Porthole cannot enforce refused by name, and
//! volume drivers that do not exist refused as Docker refuses them, and the size options as
//! disk quotas.

mod common;

use common::{Daemon, docker_available};

#[test]
fn memory_minimum_and_the_default_cap() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    let (code, err) = d.fails(&["run", "--memory", "1", "busybox", "true"]);
    assert_eq!(code, Some(125), "{err}");
    assert!(err.contains("Error response from daemon: Minimum memory limit allowed is 6MB"), "{err}");
    assert_eq!(d.ok(&["run", "--rm", "--memory", "6m", "busybox", "echo", "fits"]), "fits\n");

    // No --memory: the default cap ends a shell variable that doubles forever, as Docker's
    // OOM killer would (before, it took the controller to gigabytes).
    let out = d.docker(&["run", "--name", "doubler", "busybox", "sh", "-c", "x=y; while true; do x=$x$x; done"]);
    assert_eq!(out.status.code(), Some(137), "{}", common::text(&out.stderr));
    let state = d.ok(&["inspect", "--format", "{{.State.OOMKilled}} {{.State.ExitCode}}", "doubler"]);
    assert_eq!(state.trim(), "true 137");
}

#[test]
fn unenforceable_limits_are_refused_by_name() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    for (flags, name) in [
        (&["--cpus", "0.5"][..], "--cpus"),
        (&["--cpu-shares", "512"], "-c/--cpu-shares"),
        (&["--cpu-quota", "50000"], "--cpu-quota"),
    ] {
        let args: Vec<&str> = ["run", "--rm"].iter().chain(flags).chain(&["busybox", "true"]).copied().collect();
        let (code, err) = d.fails(&args);
        assert_eq!(code, Some(125), "{err}");
        assert!(err.contains(&format!("Error response from daemon: {name} is not supported by Porthole")), "{err}");
    }
    assert_eq!(d.ok(&["run", "--rm", "--pids-limit", "-1", "busybox", "echo", "unlimited"]), "unlimited\n");
}

#[test]
fn unknown_volume_drivers_are_not_found() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    let not_found = r#"error looking up volume plugin foo: plugin "foo" not found"#;
    let (_, err) = d.fails(&["volume", "create", "-d", "foo", "v"]);
    assert!(err.contains(not_found), "{err}");
    let (code, err) = d.fails(&["run", "--rm", "--volume-driver", "foo", "-v", "v:/v", "busybox", "true"]);
    assert_eq!(code, Some(125), "{err}");
    assert!(err.contains(not_found), "{err}");
    let (_, err) =
        d.fails(&["run", "--rm", "--mount", "type=volume,src=v,dst=/v,volume-driver=foo", "busybox", "true"]);
    assert!(err.contains(not_found), "{err}");
    assert!(d.ok(&["volume", "ls", "-q"]).is_empty(), "a refused driver created nothing");
    d.ok(&["volume", "create", "-d", "local", "fine"]);

    // Docker answers 404 for a missing plugin.
    let answer = d.http(&format!(
        "POST /v1.49/volumes/create HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 16\r\nConnection: close\r\n\r\n{{\"Driver\":\"foo\"}}",
        d.addr
    ));
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
}

#[test]
fn size_options_are_disk_quotas() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    d.ok(&["volume", "create", "--opt", "size=1m", "quota"]);
    assert_eq!(d.ok(&["volume", "inspect", "--format", "{{.Options.size}}", "quota"]), "1m\n");
    let out = d.docker(&["run", "--rm", "-v", "quota:/v", "busybox", "sh", "-c", "yes > /v/big"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(common::text(&out.stderr).contains("No space left on device"), "{}", common::text(&out.stderr));
    assert_eq!(d.ok(&["run", "--rm", "-v", "quota:/v", "busybox", "sh", "-c", "rm /v/big && echo room"]), "room\n");

    let out = d.docker(&["run", "--rm", "--storage-opt", "size=1m", "busybox", "sh", "-c", "yes > /big"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(common::text(&out.stderr).contains("No space left on device"), "{}", common::text(&out.stderr));

    let (_, err) = d.fails(&["volume", "create", "--opt", "size=lots", "bad"]);
    assert!(err.contains("invalid size: 'lots'"), "{err}");
    let (code, err) = d.fails(&["run", "--rm", "--storage-opt", "dm.basesize=1g", "busybox", "true"]);
    assert_eq!(code, Some(125), "{err}");
    assert!(err.contains("--storage-opt dm.basesize is not supported by Porthole"), "{err}");
}
