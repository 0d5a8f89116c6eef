//! The official WASI preview1 conformance suite through the engine, as `docker run` runs a
//! user's program: a container of an image built `FROM busybox` with the case's fixture copied
//! to `/` (so the rootfs, generated `/etc` files and `/proc` are there too), the case's module
//! bind-mounted read-only as a single file at `/test.wasm`, the spec's arguments and `-e`
//! variables. Docker adds `PATH`, `HOSTNAME` and `HOME` to the
//! environment, so the cases that count variables are expected to differ (scope `engine` of
//! `tests/wasi-testsuite-expectations.txt`), and only those, beside the host's own two.

mod common;
#[path = "../../runtime/tests/common/suite.rs"]
mod suite;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::engine;
use porthole_core::mounts::MountRequests;
use porthole_engine::{BuildOptions, CreateOptions, Engine, LogOptions, LogStream, RemoveOptions, WaitCondition};
use suite::{Case, Outcome};

const TIMEOUT: Duration = Duration::from_secs(30);

/// The image for `case`: `busybox`, or (for a case with a fixture) `FROM busybox` plus
/// `COPY fixture/ /`, built once per fixture.
fn image_for(e: &Engine, case: &Case) -> String {
    let Some(root) = &case.root else { return "busybox".into() };
    let tag = format!("suite-{}", case.id.split('/').next().unwrap());
    if e.images().iter().any(|(_, tags)| tags.contains(&format!("{tag}:latest"))) {
        return tag;
    }
    let ctx = tempfile::tempdir().unwrap();
    std::fs::create_dir(ctx.path().join("fixture")).unwrap();
    let fixture = suite::fixture(case);
    for entry in std::fs::read_dir(fixture.path()).unwrap() {
        let entry = entry.unwrap();
        std::fs::rename(entry.path(), ctx.path().join("fixture").join(entry.file_name())).unwrap();
    }
    std::fs::write(ctx.path().join("Dockerfile"), "FROM busybox\nCOPY fixture/ /\n").unwrap();
    let opts = BuildOptions {
        context: ctx.path().to_path_buf(),
        dockerfile: None,
        tags: vec![tag.clone()],
        ..Default::default()
    };
    e.build(opts, &mut |_| {}).unwrap_or_else(|err| panic!("building {tag} from {}: {err}", root.display()));
    tag
}

/// `docker run --rm -v CASE.wasm:/test.wasm:ro -e … IMAGE /test.wasm ARGS…`.
fn run_in_container(e: &Engine, image: String, case: &Case) -> Outcome {
    let mut cmd = vec!["/test.wasm".to_string()];
    cmd.extend(case.args.iter().cloned());
    let bind = format!("{}:/test.wasm:ro", case.wasm.display());
    let id = e
        .create(CreateOptions {
            image,
            cmd: Some(cmd),
            env: case.env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            mounts: MountRequests { binds: vec![bind], ..Default::default() },
            ..Default::default()
        })
        .unwrap();
    let id = id.to_string();
    let exit = match e.start(&id) {
        Err(err) => Err(err.to_string()),
        Ok(()) => {
            let done = Arc::new(AtomicBool::new(false));
            let watchdog = {
                let (e, id, done) = (e.clone(), id.clone(), done.clone());
                std::thread::spawn(move || {
                    let end = Instant::now() + TIMEOUT;
                    while !done.load(Ordering::SeqCst) {
                        if Instant::now() > end {
                            let _ = e.kill(&id, None);
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    }
                })
            };
            let code = e.wait(&id, WaitCondition::NotRunning).unwrap();
            done.store(true, Ordering::SeqCst);
            watchdog.join().unwrap();
            Ok(code)
        }
    };
    let lines: Vec<_> = e.logs(&id, LogOptions::default()).unwrap().past.map(Result::unwrap).collect();
    let text = |s: LogStream| lines.iter().filter(|l| l.stream == s).map(|l| l.log.as_str()).collect::<String>();
    let outcome = Outcome { exit, stdout: text(LogStream::Stdout), stderr: text(LogStream::Stderr) };
    e.remove(&id, RemoveOptions { force: true, volumes: true }).unwrap();
    outcome
}

#[test]
fn the_official_suite_passes_through_docker_run() {
    let Some(dir) = suite::suite_or_skip() else { return };
    let cases = suite::cases(&dir);
    assert_eq!(cases.len(), 72, "the suite has 72 preview1 tests");
    let (_t, e) = engine();
    let images: Vec<String> = cases.iter().map(|c| image_for(&e, c)).collect();
    let next = Mutex::new(cases.iter().zip(images));
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while let Some((case, image)) = { next.lock().unwrap().next() } {
                    let outcome = run_in_container(&e, image, case);
                    results.lock().unwrap().push((case.clone(), suite::verdict(case, &outcome)));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    let mut expected = suite::expectations("host");
    expected.extend(suite::expectations("engine"));
    suite::judge("engine", &results, &expected);
}
