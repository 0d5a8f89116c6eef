//! Container lifecycle through the engine with real guests: exit codes (exit, kill, out of
//! memory), exec, read-only rootfs, generated files, builds from a context, events, and
//! concurrent creates and removes sharing volumes.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{engine, run, sh};
use porthole_core::event::EventType;
use porthole_core::mounts::MountRequests;
use porthole_engine::{BuildOptions, CreateOptions, ExecOptions, RemoveOptions, VolumeFilters};

#[test]
fn kill_is_137_and_out_of_memory_is_137_with_oom_killed() {
    let (_t, e) = engine();
    let id = e
        .create(CreateOptions { image: "busybox".into(), cmd: Some(vec!["top".into()]), ..Default::default() })
        .unwrap();
    e.start(id.as_str()).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(e.inspect(id.as_str()).unwrap().record.state.status.is_running());
    e.kill(id.as_str(), None).unwrap();
    let c = e.inspect(id.as_str()).unwrap().record;
    assert_eq!((c.state.status.as_str(), c.state.exit_code, c.state.oom_killed), ("exited", 137, false));
    assert_eq!(e.kill(id.as_str(), None).unwrap_err().to_string(), format!("Container {} is not running", c.name));

    // A shell variable that doubles until memory runs out.
    let (code, out, id) = run(
        &e,
        CreateOptions {
            image: "busybox".into(),
            cmd: sh("x=y; while true; do x=$x$x; done"),
            memory_bytes: Some(16 << 20),
            ..Default::default()
        },
    );
    let c = e.inspect(&id).unwrap().record;
    assert_eq!((code, c.state.oom_killed), (137, true), "{out}");
}

#[test]
fn exec_runs_beside_the_main_guest_with_the_same_mounts() {
    let (_t, e) = engine();
    let id = e
        .create(CreateOptions {
            image: "busybox".into(),
            cmd: Some(vec!["top".into()]),
            mounts: MountRequests { binds: vec!["shared:/shared".into()], ..Default::default() },
            ..Default::default()
        })
        .unwrap();
    e.start(id.as_str()).unwrap();
    let out = common::Captured::default();
    let stdio = porthole_engine::Stdio { stdout: Box::new(out.clone()), ..Default::default() };
    let code = e
        .exec(
            id.as_str(),
            ExecOptions {
                cmd: vec!["sh".into(), "-c".into(), "echo hi > /shared/f; cat /shared/f; hostname".into()],
                env: vec![],
                workdir: None,
                stdio,
                timeout: None,
            },
        )
        .unwrap();
    assert_eq!(code, 0);
    let text = out.text();
    assert_eq!(text, format!("hi\n{}\n", &id.as_str()[..12]));
    e.remove(id.as_str(), RemoveOptions { force: true, volumes: false }).unwrap();
    assert!(e.volume_inspect("shared").unwrap().mountpoint.join("f").exists());
}

#[test]
fn read_only_rootfs_workdir_env_and_generated_files() {
    let (_t, e) = engine();
    let (code, out, _) = run(
        &e,
        CreateOptions {
            image: "busybox".into(),
            cmd: sh("pwd; echo $GREETING; touch /x 2>&1; echo rc=$?; cat /etc/hostname; mount | grep -c ' on / '"),
            read_only_rootfs: true,
            workdir: Some("/tmp".into()),
            env: vec!["GREETING=hello".into()],
            ..Default::default()
        },
    );
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "/tmp");
    assert_eq!(lines[1], "hello");
    assert!(lines[2].contains("Read-only file system"), "{out}");
    assert_eq!(lines[3], "rc=1");
    assert_eq!(lines[4].len(), 12);
    assert_eq!(lines[5], "1");
}

#[test]
fn build_from_a_context_with_copy_env_workdir_cmd_and_errors_naming_the_line() {
    let (t, e) = engine();
    let ctx = t.path().join("ctx");
    std::fs::create_dir_all(ctx.join("site")).unwrap();
    std::fs::write(ctx.join("site/index.html"), "<h1>hi</h1>").unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nENV GREETING=hello\nWORKDIR /srv\nCOPY site/ www/\nRUN echo built > note\nCMD [\"sh\", \"-c\", \"cat www/index.html note; echo $GREETING\"]\n").unwrap();
    let mut log = String::new();
    let out = e
        .build(
            BuildOptions { context: ctx.clone(), dockerfile: None, tags: vec!["site:v1".into()], ..Default::default() },
            &mut |s| log.push_str(s),
        )
        .unwrap();
    assert!(log.starts_with("Step 1/6 : FROM busybox\n"), "{log}");
    assert!(
        log.contains(&format!("Successfully built {}\nSuccessfully tagged site:v1\n", &out.image_id[..12])),
        "{log}"
    );
    let (code, text, _) = run(&e, CreateOptions { image: "site:v1".into(), ..Default::default() });
    assert_eq!((code, text.as_str()), (0, "<h1>hi</h1>built\nhello\n"));

    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nRUN exit 3\n").unwrap();
    let err = e
        .build(BuildOptions { context: ctx.clone(), dockerfile: None, tags: vec![], ..Default::default() }, &mut |_| {})
        .unwrap_err();
    assert_eq!(err.to_string(), "The command '/bin/sh -c exit 3' returned a non-zero code: 3");
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nFORM x\n").unwrap();
    let err = e
        .build(BuildOptions { context: ctx.clone(), dockerfile: None, tags: vec![], ..Default::default() }, &mut |_| {})
        .unwrap_err();
    assert_eq!(err.to_string(), "Dockerfile parse error line 2: unknown instruction: FORM");
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nCOPY ../etc/passwd /x\n").unwrap();
    let err = e
        .build(BuildOptions { context: ctx.clone(), dockerfile: None, tags: vec![], ..Default::default() }, &mut |_| {})
        .unwrap_err();
    assert_eq!(err.to_string(), "forbidden path outside the build context: ../etc/passwd");
    // A base image that is not here is pulled, as the legacy builder does; from a registry
    // that is not there (nothing listens on loopback port 1), the build fails naming it.
    std::fs::write(ctx.join("Dockerfile"), "FROM 127.0.0.1:1/nosuchbase\n").unwrap();
    let err = e
        .build(BuildOptions { context: ctx, dockerfile: None, tags: vec![], ..Default::default() }, &mut |_| {})
        .unwrap_err();
    assert!(err.to_string().starts_with("Get \"http://127.0.0.1:1/v2/\": "), "{err}");
    assert_eq!(e.image_list(false).len(), 2, "busybox and site:v1 are listed; failed builds leave nothing");
    // As the legacy builder, every step of site:v1 committed an image: the first four are its
    // untagged parents (`docker images -a`).
    assert_eq!(e.images().len(), 2 + 4);
}

#[test]
fn events_tell_the_story_including_which_container_wrote_a_file() {
    let (_t, e) = engine();
    let mut rx = e.subscribe();
    let (_, _, id) = run(
        &e,
        CreateOptions {
            image: "busybox".into(),
            cmd: sh("echo x > /data/f"),
            mounts: MountRequests { binds: vec!["vol:/data".into()], ..Default::default() },
            ..Default::default()
        },
    );
    e.remove(&id, RemoveOptions::default()).unwrap();
    let mut seen = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        let detail = ev.attributes.get("path").cloned().unwrap_or_default();
        seen.push(format!("{:?} {} {}", ev.kind, ev.action, detail).trim().to_string());
        if ev.kind == EventType::File {
            assert_eq!(ev.actor_id, id);
            assert_eq!(ev.attributes["mount"], "/data");
        }
    }
    let expect = [
        "Volume create",
        "Container create",
        "Volume mount",
        "Container start",
        "File create /data/f",
        "File write /data/f",
        "Container die",
        "Volume unmount",
        "Container destroy",
    ];
    assert_eq!(seen, expect);
}

#[test]
fn concurrent_creates_and_removes_never_lose_a_reference() {
    let (_t, e) = engine();
    e.volume_create(Some("shared"), BTreeMap::new(), BTreeMap::new()).unwrap();
    let workers: Vec<_> = (0..4)
        .map(|i| {
            let e = e.clone();
            std::thread::spawn(move || {
                for _ in 0..5 {
                    let id = e
                        .create(CreateOptions {
                            image: "busybox".into(),
                            mounts: MountRequests {
                                binds: vec!["shared:/s".into(), format!("own{i}:/o")],
                                ..Default::default()
                            },
                            ..Default::default()
                        })
                        .unwrap();
                    let _ = e.volume_remove("shared", false);
                    let _ = e.volume_prune(true, &[]);
                    if i % 2 == 0 {
                        e.remove(id.as_str(), RemoveOptions { force: true, volumes: true }).unwrap();
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let survivors = e.list(true);
    assert_eq!(survivors.len(), 10);
    for c in survivors {
        for m in &c.record.mounts {
            assert!(e.volume_inspect(m.volume().unwrap()).is_ok(), "a held volume was deleted");
        }
    }
    assert!(
        e.volume_list(&VolumeFilters { dangling: Some(true), ..Default::default() })
            .unwrap()
            .iter()
            .all(|v| v.record.name.starts_with("own"))
    );
}

#[test]
fn a_file_that_is_not_a_program_is_126_and_a_missing_one_127() {
    let (_t, e) = engine();
    // Found but not a program: it starts, says why on stderr and exits 126, as runc's failed
    // execve does.
    let (code, out, _) =
        run(&e, CreateOptions { image: "busybox".into(), cmd: Some(vec!["/etc/passwd".into()]), ..Default::default() });
    assert_eq!(code, 126);
    assert!(out.contains("exec /etc/passwd: exec format error"), "{out}");
    let id = e
        .create(CreateOptions { image: "busybox".into(), cmd: Some(vec!["/bin/nope".into()]), ..Default::default() })
        .unwrap();
    let err = e.start(id.as_str()).unwrap_err().to_string();
    assert!(err.contains("stat /bin/nope: no such file or directory"), "{err}");
    assert_eq!(e.inspect(id.as_str()).unwrap().record.state.exit_code, 127);
}

/// `docker run` of a user's module that Porthole cannot run: 126 and a message that names why.
#[test]
fn a_module_with_an_unknown_import_or_no_start_is_126_naming_the_problem() {
    let (t, e) = engine();
    let cases = [
        (
            "missiles.wasm",
            r#"(module (import "env" "launch_missiles" (func)) (memory (export "memory") 1) (func (export "_start")))"#,
            "launch_missiles",
        ),
        ("library.wasm", r#"(module (memory (export "memory") 1))"#, "no `_start` export"),
    ];
    for (name, wat, named) in cases {
        let path = t.path().join(name);
        std::fs::write(&path, wat).unwrap();
        let (code, out, _) = run(
            &e,
            CreateOptions {
                image: "busybox".into(),
                cmd: Some(vec![format!("/{name}")]),
                mounts: MountRequests { binds: vec![format!("{}:/{name}:ro", path.display())], ..Default::default() },
                ..Default::default()
            },
        );
        assert_eq!(code, 126, "{out}");
        assert!(out.contains(named), "{out}");
    }
}

/// `docker exec -d` of an endless writer, then `docker stop` and `rm`: the exec ends with the
/// container (as processes end with their PID namespace), and the volume it wrote can go.
#[test]
fn execs_end_with_their_container() {
    let (_t, e) = engine();
    let id = e
        .create(CreateOptions {
            image: "busybox".into(),
            cmd: Some(vec!["top".into()]),
            mounts: MountRequests { binds: vec!["scratch:/v".into()], ..Default::default() },
            ..Default::default()
        })
        .unwrap()
        .to_string();
    e.start(&id).unwrap();
    let exec = {
        let (e, id) = (e.clone(), id.clone());
        std::thread::spawn(move || {
            let cmd = vec!["sh".into(), "-c".into(), "while true; do echo x >> /v/f; done".into()];
            e.exec(&id, ExecOptions { cmd, ..Default::default() })
        })
    };
    let volume = e.volume_inspect("scratch").unwrap().mountpoint;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !volume.join("f").exists() {
        assert!(std::time::Instant::now() < deadline, "the exec never wrote");
        std::thread::sleep(Duration::from_millis(20));
    }
    e.stop(&id, None).unwrap();
    assert_eq!(exec.join().unwrap().unwrap(), 137, "the exec was stopped with its container");
    e.remove(&id, RemoveOptions { force: false, volumes: false }).unwrap();
    e.volume_remove("scratch", false).unwrap();
    assert!(!volume.exists());
}

#[test]
fn rmi_removes_one_tag_while_in_use_but_not_the_last() {
    let (_t, e) = engine();
    e.tag("busybox", "teaching:v1").unwrap();
    e.create(CreateOptions { image: "teaching:v1".into(), ..Default::default() }).unwrap();
    assert_eq!(e.remove_image("teaching:v1", false).unwrap(), ["Untagged: teaching:v1"]);
    let err = e.remove_image("busybox", false).unwrap_err().to_string();
    assert!(
        err.starts_with("conflict: unable to remove repository reference \"busybox\" (must force) - container "),
        "{err}"
    );
    assert!(e.image_inspect("busybox").is_ok());
}
