//! End to end: `docker save` / `docker load` with the stock docker CLI between two Porthole
//! roots, podman loading an archive Porthole saved, and a hostile archive refused by name.
//!
//! Skipped (with a note) where no `docker` CLI is installed, but never under `CI`; the podman
//! case is skipped with a note where podman is missing (scripts/setup.sh installs it).

use std::path::Path;
use std::process::Command;

mod common;
use common::{Daemon, docker_available, text};

const DOCKERFILE: &str = "FROM busybox\nCOPY site /srv/site\n\
    RUN ln -s index.html /srv/site/home.html && ln /srv/site/index.html /srv/site/copy.html \
    && chmod 640 /srv/site/index.html\n\
    ENV GREETING=hello PATH=/usr/local/bin:/usr/bin:/bin\nVOLUME /data\nWORKDIR /srv\n\
    ENTRYPOINT [\"sh\", \"-c\"]\nCMD [\"ls -l site && cat site/home.html && echo $GREETING\"]\n";

fn build(d: &Daemon, tag: &str) {
    let ctx = tempfile::tempdir().unwrap();
    std::fs::create_dir(ctx.path().join("site")).unwrap();
    std::fs::write(ctx.path().join("site/index.html"), "<h1>saved</h1>\n").unwrap();
    std::fs::write(ctx.path().join("Dockerfile"), DOCKERFILE).unwrap();
    d.ok(&["build", "-q", "-t", tag, ctx.path().to_str().unwrap()]);
}

#[test]
fn docker_save_and_load_move_an_image_between_roots() {
    if !docker_available() {
        return;
    }
    let a = Daemon::start();
    build(&a, "site:1");
    let seen_in_a = a.ok(&["run", "--rm", "site:1"]);
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("site.tar");
    a.ok(&["save", "-o", archive.to_str().unwrap(), "site:1"]);
    let (_, err) = a.fails(&["save", "-o", dir.path().join("none.tar").to_str().unwrap(), "nosuch"]);
    assert!(err.contains("No such image: nosuch:latest"), "{err}");
    // The one-image route, as older clients call it.
    let one = common::http_get(&a.addr, "/v1.49/images/site:1/get");
    assert_eq!((one.status, one.header("content-type")), (200, Some("application/x-tar")));
    assert!(one.body.windows(10).any(|w| w == b"index.json"));

    let b = Daemon::start();
    let loaded = b.ok(&["load", "-i", archive.to_str().unwrap()]);
    assert_eq!(loaded.trim(), "Loaded image: site:1");
    assert_eq!(b.ok(&["run", "--rm", "site:1"]), seen_in_a);
    assert_eq!(
        b.ok(&["image", "inspect", "--format", "{{json .Config.Entrypoint}} {{json .Config.Volumes}}", "site:1"])
            .trim(),
        r#"["sh","-c"] {"/data":{}}"#
    );
    // `docker load` from standard input, quietly: the same line.
    let out = b.command(&["load", "-q"]).stdin(std::fs::File::open(&archive).unwrap()).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "Loaded image: site:1");
}

#[test]
fn a_hostile_archive_is_refused_by_name_and_loads_nothing() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    let images_before = d.ok(&["images", "-q", "--no-trunc"]);
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("hostile.tar");
    std::fs::write(&archive, hostile_archive()).unwrap();
    let (_, err) = d.fails(&["load", "-i", archive.to_str().unwrap()]);
    assert!(err.contains("archive entry \"../escape\" climbs out of its layer (..)"), "{err}");
    assert_eq!(d.ok(&["images", "-q", "--no-trunc"]), images_before);
    assert!(!dir.path().join("escape").exists());
}

/// Docker's legacy format, one image whose layer has a `../escape` entry.
fn hostile_archive() -> Vec<u8> {
    use sha2_free::hex_sha256;
    let mut layer = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_old();
    h.as_old_mut().name[..9].copy_from_slice(b"../escape");
    h.set_size(1);
    h.set_mode(0o644);
    h.set_cksum();
    layer.append(&h, &b"x"[..]).unwrap();
    let layer = layer.into_inner().unwrap();
    let config = format!(
        r#"{{"architecture":"wasm","os":"wasi","rootfs":{{"type":"layers","diff_ids":["sha256:{}"]}}}}"#,
        hex_sha256(&layer)
    );
    let manifest = r#"[{"Config":"c.json","RepoTags":["hostile:1"],"Layers":["l/layer.tar"]}]"#;
    let mut outer = tar::Builder::new(Vec::new());
    for (name, data) in [("manifest.json", manifest.as_bytes()), ("c.json", config.as_bytes()), ("l/layer.tar", &layer)]
    {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        outer.append_data(&mut h, name, data).unwrap();
    }
    outer.into_inner().unwrap()
}

/// SHA-256 by the system's `sha256sum` (the CLI tests need no hashing crate otherwise).
mod sha2_free {
    pub fn hex_sha256(bytes: &[u8]) -> String {
        use std::io::Write;
        let mut child = std::process::Command::new("sha256sum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(bytes).unwrap();
        let out = child.wait_with_output().unwrap();
        String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_string()
    }
}

/// Podman with storage and configuration of its own under `base` (the machine's
/// /etc/containers and its image store are never read or changed).
fn podman(base: &Path, args: &[&str]) -> std::process::Output {
    let conf = base.join("containers.conf");
    if !conf.exists() {
        std::fs::write(&conf, "[engine]\n").unwrap();
    }
    Command::new("podman")
        .env("CONTAINERS_CONF", &conf)
        .env("CONTAINERS_REGISTRIES_CONF", base.join("registries.conf"))
        .arg("--root")
        .arg(base.join("root"))
        .arg("--runroot")
        .arg(base.join("run"))
        .args(["--storage-driver", "vfs"])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn podman_loads_an_archive_porthole_saved_with_its_config_and_platform() {
    if !docker_available() {
        return;
    }
    if Command::new("podman").arg("--version").output().is_err() {
        eprintln!("skipping: podman is not installed (scripts/setup.sh installs it)");
        return;
    }
    let d = Daemon::start();
    build(&d, "site:1");
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("site.tar");
    d.ok(&["save", "-o", archive.to_str().unwrap(), "site:1"]);
    std::fs::write(dir.path().join("registries.conf"), "unqualified-search-registries = []\n").unwrap();
    let out = podman(dir.path(), &["load", "-i", archive.to_str().unwrap()]);
    assert!(out.status.success(), "podman load: {}{}", text(&out.stdout), text(&out.stderr));
    let loaded = text(&out.stdout);
    let name = loaded
        .lines()
        .find_map(|l| l.strip_prefix("Loaded image: ").or_else(|| l.strip_prefix("Loaded image(s): ")))
        .unwrap_or_else(|| panic!("podman load said: {loaded}"))
        .trim()
        .to_string();
    assert!(name.ends_with("site:1"), "{name}");
    let out = podman(
        dir.path(),
        &[
            "image",
            "inspect",
            "--format",
            "{{.Os}}/{{.Architecture}} {{json .Config.Entrypoint}} {{json .Config.Cmd}} {{json .Config.Volumes}} {{.Config.WorkingDir}}",
            &name,
        ],
    );
    assert!(out.status.success(), "podman image inspect: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        r#"wasi/wasm ["sh","-c"] ["ls -l site && cat site/home.html && echo $GREETING"] {"/data":{}} /srv"#
    );
    let env = text(&podman(dir.path(), &["image", "inspect", "--format", "{{json .Config.Env}}", &name]).stdout);
    assert_eq!(env.trim(), r#"["PATH=/usr/local/bin:/usr/bin:/bin","GREETING=hello"]"#);
}
