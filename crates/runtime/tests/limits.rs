//! Limits and control: stop by epoch interruption (a spinning guest, a sleeping guest), memory
//! caps and every failed memory growth reported as out of memory, the descriptor cap, and bad
//! modules refused with a clear error — all while other guests keep running.

mod common;

use std::time::{Duration, Instant};

use porthole_runtime::{Exit, Limits, LoadError};
use porthole_wasi::StopSignal;

fn empty_root() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Starts `hog <args>` on a thread, requests a stop after `after`, and returns how it ended and
/// how long the stop took to land.
fn stop_after(args: &'static [&'static str], after: Duration) -> (Exit, Duration) {
    let root = empty_root();
    let signal = StopSignal::default();
    let stopper = common::runtime().stopper_for(&signal);
    let ns = common::namespace(root.path(), &[]);
    let guest = std::thread::spawn(move || {
        let (_, exit) = common::run_with(porthole_guests::HOG, args, ns, |b| b.stop_signal(signal), &Limits::default());
        (exit, Instant::now())
    });
    std::thread::sleep(after);
    let requested = Instant::now();
    stopper.stop();
    let (exit, ended) = guest.join().unwrap();
    (exit, ended.saturating_duration_since(requested))
}

#[test]
fn spinning_guest_stops_within_a_second() {
    let (exit, took) = stop_after(&["spin"], Duration::from_millis(300));
    assert_eq!(exit, Exit::Stopped);
    assert!(took < Duration::from_secs(1), "stop took {took:?}");
}

#[test]
fn sleeping_guest_stops_within_a_second() {
    let (exit, took) = stop_after(&["sleep", "3600"], Duration::from_millis(300));
    assert_eq!(exit, Exit::Stopped);
    assert!(took < Duration::from_secs(1), "stop took {took:?}");
}

#[test]
fn memory_eater_is_stopped_at_its_cap_while_others_run() {
    let root = empty_root();
    let limits = Limits { memory_bytes: Some(64 << 20) };
    let ns = common::namespace(root.path(), &[]);
    let eater = std::thread::spawn(move || common::run_with(porthole_guests::HOG, &["eat"], ns, |b| b, &limits));
    // Another guest on the same runtime, at the same time, is unaffected.
    let other_root = empty_root();
    let lines = common::probe(&["write /x fine", "read /x"], other_root.path(), &[]);
    assert_eq!(lines, ["write /x fine => ok", "read /x => ok \"fine\""]);
    let (out, exit) = eater.join().unwrap();
    assert_eq!(exit, Exit::OutOfMemory, "{out}");
    assert!(out.contains("eating"));
}

/// Runs a hand-written module under `limits` and gives how it ended.
fn run_wat(wat: &str, limits: &Limits) -> Exit {
    let program = common::runtime().load(wat.as_bytes()).unwrap();
    let root = empty_root();
    let host = porthole_wasi::WasiHost::builder(common::namespace(root.path(), &[])).arg("grow").build().unwrap();
    common::runtime().run(&program, host, limits).unwrap()
}

/// A `memory.grow` that fails for any reason is out of memory, not a trap or a -1 the guest
/// might ignore: past the module's own maximum, past wasm32's 4 GiB (even with a larger cap),
/// and past the default cap when none is given.
#[test]
fn every_failed_memory_growth_is_out_of_memory() {
    let grow = |memory: &str, pages: u32| {
        format!(
            r#"(module (memory (export "memory") {memory})
                (func (export "_start") (drop (memory.grow (i32.const {pages})))))"#
        )
    };
    let huge = Limits { memory_bytes: Some(usize::MAX) };
    assert_eq!(run_wat(&grow("1 2", 10), &huge), Exit::OutOfMemory, "past the declared maximum");
    assert_eq!(run_wat(&grow("1", 70_000), &huge), Exit::OutOfMemory, "past wasm32's 4 GiB");
    let default_pages = (Limits::DEFAULT_MEMORY_BYTES >> 16) as u32;
    assert_eq!(run_wat(&grow("1", default_pages), &Limits::default()), Exit::OutOfMemory, "past the default cap");
    assert_eq!(run_wat(&grow("1", default_pages - 1), &Limits::default()), Exit::Code(0), "up to the default cap");
    assert_eq!(Limits::with_memory(Some(64 << 20)).memory_bytes, Some(64 << 20));
}

#[test]
fn descriptor_cap_gives_emfile() {
    let root = empty_root();
    let ns = common::namespace(root.path(), &[]);
    let (out, exit) = common::run_with(porthole_guests::HOG, &["fds", "/"], ns, |b| b.max_fds(64), &Limits::default());
    assert_eq!(exit, Exit::Code(0));
    // 64 minus stdio and the root preopen.
    assert_eq!(out.trim(), "opened 60 then Uncategorized errno=Some(33)");
}

#[test]
fn exit_code_is_reported() {
    let root = empty_root();
    let (_, exit) = common::run(porthole_guests::HOG, &["exit", "42"], root.path(), &[]);
    assert_eq!(exit, Exit::Code(42));
}

fn load_error(bytes: &[u8]) -> String {
    match common::runtime().load(bytes) {
        Ok(_) => panic!("loaded"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_modules_are_refused_with_clear_errors() {
    assert_eq!(load_error(b"#!/bin/sh\necho hi\n"), "not a WebAssembly module (no \\0asm header)");
    assert!(load_error(b"\0asm\x01\0\0\0\x7f\x7f\x7f").starts_with("invalid WebAssembly module"));
    assert_eq!(
        load_error(b"\0asm\x0d\0\x01\0"),
        "this is a WebAssembly component (WASI preview 2); Porthole runs preview 1 modules (wasm32-wasip1)"
    );
    let unknown = load_error(
        br#"(module (import "env" "launch_missiles" (func)) (memory (export "memory") 1) (func (export "_start")))"#,
    );
    assert!(
        unknown.starts_with("module cannot run under WASI preview 1:") && unknown.contains("launch_missiles"),
        "{unknown}"
    );
    let wrong_sig = load_error(br#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32))) (memory (export "memory") 1) (func (export "_start")))"#);
    assert!(wrong_sig.contains("fd_write"), "{wrong_sig}");
    assert_eq!(
        load_error(br#"(module (memory (export "memory") 1))"#),
        "module has no `_start` export: it is a library, not a WASI command"
    );
    assert!(matches!(common::runtime().load(b""), Err(LoadError::NotWasm)));
    // wasmtime's own error stays the source, for callers that walk the chain.
    match common::runtime().load(b"\0asm\x01\0\0\0\x7f\x7f\x7f") {
        Err(e @ LoadError::Invalid(_)) => assert!(std::error::Error::source(&e).is_some()),
        other => panic!("{:?}", other.err()),
    }
}

/// A hand-written guest that passes wild pointers and lengths to the host and exits with the
/// sum of the errnos it got back: every call must answer EFAULT (21), none may crash the host.
#[test]
fn wild_pointers_get_efault() {
    let wat = br#"(module
        (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_readdir" (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
        (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (memory (export "memory") 1)
        (data (i32.const 0) "\f0\ff\00\00\ff\ff\00\00")
        (func (export "_start")
            (local $sum i32)
            ;; an iovec pointing past the end of memory
            (local.set $sum (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 64)))
            ;; an iovec array that is itself out of range
            (local.set $sum (i32.add (local.get $sum) (call $fd_write (i32.const 1) (i32.const -8) (i32.const 4) (i32.const 64))))
            ;; a path pointer/length beyond memory
            (local.set $sum (i32.add (local.get $sum) (call $path_open (i32.const 3) (i32.const 0) (i32.const 65000) (i32.const 9999) (i32.const 0) (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 64))))
            ;; result pointer out of range
            (local.set $sum (i32.add (local.get $sum) (call $args_get (i32.const -4) (i32.const -4))))
            (local.set $sum (i32.add (local.get $sum) (call $fd_readdir (i32.const 3) (i32.const 65530) (i32.const 4096) (i64.const 0) (i32.const 64))))
            (local.set $sum (i32.add (local.get $sum) (call $poll (i32.const 65500) (i32.const 0) (i32.const 100) (i32.const 64))))
            (call $exit (local.get $sum))))"#;
    let program = common::runtime().load(wat).unwrap();
    let root = empty_root();
    let host = porthole_wasi::WasiHost::builder(common::namespace(root.path(), &[])).arg("wild").build().unwrap();
    let exit = common::runtime().run(&program, host, &Limits::default()).unwrap();
    assert_eq!(exit, Exit::Code(6 * 21));
}

/// Absurd flags, rights, whence values and lengths from a hand-written guest: each call gets an
/// errno back (the guest exits with how many calls failed), and the host never panics.
#[test]
fn absurd_flags_and_lengths_get_errnos() {
    let wat = br#"(module
        (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_advise" (func $fd_advise (param i32 i64 i64 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $set_flags (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_fdstat_set_rights" (func $set_rights (param i32 i64 i64) (result i32)))
        (import "wasi_snapshot_preview1" "path_filestat_set_times" (func $set_times (param i32 i32 i32 i32 i64 i64 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_allocate" (func $allocate (param i32 i64 i64) (result i32)))
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (memory (export "memory") 1)
        (data (i32.const 0) "f")
        (func $failed (param i32) (result i32) (i32.ne (local.get 0) (i32.const 0)))
        (func (export "_start")
            (local $n i32)
            ;; every oflag and fdflag bit set, all rights
            (local.set $n (call $failed (call $path_open (i32.const 3) (i32.const -1) (i32.const 0) (i32.const 1) (i32.const 0xffff) (i64.const -1) (i64.const -1) (i32.const 0xffff) (i32.const 64))))
            ;; a path length of 4 GiB - 1
            (local.set $n (i32.add (local.get $n) (call $failed (call $path_open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const -1) (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 64)))))
            ;; whence 99 and a seek on a directory
            (local.set $n (i32.add (local.get $n) (call $failed (call $fd_seek (i32.const 3) (i64.const -9223372036854775808) (i32.const 99) (i32.const 64)))))
            ;; advice 200 on a descriptor that does not exist
            (local.set $n (i32.add (local.get $n) (call $failed (call $fd_advise (i32.const 4000) (i64.const -1) (i64.const -1) (i32.const 200)))))
            ;; sync flags cannot be set after open
            (local.set $n (i32.add (local.get $n) (call $failed (call $set_flags (i32.const 3) (i32.const 0xffff)))))
            ;; rights cannot grow
            (local.set $n (i32.add (local.get $n) (call $failed (call $set_rights (i32.const 3) (i64.const -1) (i64.const -1)))))
            ;; both "set" and "now" for a time
            (local.set $n (i32.add (local.get $n) (call $failed (call $set_times (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 1) (i64.const -1) (i64.const -1) (i32.const 0xf)))))
            ;; allocate on a directory, past any size
            (local.set $n (i32.add (local.get $n) (call $failed (call $allocate (i32.const 3) (i64.const -1) (i64.const -1)))))
            (call $exit (local.get $n))))"#;
    let program = common::runtime().load(wat).unwrap();
    let root = empty_root();
    let host = porthole_wasi::WasiHost::builder(common::namespace(root.path(), &[])).arg("absurd").build().unwrap();
    let exit = common::runtime().run(&program, host, &Limits::default()).unwrap();
    assert_eq!(exit, Exit::Code(8), "every call must fail with an errno");
}

/// A volume's disk quota: a write past it writes what fits and then fails with `ENOSPC`, as a
/// full disk would, and so does growing a file by truncation; truncating and removing give the
/// space back; hard links are counted once;
/// other mounts are not limited.
#[test]
fn disk_quota_gives_enospc_and_frees_on_delete() {
    use std::sync::Arc;
    let root = empty_root();
    let vol = empty_root();
    let quota = Arc::new(porthole_wasi::Quota::new(10, 0));
    let specs =
        vec![porthole_wasi::MountSpec::dir("/v", common::open_dir(vol.path()), false).with_quota(Some(quota.clone()))];
    let ns = porthole_wasi::Namespace::new(common::open_dir(root.path()), false, specs).unwrap();
    let script = [
        "write /v/a 0123456789abc",
        "read /v/a",
        "write /v/b x",
        "truncate /v/a 4",
        "append /v/b 123456",
        "append /v/b 7",
        "link /v/b /v/c",
        "rm /v/b",
        "append /v/c 7",
        "rm /v/a",
        "append /v/c 7890",
        "append /v/c !",
        "truncate /v/c 11",
        "write /big 0123456789abcdefghij",
    ];
    let (out, exit) = common::run_with(porthole_guests::PROBE, &script, ns, |b| b, &Limits::default());
    assert_eq!(exit, Exit::Code(0), "{out}");
    let expect = [
        "write /v/a 0123456789abc => err ENOSPC",
        "read /v/a => ok \"0123456789\"",
        "write /v/b x => err ENOSPC",
        "truncate /v/a 4 => ok",
        "append /v/b 123456 => ok",
        "append /v/b 7 => err ENOSPC",
        "link /v/b /v/c => ok",
        "rm /v/b => ok",
        "append /v/c 7 => err ENOSPC",
        "rm /v/a => ok",
        "append /v/c 7890 => ok",
        "append /v/c ! => err ENOSPC",
        "truncate /v/c 11 => err ENOSPC",
        "write /big 0123456789abcdefghij => ok",
    ];
    assert_eq!(out.lines().collect::<Vec<_>>(), expect);
    assert_eq!(std::fs::read_to_string(vol.path().join("c")).unwrap(), "1234567890");
    assert_eq!(quota.used(), 10);
    assert_eq!(porthole_wasi::measure(&common::open_dir(vol.path())), 10);
}

/// Guests drawing on one small descriptor budget at once: each is stopped by `EMFILE` (its
/// share) or `ENFILE` (the budget gone), never more than the budget is handed out, and all of
/// it comes back when they end.
#[test]
fn descriptor_budget_is_shared_and_returned() {
    let budget = porthole_wasi::FdBudget::new(100);
    let guests: Vec<_> = (0..4)
        .map(|_| {
            let budget = budget.clone();
            std::thread::spawn(move || {
                let root = empty_root();
                let ns = common::namespace(root.path(), &[]);
                common::run_with(
                    porthole_guests::HOG,
                    &["fds", "/", "1000"],
                    ns,
                    |b| b.fd_budget(budget),
                    &Limits::default(),
                )
            })
        })
        .collect();
    let mut opened = 0;
    let mut outs = Vec::new();
    for g in guests {
        let (out, exit) = g.join().unwrap();
        outs.push(out.clone());
        assert_eq!(exit, Exit::Code(0), "{out}");
        let (n, errno) = out.trim().strip_prefix("opened ").unwrap().split_once(" then Uncategorized errno=").unwrap();
        assert!(["Some(33)", "Some(41)"].contains(&errno), "{out}");
        opened += n.parse::<usize>().unwrap();
    }
    assert!(opened <= 100, "{opened} descriptors handed out of 100: {outs:?}");
    assert_eq!(budget.in_use(), 0);
    // Alone, a guest may use the whole budget again.
    let root = empty_root();
    let ns = common::namespace(root.path(), &[]);
    let (out, _) =
        common::run_with(porthole_guests::HOG, &["fds", "/"], ns, |b| b.fd_budget(budget.clone()), &Limits::default());
    assert_eq!(out.trim(), "opened 100 then Uncategorized errno=Some(33)");
}
