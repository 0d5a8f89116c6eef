//! How the engine answers while it works: `docker ps` (Engine::list) latency while a container
//! of a many-file image is created, against the same calls idle, and the engine-side
//! `run --rm busybox true` cycle. Prints figures and ratios; asserts nothing.
//!
//!     cargo bench -p porthole-engine --bench lock            # 200,000 files
//!     PORTHOLE_BENCH_FILES=20000 cargo bench -p porthole-engine --bench lock

use std::time::{Duration, Instant};

use porthole_engine::{BuildOptions, CreateOptions, RemoveOptions};

/// The engine tests' harness: an engine on a temporary root, the `run --rm` cycle.
#[path = "../tests/common/mod.rs"]
mod common;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn summary(label: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let (p50, max) = (percentile(&samples, 0.5), *samples.last().unwrap());
    println!(
        "{label:<40} n={:<6} p50 {:>10.3?}  p99 {:>10.3?}  max {:>10.3?}",
        samples.len(),
        p50,
        percentile(&samples, 0.99),
        max
    );
    p50
}

fn main() {
    let files: usize = std::env::var("PORTHOLE_BENCH_FILES").ok().and_then(|v| v.parse().ok()).unwrap_or(200_000);
    let (tmp, e) = common::engine();

    // An image with `files` small files in 100 directories.
    let ctx = tmp.path().join("ctx");
    for i in 0..files {
        let dir = ctx.join(format!("many/d{}", i % 100));
        if i < 100 {
            std::fs::create_dir_all(&dir).unwrap();
        }
        std::fs::write(dir.join(format!("f{i}")), b"x").unwrap();
    }
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nCOPY many /many\n").unwrap();
    let t = Instant::now();
    e.build(
        BuildOptions { context: ctx, dockerfile: None, tags: vec!["many".into()], ..Default::default() },
        &mut |_| {},
    )
    .unwrap();
    println!("built an image of {files} files in {:.2?}", t.elapsed());

    let time_list = || {
        let t = Instant::now();
        let _ = e.list(true);
        t.elapsed()
    };
    let idle: Vec<Duration> = (0..500).map(|_| time_list()).collect();
    let idle_p50 = summary("docker ps, idle", idle);

    let creating = std::thread::scope(|s| {
        let create = s.spawn(|| {
            let t = Instant::now();
            let id = e.create(CreateOptions { image: "many".into(), ..Default::default() }).unwrap();
            (id, t.elapsed())
        });
        let mut samples = Vec::new();
        while !create.is_finished() {
            samples.push(time_list());
            std::thread::sleep(Duration::from_millis(1));
        }
        let (id, took) = create.join().unwrap();
        println!("create of the {files}-file container took {took:.2?}");
        e.remove(id.as_str(), RemoveOptions { force: true, volumes: true }).unwrap();
        samples
    });
    let busy_p50 = summary("docker ps, during that create", creating.clone());
    let worst = *creating.iter().max().unwrap();
    println!(
        "ratio during/idle: p50 {:.2}x, max {:.2?} (goal: under 2x)",
        busy_p50.as_secs_f64() / idle_p50.as_secs_f64(),
        worst
    );

    let cycle = |_| {
        let t = Instant::now();
        common::run_rm(&e);
        t.elapsed()
    };
    let _ = (0..10).map(cycle).count();
    summary("engine-side run --rm busybox true", (0..200).map(cycle).collect());
}
