//! Crash recovery: a child process creates containers with volumes in a loop and is killed
//! with SIGKILL mid-way; reopening the store must find it consistent (every container's
//! volumes present, no half-created container, every volume accounted for).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use porthole_core::mounts::MountRequests;
use porthole_engine::{BuildOptions, CreateOptions, Engine, EngineConfig, VolumeFilters};

const CHILD_ENV: &str = "PORTHOLE_RECOVERY_CHILD_ROOT";

fn open(root: &Path) -> (Engine, porthole_store::Recovery) {
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/module-cache");
    Engine::open(EngineConfig {
        root: root.to_path_buf(),
        module_cache: Some(cache),
        fd_budget: None,
        ..Default::default()
    })
    .unwrap()
}

/// The child: creates containers until killed, saying after each one how many exist.
fn child(root: PathBuf) {
    let (engine, _) = open(&root);
    for n in 1.. {
        let binds = vec![format!("shared-{}:/shared", n % 3)];
        engine
            .create(CreateOptions {
                image: "pulp-content".into(),
                mounts: MountRequests { binds, ..Default::default() },
                ..Default::default()
            })
            .unwrap();
        println!("created {n}");
    }
}

#[test]
fn killed_mid_create_leaves_a_consistent_store() {
    if let Ok(root) = std::env::var(CHILD_ENV) {
        child(PathBuf::from(root));
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    {
        let (engine, _) = open(&root);
        let ctx = tmp.path().join("ctx");
        std::fs::create_dir_all(&ctx).unwrap();
        std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nRUN mkdir -p /var/lib/pulp && seq 1 200 > /var/lib/pulp/numbers\nVOLUME /var/lib/pulp /var/www\n").unwrap();
        engine
            .build(
                BuildOptions {
                    context: ctx,
                    dockerfile: None,
                    tags: vec!["pulp-content".into()],
                    ..Default::default()
                },
                &mut |_| {},
            )
            .unwrap();
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["killed_mid_create_leaves_a_consistent_store", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &root)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(Ok(line)) = lines.next() {
        if line == "created 8" {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL, in the middle of the ninth create or so
    child.wait().unwrap();

    let (engine, recovery) = open(&root);
    let containers = engine.list(true);
    assert!(containers.len() >= 8, "{} containers survived", containers.len());
    for c in &containers {
        for (m, source) in c.record.mounts.iter().zip(&c.sources) {
            let name = m.volume().expect("every mount here is a volume");
            let info = engine
                .volume_inspect(name)
                .unwrap_or_else(|e| panic!("container {} lost volume {name}: {e}", c.record.id));
            assert!(info.users.contains(&c.record.id));
            assert!(source.is_dir());
        }
        assert_eq!(
            std::fs::read_to_string(
                c.sources[c.record.mounts.iter().position(|m| m.destination.as_str() == "/var/lib/pulp").unwrap()]
                    .join("numbers")
            )
            .unwrap()
            .lines()
            .count(),
            200
        );
    }
    // Whatever the killed create had made is either gone or visible as a dangling volume.
    let dangling = engine.volume_list(&VolumeFilters { dangling: Some(true), ..Default::default() }).unwrap();
    assert!(dangling.len() <= 3, "at most the killed create's volumes dangle: {dangling:?}");
    let dirs = std::fs::read_dir(root.join("containers")).unwrap().count();
    assert_eq!(dirs, containers.len(), "no container directory without a record ({recovery:?})");
}

/// Records torn by a crash or a disk error: the engine still opens, the unreadable ones are in
/// quarantine and listed as warnings, and the anonymous volume of a quarantined container is
/// not pruned (that container may be restored by hand).
#[test]
fn unreadable_records_are_quarantined_and_their_volumes_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let (held, kept) = {
        let (engine, _) = open(&root);
        let mounts = MountRequests { volumes: vec!["/data".into()], ..Default::default() };
        let torn = engine.create(CreateOptions { image: "busybox".into(), mounts, ..Default::default() }).unwrap();
        let kept = engine.create(CreateOptions { image: "busybox".into(), ..Default::default() }).unwrap();
        engine.volume_create(Some("torn-meta"), Default::default(), Default::default()).unwrap();
        let held = engine.inspect(torn.as_str()).unwrap().record.mounts[0].volume().unwrap().to_string();
        let record = root.join("containers").join(torn.as_str()).join("config.json");
        let text = std::fs::read_to_string(&record).unwrap();
        std::fs::write(&record, &text[..text.find(&held).unwrap() + held.len() + 1]).unwrap();
        std::fs::write(root.join("volumes/torn-meta/meta.json"), "{\"na").unwrap();
        std::fs::write(root.join("volumes/notes.txt"), "a stray file").unwrap();
        std::fs::write(root.join("images/tags.json"), "{").unwrap();
        (held, kept)
    };
    let (engine, recovery) = open(&root);
    assert_eq!(recovery.quarantined.len(), 4, "{recovery:?}");
    assert_eq!(engine.warnings(), recovery.warnings());
    assert_eq!(engine.list(true).iter().map(|c| c.record.id.clone()).collect::<Vec<_>>(), [kept]);
    assert!(engine.volume_inspect("torn-meta").is_ok());
    assert!(engine.volume_inspect(&held).unwrap().users.is_empty());
    let (pruned, _) = engine.volume_prune(false, &[]).unwrap();
    assert!(!pruned.contains(&held), "{pruned:?}");
    assert!(engine.volume_inspect(&held).is_ok());
    let refused = engine.volume_remove(&held, false).unwrap_err().to_string();
    assert!(refused.starts_with(&format!("remove {held}: volume is in use - [a container record in ")), "{refused}");
    drop(engine);
    // Still in quarantine, and still a warning, at the next start.
    let (engine, recovery) = open(&root);
    assert!(recovery.quarantined.is_empty());
    assert_eq!(engine.warnings().len(), 4, "{:?}", engine.warnings());
    assert!(engine.volume_prune(false, &[]).unwrap().0.is_empty());
}

/// `docker inspect` after a restart shows the HostConfig given at create, `--mount`s included.
#[test]
fn host_config_survives_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let mount = porthole_core::mounts::MountRequest {
        kind: Some(porthole_core::mounts::MountType::Volume),
        source: "kept".into(),
        target: "/kept".into(),
        readonly: true,
        labels: [("team".to_string(), "a".to_string())].into(),
        ..Default::default()
    };
    let before = {
        let (engine, _) = open(&root);
        let id = engine
            .create(CreateOptions {
                image: "busybox".into(),
                mounts: MountRequests { mounts: vec![mount], ..Default::default() },
                auto_remove: true,
                read_only_rootfs: true,
                port_bindings: [("80/tcp".to_string(), vec!["8080".to_string()])].into(),
                memory_bytes: Some(64 << 20),
                storage_size: Some(1 << 20),
                ..Default::default()
            })
            .unwrap();
        engine.inspect(id.as_str()).unwrap().record
    };
    assert_eq!(before.host.mounts.len(), 1);
    let (engine, _) = open(&root);
    assert_eq!(engine.inspect(before.id.as_str()).unwrap().record, before);
}

/// Relative paths of everything below `dir`, sorted, with file contents.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(e.path());
                out.push(format!("{rel}/"));
            } else if ft.is_file() {
                out.push(format!("{rel} {}", std::fs::read(e.path()).unwrap().len()));
            } else {
                out.push(format!("{rel} -> {}", std::fs::read_link(e.path()).unwrap().display()));
            }
        }
    }
    out.sort();
    out
}

fn copyups(volume_dir: &Path) -> Vec<String> {
    std::fs::read_dir(volume_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".copyup-"))
        .collect()
}

/// What a crash mid copy-up leaves (a part copy beside `_data`, or, in the fallback exchange,
/// `_data` moved aside): reopening leaves the volume empty, and the next create fills it whole.
#[test]
fn a_crash_mid_copy_up_leaves_the_volume_empty_and_the_next_create_fills_it() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let etc = {
        let (engine, _) = open(&root);
        for name in ["conf", "aside"] {
            engine.volume_create(Some(name), Default::default(), Default::default()).unwrap();
        }
        // The base image's one layer (a layer's id is a digest of its files, not the image's id).
        let image = engine.image_inspect("busybox").unwrap().0.layers.last().unwrap().clone();
        root.join("layers").join(image).join("etc")
    };
    let part = root.join("volumes/conf/.copyup-0123456789ab");
    std::fs::create_dir_all(part.join("ro")).unwrap();
    std::fs::write(part.join("passwd"), "root:x:0:0").unwrap();
    // Image content may name a file like the store's temporaries, in a read-only directory.
    std::fs::write(part.join("ro/x.porthole-tmp"), "").unwrap();
    std::fs::set_permissions(part.join("ro"), std::os::unix::fs::PermissionsExt::from_mode(0o555)).unwrap();
    let aside = root.join("volumes/aside");
    std::fs::rename(aside.join("_data"), aside.join(".copyup-ba9876543210.old")).unwrap();
    std::fs::create_dir_all(aside.join(".copyup-ba9876543210")).unwrap();
    std::fs::write(aside.join(".copyup-ba9876543210/group"), "root:x:0:").unwrap();

    let (engine, recovery) = open(&root);
    assert_eq!(recovery.removed_copyups, 2, "{recovery:?}");
    for name in ["conf", "aside"] {
        let dir = root.join("volumes").join(name);
        assert_eq!(copyups(&dir), Vec::<String>::new());
        assert_eq!(tree(&dir.join("_data")), Vec::<String>::new(), "{name}");
        let binds = vec![format!("{name}:/etc")];
        let mounts = MountRequests { binds, ..Default::default() };
        engine.create(CreateOptions { image: "busybox".into(), mounts, ..Default::default() }).unwrap();
        assert_eq!(tree(&dir.join("_data")), tree(&etc), "{name}");
        assert_eq!(copyups(&dir), Vec::<String>::new());
    }
}

const COPY_UP_CHILD_ENV: &str = "PORTHOLE_COPY_UP_CHILD_ROOT";
const BIG_FILES: usize = 3_000;

/// A child process copies up a big directory into one named volume after another and is
/// killed with SIGKILL mid-way: every volume is then empty or complete, never half-filled.
#[test]
fn killed_mid_copy_up_leaves_each_volume_empty_or_complete() {
    if let Ok(root) = std::env::var(COPY_UP_CHILD_ENV) {
        let (engine, _) = open(Path::new(&root));
        for n in 1.. {
            let mounts = MountRequests { binds: vec![format!("big-{n}:/big")], ..Default::default() };
            engine.create(CreateOptions { image: "busybox".into(), mounts, ..Default::default() }).unwrap();
            println!("created {n}");
        }
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    {
        let (engine, _) = open(&root);
        // The base image's one layer (a layer's id is a digest of its files, not the image's id).
        let image = engine.image_inspect("busybox").unwrap().0.layers.last().unwrap().clone();
        let big = root.join("layers").join(image).join("big");
        for i in 0..BIG_FILES {
            let dir = big.join(format!("d{}", i / 200));
            if i % 200 == 0 {
                std::fs::create_dir_all(&dir).unwrap();
            }
            std::fs::write(dir.join(format!("f{i}")), i.to_string()).unwrap();
        }
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["killed_mid_copy_up_leaves_each_volume_empty_or_complete", "--exact", "--nocapture", "--test-threads=1"])
        .env(COPY_UP_CHILD_ENV, &root)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(Ok(line)) = lines.next() {
        if line == "created 2" {
            break;
        }
    }
    // Kill the third create once its copy-up has begun to fill its temporary directory.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let copying = root.join("volumes/big-3");
    while std::time::Instant::now() < deadline {
        let started = copying.is_dir()
            && copyups(&copying)
                .iter()
                .any(|c| std::fs::read_dir(copying.join(c)).is_ok_and(|mut d| d.next().is_some()));
        if started {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mut part_copies = 0;
    for e in std::fs::read_dir(root.join("volumes")).unwrap() {
        part_copies += copyups(&e.unwrap().path()).len();
    }

    let (engine, recovery) = open(&root);
    assert_eq!(recovery.removed_copyups, part_copies);
    let mut complete = 0;
    for v in engine.volume_list(&VolumeFilters::default()).unwrap() {
        let files = v.usage.1;
        assert!(files == 0 || files == BIG_FILES as u64, "volume {} holds {files} files ({recovery:?})", v.record.name);
        complete += usize::from(files > 0);
        assert_eq!(copyups(&root.join("volumes").join(&v.record.name)), Vec::<String>::new());
    }
    assert!(complete >= 2, "{complete} complete volumes");
    assert!(part_copies >= 1, "the kill fell outside a copy-up");
    eprintln!("killed with {part_copies} copy-up(s) in progress; {complete} volumes complete");
}

/// `RUN []` is refused with Docker's parse error (it panicked the builder); `CMD []` is legal;
/// the stage of a build the controller did not finish is swept at the next open.
#[test]
fn empty_run_is_an_error_and_unfinished_stages_are_swept() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let (engine, _) = open(&root);
    let build = |dockerfile: &str| {
        let ctx = tmp.path().join("ctx");
        std::fs::create_dir_all(&ctx).unwrap();
        std::fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
        engine.build(BuildOptions { context: ctx, dockerfile: None, tags: vec![], ..Default::default() }, &mut |_| {})
    };
    let e = build("FROM busybox\nRUN []\n").unwrap_err();
    assert_eq!(e.to_string(), "Dockerfile parse error line 2: RUN requires at least one argument");
    assert!(build("FROM busybox\nCMD []\n").is_ok());
    drop(engine);
    std::fs::create_dir_all(root.join("images/.build-0123456789ab/rootfs/bin")).unwrap();
    let (_, recovery) = open(&root);
    assert_eq!(recovery.removed_build_dirs, 1);
    assert!(!root.join("images/.build-0123456789ab").exists());
}
