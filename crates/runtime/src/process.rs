//! A container's process table: every guest of a container — its main process (pid 1), its
//! `exec` sessions, and the children they spawn through Porthole's process interface — with
//! pid, parent, argv, state, CPU time and memory. It owns spawning: a child is a new instance
//! of the program the engine's [`Launcher`] finds, run on an OS thread of its own, sharing its
//! parent's mount namespace, the container's memory cap and [`Usage`], and the controller's fd
//! budget. `docker stop`/`kill` reach every process through it; `docker top` and `ps` read it.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::Duration;

use porthole_wasi::{Errno, Pid, ProcessContext, ProcessHost, SpawnRequest, StopSignal, signal};

use crate::guest::GuestTree;
use crate::usage::thread_cpu_nanos;
use crate::{Exit, Guest, Limits, Program, Runtime, Stopper, Usage};

/// What `proc_spawn` runs: the engine's `execve` (a program found in `PATH`, a module, or a
/// `#!` script's interpreter with the script in front of the arguments).
pub trait Launcher: Send + Sync {
    /// Finds `program` in `tree` (with a `/` a path, else looked up in the `PATH` of `env`) and
    /// gives the loaded program and the argv it gets.
    fn launch(
        &self,
        tree: &GuestTree,
        program: &str,
        argv: &[String],
        env: &[String],
    ) -> Result<(Program, Vec<String>), LaunchError>;
}

/// Why a program cannot be started; a shell reports 127 and 126.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaunchError {
    NotFound(String),
    NotExecutable(String),
}

/// How many processes a container may have when `--pids-limit` is not given. Docker leaves it
/// unlimited, but here every process is a thread (and a linear memory) of the controller, so
/// a fork bomb must stop somewhere: well above what a shell pipeline needs.
pub const DEFAULT_PIDS_LIMIT: usize = 512;

/// How long a waiting parent sleeps before looking at its own signals again.
const SIGNAL_CHECK: Duration = Duration::from_millis(20);

/// One process of the table, as `docker top` and `ps` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    pub pid: Pid,
    /// 0 for a process the engine started (the main one, an exec session).
    pub ppid: Pid,
    pub argv: Vec<String>,
    /// `R` running, `S` sleeping (blocked in a host call), `T` paused, `Z` exited and not yet
    /// waited for.
    pub state: char,
    pub cpu_nanos: u64,
    pub memory_bytes: u64,
    /// Nanoseconds since the epoch.
    pub started: i64,
}

struct Proc {
    ppid: Pid,
    argv: Vec<String>,
    stopper: Stopper,
    /// The OS thread it runs on, once it runs.
    tid: Option<i32>,
    /// Set when it ended: the status a parent's `proc_wait` gets.
    status: Option<u32>,
    cpu_nanos: u64,
    memory: Arc<AtomicU64>,
    started: i64,
}

#[derive(Default)]
struct State {
    next: Pid,
    procs: BTreeMap<Pid, Proc>,
    /// The foreground processes of each session (a process the engine started, and the
    /// terminal it reads): where Ctrl-C goes. Unset: the session's own process.
    foreground: HashMap<Pid, Vec<Pid>>,
}

struct Table {
    me: Weak<Table>,
    runtime: Runtime,
    launcher: Arc<dyn Launcher>,
    limits: Limits,
    usage: Option<Arc<Usage>>,
    pids_limit: usize,
    state: Mutex<State>,
    changed: Condvar,
}

/// A container's process table (cheap to clone: one table).
#[derive(Clone)]
pub struct Processes(Arc<Table>);

/// Where a registered guest reports its thread and its end.
pub(crate) struct Membership {
    pub table: Processes,
    pub pid: Pid,
    pub memory: Arc<AtomicU64>,
}

/// The status a parent sees: the exit code, or 128 + the signal that ended the process.
pub(crate) fn status_of(exit: &Exit) -> u32 {
    (exit.status() as u32) & 0xff
}

impl Processes {
    /// An empty table whose processes run under `limits` (the memory cap shared by all of
    /// them, through `usage`), at most `pids_limit` at a time.
    pub fn new(
        runtime: &Runtime,
        launcher: Arc<dyn Launcher>,
        limits: Limits,
        usage: Option<Arc<Usage>>,
        pids_limit: Option<usize>,
    ) -> Self {
        Self(Arc::new_cyclic(|me| Table {
            me: me.clone(),
            runtime: runtime.clone(),
            launcher,
            limits,
            usage,
            pids_limit: pids_limit.unwrap_or(DEFAULT_PIDS_LIMIT),
            state: Mutex::new(State { next: 1, ..State::default() }),
            changed: Condvar::new(),
        }))
    }

    /// Every process, by pid.
    pub fn list(&self) -> Vec<ProcessInfo> {
        self.0.infos()
    }

    /// How many processes the table holds (finished ones not yet waited for included).
    pub fn len(&self) -> usize {
        self.0.lock().procs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sends `sig` to `pid` from outside the container (`docker kill -s`); `false` if there is
    /// no such process.
    pub fn signal(&self, pid: Pid, sig: u32) -> bool {
        self.0.kill(0, pid, sig).is_ok()
    }

    /// Ends every process (the container stops): each is stopped at its next safepoint or
    /// blocking call, as SIGKILL would.
    pub fn stop_all(&self) {
        for p in self.0.lock().procs.values().filter(|p| p.status.is_none()) {
            p.stopper.stop();
        }
    }

    /// `docker pause` / `unpause` of every process.
    pub fn set_paused(&self, paused: bool) {
        for p in self.0.lock().procs.values() {
            if paused { p.stopper.pause() } else { p.stopper.resume() }
        }
    }

    /// Adds a process the engine starts (the main one, an exec session) with `stopper`; its
    /// context goes into its WASI host.
    pub(crate) fn register(&self, argv: &[String], stopper: Stopper) -> Result<(ProcessContext, Membership), Errno> {
        let (pid, memory) = self.0.add(0, argv.to_vec(), stopper)?;
        let ctx = ProcessContext { pid, table: self.0.clone() };
        Ok((ctx, Membership { table: self.clone(), pid, memory }))
    }

    /// The terminal of a process the engine started: Ctrl-C on it interrupts its session's
    /// foreground.
    pub(crate) fn hook_terminal(&self, session: Pid, tty: &porthole_wasi::Tty) {
        let me = Arc::downgrade(&self.0);
        tty.on_interrupt(Box::new(move || {
            if let Some(t) = me.upgrade() {
                t.interrupt(session);
            }
        }));
    }

    pub(crate) fn running_on(&self, pid: Pid, tid: i32) {
        if let Some(p) = self.0.lock().procs.get_mut(&pid) {
            p.tid = Some(tid);
        }
    }

    /// `pid` ended with `exit`: its status waits for its parent (one the engine started has
    /// none and leaves the table).
    pub(crate) fn ended(&self, pid: Pid, exit: &Exit) {
        let mut st = self.0.lock();
        if let Some(ppid) = st.procs.get(&pid).map(|p| p.ppid) {
            let parent_waits = ppid != 0 && st.procs.get(&ppid).is_some_and(|pp| pp.status.is_none());
            if parent_waits {
                let p = st.procs.get_mut(&pid).expect("looked up above");
                p.cpu_nanos = p.tid.map_or(0, thread_cpu_nanos);
                p.tid = None;
                p.status = Some(status_of(exit));
            } else {
                st.procs.remove(&pid);
            }
        }
        // Its finished children have nobody to wait for them now.
        let reaped: Vec<Pid> =
            st.procs.iter().filter(|(_, p)| p.ppid == pid && p.status.is_some()).map(|(&c, _)| c).collect();
        for c in reaped {
            st.procs.remove(&c);
        }
        st.foreground.remove(&pid);
        drop(st);
        self.0.changed.notify_all();
    }
}

impl Table {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add(&self, ppid: Pid, argv: Vec<String>, stopper: Stopper) -> Result<(Pid, Arc<AtomicU64>), Errno> {
        let mut st = self.lock();
        if st.procs.len() >= self.pids_limit {
            return Err(Errno::Again);
        }
        let pid = st.next;
        st.next += 1;
        let memory = Arc::new(AtomicU64::new(0));
        let started = now_nanos();
        st.procs.insert(
            pid,
            Proc { ppid, argv, stopper, tid: None, status: None, cpu_nanos: 0, memory: memory.clone(), started },
        );
        Ok((pid, memory))
    }

    /// The session a process belongs to: its ancestor the engine started.
    fn session_of(st: &State, mut pid: Pid) -> Pid {
        while let Some(p) = st.procs.get(&pid) {
            if p.ppid == 0 {
                break;
            }
            pid = p.ppid;
        }
        pid
    }

    /// Ctrl-C on the terminal of `session`: its foreground, or the session's own process when
    /// none of the foreground is left (a shell that did not take the terminal back).
    fn interrupt(&self, session: Pid) {
        let targets = {
            let st = self.lock();
            let alive = |p: &Pid| st.procs.get(p).is_some_and(|p| p.status.is_none());
            let fg: Vec<Pid> = st.foreground.get(&session).into_iter().flatten().copied().filter(alive).collect();
            if fg.is_empty() { vec![session] } else { fg }
        };
        for pid in targets {
            let _ = self.kill(0, pid, signal::INT);
        }
    }

    fn infos(&self) -> Vec<ProcessInfo> {
        let st = self.lock();
        st.procs
            .iter()
            .map(|(&pid, p)| {
                let state = match (p.status, p.tid) {
                    (Some(_), _) => 'Z',
                    _ if p.stopper.is_paused() => 'T',
                    (None, Some(tid)) => thread_state(tid),
                    (None, None) => 'R',
                };
                ProcessInfo {
                    pid,
                    ppid: p.ppid,
                    argv: p.argv.clone(),
                    state,
                    cpu_nanos: p.tid.map_or(p.cpu_nanos, thread_cpu_nanos),
                    memory_bytes: if p.status.is_some() { 0 } else { p.memory.load(Ordering::Relaxed) },
                    started: p.started,
                }
            })
            .collect()
    }

    fn start_child(&self, parent: Pid, req: SpawnRequest) -> Result<Pid, Errno> {
        let tree = GuestTree::shared(req.namespace().clone());
        let (program, argv) = match self.launcher.launch(&tree, &req.program, &req.argv, &req.env) {
            Ok(found) => found,
            Err(LaunchError::NotFound(_)) => return Err(Errno::Noent),
            Err(LaunchError::NotExecutable(_)) => return Err(Errno::Noexec),
        };
        let stopper = self.runtime.stopper();
        let (pid, memory) = self.add(parent, argv.clone(), stopper.clone())?;
        let me = Processes(self.me.upgrade().expect("the table runs its own call"));
        let ctx = ProcessContext { pid, table: me.0.clone() };
        let host = match req.into_host(argv, stopper.signal.clone(), ctx) {
            Ok(h) => h,
            Err(e) => {
                self.lock().procs.remove(&pid);
                return Err(e);
            }
        };
        // A paused container's new process starts paused, as a frozen cgroup's child would.
        if self.lock().procs.values().any(|p| p.ppid == 0 && p.stopper.is_paused()) {
            stopper.pause();
        }
        let guest =
            Guest { host, usage: self.usage.clone(), member: Some(Membership { table: me.clone(), pid, memory }) };
        let runtime = self.runtime.clone();
        let limits = self.limits.clone();
        let spawned = std::thread::Builder::new().name(format!("pid-{pid}")).spawn(move || {
            if let Err(e) = runtime.run(&program, guest, &limits) {
                me.ended(pid, &Exit::Trap(e.to_string()));
            }
        });
        if spawned.is_err() {
            self.lock().procs.remove(&pid);
            return Err(Errno::Again);
        }
        Ok(pid)
    }
}

impl ProcessHost for Table {
    fn spawn(&self, parent: Pid, req: SpawnRequest) -> Result<Pid, Errno> {
        // Refused before the program is even looked up, as fork fails before exec.
        if self.lock().procs.len() >= self.pids_limit {
            return Err(Errno::Again);
        }
        self.start_child(parent, req)
    }

    fn wait(
        &self,
        parent: Pid,
        pid: Option<Pid>,
        no_hang: bool,
        stop: &StopSignal,
    ) -> Result<Option<(Pid, u32)>, Errno> {
        let mut st = self.lock();
        loop {
            let mut any = false;
            let mut done = None;
            for (&c, p) in st.procs.iter().filter(|(c, p)| p.ppid == parent && pid.is_none_or(|w| w == **c)) {
                any = true;
                if let Some(status) = p.status {
                    done = Some((c, status));
                    break;
                }
            }
            if !any {
                return Err(Errno::Child);
            }
            if let Some((c, status)) = done {
                st.procs.remove(&c);
                return Ok(Some((c, status)));
            }
            if no_hang {
                return Ok(None);
            }
            if stop.is_interrupted() {
                return Err(Errno::Intr);
            }
            st = self.changed.wait_timeout(st, SIGNAL_CHECK).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    fn kill(&self, from: Pid, pid: Pid, sig: u32) -> Result<(), Errno> {
        let st = self.lock();
        let p = st.procs.get(&pid).filter(|p| p.status.is_none()).ok_or(Errno::Srch)?;
        if sig == 0 {
            return Ok(());
        }
        if from == pid {
            p.stopper.signal.make_pending(sig);
        } else {
            p.stopper.send(sig);
        }
        Ok(())
    }

    fn set_foreground(&self, pids: &[Pid]) -> Result<(), Errno> {
        let mut st = self.lock();
        let Some(&first) = pids.first() else { return Err(Errno::Inval) };
        if pids.iter().any(|p| !st.procs.contains_key(p)) {
            return Err(Errno::Srch);
        }
        let session = Self::session_of(&st, first);
        st.foreground.insert(session, pids.to_vec());
        Ok(())
    }

    fn list(&self) -> String {
        self.infos()
            .iter()
            .map(|p| {
                format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\n",
                    p.pid,
                    p.ppid,
                    p.state,
                    p.cpu_nanos / 1_000_000,
                    p.memory_bytes,
                    p.argv.join(" ")
                )
            })
            .collect()
    }
}

/// A thread's scheduler state from `/proc/self/task/<tid>/stat`: `R` on a CPU or ready, `S`
/// for anything waiting.
fn thread_state(tid: i32) -> char {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")) else { return 'R' };
    match stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next()) {
        Some('R') => 'R',
        _ => 'S',
    }
}

fn now_nanos() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64)
}
