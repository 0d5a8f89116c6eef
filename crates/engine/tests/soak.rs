//! Nothing is kept per container after it is removed: many `docker run --rm busybox true`
//! cycles leave the controller with the descriptors and about the memory it had before.
//! (Sizes, not times: a resource count is the same on any machine.)

mod common;

use porthole_engine::Engine;

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// One `run --rm` cycle, and the container is gone after it.
fn run_rm(e: &Engine) {
    let id = common::run_rm(e);
    assert!(e.inspect(id.as_str()).is_err(), "--rm removed the container");
}

#[test]
fn run_rm_cycles_leave_no_descriptors_or_memory_behind() {
    let (_tmp, e) = common::engine();
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
