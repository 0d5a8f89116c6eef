//! The per-guest WASI state: arguments, environment, the mount namespace, the descriptor table,
//! the observer of mutations and the stop signal. The `wasi_snapshot_preview1` functions are
//! methods on it, in the `ops` modules.

use std::net::TcpListener;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::budget::FdBudget;
use crate::devices::Terminal;
use crate::errno::Errno;
use crate::fdtable::{Descriptor, FdTable, OpenDir};
use crate::namespace::{MountId, Namespace};
use crate::path::GuestPath;
use crate::process::ProcessContext;
use crate::stdio::{Input, Stdio};
use crate::walks::Walk;

/// What a guest changed, told to the [`MutationObserver`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MutationKind {
    /// A file was created by `path_open` with `O_CREAT`.
    Create,
    /// A file that was written to was closed (or the guest ended with it open).
    Write,
    Mkdir,
    Unlink,
    Rmdir,
    /// `path` is the new name; `from` holds the old one.
    Rename,
    Symlink,
    Link,
}

/// One mutating operation, with the guest path it touched and the mount point it lies in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutation {
    pub kind: MutationKind,
    pub path: String,
    pub mount_point: String,
    pub from: Option<String>,
}

/// Told of every mutating file operation a guest performs, and, if it wants them, of the path
/// walks of its opens. Called on the guest's thread, so it must be quick (queue the event, do
/// not do I/O).
pub trait MutationObserver: Send + Sync {
    fn mutated(&self, mutation: &Mutation);

    /// Whether to be told of walks ([`MutationObserver::walked`]). Asked once, when the host is
    /// built: a host whose observer says no records nothing and allocates nothing for them.
    fn wants_walks(&self) -> bool {
        false
    }

    /// A `path_open` was resolved (or failed to be): see [`Walk`].
    fn walked(&self, _walk: &Walk<'_>) {}
}

/// Asks a running guest to stop. Host calls that block (sleep, poll, accept) wait on it, and the
/// runtime's epoch callback checks it, so a stop lands whether the guest computes or waits.
///
/// It also carries `docker pause`: a paused guest blocks at its next safepoint (the runtime's
/// epoch callback, see [`StopSignal::wait_while_paused`]) until resumed or stopped.
#[derive(Default, Clone)]
pub struct StopSignal(Arc<(Mutex<Signals>, Condvar)>);

#[derive(Default)]
pub struct Signals {
    stop: bool,
    paused: bool,
    /// The signal that ended (or is ending) the guest, when one did (`None`: a plain stop).
    ended_by: Option<u32>,
    /// `proc_sigmask`: bit n set = signal n is caught (becomes pending) instead of ending it.
    mask: u64,
    /// Caught signals not yet taken by `proc_sigpending`.
    pending: u64,
}

/// The signals Porthole delivers, by their Linux numbers.
pub mod signal {
    pub const HUP: u32 = 1;
    pub const INT: u32 = 2;
    pub const KILL: u32 = 9;
    pub const PIPE: u32 = 13;
    pub const TERM: u32 = 15;

    /// Whether `sig` is one Porthole knows (0 asks only whether the process exists).
    pub fn known(sig: u32) -> bool {
        matches!(sig, 0 | HUP | INT | KILL | PIPE | TERM)
    }
}

impl StopSignal {
    pub fn request(&self) {
        self.0.0.lock().unwrap().stop = true;
        self.0.1.notify_all();
    }

    /// Delivers `sig`: a caught one (in the mask, never KILL) becomes pending, any other ends
    /// the guest at its next safepoint with status 128 + `sig`. True if it ends the guest.
    pub fn deliver(&self, sig: u32) -> bool {
        let mut s = self.0.0.lock().unwrap();
        let ends = sig == signal::KILL || s.mask & (1 << sig) == 0;
        if ends {
            s.stop = true;
            s.ended_by.get_or_insert(sig);
        } else {
            s.pending |= 1 << sig;
        }
        self.0.1.notify_all();
        ends
    }

    /// Makes `sig` pending whatever the mask (a process signalling itself).
    pub fn make_pending(&self, sig: u32) {
        self.0.0.lock().unwrap().pending |= 1 << sig;
        self.0.1.notify_all();
    }

    pub fn set_mask(&self, mask: u64) {
        self.0.0.lock().unwrap().mask = mask & !(1 << signal::KILL);
    }

    /// Takes (returns and clears) the pending signals.
    pub fn take_pending(&self) -> u64 {
        std::mem::take(&mut self.0.0.lock().unwrap().pending)
    }

    /// The signal that ended the guest, if a signal (not a plain stop) did.
    pub fn ended_by(&self) -> Option<u32> {
        self.0.0.lock().unwrap().ended_by
    }

    /// Whether a blocking call should give up now: a stop, or a caught signal pending.
    pub fn is_interrupted(&self) -> bool {
        let s = self.0.0.lock().unwrap();
        s.stop || s.pending != 0
    }

    /// For a blocking host call: the guest's end when it was stopped, `EINTR` when a caught
    /// signal is pending, else nothing.
    pub(crate) fn check_interrupt(&self) -> HostResult<()> {
        let s = self.0.0.lock().unwrap();
        if s.stop {
            Err(HostError::Trap(wasmtime::Error::new(Stopped)))
        } else if s.pending != 0 {
            Err(Errno::Intr.into())
        } else {
            Ok(())
        }
    }

    pub fn is_requested(&self) -> bool {
        self.0.0.lock().unwrap().stop
    }

    /// Sleeps up to `d`; returns true if a stop was requested (at once, not at the end).
    pub fn wait(&self, d: Duration) -> bool {
        let guard = self.0.0.lock().unwrap();
        let (guard, _) = self.0.1.wait_timeout_while(guard, d, |s| !s.stop).unwrap();
        guard.stop
    }

    pub fn set_paused(&self, paused: bool) {
        self.0.0.lock().unwrap().paused = paused;
        self.0.1.notify_all();
    }

    pub fn is_paused(&self) -> bool {
        self.0.0.lock().unwrap().paused
    }

    /// Blocks, using no CPU, while paused and not stopped; true if a stop was requested.
    pub fn wait_while_paused(&self) -> bool {
        let guard = self.0.0.lock().unwrap();
        let guard = self.0.1.wait_while(guard, |s| s.paused && !s.stop).unwrap();
        guard.stop
    }
}

/// The error a host function returns when a stop request ends the guest while it waited in a
/// host call; the runtime reports the guest as stopped.
#[derive(Debug, thiserror::Error)]
#[error("guest stopped on request")]
pub struct Stopped;

/// `proc_exit`: unwinds the guest with its exit code.
#[derive(Debug, thiserror::Error)]
#[error("guest exited with code {0}")]
pub struct GuestExit(pub i32);

/// A host function either returns an errno to the guest or ends it with a trap.
pub enum HostError {
    Errno(Errno),
    Trap(wasmtime::Error),
}

impl From<Errno> for HostError {
    fn from(e: Errno) -> Self {
        HostError::Errno(e)
    }
}

impl From<std::io::Error> for HostError {
    fn from(e: std::io::Error) -> Self {
        HostError::Errno(e.into())
    }
}

pub type HostResult<T> = Result<T, HostError>;

/// Default cap on open descriptors per guest, like a common `ulimit -n`.
pub const DEFAULT_MAX_FDS: usize = 1024;

pub struct WasiHost {
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) env: Vec<Vec<u8>>,
    /// Shared by every process of the container (`proc_spawn` hands it to children).
    pub(crate) ns: Arc<Namespace>,
    pub(crate) fds: FdTable,
    pub(crate) tty: bool,
    /// What a child's descriptor table gets: the cap and the budget it draws on.
    pub(crate) max_fds: usize,
    pub(crate) budget: Option<FdBudget>,
    /// This guest's place in its container's process table; `None`: the `porthole` calls
    /// answer `ENOSYS` (a guest run alone, without a table).
    pub(crate) process: Option<ProcessContext>,
    pub(crate) observer: Option<Arc<dyn MutationObserver>>,
    /// The observer wants walks reported (asked once, so opens pay one branch otherwise).
    pub(crate) walks: bool,
    pub(crate) stop: StopSignal,
    pub(crate) started: Instant,
    pub(crate) io: Arc<IoCounters>,
    /// The process's working directory (WORKDIR, `-w`). WASI preview 1 has no such thing: the
    /// runtime hands it to the guest's libc before the program starts (see `workdir()`).
    pub(crate) workdir: Option<GuestPath>,
    /// The container's terminal, which `/dev/tty` opens (`None`: not run with `-t`).
    pub(crate) terminal: Option<Terminal>,
}

/// Bytes a guest read from and wrote to files (not streams or sockets): `docker stats`'s block
/// I/O. Shared by every guest of a container.
#[derive(Debug, Default)]
pub struct IoCounters {
    pub read: std::sync::atomic::AtomicU64,
    pub written: std::sync::atomic::AtomicU64,
}

impl IoCounters {
    pub(crate) fn add_read(&self, n: u64) {
        self.read.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn add_written(&self, n: u64) {
        self.written.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Builds a [`WasiHost`]; see [`WasiHost::builder`].
pub struct WasiHostBuilder {
    ns: Arc<Namespace>,
    /// A spawned child's first descriptors (duplicates of its parent's), instead of `stdio`.
    inherited: Option<Vec<Option<Descriptor>>>,
    /// A spawned child's terminal, its parent's.
    terminal: Option<Terminal>,
    process: Option<ProcessContext>,
    tty: Option<bool>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdio: Stdio,
    listeners: Vec<(TcpListener, String)>,
    observer: Option<Arc<dyn MutationObserver>>,
    stop: StopSignal,
    max_fds: usize,
    budget: Option<FdBudget>,
    io: Arc<IoCounters>,
    workdir: Option<GuestPath>,
}

impl WasiHost {
    /// Starts a host over `ns`. Each mount becomes a preopened directory (fd 3 is `/`, then the
    /// mounts in table order), then each listener, so wasi-libc finds every mount by its path.
    pub fn builder(ns: impl Into<Arc<Namespace>>) -> WasiHostBuilder {
        WasiHostBuilder {
            ns: ns.into(),
            inherited: None,
            terminal: None,
            process: None,
            tty: None,
            args: Vec::new(),
            env: Vec::new(),
            stdio: Stdio::default(),
            listeners: Vec::new(),
            observer: None,
            stop: StopSignal::default(),
            max_fds: DEFAULT_MAX_FDS,
            budget: None,
            io: Arc::default(),
            workdir: None,
        }
    }

    pub fn namespace(&self) -> &Namespace {
        &self.ns
    }

    /// This guest's pid in its container's process table, once it has one.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(|p| p.pid)
    }

    pub fn stop_signal(&self) -> &StopSignal {
        &self.stop
    }

    /// The working directory the guest was given, if not `/`. Path calls never see it (wasi-libc
    /// makes every path absolute before the host gets it); the runtime writes it into the libc.
    pub fn workdir(&self) -> Option<&GuestPath> {
        self.workdir.as_ref()
    }

    pub(crate) fn notify(&self, kind: MutationKind, path: &GuestPath, mount: MountId, from: Option<&GuestPath>) {
        if let Some(obs) = &self.observer {
            obs.mutated(&Mutation {
                kind,
                path: path.to_string(),
                mount_point: self.ns.mount(mount).path.to_string(),
                from: from.map(ToString::to_string),
            });
        }
    }

    /// Reports files the guest wrote and never closed; the runtime calls it when a guest ends.
    pub fn close_all(&mut self) {
        for d in self.fds.drain() {
            self.report_close(&d);
        }
    }

    pub(crate) fn report_close(&self, d: &Descriptor) {
        if let Descriptor::File(f) = d
            && f.wrote
        {
            self.notify(MutationKind::Write, &f.location.path, f.location.mount, None);
        }
    }
}

impl WasiHostBuilder {
    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn stdio(mut self, stdio: Stdio) -> Self {
        self.stdio = stdio;
        self
    }

    /// Hands the guest a listening socket as a preopened fd, for `sock_accept`. The guest finds
    /// its listeners through the environment, as systemd's socket activation tells a service:
    /// `LISTEN_FDS` (how many), `LISTEN_FD` (the first one's number; the rest follow it) and
    /// `LISTEN_FDNAMES` (their `name`s, `:`-separated, e.g. the container ports `80/tcp`). The
    /// numbers differ from systemd's fixed 3 because the preopened mounts come first.
    pub fn listener(mut self, l: TcpListener, name: impl Into<String>) -> Self {
        self.listeners.push((l, name.into()));
        self
    }

    pub fn observer(mut self, o: Arc<dyn MutationObserver>) -> Self {
        self.observer = Some(o);
        self
    }

    pub fn stop_signal(mut self, s: StopSignal) -> Self {
        self.stop = s;
        self
    }

    pub fn max_fds(mut self, n: usize) -> Self {
        self.max_fds = n;
        self
    }

    /// Counts the guest's file reads and writes into `io` (shared with other guests).
    pub fn io_counters(mut self, io: Arc<IoCounters>) -> Self {
        self.io = io;
        self
    }

    /// Every descriptor the guest opens also draws on `budget`, shared with other guests.
    pub fn fd_budget(mut self, budget: FdBudget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// A spawned child's first descriptors, duplicates of its parent's (`None`: closed), in
    /// place of `stdio`; `tty` says whether its streams are the container's terminal.
    pub(crate) fn inherit(mut self, fds: Vec<Option<Descriptor>>, tty: bool, terminal: Option<Terminal>) -> Self {
        self.inherited = Some(fds);
        self.terminal = terminal;
        self.tty = Some(tty);
        self
    }

    /// The guest's place in its container's process table (see [`crate::ProcessHost`]).
    pub fn process(mut self, p: ProcessContext) -> Self {
        self.process = Some(p);
        self
    }

    /// The process's working directory; `/` is the default and recorded as none.
    pub fn workdir(mut self, dir: GuestPath) -> Self {
        self.workdir = Some(dir).filter(|d| d.as_str() != "/");
        self
    }

    pub fn build(self) -> Result<WasiHost, Errno> {
        // A file mount is reached through the directory above it, not as a preopen.
        let preopens: Vec<GuestPath> =
            self.ns.mounts().iter().filter(|m| !m.is_file()).map(|m| m.path.clone()).collect();
        let preopens_len = preopens.len();
        let first = self.inherited.as_ref().map_or(3, Vec::len);
        let mut fds = FdTable::new(self.max_fds.max(first + preopens_len + self.listeners.len()));
        // A slot the parent left closed is held while the preopens are placed after the
        // inherited ones, then freed.
        let mut closed = Vec::new();
        let mut terminal = self.terminal;
        match self.inherited {
            Some(inherited) => {
                for (i, d) in inherited.into_iter().enumerate() {
                    let placeholder =
                        || Descriptor::Dir(OpenDir { path: GuestPath::root(), preopen: None, listing: None });
                    if d.is_none() {
                        closed.push(i as u32);
                    }
                    fds.insert(d.unwrap_or_else(placeholder))?;
                }
            }
            None => {
                let stdout = Arc::new(Mutex::new(self.stdio.stdout));
                if let Input::Tty(t) = &self.stdio.stdin {
                    terminal = Some(Terminal { input: t.clone(), output: stdout.clone() });
                }
                fds.insert(Descriptor::Stdin(self.stdio.stdin.into()))?;
                fds.insert(Descriptor::Stdout(stdout))?;
                fds.insert(Descriptor::Stderr(Arc::new(Mutex::new(self.stdio.stderr))))?;
            }
        }
        for path in preopens {
            let name = path.to_string();
            fds.insert(Descriptor::Dir(OpenDir { path, preopen: Some(name), listing: None }))?;
        }
        let mut env = self.env;
        if !self.listeners.is_empty() {
            let first = 3 + preopens_len;
            let names: Vec<&str> = self.listeners.iter().map(|(_, n)| n.as_str()).collect();
            env.retain(|(k, _)| !matches!(k.as_str(), "LISTEN_FD" | "LISTEN_FDS" | "LISTEN_FDNAMES"));
            env.push(("LISTEN_FDS".into(), self.listeners.len().to_string()));
            env.push(("LISTEN_FD".into(), first.to_string()));
            env.push(("LISTEN_FDNAMES".into(), names.join(":")));
        }
        for (l, _) in self.listeners {
            l.set_nonblocking(true)?;
            fds.insert(Descriptor::Listener(l))?;
        }
        for fd in closed {
            fds.remove(fd)?;
        }
        if let Some(budget) = &self.budget {
            fds.draw_on(budget.lease());
        }
        Ok(WasiHost {
            args: self.args.into_iter().map(String::into_bytes).collect(),
            env: env.into_iter().map(|(k, v)| format!("{k}={v}").into_bytes()).collect(),
            ns: self.ns,
            fds,
            tty: self.tty.unwrap_or(self.stdio.tty),
            max_fds: self.max_fds,
            budget: self.budget,
            process: self.process,
            walks: self.observer.as_ref().is_some_and(|o| o.wants_walks()),
            observer: self.observer,
            stop: self.stop,
            started: Instant::now(),
            io: self.io,
            workdir: self.workdir,
            terminal,
        })
    }
}
