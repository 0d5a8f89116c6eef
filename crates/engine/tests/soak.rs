//! Nothing is kept per container after it is removed: many `docker run --rm busybox true`
//! cycles leave the controller with the descriptors and about the memory it had before.
//! (Sizes, not times: a resource count is the same on any machine.)

use std::path::Path;

use porthole_engine::{CreateOptions, Engine, EngineConfig, WaitCondition};

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// `docker run --rm busybox true`, as the CLI drives it: create, start, wait until removed.
fn run_rm(e: &Engine) {
    let id = e
        .create(CreateOptions {
            image: "busybox".into(),
            cmd: Some(vec!["true".into()]),
            auto_remove: true,
            ..Default::default()
        })
        .unwrap();
    e.start(id.as_str()).unwrap();
    let _ = e.wait(id.as_str(), WaitCondition::Removed);
    assert!(e.inspect(id.as_str()).is_err(), "--rm removed the container");
}

#[test]
fn run_rm_cycles_leave_no_descriptors_or_memory_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/module-cache");
    let (e, _) = Engine::open(EngineConfig {
        root: tmp.path().join("root"),
        module_cache: Some(cache),
        fd_budget: None,
        ..Default::default()
    })
    .unwrap();
    // Warm up: the toolbox compiled and cached, the first allocations made.
    for _ in 0..10 {
        run_rm(&e);
    }
    let (fds, rss) = (open_descriptors(), rss_kib());
    const CYCLES: usize = 1000;
    for _ in 0..CYCLES {
        run_rm(&e);
    }
    let (fds_after, rss_after) = (open_descriptors(), rss_kib());
    eprintln!("{CYCLES} cycles: descriptors {fds} -> {fds_after}, RSS {rss} KiB -> {rss_after} KiB");
    assert!(fds_after <= fds + 2, "descriptors grew from {fds} to {fds_after} over {CYCLES} containers");
    assert!(rss_after < rss + 64 * 1024, "RSS grew from {rss} KiB to {rss_after} KiB over {CYCLES} containers");
    assert_eq!(e.list(true).len(), 0);
}
