//! File-system benchmark: the same guest work natively, under Porthole's host and under
//! wasmtime-wasi (sync, one preopen), on the same file system. Prints each as a ratio to
//! native, best of five interleaved rounds. Run with `cargo bench -p porthole-runtime --bench fs`.
//!
//! The cases: a 256 MiB file written and read back in 1 MiB blocks, and 10,000 small-file
//! create/stat/unlink cycles, on a plain root; then the same kinds of work through a
//! container's copy-on-write root (an empty upper over one lower layer, as a fresh container
//! has): the lower file read, the lower file rewritten in place (its first write copies it
//! up, data and all), the lower file truncated and rewritten (copied up without its data,
//! then written and read in the upper), and the small-file cycles in a directory of the lower
//! layer. Native and wasmtime-wasi, which have no overlay, do the same work on a plain copy of
//! the lower layer, so the ratios are what the overlay costs on top of the guest.
//!
//! For `bench/harness.py`: `PORTHOLE_BENCH_JSON=FILE` also writes each contender's median, and
//! `PORTHOLE_BENCH_QUICK=1` shrinks the work (8 MiB, 200 files, 3 rounds) so CI can run it.
//! `PORTHOLE_BENCH_PROFILE=<contender>-<case>` (e.g. `porthole-small`, `native-lower-read`)
//! runs only that, for a profiler.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/common/reference.rs"]
mod reference;

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use porthole_wasi::{MountSource, MountSpec, Namespace, Overlay, Stdio, WasiHost};

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

const BLOCK: usize = 1 << 20;

fn write_blocks(path: &Path, mib: usize) {
    let block = vec![0x5au8; BLOCK];
    let mut f = fs::File::create(path).unwrap();
    for _ in 0..mib {
        f.write_all(&block).unwrap();
    }
}

/// Reads `path` to its end in 1 MiB blocks; the bytes read.
fn read_blocks(path: &Path) -> usize {
    let mut f = fs::File::open(path).unwrap();
    let mut buf = vec![0u8; BLOCK];
    let mut total = 0;
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            return total;
        }
        total += std::hint::black_box(n);
    }
}

/// What `fsbench big` does.
fn native_big(path: &Path, big_mib: usize) {
    write_blocks(path, big_mib);
    assert_eq!(read_blocks(path), big_mib << 20);
}

/// What `fsbench small` does.
fn native_small(dir: &Path, small_files: usize) {
    for i in 0..small_files {
        let p = dir.join(format!("f{i}"));
        fs::File::create(&p).unwrap();
        fs::metadata(&p).unwrap();
        fs::remove_file(&p).unwrap();
    }
}

/// What `dd if=F of=F bs=1M conv=notrunc` does: each block read and written back in place.
fn native_rewrite(path: &Path) {
    let mut input = fs::File::open(path).unwrap();
    let mut output = fs::OpenOptions::new().write(true).open(path).unwrap();
    let mut buf = vec![0u8; BLOCK];
    loop {
        let n = input.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        output.write_all(&buf[..n]).unwrap();
    }
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

/// The directories the cases work in, all on one file system (under target/, not a tmpfs).
struct Dirs {
    /// The plain root of the first two cases.
    plain: PathBuf,
    /// The overlay's one lower layer: `big` and an empty directory `d`, never written.
    lower: PathBuf,
    /// The overlay's upper, emptied before each run, as a fresh container's.
    upper: PathBuf,
    /// A plain copy of `lower`, for native and wasmtime-wasi.
    flat: PathBuf,
    /// The empty directory under the overlay's `/dev`.
    empty: PathBuf,
}

impl Dirs {
    fn make(base: &Path, big_mib: usize) -> Self {
        let _ = fs::remove_dir_all(base);
        let d = |name: &str| {
            let p = base.join(name);
            fs::create_dir_all(&p).unwrap();
            p.canonicalize().unwrap()
        };
        let dirs = Self { plain: d("plain"), lower: d("lower"), upper: d("upper"), flat: d("flat"), empty: d("empty") };
        for layer in [&dirs.lower, &dirs.flat] {
            write_blocks(&layer.join("big"), big_mib);
            fs::create_dir(layer.join("d")).unwrap();
        }
        rustix::fs::sync();
        dirs
    }

    /// Back to the state each run starts from: an empty upper, no large file in the plain
    /// root, nothing dirty in the page cache (otherwise the next writer pays for the last
    /// one's writeback).
    fn reset(&self) {
        let _ = fs::remove_file(self.plain.join("big"));
        fs::remove_dir_all(&self.upper).unwrap();
        fs::create_dir(&self.upper).unwrap();
        rustix::fs::sync();
    }

    /// A container's root: the empty upper over the lower, and a `/dev` for `dd of=/dev/null`.
    fn overlay(&self) -> Namespace {
        let root = Overlay::new(common::open_dir(&self.upper), vec![common::open_dir(&self.lower)]).unwrap();
        let dev = MountSpec {
            guest_path: "/dev".into(),
            source: MountSource::Devices { empty: common::open_dir(&self.empty) },
            readonly: true,
            quota: None,
        };
        Namespace::with_root(MountSource::Overlay(root), false, vec![dev]).unwrap()
    }
}

/// Runs `wasm` with `args` (after its name) in `ns`, stdout discarded; asserts it exited 0.
fn porthole(wasm: &str, args: &[&str], ns: Namespace) {
    let name = Path::new(wasm).file_stem().unwrap().to_string_lossy().into_owned();
    let host = WasiHost::builder(ns).arg(name).args(args.iter().copied()).stdio(Stdio::default()).build().unwrap();
    let exit = common::runtime().run(&common::program(wasm), host, &porthole_runtime::Limits::default()).unwrap();
    assert_eq!(exit, porthole_runtime::Exit::Code(0), "{wasm} {args:?}");
}

fn wasmtime(wasm: &str, args: &[&str], dir: &Path) {
    assert_eq!(reference::run_quiet(wasm, args, dir), 0, "{wasm} {args:?} under wasmtime-wasi");
}

/// One contender's run of a case.
type Run<'a> = Box<dyn Fn() + 'a>;

/// One case: its key (for `PORTHOLE_BENCH_PROFILE`), its name, and how each of the
/// [`CONTENDERS`] does it (wasmtime-wasi cannot run a guest that imports Porthole's own calls).
struct Case<'a> {
    key: &'static str,
    name: String,
    runs: [Option<Run<'a>>; 3],
}

const CONTENDERS: [&str; 3] = ["native", "porthole", "wasmtime-wasi"];

fn cases<'a>(dirs: &'a Dirs, big_mib: usize, small_files: usize) -> Vec<Case<'a>> {
    use porthole_guests::{FSBENCH, USERLAND};
    let mib = big_mib.to_string();
    let n = small_files.to_string();
    let big = |path: &str| ["big".to_string(), path.to_string(), mib.clone()];
    let small = |dir: &str| ["small".to_string(), dir.to_string(), n.clone()];
    let plain = |args: [String; 3]| {
        let (p, w) = (args.clone(), args);
        let plain = &dirs.plain;
        (
            Box::new(move || {
                porthole(
                    FSBENCH,
                    &p.each_ref().map(String::as_str),
                    Namespace::new(common::open_dir(plain), false, vec![]).unwrap(),
                )
            }) as Run<'a>,
            Some(Box::new(move || wasmtime(FSBENCH, &w.each_ref().map(String::as_str), plain)) as Run<'a>),
        )
    };
    // A guest through the overlay, and the same guest under wasmtime-wasi on the flat copy.
    let layered = |wasm: &'static str, args: Vec<String>| {
        let w = args.clone();
        let flat = &dirs.flat;
        (
            Box::new(move || porthole(wasm, &args.iter().map(String::as_str).collect::<Vec<_>>(), dirs.overlay()))
                as Run<'a>,
            Some(Box::new(move || wasmtime(wasm, &w.iter().map(String::as_str).collect::<Vec<_>>(), flat)) as Run<'a>),
        )
    };
    // The userland's `dd` in 1 MiB blocks (to `/dev/null` unless told: to stdout, the guest's
    // line-buffered stdout would search each block for a newline); it imports Porthole's own
    // calls, which wasmtime-wasi lacks.
    let dd = |extra: &[&str]| {
        let mut args: Vec<String> = ["dd", "if=/big", "bs=1M", "status=none"].map(String::from).to_vec();
        args.extend(extra.iter().map(|s| s.to_string()));
        (layered(USERLAND, args).0, None)
    };
    let mut cases = Vec::new();
    let mut add = |key, name: String, native: Run<'a>, (porthole, wasmtime): (Run<'a>, Option<Run<'a>>)| {
        cases.push(Case { key, name, runs: [Some(native), Some(porthole), wasmtime] })
    };
    add(
        "big",
        format!("{big_mib} MiB written and read"),
        Box::new(move || native_big(&dirs.plain.join("big"), big_mib)),
        plain(big("/big")),
    );
    add(
        "small",
        format!("{small_files} small files"),
        Box::new(move || native_small(&dirs.plain, small_files)),
        plain(small("/")),
    );
    add(
        "lower-read",
        format!("overlay: {big_mib} MiB read from a lower layer"),
        Box::new(move || assert_eq!(read_blocks(&dirs.flat.join("big")), big_mib << 20)),
        dd(&["of=/dev/null", "conv=notrunc"]),
    );
    add(
        "copy-up-rewrite",
        format!("overlay: {big_mib} MiB lower file rewritten in place (copied up)"),
        Box::new(move || native_rewrite(&dirs.flat.join("big"))),
        dd(&["of=/big", "conv=notrunc"]),
    );
    add(
        "copy-up-truncate",
        format!("overlay: {big_mib} MiB lower file truncated, written and read"),
        Box::new(move || native_big(&dirs.flat.join("big"), big_mib)),
        layered(FSBENCH, big("/big").to_vec()),
    );
    add(
        "lower-small",
        format!("overlay: {small_files} small files in a lower directory"),
        Box::new(move || native_small(&dirs.flat.join("d"), small_files)),
        layered(FSBENCH, small("/d").to_vec()),
    );
    cases
}

fn main() {
    let Sizes { big_mib, small_files, runs } = sizes();
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-fs");
    let dirs = Dirs::make(&base, big_mib);
    let cases = cases(&dirs, big_mib, small_files);

    // Warm both module caches so compilation is not measured.
    common::program(porthole_guests::FSBENCH);
    common::program(porthole_guests::USERLAND);
    reference::run(porthole_guests::FSBENCH, &["small", "/", "1"], &dirs.plain);

    if let Ok(which) = std::env::var("PORTHOLE_BENCH_PROFILE") {
        for c in &cases {
            for (who, run) in CONTENDERS.iter().zip(&c.runs) {
                if let Some(run) = run.as_ref().filter(|_| which == format!("{who}-{}", c.key)) {
                    for _ in 0..runs {
                        dirs.reset();
                        println!("{which}: {:.3} s", timed(run).as_secs_f64());
                    }
                }
            }
        }
        return;
    }
    // Rounds interleave the contenders so drift in the machine's load hits all alike, and
    // each round starts with another one: the first run after a case's files were deleted
    // shares the disk with their discard (ext4 mounted with `discard`).
    // Every run, for the best and the medians: case × contender.
    let mut all: Vec<[Vec<Duration>; 3]> = cases.iter().map(|_| Default::default()).collect();
    for round in 0..runs {
        for (c, times) in cases.iter().zip(&mut all) {
            for i in (0..CONTENDERS.len()).map(|i| (i + round) % CONTENDERS.len()) {
                if let Some(run) = &c.runs[i] {
                    dirs.reset();
                    times[i].push(timed(run));
                }
            }
        }
    }
    // Fixed cost of a run (instantiate, start, exit), to read the figures above against.
    let startup = (0..runs)
        .map(|_| {
            let ns = Namespace::new(common::open_dir(&dirs.plain), false, vec![]).unwrap();
            timed(|| porthole(porthole_guests::FSBENCH, &["small", "/", "0"], ns))
        })
        .min()
        .unwrap();
    let _ = fs::remove_dir_all(&base);
    if let Some(path) = std::env::var_os("PORTHOLE_BENCH_JSON") {
        let json: Vec<serde_json::Value> = cases
            .iter()
            .zip(&all)
            .map(|(c, times)| {
                let mut case = serde_json::json!({"name": c.name});
                for (who, t) in CONTENDERS.iter().zip(times).filter(|(_, t)| !t.is_empty()) {
                    case[*who] = median(t.clone()).into();
                }
                case
            })
            .collect();
        let json = serde_json::json!({"runs": runs, "cases": json});
        fs::write(path, serde_json::to_vec_pretty(&json).unwrap()).unwrap();
    }

    println!("porthole start-to-exit of the same guest doing nothing: {:.2} ms", startup.as_secs_f64() * 1e3);
    println!("best of {runs}; time as a multiple of native's (below 1 = faster than native)");
    for (c, times) in cases.iter().zip(&all) {
        println!("{}", c.name);
        let best: Vec<Option<f64>> = times.iter().map(|t| t.iter().min().map(Duration::as_secs_f64)).collect();
        let native = best[0].unwrap();
        for (who, b) in CONTENDERS.iter().zip(&best) {
            match b {
                Some(b) => println!("  {who:<14} {b:>8.3} s  time {:.2} x native", b / native),
                None => println!("  {who:<14} (cannot run this guest)"),
            }
        }
    }
}
