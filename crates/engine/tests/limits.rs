//! The limits of issue 8 through the engine, with real guests: a volume's `size` and
//! `--storage-opt size=` are disk quotas (`ENOSPC` in the guest, space back on `rm`), and the
//! guests of all containers share one descriptor budget without starving the controller.

mod common;

use common::{output, run, sh};

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use porthole_core::mounts::MountRequests;
use porthole_engine::{BuildOptions, CreateOptions, Engine, WaitCondition};

fn engine(fd_budget: Option<usize>) -> (tempfile::TempDir, Engine) {
    let tmp = tempfile::tempdir().unwrap();
    let engine = common::open_engine(tmp.path(), fd_budget);
    (tmp, engine)
}

fn with_volume(script: &str, volume: &str) -> CreateOptions {
    CreateOptions {
        image: "busybox".into(),
        cmd: sh(script),
        mounts: MountRequests { binds: vec![format!("{volume}:/v")], ..Default::default() },
        ..Default::default()
    }
}

fn options(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn volume_size_is_a_quota() {
    let (_t, e) = engine(None);
    let info = e.volume_create(Some("small"), BTreeMap::new(), options(&[("size", "1m")])).unwrap();
    assert_eq!(info.record.options, options(&[("size", "1m")]));
    let big = info.mountpoint.join("big");

    let (code, out, _) = run(&e, with_volume("yes > /v/big", "small"));
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("No space left on device"), "{out}");
    assert_eq!(fs::metadata(&big).unwrap().len(), 1 << 20);
    // A second container on the same volume finds it full too.
    let (code, out, _) = run(&e, with_volume("echo more >> /v/big", "small"));
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("No space left on device"), "{out}");

    let (code, out, _) = run(&e, with_volume("rm /v/big && echo again > /v/f && cat /v/f", "small"));
    assert_eq!((code, out.as_str()), (0, "again\n"));
    assert!(!big.exists());

    for (opts, err) in [
        (options(&[("size", "lots")]), "invalid size: 'lots'"),
        (options(&[("type", "tmpfs")]), "invalid option key: \"type\""),
    ] {
        assert_eq!(e.volume_create(Some("bad"), BTreeMap::new(), opts).unwrap_err().to_string(), err);
    }
    assert!(e.volume_inspect("bad").is_err());
}

/// Two containers running at once on one volume draw on one count.
#[test]
fn containers_on_one_volume_share_its_quota() {
    let (_t, e) = engine(None);
    let info = e.volume_create(Some("shared"), BTreeMap::new(), options(&[("size", "1m")])).unwrap();
    let ids: Vec<String> = ["a", "b"]
        .iter()
        .map(|f| {
            let id = e.create(with_volume(&format!("sleep 1; yes > /v/{f}"), "shared")).unwrap();
            e.start(id.as_str()).unwrap();
            id.to_string()
        })
        .collect();
    for id in &ids {
        assert_ne!(e.wait(id, WaitCondition::NotRunning).unwrap(), 0, "{}", output(&e, id));
        assert!(output(&e, id).contains("No space left on device"), "{}", output(&e, id));
    }
    let len = |f: &str| fs::metadata(info.mountpoint.join(f)).map(|m| m.len()).unwrap_or(0);
    assert_eq!(len("a") + len("b"), 1 << 20);
}

#[test]
fn storage_opt_size_is_a_quota_on_what_the_container_adds() {
    let (_t, e) = engine(None);
    let opts = CreateOptions {
        image: "busybox".into(),
        cmd: sh("yes > /big; rm /big && echo room > /f && cat /f"),
        storage_size: Some(1 << 20),
        ..Default::default()
    };
    let (code, out, id) = run(&e, opts);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("No space left on device"), "{out}");
    assert!(out.ends_with("room\n"), "{out}");
    // Restarted (the count measured afresh), it fills up to the same limit: the image's own
    // bytes do not count, what create wrote (/etc/hostname…) does.
    let rootfs = e.inspect(&id).unwrap().rootfs;
    let opts = CreateOptions {
        image: "busybox".into(),
        cmd: sh("yes > /big"),
        storage_size: Some(1 << 20),
        ..Default::default()
    };
    let (code, out, id) = run(&e, opts);
    assert_ne!(code, 0, "{out}");
    let written = fs::metadata(e.inspect(&id).unwrap().rootfs.join("big")).unwrap().len();
    assert!(((1 << 20) - 4096..=1 << 20).contains(&written), "{written}");
    e.start(&id).unwrap();
    assert_ne!(e.wait(&id, WaitCondition::NotRunning).unwrap(), 0);
    assert_eq!(fs::metadata(e.inspect(&id).unwrap().rootfs.join("big")).unwrap().len(), written);
    assert!(rootfs.join("f").exists());
    // Without the option, no limit.
    let free = CreateOptions { image: "busybox".into(), cmd: sh("yes | head -c 3000000 > /big"), ..Default::default() };
    let (code, out, _) = run(&e, free);
    assert_eq!(code, 0, "without a quota: {out}");
}

/// Builds an image with the `hog` test guest at `/bin/hog`.
fn hog_image(e: &Engine, base: &Path) {
    let ctx = base.join("hog-ctx");
    fs::create_dir_all(&ctx).unwrap();
    fs::copy(porthole_guests::HOG, ctx.join("hog")).unwrap();
    fs::write(ctx.join("Dockerfile"), "FROM busybox\nCOPY hog /bin/hog\n").unwrap();
    e.build(
        BuildOptions { context: ctx, dockerfile: None, tags: vec!["hog".into()], ..Default::default() },
        &mut |_| {},
    )
    .unwrap();
}

#[test]
fn containers_share_the_descriptor_budget_and_the_controller_still_answers() {
    let (t, e) = engine(Some(64));
    hog_image(&e, t.path());
    let hogs: Vec<String> = (0..4)
        .map(|_| {
            let opts = CreateOptions {
                image: "hog".into(),
                cmd: Some(["hog", "fds", "/", "1500"].map(String::from).to_vec()),
                ..Default::default()
            };
            let id = e.create(opts).unwrap();
            e.start(id.as_str()).unwrap();
            id.to_string()
        })
        .collect();
    // While they hold what they got, the controller creates and runs another container.
    std::thread::sleep(Duration::from_millis(500));
    let (code, out, _) =
        run(&e, CreateOptions { image: "busybox".into(), cmd: sh("echo alive"), ..Default::default() });
    assert_eq!((code, out.as_str()), (0, "alive\n"));
    assert!(fs::File::open(t.path()).is_ok());

    let mut opened = 0;
    for id in &hogs {
        assert_eq!(e.wait(id, WaitCondition::NotRunning).unwrap(), 0);
        let out = output(&e, id);
        let (n, errno) = out.trim().strip_prefix("opened ").unwrap().split_once(" then Uncategorized errno=").unwrap();
        // EMFILE (past its share) or ENFILE (the budget gone), never a crash.
        assert!(["Some(33)", "Some(41)"].contains(&errno), "{out}");
        opened += n.parse::<usize>().unwrap();
    }
    assert!(opened <= 64, "{opened} of 64");
    assert_eq!(e.fd_budget().in_use(), 0);
}
