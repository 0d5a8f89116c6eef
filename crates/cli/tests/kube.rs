//! `porthole kube` against a real controller: a generated manifest parses with the typed
//! Kubernetes structs and plays back on a fresh root into the same arrangement; `down` removes
//! the pod's containers and emptyDirs and keeps its claims; bad manifests change nothing; and
//! `examples/pulp/pod.yaml`, played, serves a mirrored file.

mod common;

use std::process::Output;
use std::time::{Duration, Instant};

use common::pulp::{build, examples};
use common::{Daemon, http_request, text};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};

fn kube(d: &Daemon, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_porthole"))
        .arg("kube")
        .args(args)
        .arg("--host")
        .arg(format!("tcp://{}", d.addr))
        .output()
        .unwrap()
}

fn kube_ok(d: &Daemon, args: &[&str]) -> Output {
    let out = kube(d, args);
    assert!(out.status.success(), "porthole kube {args:?}:\n{}{}", text(&out.stdout), text(&out.stderr));
    out
}

/// A loopback port nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn manifest_file(yaml: &str) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), yaml).unwrap();
    f
}

fn inspect(d: &Daemon, container: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&d.ok(&["inspect", container])).unwrap();
    v[0].clone()
}

/// `destination → (volume name or bind source, rw)` of a container's mounts.
fn mounts(c: &serde_json::Value) -> Vec<(String, String, bool)> {
    let mut m: Vec<_> = c["Mounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let source = if m["Type"] == "bind" { &m["Source"] } else { &m["Name"] };
            (m["Destination"].as_str().unwrap().to_string(), source.as_str().unwrap().to_string(), m["RW"] == true)
        })
        .collect();
    m.sort();
    m
}

#[test]
fn generate_then_play_on_a_fresh_root_gives_the_same_arrangement_and_down_keeps_claims() {
    if !common::docker_available() {
        return;
    }
    let host_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let yaml = {
        let d = Daemon::start();
        d.ok(&["volume", "create", "cache"]);
        d.ok(&["create", "--name", "data", "-v", "/data", "busybox", "true"]);
        let bind = format!("{}:/host:ro", host_dir.path().display());
        let publish = format!("127.0.0.1:{port}:80");
        d.ok(&[
            "create",
            "--name",
            "app",
            "--volumes-from",
            "data:ro",
            "-v",
            "cache:/cache",
            "-v",
            &bind,
            "-e",
            "GREETING=hello pod",
            "-w",
            "/cache",
            "-p",
            &publish,
            "busybox",
            "sleep",
            "600",
        ]);
        let out = kube_ok(&d, &["generate", "data", "app", "--name", "twin", "--runtime-class", "wasmedge"]);
        let warnings = text(&out.stderr);
        assert!(warnings.contains("becomes a hostPath volume"), "{warnings}");
        text(&out.stdout)
    };

    // The typed structs read it: a claim, then the pod.
    let docs: Vec<&str> = yaml.split("\n---\n").collect();
    assert_eq!(docs.len(), 2, "{yaml}");
    let claim: PersistentVolumeClaim = serde_yaml_ng::from_str(docs[0]).unwrap();
    assert_eq!(claim.metadata.name.as_deref(), Some("cache"));
    let pod: Pod = serde_yaml_ng::from_str(docs[1]).unwrap();
    let spec = pod.spec.as_ref().unwrap();
    assert_eq!(spec.runtime_class_name.as_deref(), Some("wasmedge"));
    let app = &spec.containers[1];
    assert_eq!((app.name.as_str(), app.image.as_deref()), ("app", Some("busybox")));
    assert_eq!(app.args.as_deref(), Some(&["sleep".to_string(), "600".into()][..]));

    // Played on a fresh root: the same sharing, modes, env, ports, working directory.
    let d = Daemon::start();
    let file = manifest_file(&yaml);
    let path = file.path().to_str().unwrap();
    let out = kube_ok(&d, &["play", path]);
    assert!(text(&out.stdout).contains("twin-app"), "{}", text(&out.stdout));
    let (data, app) = (inspect(&d, "twin-data"), inspect(&d, "twin-app"));
    assert_eq!(mounts(&data), [("/data".to_string(), "twin-data".to_string(), true)]);
    assert_eq!(
        mounts(&app),
        [
            ("/cache".to_string(), "cache".to_string(), true),
            ("/data".into(), "twin-data".into(), false),
            ("/host".into(), host_dir.path().display().to_string(), false),
        ]
    );
    assert!(app["Config"]["Env"].as_array().unwrap().contains(&"GREETING=hello pod".into()), "{app}");
    assert_eq!(app["Config"]["WorkingDir"], "/cache");
    assert_eq!(app["Config"]["Labels"]["io.kubernetes.pod.name"], "twin");
    assert_eq!(app["State"]["Status"], "running");
    assert_eq!(d.ok(&["port", "twin-app", "80"]).trim(), format!("127.0.0.1:{port}"));
    let twice = kube(&d, &["play", path]);
    assert!(text(&twice.stderr).contains("a container named twin-data exists already"), "{}", text(&twice.stderr));

    // Down: the containers and the emptyDir go, the claim stays; --force takes it too.
    let out = kube_ok(&d, &["down", path]);
    assert_eq!(text(&out.stdout), "Pod twin removed: 2 containers\n");
    assert_eq!(d.ok(&["ps", "-aq"]), "");
    assert_eq!(d.ok(&["volume", "ls", "-q"]), "cache\n");
    kube_ok(&d, &["down", "--force", path]);
    assert_eq!(d.ok(&["volume", "ls", "-q"]), "");
}

#[test]
fn bad_manifests_are_refused_and_change_nothing() {
    if !common::docker_available() {
        return;
    }
    let d = Daemon::start();
    let pod = |containers: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  restartPolicy: Never\n  volumes:\n  - name: scratch\n    emptyDir: {{}}\n  - name: keep\n    persistentVolumeClaim:\n      claimName: keep\n  containers:\n{containers}"
        )
    };
    let ok = "  - name: one\n    image: busybox\n    command: [sleep, '600']\n    volumeMounts: [{name: scratch, mountPath: /s}, {name: keep, mountPath: /k}]\n";
    let cases = [
        (pod(&format!("{ok}  - name: two\n    image: pulp-nowhere\n")), "container two: no such image: pulp-nowhere"),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n".to_string(),
            "kind \"Deployment\" is not supported by Porthole",
        ),
        (
            pod(&format!("{ok}    resources: {{limits: {{memory: 64Mi}}}}\n")),
            "field spec.containers[0].resources is not supported by Porthole",
        ),
    ];
    let out = kube(&d, &["generate", "nowhere"]);
    assert!(text(&out.stderr).contains("No such container: nowhere"), "{}", text(&out.stderr));
    for (yaml, expected) in cases {
        let file = manifest_file(&yaml);
        let out = kube(&d, &["play", file.path().to_str().unwrap()]);
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains(expected), "{}", text(&out.stderr));
        assert_eq!(d.ok(&["ps", "-aq"]), "", "{expected}");
        assert_eq!(d.ok(&["volume", "ls", "-q"]), "", "{expected}");
    }
}

/// A step that fails only when it is taken (a host port another process holds): what the play
/// had made by then is taken back.
#[test]
fn a_play_that_fails_midway_takes_back_what_it_made() {
    if !common::docker_available() {
        return;
    }
    let d = Daemon::start();
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let yaml = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: half}}\nspec:\n  restartPolicy: Never\n  volumes: [{{name: s, emptyDir: {{}}}}, {{name: c, persistentVolumeClaim: {{claimName: half-claim}}}}]\n  containers:\n  - {{name: one, image: busybox, command: [sleep, '600'], volumeMounts: [{{name: s, mountPath: /s}}, {{name: c, mountPath: /c}}]}}\n  - {{name: two, image: busybox, command: [sleep, '600'], ports: [{{containerPort: 80, hostPort: {port}, hostIP: 127.0.0.1}}]}}\n"
    );
    let file = manifest_file(&yaml);
    let out = kube(&d, &["play", file.path().to_str().unwrap()]);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("starting container half-two"), "{}", text(&out.stderr));
    assert_eq!(d.ok(&["ps", "-aq"]), "");
    assert_eq!(d.ok(&["volume", "ls", "-q"]), "");
    drop(held);
}

#[test]
fn the_pulp_pod_played_locally_serves_a_mirrored_file() {
    if !common::docker_available() {
        return;
    }
    let d = Daemon::start();
    for (tag, dir) in [("pulp-base", "base"), ("pulp-worker", "worker"), ("pulp-apache", "apache")] {
        build(&d, tag, dir);
    }
    // The manifest as shipped, but for the two host-specific values: where the sample
    // repository is, and which host port the server gets (8080 may be taken here).
    let upstream = tempfile::tempdir().unwrap();
    copy_tree(&examples().join("upstream"), upstream.path());
    let port = free_port();
    let shipped = std::fs::read_to_string(examples().join("pod.yaml")).unwrap();
    assert_eq!(shipped.matches("path: /tmp/pulp-upstream\n").count(), 1);
    assert_eq!(shipped.matches("hostPort: 8080\n").count(), 1);
    let yaml = shipped
        .replace("path: /tmp/pulp-upstream\n", &format!("path: {}\n", upstream.path().display()))
        .replace("hostPort: 8080\n", &format!("hostPort: {port}\n"));
    let file = manifest_file(&yaml);
    kube_ok(&d, &["play", file.path().to_str().unwrap()]);

    let sample = std::fs::read(examples().join("upstream/tools/hello/hello-1.0.txt")).unwrap();
    let addr = format!("127.0.0.1:{port}");
    // The worker mirrors right after it starts; asked again until it has.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let a = http_request(&addr, "GET", "/pub/tools/hello/hello-1.0.txt", &[]).unwrap();
        if a.status == 200 {
            assert_eq!(a.body, sample);
            break;
        }
        assert!(Instant::now() < deadline, "never served: {} {}", a.status, text(&a.body));
        std::thread::sleep(Duration::from_millis(200));
    }
    let web = inspect(&d, "pulp-apache");
    assert_eq!(web["Config"]["Labels"]["io.kubernetes.pod.name"], "pulp");

    kube_ok(&d, &["down", file.path().to_str().unwrap()]);
    assert_eq!(d.ok(&["ps", "-aq"]), "");
    assert_eq!(d.ok(&["volume", "ls", "-q"]), "");
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
