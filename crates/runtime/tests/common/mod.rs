//! Shared harness for the runtime's integration tests: one runtime with the module cache shared
//! by every test binary (under `target/`), and helpers to run a guest over real directories.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use porthole_runtime::{Exit, Limits, Program, Runtime, RuntimeConfig};
use porthole_wasi::cap_std::{ambient_authority, fs::Dir};
use porthole_wasi::{MountSpec, Namespace, Stdio, WasiHost};

/// The module cache every test binary shares, so each guest is compiled once per build.
pub fn module_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/module-cache")
}

pub fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| Runtime::new(RuntimeConfig { module_cache: Some(module_cache_dir()) }).unwrap())
}

pub fn program(wasm: &str) -> Program {
    static PROGRAMS: OnceLock<Mutex<std::collections::HashMap<String, Program>>> = OnceLock::new();
    let map = PROGRAMS.get_or_init(Default::default);
    if let Some(p) = map.lock().unwrap().get(wasm) {
        return p.clone();
    }
    let p = runtime().load_file(Path::new(wasm)).expect("guest loads");
    map.lock().unwrap().insert(wasm.to_string(), p.clone());
    p
}

/// A `Write` whose bytes the test can read after the guest ends.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

pub fn open_dir(p: &Path) -> Dir {
    Dir::open_ambient_dir(p, ambient_authority()).unwrap_or_else(|e| panic!("open {}: {e}", p.display()))
}

/// A mount for [`run`]: guest path, host directory, read-only.
pub type M<'a> = (&'a str, &'a Path, bool);

pub fn namespace(root: &Path, mounts: &[M<'_>]) -> Namespace {
    let specs = mounts.iter().map(|(g, h, ro)| MountSpec::dir(*g, open_dir(h), *ro)).collect();
    Namespace::new(open_dir(root), false, specs).unwrap()
}

/// Runs `wasm` with `args` over `root` and `mounts`; returns stdout and how it ended.
pub fn run(wasm: &str, args: &[&str], root: &Path, mounts: &[M<'_>]) -> (String, Exit) {
    run_with(wasm, args, namespace(root, mounts), |b| b, &Limits::default())
}

pub fn run_with(
    wasm: &str,
    args: &[&str],
    ns: Namespace,
    configure: impl FnOnce(porthole_wasi::WasiHostBuilder) -> porthole_wasi::WasiHostBuilder,
    limits: &Limits,
) -> (String, Exit) {
    let out = Captured::default();
    let stdio = Stdio { stdout: Box::new(out.clone()), stderr: Box::new(std::io::stderr()), ..Stdio::default() };
    let name = Path::new(wasm).file_stem().unwrap().to_string_lossy().into_owned();
    let builder = WasiHost::builder(ns).arg(name).args(args.iter().copied()).stdio(stdio);
    let host = configure(builder).build().unwrap();
    let exit = runtime().run(&program(wasm), host, limits).unwrap();
    (out.text(), exit)
}

/// Runs the probe and returns its output lines, asserting it exited 0.
pub fn probe(args: &[&str], root: &Path, mounts: &[M<'_>]) -> Vec<String> {
    let (out, exit) = run(porthole_guests::PROBE, args, root, mounts);
    assert_eq!(exit, Exit::Code(0), "probe output:\n{out}");
    out.lines().map(str::to_string).collect()
}

/// Runs the probe and checks each line against `expect` (`op => result`, one per op).
pub fn check_probe(root: &Path, mounts: &[M<'_>], expect: &[(&str, &str)]) {
    let args: Vec<&str> = expect.iter().map(|(op, _)| *op).collect();
    let lines = probe(&args, root, mounts);
    let want: Vec<String> = expect.iter().map(|(op, r)| format!("{op} => {r}")).collect();
    assert_eq!(lines, want);
}

/// Finds programs as `execvp` would with `PATH=/bin` and loads whatever module is there: the
/// launcher a container's process table is given, without the engine's `#!` handling.
pub struct BinLauncher;

impl porthole_runtime::Launcher for BinLauncher {
    fn launch(
        &self,
        tree: &porthole_runtime::GuestTree,
        program: &str,
        argv: &[String],
        _env: &[String],
    ) -> Result<(Program, Vec<String>), porthole_runtime::LaunchError> {
        use porthole_runtime::LaunchError;
        use std::io::Read;
        let path = if program.contains('/') { program.to_string() } else { format!("/bin/{program}") };
        let mut f = tree.open_file(&path).map_err(|e| LaunchError::NotFound(e.to_string()))?;
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).map_err(|e| LaunchError::NotExecutable(e.to_string()))?;
        let program = runtime().load(&bytes).map_err(|e| LaunchError::NotExecutable(e.to_string()))?;
        Ok((program, argv.to_vec()))
    }
}

/// A `/bin` in `dir` as the base image lays one out for the programs a test names: the toolbox
/// (`busybox`) for its applets, the userland for the rest, one hard link per name.
pub fn base_bin(dir: &Path, toolbox: &[&str], userland: &[&str]) {
    std::fs::create_dir_all(dir).unwrap();
    for (wasm, names) in [(porthole_guests::BUSYBOX, toolbox), (porthole_guests::USERLAND, userland)] {
        let main = dir.join(Path::new(wasm).file_name().unwrap());
        std::fs::copy(wasm, &main).unwrap();
        for name in names {
            std::fs::hard_link(&main, dir.join(name)).unwrap();
        }
    }
}

/// Runs `argv` as pid 1 of a container over `tree`, with a process table whose programs come
/// from the tree's `/bin`; its stdout and how it ended.
pub fn run_in_container(tree: porthole_runtime::GuestTree, argv: &[&str]) -> (String, Exit) {
    use porthole_runtime::Launcher;
    let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
    let (program, argv) = BinLauncher.launch(&tree, &argv[0], &argv, &[]).unwrap();
    let usage = Arc::new(porthole_runtime::Usage::default());
    let limits = Limits::default();
    let table =
        porthole_runtime::Processes::new(runtime(), Arc::new(BinLauncher), limits.clone(), Some(usage.clone()), None);
    let out = Captured::default();
    let stdio = Stdio { stdout: Box::new(out.clone()), stderr: Box::new(std::io::stderr()), ..Stdio::default() };
    let guest = porthole_runtime::GuestSpec {
        args: argv,
        env: vec!["PATH=/bin".into()],
        stdio,
        stopper: Some(runtime().stopper()),
        processes: Some(table),
        usage: Some(usage),
        ..porthole_runtime::GuestSpec::new(tree)
    }
    .prepare()
    .unwrap();
    let exit = runtime().run(&program, guest, &limits).unwrap();
    (out.text(), exit)
}
