//! The official WASI preview1 conformance suite (WebAssembly/wasi-testsuite, 72 modules in
//! `../shared/wasi-testsuite`) through Porthole's WASI host, each case with its spec's args and
//! env and a fresh copy of its fixture as `/`, judged as the official runner judges. The only
//! cases allowed to fail are listed, with their reasons, in
//! `tests/wasi-testsuite-expectations.txt`; a listed case that passes fails this test too.
//!
//! The same modules also run under wasmtime-wasi, and the two hosts must answer alike (exit
//! code, stdout, stderr) except where the expectations file says why not (`differential`), or
//! where a case's output varies between runs of one host (`varying`: exit codes only).

mod common;
#[path = "common/reference.rs"]
mod reference;
#[path = "common/suite.rs"]
mod suite;

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use common::Captured;
use porthole_runtime::{Exit, Limits};
use porthole_wasi::{Stdio, WasiHost};
use suite::{Case, Outcome};

/// The official runner's limit is 5 s; a loaded 2-core CI machine gets more.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Runs one case under Porthole's host, with `root` as `/`.
fn run_porthole(case: &Case, root: &Path) -> Outcome {
    let (out, err) = (Captured::default(), Captured::default());
    let stdio = Stdio { stdout: Box::new(out.clone()), stderr: Box::new(err.clone()), ..Stdio::default() };
    let name = case.wasm.file_name().unwrap().to_string_lossy().into_owned();
    let mut builder = WasiHost::builder(common::namespace(root, &[])).arg(name).args(&case.args).stdio(stdio);
    for (k, v) in &case.env {
        builder = builder.env(k, v);
    }
    let host = builder.build().unwrap();
    let stopper = common::runtime().stopper_for(host.stop_signal());
    let (done, timer) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if timer.recv_timeout(TIMEOUT).is_err() {
            stopper.stop();
        }
    });
    let program = common::runtime().load_file(&case.wasm).map_err(|e| e.to_string());
    let exit = match program {
        Ok(p) => match common::runtime().run(&p, host, &Limits::default()).unwrap() {
            Exit::Code(c) => Ok(c),
            Exit::Stopped => Err(format!("timed out after {TIMEOUT:?}")),
            other => Err(format!("{other:?}")),
        },
        Err(e) => Err(e),
    };
    drop(done);
    watchdog.join().unwrap();
    Outcome { exit, stdout: out.text(), stderr: err.text() }
}

/// Runs `f` over every case on two threads (the machine's cores), keeping the suite's order.
fn over_cases<T: Send>(cases: &[Case], f: impl Fn(&Case) -> T + Sync) -> Vec<T> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(case) = cases.get(i) else { break };
                    let r = f(case);
                    results.lock().unwrap().push((i, r));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

#[test]
fn the_official_suite_passes_under_porthole() {
    let Some(dir) = suite::suite_or_skip() else { return };
    let cases = suite::cases(&dir);
    assert_eq!(cases.len(), 72, "the suite has 72 preview1 tests");
    let results = over_cases(&cases, |case| {
        let fixture = suite::fixture(case);
        let outcome = run_porthole(case, fixture.path());
        (case.clone(), suite::verdict(case, &outcome))
    });
    suite::judge("porthole", &results, &suite::expectations("host"));
}

#[test]
fn porthole_and_wasmtime_wasi_answer_the_suite_alike() {
    let Some(dir) = suite::suite_or_skip() else { return };
    let cases = suite::cases(&dir);
    let varying = suite::expectations("varying");
    let results = over_cases(&cases, |case| {
        let mut ours = run_porthole(case, suite::fixture(case).path());
        let fixture = case.root.is_some().then(|| suite::fixture(case));
        let (exit, stdout, stderr) =
            reference::run_case(&case.wasm, &case.args, &case.env, fixture.as_ref().map(|f| f.path()), TIMEOUT);
        let mut theirs = Outcome { exit, stdout, stderr };
        if varying.contains_key(&case.id) {
            // Output that differs from run to run of the same host: only the exit code counts.
            for o in [&mut ours, &mut theirs] {
                (o.stdout, o.stderr) = (String::new(), String::new());
            }
        }
        let differs = (ours != theirs).then(|| format!("porthole {ours:?}\nwasmtime-wasi {theirs:?}"));
        (case.clone(), differs)
    });
    suite::judge("differential", &results, &suite::expectations("differential"));
}
