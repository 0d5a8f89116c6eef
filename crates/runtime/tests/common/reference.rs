//! The reference host: wasmtime-wasi's own preview1 implementation with a single preopen, for
//! differential tests and the benchmark. Compiled once per test binary.

use std::path::Path;
use std::sync::OnceLock;

use wasmtime::{Engine, Linker, Module, Store};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    // Epoch interruption ends a case that runs past its time limit (see `run_case`).
    E.get_or_init(|| Engine::new(wasmtime::Config::new().epoch_interruption(true)).unwrap())
}

fn module(wasm: &str) -> Module {
    static MODULES: OnceLock<std::sync::Mutex<std::collections::HashMap<String, Module>>> = OnceLock::new();
    let map = MODULES.get_or_init(Default::default);
    let mut map = map.lock().unwrap();
    map.entry(wasm.to_string()).or_insert_with(|| Module::from_file(engine(), wasm).unwrap()).clone()
}

/// Runs `wasm` under wasmtime-wasi with `host_dir` preopened as `/`; returns stdout and the
/// exit code
/// (-1 for a trap).
#[allow(dead_code)]
pub fn run(wasm: &str, args: &[&str], host_dir: &Path) -> (String, i32) {
    let stdout = MemoryOutputPipe::new(16 << 20);
    let code = run_to(wasm, args, host_dir, stdout.clone());
    (String::from_utf8_lossy(&stdout.contents()).into_owned(), code)
}

/// [`run`] with stdout discarded, for a guest that writes more than a pipe would hold (the
/// benchmark's reads to stdout); the exit code.
#[allow(dead_code)]
pub fn run_quiet(wasm: &str, args: &[&str], host_dir: &Path) -> i32 {
    run_to(wasm, args, host_dir, wasmtime_wasi::p2::pipe::SinkOutputStream)
}

fn run_to(wasm: &str, args: &[&str], host_dir: &Path, stdout: impl wasmtime_wasi::cli::StdoutStream + 'static) -> i32 {
    let mut linker: Linker<WasiP1Ctx> = Linker::new(engine());
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |t| t).unwrap();
    let name = Path::new(wasm).file_stem().unwrap().to_string_lossy().into_owned();
    let mut b = WasiCtxBuilder::new();
    // The guest's stderr is not shown: under wasmtime-wasi some guests fail by design (see
    // the differential tests), and their panic messages would read as test failures.
    b.arg(name).args(args).stdout(stdout);
    b.preopened_dir(host_dir, "/", FsPerms::ReadWrite).unwrap();
    let mut store = Store::new(engine(), b.build_p1());
    store.epoch_deadline_callback(|_| Ok(wasmtime::UpdateDeadline::Continue(1)));
    let instance = linker.instantiate(&mut store, &module(wasm)).unwrap();
    let start = instance.get_typed_func::<(), ()>(&mut store, "_start").unwrap();
    match start.call(&mut store, ()) {
        Ok(()) => 0,
        // A trap (a Rust guest's panic aborts) is reported as -1.
        Err(e) => e.downcast_ref::<I32Exit>().map(|e| e.0).unwrap_or(-1),
    }
}

/// Runs a conformance-suite case under wasmtime-wasi as its own runner would: `root` (if any)
/// preopened as `/`, only `env` in the environment, stdin empty. Returns the exit code (or why
/// it trapped), stdout and stderr.
#[allow(dead_code)]
pub fn run_case(
    wasm: &Path,
    args: &[String],
    env: &[(String, String)],
    root: Option<&Path>,
    timeout: std::time::Duration,
) -> (Result<i32, String>, String, String) {
    let mut linker: Linker<WasiP1Ctx> = Linker::new(engine());
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |t| t).unwrap();
    let (stdout, stderr) = (MemoryOutputPipe::new(16 << 20), MemoryOutputPipe::new(16 << 20));
    let mut b = WasiCtxBuilder::new();
    b.arg(wasm.file_name().unwrap().to_string_lossy()).args(args).stdout(stdout.clone()).stderr(stderr.clone());
    for (k, v) in env {
        b.env(k, v);
    }
    if let Some(root) = root {
        b.preopened_dir(root, "/", FsPerms::ReadWrite).unwrap();
    }
    let mut store = Store::new(engine(), b.build_p1());
    // Other cases share the engine's epoch, so each store ends only on its own deadline.
    let deadline = std::time::Instant::now() + timeout;
    store.epoch_deadline_callback(move |_| {
        if std::time::Instant::now() > deadline {
            Err(wasmtime::Error::msg(format!("timed out after {timeout:?}")))
        } else {
            Ok(wasmtime::UpdateDeadline::Continue(1))
        }
    });
    let (done, timer) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        while timer.recv_timeout(std::time::Duration::from_millis(100))
            == Err(std::sync::mpsc::RecvTimeoutError::Timeout)
        {
            engine().increment_epoch();
        }
    });
    let exit = match linker.instantiate(&mut store, &module(&wasm.to_string_lossy())) {
        Err(e) => Err(format!("{e}")),
        Ok(instance) => {
            let start = instance.get_typed_func::<(), ()>(&mut store, "_start").unwrap();
            match start.call(&mut store, ()) {
                Ok(()) => Ok(0),
                Err(e) => e.downcast_ref::<I32Exit>().map(|e| e.0).ok_or_else(|| format!("{e}")),
            }
        }
    };
    drop(done);
    watchdog.join().unwrap();
    let text = |p: &MemoryOutputPipe| String::from_utf8_lossy(&p.contents()).into_owned();
    (exit, text(&stdout), text(&stderr))
}
