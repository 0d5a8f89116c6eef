//! The only crate that drives wasmtime: one `Engine` for the process, compiled modules cached
//! on disk, one `InstancePre` per program, a fresh `Store` per guest run, memory caps, and stop
//! by epoch interruption.
//!
//! Its interface is in its own terms, so that no other crate names the WASI host:
//! - [`GuestTree`]: a guest's file tree — a [`RootDesc`] and [`MountDesc`]s (a host directory
//!   or one host file at a guest path, read-only or not, under a [`Quota`]) — and the walk over
//!   it ([`GuestTree::resolve`] to a [`Resolved`] path in a mount, [`GuestTree::open_file`]),
//!   also used alone on a rootfs, build stage or context ([`GuestTree::of_dir`]).
//! - [`GuestSpec`]: the tree plus arguments, environment, [`Stdio`], listening sockets, a
//!   [`MutationObserver`], a [`Stopper`] and an [`FdBudget`]; [`GuestSpec::prepare`] builds the
//!   WASI host from it (a [`Guest`]), [`Runtime::run`] runs a [`Program`] in it.
//! - [`Runtime`]: loads programs (cached), makes [`Stopper`]s, runs guests under [`Limits`].
//!
//! The few WASI host types that are part of that interface as they are (the streams, `Quota`,
//! `FdBudget`, `Mutation` and `Walk` as the observer sees them, the walk's `Node`) are
//! re-exported from here.

mod bounded;
mod cache;
mod guest;
mod libc_cwd;
mod limits;
mod process;
mod usage;

use std::path::{Path, PathBuf};

use porthole_wasi::{GuestExit, StopSignal, Stopped, WasiHost};
use sha2::Digest;
use wasmtime::{Config, Engine, InstancePre, Linker, Module, Store, UpdateDeadline};

pub use bounded::BoundedCache;
pub use guest::{
    FdBudget, Guest, GuestSpec, GuestTree, Input, MAX_SYMLINK_HOPS, MountDesc, MountHost, Mutation, MutationKind,
    MutationObserver, NamespaceError, Node, Output, Quota, Resolved, RootDesc, Stdio, Trace, TreeEntry, Walk,
    WalkBreak, WalkEnd, WalkLink, WalkOp, guest_share_of, measure,
};
pub use limits::Limits;
use limits::MemoryLimiter;
/// The overlay's reserved names, for readers of a writable layer (`docker diff`).
pub use porthole_wasi::{OPAQUE, WHITEOUT_PREFIX, is_reserved};
/// The terminal a `-t` guest reads (see [`Input::Tty`]).
pub use porthole_wasi::{Tty, signal};
/// Modes as Porthole keeps them on host files (setuid and the like in an xattr), for layers
/// the engine writes or reads itself (image load and save).
pub use porthole_wasi::{apply_mode, mode_of};
pub use process::{DEFAULT_PIDS_LIMIT, LaunchError, Launcher, ProcessInfo, Processes};
pub use usage::{IoCounters, Usage};

/// How a guest run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// The guest returned from `_start` (0) or called `proc_exit`.
    Code(i32),
    /// Ended by a stop request (`docker stop`/`kill`), as by SIGKILL.
    Stopped,
    /// Ended by a signal it did not catch (`proc_kill`, Ctrl-C, `docker kill -s`, a write to
    /// a pipe nobody reads): status 128 + the signal.
    Signaled(u32),
    /// Tried to grow its memory past its cap.
    OutOfMemory,
    /// Trapped (a wasm trap or a host error), with the reason.
    Trap(String),
}

impl Exit {
    /// The status a shell or `docker` reports: the exit code, or 128 + the signal that ended
    /// the guest (a stop and running out of memory count as SIGKILL, a trap as SIGABRT).
    pub fn status(&self) -> i32 {
        match self {
            Exit::Code(c) => *c,
            Exit::Signaled(sig) => 128 + *sig as i32,
            Exit::Stopped | Exit::OutOfMemory => 128 + signal::KILL as i32,
            Exit::Trap(_) => 134,
        }
    }
}

/// Why a `.wasm` could not be made into a runnable program.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("not a WebAssembly module (no \\0asm header)")]
    NotWasm,
    #[error("this is a WebAssembly component (WASI preview 2); Porthole runs preview 1 modules (wasm32-wasip1)")]
    Component,
    /// wasmtime refused to compile it; the chain of causes is in the message.
    #[error("invalid WebAssembly module: {0:#}")]
    Invalid(#[source] wasmtime::Error),
    /// Its imports do not match the WASI preview 1 host (an unknown import, a wrong signature).
    #[error("module cannot run under WASI preview 1: {0:#}")]
    Link(#[source] wasmtime::Error),
    #[error("module has no `_start` export: it is a library, not a WASI command")]
    NoStart,
}

/// A failure of the runtime itself (not of a guest).
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("configuring wasmtime: {0:#}")]
    Engine(#[source] wasmtime::Error),
    #[error("instantiating guest: {0:#}")]
    Instantiate(#[source] wasmtime::Error),
}

/// Where compiled modules are cached; `None` compiles every time.
#[derive(Debug, Clone, Default)]
pub struct RuntimeConfig {
    pub module_cache: Option<PathBuf>,
}

pub struct GuestState {
    wasi: WasiHost,
    limiter: MemoryLimiter,
}

/// A compiled, linked program, ready to be instantiated any number of times.
#[derive(Clone)]
pub struct Program {
    pre: InstancePre<GuestState>,
    /// Where its wasi-libc keeps the working directory, if it can be handed one
    /// (`libc_cwd.rs`).
    cwd_slot: Option<u32>,
}

#[derive(Clone)]
pub struct Runtime {
    engine: Engine,
    linker: std::sync::Arc<Linker<GuestState>>,
    cache: Option<cache::ModuleCache>,
    /// Programs by the sha256 of their bytes: a binary copied into many containers is
    /// deserialized and linked once, and the cache stays bounded.
    loaded: std::sync::Arc<std::sync::Mutex<BoundedCache<[u8; 32], Program>>>,
}

/// How many distinct programs stay loaded.
const LOADED_PROGRAMS: usize = 64;

/// Stops one guest: sets its signal (seen by blocking host calls) and bumps the engine epoch
/// (seen by compiled code at its next loop back-edge or call).
#[derive(Clone)]
pub struct Stopper {
    signal: StopSignal,
    engine: Engine,
}

impl Stopper {
    pub fn stop(&self) {
        self.signal.request();
        self.engine.increment_epoch();
    }

    /// `docker pause`: the guest blocks at its next safepoint (a loop back-edge or call of its
    /// compiled code) and uses no CPU until [`Stopper::resume`]; a stop still ends it. A host
    /// call it is blocked in (a sleep, a read) finishes first, as a frozen process's would.
    pub fn pause(&self) {
        self.signal.set_paused(true);
        self.engine.increment_epoch();
    }

    pub fn resume(&self) {
        self.signal.set_paused(false);
    }

    pub fn is_paused(&self) -> bool {
        self.signal.is_paused()
    }

    /// Delivers `sig` (see Porthole's process interface): pending if the guest catches it,
    /// else the guest ends at its next safepoint with 128 + `sig`.
    pub fn send(&self, sig: u32) {
        if self.signal.deliver(sig) {
            self.engine.increment_epoch();
        }
    }
}

impl Runtime {
    pub fn new(config: RuntimeConfig) -> Result<Self, RuntimeError> {
        let mut cfg = Config::new();
        cfg.epoch_interruption(true);
        let engine = Engine::new(&cfg).map_err(RuntimeError::Engine)?;
        let mut linker = Linker::new(&engine);
        porthole_wasi::add_to_linker(&mut linker, |s: &mut GuestState| &mut s.wasi).map_err(RuntimeError::Engine)?;
        let cache = config.module_cache.map(|dir| cache::ModuleCache::new(dir, &engine));
        let loaded = std::sync::Arc::new(std::sync::Mutex::new(BoundedCache::new(LOADED_PROGRAMS)));
        Ok(Self { engine, linker: std::sync::Arc::new(linker), cache, loaded })
    }

    pub fn load_file(&self, path: &Path) -> Result<Program, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read { path: path.to_owned(), source })?;
        self.load(&bytes)
    }

    /// Compiles (or fetches from the cache) and links a WASI preview 1 command module.
    pub fn load(&self, bytes: &[u8]) -> Result<Program, LoadError> {
        check_header(bytes)?;
        let digest: [u8; 32] = sha2::Sha256::digest(bytes).into();
        if let Some(p) = self.loaded.lock().unwrap().get(&digest) {
            return Ok(p);
        }
        let module = match &self.cache {
            Some(cache) => cache.get_or_compile(&self.engine, &digest, bytes)?,
            None => Module::new(&self.engine, bytes).map_err(LoadError::Invalid)?,
        };
        if module.get_export("_start").is_none() {
            return Err(LoadError::NoStart);
        }
        let pre = self.linker.instantiate_pre(&module).map_err(LoadError::Link)?;
        let program = Program { pre, cwd_slot: libc_cwd::find_cwd_slot(bytes) };
        self.loaded.lock().unwrap().insert(digest, program.clone());
        Ok(program)
    }

    /// A new stopper, for one guest's [`GuestSpec::stopper`] (made before the guest, so it can
    /// be registered where a stop will look for it).
    pub fn stopper(&self) -> Stopper {
        self.stopper_for(&StopSignal::default())
    }

    /// The stopper of a WASI host built by hand with `signal`.
    pub fn stopper_for(&self, signal: &StopSignal) -> Stopper {
        Stopper { signal: signal.clone(), engine: self.engine.clone() }
    }

    /// Runs `program` in `guest` to completion on the calling thread.
    pub fn run(&self, program: &Program, guest: impl Into<Guest>, limits: &Limits) -> Result<Exit, RuntimeError> {
        let guest = guest.into();
        let usage = guest.usage;
        let thread = usage.as_ref().map(|u| u.enter());
        if let Some(m) = &guest.member {
            m.table.running_on(m.pid, rustix::thread::gettid().as_raw_nonzero().get());
        }
        let memory = guest.member.as_ref().map(|m| m.memory.clone());
        let result = self.run_host(program, guest.host, limits, usage.clone(), memory);
        if let (Some(u), Some(tid)) = (&usage, thread) {
            u.leave(tid, result.as_ref().map_or(0, |(_, held)| *held));
        }
        if let Some(m) = &guest.member {
            let exit = result.as_ref().map_or_else(|e| Exit::Trap(e.to_string()), |(exit, _)| exit.clone());
            m.table.ended(m.pid, &exit);
        }
        result.map(|(exit, _)| exit)
    }

    /// [`Runtime::run`]; also gives the linear memory the guest held.
    fn run_host(
        &self,
        program: &Program,
        host: WasiHost,
        limits: &Limits,
        usage: Option<std::sync::Arc<Usage>>,
        memory: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    ) -> Result<(Exit, u64), RuntimeError> {
        let stop = host.stop_signal().clone();
        let limiter = MemoryLimiter::new(limits, usage, memory);
        let mut store = Store::new(&self.engine, GuestState { wasi: host, limiter });
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|ctx| {
            let signal = ctx.data().wasi.stop_signal();
            if signal.is_requested() || signal.wait_while_paused() {
                Err(wasmtime::Error::new(Stopped))
            } else {
                Ok(UpdateDeadline::Continue(1))
            }
        });
        let stopped = || stop.ended_by().map_or(Exit::Stopped, Exit::Signaled);
        if stop.is_requested() {
            return Ok((stopped(), 0));
        }
        let instance = match program.pre.instantiate(&mut store) {
            Ok(i) => i,
            Err(_) if store.data().limiter.exceeded() => return Ok((Exit::OutOfMemory, store.data().limiter.held())),
            Err(e) => return Err(RuntimeError::Instantiate(e)),
        };
        if let Err(e) = enter_workdir(&mut store, &instance, program) {
            let held = store.data().limiter.held();
            if store.data().limiter.exceeded() {
                return Ok((Exit::OutOfMemory, held));
            }
            return Ok((Exit::Trap(format!("setting the working directory: {e:#}")), held));
        }
        let start = instance.get_typed_func::<(), ()>(&mut store, "_start").map_err(RuntimeError::Instantiate)?;
        let result = start.call(&mut store, ());
        store.data_mut().wasi.close_all();
        let held = store.data().limiter.held();
        let exit = match result {
            Ok(()) => Exit::Code(0),
            Err(e) => {
                if let Some(GuestExit(code)) = e.downcast_ref::<GuestExit>() {
                    Exit::Code(*code)
                } else if e.downcast_ref::<Stopped>().is_some() {
                    stopped()
                } else if store.data().limiter.exceeded() {
                    Exit::OutOfMemory
                } else if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
                    Exit::Trap(trap.to_string())
                } else {
                    Exit::Trap(e.to_string())
                }
            }
        };
        Ok((exit, held))
    }
}

/// Hands the guest's working directory to its libc, where the program can take one.
fn enter_workdir(
    store: &mut Store<GuestState>,
    instance: &wasmtime::Instance,
    program: &Program,
) -> wasmtime::Result<()> {
    let (Some(slot), Some(dir)) = (program.cwd_slot, store.data().wasi.workdir().map(|d| d.as_str().to_owned())) else {
        return Ok(());
    };
    match instance.get_memory(&mut *store, "memory") {
        Some(memory) => libc_cwd::set_cwd(store, &memory, slot, &dir),
        None => Ok(()),
    }
}

fn check_header(bytes: &[u8]) -> Result<(), LoadError> {
    if bytes.len() < 8 || &bytes[0..4] != b"\0asm" {
        // The text format is accepted too (tests write small modules in it).
        if std::str::from_utf8(bytes).map(|t| t.trim_start().starts_with("(module")).unwrap_or(false) {
            return Ok(());
        }
        return Err(LoadError::NotWasm);
    }
    // Core modules are version 1, layer 0; components carry layer 1.
    if bytes[6..8] == [1, 0] {
        return Err(LoadError::Component);
    }
    Ok(())
}
