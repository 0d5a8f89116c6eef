//! File-system benchmark: the same guest work (a 256 MiB file written and read back in 1 MiB
//! blocks; 10,000 small-file create/stat/unlink cycles) natively, under Porthole's host and
//! under wasmtime-wasi (sync, one preopen), on the same directory. Prints each as a ratio to
//! native, best of five interleaved rounds. Run with `cargo bench -p porthole-runtime --bench fs`.
//!
//! For `bench/harness.py`: `PORTHOLE_BENCH_JSON=FILE` also writes each contender's median, and
//! `PORTHOLE_BENCH_QUICK=1` shrinks the work (8 MiB, 200 files, 3 rounds) so CI can run it.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/common/reference.rs"]
mod reference;

use std::fs;
use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// How much work, full or quick.
#[derive(Clone, Copy)]
struct Sizes {
    big_mib: usize,
    small_files: usize,
    runs: usize,
}

fn sizes() -> Sizes {
    if std::env::var_os("PORTHOLE_BENCH_QUICK").is_some() {
        Sizes { big_mib: 8, small_files: 200, runs: 3 }
    } else {
        Sizes { big_mib: 256, small_files: 10_000, runs: 5 }
    }
}

fn native_big(dir: &Path, big_mib: usize) {
    let path = dir.join("big");
    let block = vec![0x5au8; 1 << 20];
    let mut f = fs::File::create(&path).unwrap();
    for _ in 0..big_mib {
        f.write_all(&block).unwrap();
    }
    drop(f);
    let mut f = fs::File::open(&path).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0;
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n;
    }
    assert_eq!(total, big_mib << 20);
}

fn native_small(dir: &Path, small_files: usize) {
    for i in 0..small_files {
        let p = dir.join(format!("f{i}"));
        fs::File::create(&p).unwrap();
        fs::metadata(&p).unwrap();
        fs::remove_file(&p).unwrap();
    }
}

fn best_of(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    (0..runs).map(|_| f()).min().unwrap()
}

fn median(mut xs: Vec<Duration>) -> f64 {
    xs.sort();
    xs[xs.len() / 2].as_secs_f64()
}

fn timed(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn main() {
    let Sizes { big_mib, small_files, runs } = sizes();
    // Same file system for all three: a directory under target/, not a tmpfs.
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-fs");
    let _ = fs::remove_dir_all(&base);
    fs::create_dir_all(&base).unwrap();
    let dir = base.canonicalize().unwrap();
    let big_args = ["big", "/big", &big_mib.to_string()].map(String::from);
    let small_args = ["small", "/", &small_files.to_string()].map(String::from);
    let big_args: Vec<&str> = big_args.iter().map(String::as_str).collect();
    let small_args: Vec<&str> = small_args.iter().map(String::as_str).collect();

    // Warm both module caches so compilation is not measured.
    common::program(porthole_guests::FSBENCH);
    reference::run(porthole_guests::FSBENCH, &["small", "/", "1"], &dir);

    let porthole = |args: &[&str]| {
        timed(|| {
            let (_, exit) = common::run(porthole_guests::FSBENCH, args, &dir, &[]);
            assert_eq!(exit, porthole_runtime::Exit::Code(0));
        })
    };
    let wasmtime = |args: &[&str]| {
        timed(|| {
            let (_, code) = reference::run(porthole_guests::FSBENCH, args, &dir);
            assert_eq!(code, 0);
        })
    };

    // `PORTHOLE_BENCH_PROFILE=porthole-big|native-big` runs only that case, for a profiler.
    match std::env::var("PORTHOLE_BENCH_PROFILE").as_deref() {
        Ok("porthole-big") => {
            return (0..runs).for_each(|_| {
                porthole(&big_args);
            });
        }
        Ok("native-big") => return (0..runs).for_each(|_| native_big(&dir, big_mib)),
        _ => {}
    }
    // Rounds interleave the three contenders so drift in the machine's load hits all alike.
    let mut big = [("native", Duration::MAX), ("porthole", Duration::MAX), ("wasmtime-wasi", Duration::MAX)];
    let mut small = big;
    // Every run, for the medians the harness reports: [big, small] × contender.
    let mut all: [[Vec<Duration>; 3]; 2] = Default::default();
    for _ in 0..runs {
        // Each large-file run starts from the same state: no file, nothing dirty in the page
        // cache (otherwise the next writer pays for truncating the last one's dirty pages).
        let clean = || {
            let _ = fs::remove_file(dir.join("big"));
            rustix::fs::sync();
        };
        let runs: [Duration; 3] = [
            (clean(), timed(|| native_big(&dir, big_mib))).1,
            (clean(), porthole(&big_args)).1,
            (clean(), wasmtime(&big_args)).1,
        ];
        for ((best, d), all) in big.iter_mut().zip(runs).zip(&mut all[0]) {
            best.1 = best.1.min(d);
            all.push(d);
        }
        let runs: [Duration; 3] =
            [timed(|| native_small(&dir, small_files)), porthole(&small_args), wasmtime(&small_args)];
        for ((best, d), all) in small.iter_mut().zip(runs).zip(&mut all[1]) {
            best.1 = best.1.min(d);
            all.push(d);
        }
    }
    // Fixed cost of a run (instantiate, start, exit), to read the figures above against.
    let startup = best_of(runs, || porthole(&["small", "/", "0"]));
    let _ = fs::remove_dir_all(&base);
    if let Some(path) = std::env::var_os("PORTHOLE_BENCH_JSON") {
        let names = [format!("{big_mib} MiB written and read"), format!("{small_files} small files")];
        let cases: Vec<serde_json::Value> = names
            .iter()
            .zip(all)
            .map(|(name, [native, porthole, wasmtime])| {
                serde_json::json!({"name": name, "native": median(native), "porthole": median(porthole),
                                   "wasmtime-wasi": median(wasmtime)})
            })
            .collect();
        let json = serde_json::json!({"runs": runs, "cases": cases});
        fs::write(path, serde_json::to_vec_pretty(&json).unwrap()).unwrap();
    }

    println!("porthole start-to-exit of the same guest doing nothing: {:.2} ms", startup.as_secs_f64() * 1e3);
    println!("large file: {big_mib} MiB written then read in 1 MiB blocks (best of {runs})");
    let native = big[0].1.as_secs_f64();
    for (name, d) in big {
        let mib_s = (2 * big_mib) as f64 / d.as_secs_f64();
        println!(
            "  {name:<14} {:>8.3} s  {mib_s:>8.0} MiB/s  throughput {:.2} x native",
            d.as_secs_f64(),
            native / d.as_secs_f64()
        );
    }
    println!("small files: {small_files} create/stat/unlink cycles (best of {runs})");
    let native = small[0].1.as_secs_f64();
    for (name, d) in small {
        let us = d.as_secs_f64() * 1e6 / small_files as f64;
        println!(
            "  {name:<14} {:>8.3} s  {us:>8.1} us/cycle  time {:.2} x native",
            d.as_secs_f64(),
            d.as_secs_f64() / native
        );
    }
    println!(
        "porthole vs wasmtime-wasi: large-file time {:.2}x, small-file time {:.2}x (below 1 = Porthole faster)",
        big[1].1.as_secs_f64() / big[2].1.as_secs_f64(),
        small[1].1.as_secs_f64() / small[2].1.as_secs_f64()
    );
}
