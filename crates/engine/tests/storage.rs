//! Docker's storage rules through the engine, with real guests (the busybox toolbox) on real
//! directories: copy-up and when it does not happen, named volume reuse, `--volumes-from`
//! (ro, rw, chains, precedence), `rm -v`, `--rm`, prune, `volume rm` of a volume in use,
//! restart, nested mounts, symlinked VOLUME paths.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use porthole_core::mounts::{MountRequests, parse_mount_flag};
use porthole_engine::{BuildOptions, CreateOptions, Engine, LogOptions, RemoveOptions, VolumeFilters, WaitCondition};

struct Env {
    _tmp: tempfile::TempDir,
    engine: Engine,
    base: PathBuf,
}

fn engine() -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let engine = common::open_engine(tmp.path(), None);
    let base = tmp.path().to_path_buf();
    Env { _tmp: tmp, engine, base }
}

impl Env {
    /// Builds `tag` from a Dockerfile (and optional context files).
    fn build(&self, tag: &str, dockerfile: &str, files: &[(&str, &str)]) -> String {
        let ctx = self.base.join(format!("ctx-{}", tag.replace([':', '/'], "-")));
        fs::create_dir_all(&ctx).unwrap();
        fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
        for (p, content) in files {
            let path = ctx.join(p);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, content).unwrap();
        }
        let mut log = String::new();
        let out = self
            .engine
            .build(
                BuildOptions { context: ctx, dockerfile: None, tags: vec![tag.into()], ..Default::default() },
                &mut |s| log.push_str(s),
            )
            .unwrap_or_else(|e| panic!("build failed: {e}\n{log}"));
        out.image_id
    }

    /// `docker run` (not detached): create, start, wait; returns exit code and output.
    fn run(&self, opts: CreateOptions) -> (i32, String, String) {
        let id = self.engine.create(opts).unwrap();
        self.engine.start(id.as_str()).unwrap();
        let code = self.engine.wait(id.as_str(), WaitCondition::NotRunning).unwrap();
        let lines = self.engine.logs(id.as_str(), LogOptions::default()).unwrap().past;
        (code, lines.map(|l| l.unwrap().log).collect(), id.to_string())
    }

    fn sh(&self, image: &str, script: &str, mounts: MountRequests) -> (i32, String, String) {
        self.run(CreateOptions {
            image: image.into(),
            cmd: Some(vec!["sh".into(), "-c".into(), script.into()]),
            mounts,
            ..Default::default()
        })
    }

    fn mounts_of(&self, id: &str) -> BTreeMap<String, (String, PathBuf)> {
        let info = self.engine.inspect(id).unwrap();
        info.record
            .mounts
            .iter()
            .zip(info.sources)
            .map(|(m, s)| (m.destination.to_string(), (m.volume().unwrap_or_default().to_string(), s)))
            .collect()
    }
}

fn binds(v: &[&str]) -> MountRequests {
    MountRequests { binds: v.iter().map(|s| s.to_string()).collect(), ..Default::default() }
}

fn from(v: &[&str]) -> MountRequests {
    MountRequests { volumes_from: v.iter().map(|s| s.to_string()).collect(), ..Default::default() }
}

const PULP: &str = "FROM busybox\nRUN mkdir -p /var/lib/pulp/content /var/www/pub && echo seed > /var/lib/pulp/content/seed.txt\nVOLUME /var/lib/pulp /var/www\n";

#[test]
fn image_volume_gets_an_anonymous_volume_filled_by_copy_up() {
    let e = engine();
    e.build("pulp-content", PULP, &[]);
    let (code, _, id) = e.sh("pulp-content", "true", MountRequests::default());
    assert_eq!(code, 0);
    let mounts = e.mounts_of(&id);
    let (pulp_vol, pulp_dir) = &mounts["/var/lib/pulp"];
    assert_eq!(pulp_vol.len(), 64, "anonymous volumes have 64-hex names");
    assert_eq!(fs::read_to_string(pulp_dir.join("content/seed.txt")).unwrap(), "seed\n");
    assert!(mounts["/var/www"].1.join("pub").is_dir());
    let info = e.engine.volume_inspect(pulp_vol).unwrap();
    assert!(info.record.is_anonymous());
    assert_eq!(info.users.len(), 1);
}

#[test]
fn copy_up_skips_non_empty_named_volumes_nocopy_and_binds() {
    let e = engine();
    e.build("pulp-content", PULP, &[]);
    // A named volume that already has files keeps them.
    e.engine.volume_create(Some("pulp"), BTreeMap::new(), BTreeMap::new()).unwrap();
    let pulp_dir = e.engine.volume_inspect("pulp").unwrap().mountpoint;
    fs::write(pulp_dir.join("mine.txt"), "mine").unwrap();
    e.sh("pulp-content", "true", binds(&["pulp:/var/lib/pulp"]));
    assert!(!pulp_dir.join("content").exists());
    // An empty named volume is filled.
    let (_, _, id) = e.sh("pulp-content", "true", binds(&["fresh:/var/lib/pulp"]));
    assert!(e.mounts_of(&id)["/var/lib/pulp"].1.join("content/seed.txt").exists());
    // nocopy leaves it empty.
    let (_, _, id) = e.sh("pulp-content", "true", binds(&["empty:/var/lib/pulp:nocopy"]));
    assert!(fs::read_dir(&e.mounts_of(&id)["/var/lib/pulp"].1).unwrap().next().is_none());
    // A bind is never filled.
    let host = e.base.join("bind");
    let (_, _, _) = e.sh("pulp-content", "true", binds(&[&format!("{}:/var/lib/pulp", host.display())]));
    assert!(host.is_dir() && fs::read_dir(&host).unwrap().next().is_none());
    // --mount with volume-nocopy too.
    let m = MountRequests {
        mounts: vec![parse_mount_flag("src=viamount,dst=/var/lib/pulp,volume-nocopy").unwrap()],
        ..Default::default()
    };
    e.sh("pulp-content", "true", m);
    assert!(fs::read_dir(e.engine.volume_inspect("viamount").unwrap().mountpoint).unwrap().next().is_none());
}

#[test]
fn volumes_from_shares_the_same_directories_and_ro_is_enforced() {
    let e = engine();
    e.build("pulp-content", PULP, &[]);
    let (code, _, data) = e.sh("pulp-content", "echo from-worker > /var/www/pub/index.html", MountRequests::default());
    assert_eq!(code, 0);
    let (code, out, web) =
        e.sh("busybox", "cat /var/www/pub/index.html && cat /var/lib/pulp/content/seed.txt", from(&[&data]));
    assert_eq!((code, out.as_str()), (0, "from-worker\nseed\n"));
    assert_eq!(e.mounts_of(&data)["/var/www"], e.mounts_of(&web)["/var/www"], "same volume, same host directory");
    let (code, out, _) = e.sh("busybox", "echo x > /var/www/pub/new 2>&1; echo rc=$?", from(&[&format!("{data}:ro")]));
    assert_eq!(code, 0);
    assert!(out.contains("Read-only file system") && out.contains("rc=1"), "{out}");
    // A chain: the third container takes from the second, and sees the same files.
    let (_, out, _) = e.sh("busybox", "cat /var/www/pub/index.html", from(&[&web]));
    assert_eq!(out, "from-worker\n");
    // -v replaces a volumes-from entry.
    let host = e.base.join("www-override");
    let mut req = from(&[&data]);
    req.binds.push(format!("{}:/var/www", host.display()));
    let (_, out, _) = e.sh("busybox", "ls /var/www; ls /var/lib/pulp", req);
    assert_eq!(out, "content\n");
}

#[test]
fn rm_v_removes_anonymous_volumes_only_and_keeps_those_in_use() {
    let e = engine();
    e.build("pulp-content", PULP, &[]);
    let (_, _, data) = e.sh("pulp-content", "true", binds(&["named:/srv"]));
    let anon: Vec<String> = e.mounts_of(&data).values().map(|(v, _)| v.clone()).filter(|v| v.len() == 64).collect();
    assert_eq!(anon.len(), 2);
    let (_, _, user) = e.sh("busybox", "true", from(&[&data]));
    // While `user` holds them, volume rm refuses with Docker's text.
    let err = e.engine.volume_remove(&anon[0], false).unwrap_err().to_string();
    assert!(err.starts_with(&format!("remove {}: volume is in use - [", anon[0])), "{err}");
    assert!(err.contains(&data) && err.contains(&user), "{err}");
    // rm -v of the data container keeps the anonymous volumes `user` still holds.
    e.engine.remove(&data, RemoveOptions { force: false, volumes: true }).unwrap();
    assert!(e.engine.volume_inspect(&anon[0]).is_ok());
    // Now nobody else holds them: rm -v of the last holder removes them (they are anonymous),
    // and the named one survives.
    e.engine.remove(&user, RemoveOptions { force: false, volumes: true }).unwrap();
    assert!(e.engine.volume_inspect(&anon[0]).is_err());
    assert!(e.engine.volume_inspect("named").is_ok());
    assert_eq!(e.engine.volume_remove("nope", false).unwrap_err().to_string(), "get nope: no such volume");
}

#[test]
fn auto_remove_and_prune() {
    let e = engine();
    e.build("pulp-content", PULP, &[]);
    let id = e
        .engine
        .create(CreateOptions {
            image: "pulp-content".into(),
            cmd: Some(vec!["true".into()]),
            auto_remove: true,
            mounts: binds(&["kept:/data"]),
            ..Default::default()
        })
        .unwrap();
    let mounts = e.mounts_of(id.as_str());
    e.engine.start(id.as_str()).unwrap();
    assert_eq!(e.engine.wait(id.as_str(), WaitCondition::Removed).unwrap(), 0);
    assert!(e.engine.inspect(id.as_str()).is_err());
    for (dest, (vol, _)) in &mounts {
        let exists = e.engine.volume_inspect(vol).is_ok();
        assert_eq!(exists, dest == "/data", "{dest}: --rm removes anonymous volumes only");
    }
    // A stopped container's anonymous volumes survive plain rm and are then pruned.
    let (_, _, c) = e.sh("pulp-content", "true", MountRequests::default());
    e.engine.remove(&c, RemoveOptions::default()).unwrap();
    let dangling = e.engine.volume_list(&VolumeFilters { dangling: Some(true), ..Default::default() }).unwrap();
    assert_eq!(dangling.len(), 3, "two anonymous and the named `kept`");
    let (removed, _) = e.engine.volume_prune(false, &[]).unwrap();
    assert_eq!(removed.len(), 2);
    assert!(e.engine.volume_inspect("kept").is_ok());
    let (removed, _) = e.engine.volume_prune(true, &[]).unwrap();
    assert_eq!(removed, ["kept"]);
}

#[test]
fn restart_keeps_mounts_and_does_not_copy_again() {
    let e = engine();
    e.build("pulp-content", PULP, &[]);
    let id = e
        .engine
        .create(CreateOptions {
            image: "pulp-content".into(),
            cmd: Some(vec![
                "sh".into(),
                "-c".into(),
                "cat /var/lib/pulp/content/seed.txt; echo changed > /var/lib/pulp/content/seed.txt".into(),
            ]),
            ..Default::default()
        })
        .unwrap();
    e.engine.start(id.as_str()).unwrap();
    e.engine.wait(id.as_str(), WaitCondition::NotRunning).unwrap();
    let before = e.mounts_of(id.as_str());
    e.engine.restart(id.as_str()).unwrap();
    e.engine.wait(id.as_str(), WaitCondition::NotRunning).unwrap();
    assert_eq!(e.mounts_of(id.as_str()), before);
    let lines = e.engine.logs(id.as_str(), LogOptions::default()).unwrap().past;
    let out: String = lines.map(|l| l.unwrap().log).collect();
    assert_eq!(out, "seed\nchanged\n");
}

#[test]
fn nested_mounts_and_symlinked_volume_paths() {
    let e = engine();
    e.build(
        "linked",
        "FROM busybox\nRUN mkdir -p /srv/data && echo there > /srv/data/f && ln -s /srv/data /data\nVOLUME /data\n",
        &[],
    );
    let (code, out, id) =
        e.sh("linked", "cat /data/f; ls -1 /srv/data; mount | grep /srv/data", MountRequests::default());
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("there\nf\n"), "{out}");
    assert!(out.contains(" on /srv/data type volume (rw)"), "{out}");
    assert!(e.mounts_of(&id)["/data"].1.join("f").exists(), "copy-up followed the link");
    let (code, out, _) = e.sh("busybox", "echo in > /a/b/x && ls /a && cat /a/b/x", binds(&["outer:/a", "inner:/a/b"]));
    assert_eq!((code, out.as_str()), (0, "b\nin\n"));
    assert!(e.engine.volume_inspect("inner").unwrap().mountpoint.join("x").exists());
}

#[test]
fn a_single_file_can_be_bind_mounted_and_only_it_is_reachable() {
    let e = engine();
    let conf_dir = e.base.join("conf");
    fs::create_dir_all(&conf_dir).unwrap();
    fs::write(conf_dir.join("app.conf"), "port=80\n").unwrap();
    fs::write(conf_dir.join("secret.txt"), "beside the file\n").unwrap();
    let conf = conf_dir.join("app.conf");

    // Read-only: readable at its mount point only; writes, removal and replacement refused.
    let script = "cat /etc/app.conf; ls /etc | grep -c app.conf; cat /etc/app.conf/../secret.txt; \
                  echo x > /etc/app.conf; rm /etc/app.conf; echo new > /tmp/n; mv /tmp/n /etc/app.conf; cat /etc/app.conf";
    let (_, out, _) = e.sh("busybox", script, binds(&[&format!("{}:/etc/app.conf:ro", conf.display())]));
    assert!(out.starts_with("port=80\n1\n"), "{out}");
    assert!(!out.contains("beside the file"), "a sibling of the mounted file was reached: {out}");
    assert!(out.contains("Not a directory"), "{out}");
    assert!(out.contains("Read-only file system"), "{out}");
    assert!(out.contains("Resource busy"), "rename onto a mount point is EBUSY, as on Linux: {out}");
    assert!(out.ends_with("port=80\n"), "{out}");
    assert_eq!(fs::read_to_string(&conf).unwrap(), "port=80\n");

    // Read-write, by --mount: the guest's write lands in the host file.
    let flag = format!("type=bind,source={},target=/srv/app.conf", conf.display());
    let mounts = MountRequests { mounts: vec![parse_mount_flag(&flag).unwrap()], ..Default::default() };
    let (code, out, _) = e.sh("busybox", "echo port=8080 > /srv/app.conf && cat /srv/app.conf", mounts);
    assert_eq!((code, out.as_str()), (0, "port=8080\n"));
    assert_eq!(fs::read_to_string(&conf).unwrap(), "port=8080\n");
    assert_eq!(fs::read_to_string(conf_dir.join("secret.txt")).unwrap(), "beside the file\n");
}

#[test]
fn a_volume_over_a_file_is_refused_at_start_as_runc_refuses_the_mount() {
    let e = engine();
    e.build("volume-over-file", "FROM busybox\nRUN echo x > /data\nVOLUME /data\n", &[]);
    let id = e.engine.create(CreateOptions { image: "volume-over-file".into(), ..Default::default() }).unwrap();
    let err = e.engine.start(id.as_str()).unwrap_err().to_string();
    assert!(err.contains("to rootfs at \"/data\": not a directory"), "{err}");
    assert!(err.contains("Are you trying to mount a directory onto a file (or vice-versa)?"), "{err}");
    assert_eq!(e.engine.inspect(id.as_str()).unwrap().record.state.exit_code, 125);
    // And a file bound over a directory of the image.
    let file = e.base.join("a-file");
    fs::write(&file, "f").unwrap();
    let id = e
        .engine
        .create(CreateOptions {
            image: "busybox".into(),
            mounts: binds(&[&format!("{}:/etc", file.display())]),
            ..Default::default()
        })
        .unwrap();
    let err = e.engine.start(id.as_str()).unwrap_err().to_string();
    assert!(err.contains("to rootfs at \"/etc\": not a directory"), "{err}");
}

/// Sizes come from a cache the guests' writes keep current, not from a walk per request.
#[test]
fn volume_sizes_follow_the_guests_writes() {
    let e = engine();
    e.engine.volume_create(Some("sized"), BTreeMap::new(), BTreeMap::new()).unwrap();
    assert_eq!(e.engine.volume_inspect("sized").unwrap().usage, (0, 0));
    let (code, _, _) = e.sh("busybox", "echo 1234 > /v/a; echo 12 > /v/b", binds(&["sized:/v"]));
    assert_eq!(code, 0);
    assert_eq!(e.engine.volume_inspect("sized").unwrap().usage, (8, 2));
    let (code, _, _) = e.sh("busybox", "rm /v/a", binds(&["sized:/v"]));
    assert_eq!(code, 0);
    let listed = e.engine.volume_list(&VolumeFilters::default()).unwrap();
    assert_eq!(listed.iter().find(|v| v.record.name == "sized").unwrap().usage, (3, 1));
    let graph = e.engine.graph_input();
    assert_eq!(graph.volumes.iter().find(|v| v.name == "sized").map(|v| (v.size, v.files)), Some((3, 1)));
}

#[test]
fn errors_name_the_problem() {
    let e = engine();
    let err = |opts: CreateOptions| e.engine.create(opts).unwrap_err().to_string();
    assert_eq!(err(CreateOptions { image: "busybox2".into(), ..Default::default() }), "No such image: busybox2:latest");
    assert_eq!(
        err(CreateOptions { image: "busybox".into(), mounts: binds(&["a:/x", "/h:/x"]), ..Default::default() }),
        "create a: \"a\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
    );
    assert_eq!(
        err(CreateOptions { image: "busybox".into(), mounts: binds(&["aa:/x", "/h:/x"]), ..Default::default() }),
        "Duplicate mount point: /x"
    );
    assert_eq!(
        err(CreateOptions { image: "busybox".into(), mounts: from(&["ghost"]), ..Default::default() }),
        "No such container: ghost"
    );
    e.engine
        .create(CreateOptions { image: "busybox".into(), name: Some("taken".into()), ..Default::default() })
        .unwrap();
    assert!(
        err(CreateOptions { image: "busybox".into(), name: Some("taken".into()), ..Default::default() })
            .starts_with("Conflict. The container name \"/taken\" is already in use")
    );
    let (code, _, _) = e.run(CreateOptions {
        image: "busybox".into(),
        cmd: Some(vec!["sh".into(), "-c".into(), "exit 7".into()]),
        ..Default::default()
    });
    assert_eq!(code, 7);
    let id = e
        .engine
        .create(CreateOptions { image: "busybox".into(), cmd: Some(vec!["nosuchcmd".into()]), ..Default::default() })
        .unwrap();
    let start = e.engine.start(id.as_str()).unwrap_err().to_string();
    assert!(start.contains("executable file not found in $PATH"), "{start}");
    assert_eq!(e.engine.inspect(id.as_str()).unwrap().record.state.exit_code, 127);
    // A failed create leaves no anonymous volume behind.
    let before = e.engine.volume_list(&VolumeFilters::default()).unwrap().len();
    e.build("pulp-content", PULP, &[]);
    let missing = e.base.join("missing-src");
    let m = MountRequests {
        mounts: vec![parse_mount_flag(&format!("type=bind,src={},dst=/b", missing.display())).unwrap()],
        ..Default::default()
    };
    let msg = err(CreateOptions { image: "pulp-content".into(), mounts: m, ..Default::default() });
    assert_eq!(
        msg,
        format!("invalid mount config for type \"bind\": bind source path does not exist: {}", missing.display())
    );
    assert_eq!(e.engine.volume_list(&VolumeFilters::default()).unwrap().len(), before);
}

/// Copy-up into a volume a running guest holds fills the directory that guest sees (it cannot
/// be swapped under it), as Docker's does.
#[test]
fn copy_up_into_a_volume_a_running_guest_holds_is_seen_by_it() {
    let env = engine();
    let mounts = || MountRequests { binds: vec!["shared:/x".into()], ..Default::default() };
    let waiter = env
        .engine
        .create(CreateOptions {
            image: "busybox".into(),
            cmd: Some(vec![
                "sh".into(),
                "-c".into(),
                "for i in $(seq 1 100); do [ -f /x/passwd ] && exit 0; sleep 0.1; done; exit 1".into(),
            ]),
            mounts: mounts(),
            ..Default::default()
        })
        .unwrap();
    env.engine.start(waiter.as_str()).unwrap();
    let filler = MountRequests { binds: vec!["shared:/etc".into()], ..Default::default() };
    env.engine.create(CreateOptions { image: "busybox".into(), mounts: filler, ..Default::default() }).unwrap();
    assert_eq!(env.engine.wait(waiter.as_str(), WaitCondition::NotRunning).unwrap(), 0);
    let folder = env.engine.volume_inspect("shared").unwrap().mountpoint.parent().unwrap().to_path_buf();
    let mut left: Vec<String> =
        fs::read_dir(folder).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    left.sort();
    assert_eq!(left, ["_data", "meta.json"], "no copy-up temporary is left");
}
