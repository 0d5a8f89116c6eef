//! Porthole's process interface on the guest's side of the host: the `porthole` import module's
//! process calls (`proc_spawn`, `proc_wait`, `proc_kill`, signals, `proc_pipe`, the process
//! table, `tty_setmode`). The table itself — pids, spawning instances on threads, waiting —
//! belongs to the runtime, behind [`ProcessHost`]; this module reads the guest's arguments,
//! duplicates its descriptors for a child and writes the answers. The contract is in
//! ARCHITECTURE.md ("The process interface").

use std::sync::Arc;

use crate::devices::{OpenDevice, Terminal};
use crate::errno::Errno;
use crate::fdtable::Descriptor;
use crate::host::{HostError, HostResult, MutationObserver, StopSignal, WasiHost, signal};
use crate::memory::GuestMemory;
use crate::namespace::Namespace;
use crate::pipe;
use crate::stdio::SharedInput;
use crate::tty::TtyMode;

/// A process id in its container's table; the main process is 1.
pub type Pid = u32;

/// The container's process table, as the host calls need it (implemented by the runtime).
pub trait ProcessHost: Send + Sync {
    /// Starts `req` as a child of `parent`: `ENOENT` (not found), `ENOEXEC` (not runnable),
    /// `EAGAIN` (the container's process limit).
    fn spawn(&self, parent: Pid, req: SpawnRequest) -> Result<Pid, Errno>;

    /// A finished child of `parent` (`pid`, or any with `None`) and its status, taken from the
    /// table; with `no_hang`, `None` while none has finished. Blocks otherwise, ending with
    /// `EINTR` when `stop` has a pending signal or a stop. `ECHILD`: no such child.
    fn wait(
        &self,
        parent: Pid,
        pid: Option<Pid>,
        no_hang: bool,
        stop: &StopSignal,
    ) -> Result<Option<(Pid, u32)>, Errno>;

    /// Sends `sig` from `from` to `pid` (`ESRCH`: no such process).
    fn kill(&self, from: Pid, pid: Pid, sig: u32) -> Result<(), Errno>;

    /// The processes Ctrl-C goes to.
    fn set_foreground(&self, pids: &[Pid]) -> Result<(), Errno>;

    /// The table as `proc_list` gives it.
    fn list(&self) -> String;
}

/// A guest's place in its container's process table.
#[derive(Clone)]
pub struct ProcessContext {
    pub pid: Pid,
    pub table: Arc<dyn ProcessHost>,
}

/// A child to start, as its parent asked: the program (a path made absolute against `cwd`
/// when it has a `/`, else a name to find in `PATH`), argv, environment, working directory,
/// and what it inherits from its parent (descriptors, mount namespace, observer, budgets).
pub struct SpawnRequest {
    pub program: String,
    pub argv: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    inherited: Vec<Option<Descriptor>>,
    ns: Arc<Namespace>,
    observer: Option<Arc<dyn MutationObserver>>,
    budget: Option<crate::budget::FdBudget>,
    max_fds: usize,
    io: Arc<crate::host::IoCounters>,
    tty: bool,
    terminal: Option<crate::devices::Terminal>,
}

impl SpawnRequest {
    /// The mount namespace the child shares with its parent.
    pub fn namespace(&self) -> &Arc<Namespace> {
        &self.ns
    }

    /// The child's host: `argv` as the launcher settled it (a script's interpreter in front),
    /// its own stop signal, its place in the table. The working directory is its libc's (see
    /// `WasiHostBuilder::workdir`) and is told as `PWD` too, for programs without one.
    pub fn into_host(self, argv: Vec<String>, stop: StopSignal, process: ProcessContext) -> Result<WasiHost, Errno> {
        let mut b = WasiHost::builder(self.ns).args(argv).stop_signal(stop).max_fds(self.max_fds).process(process);
        for e in self.env.iter().filter(|e| !e.starts_with("PWD=")) {
            let (k, v) = e.split_once('=').unwrap_or((e, ""));
            b = b.env(k, v);
        }
        if let Some(dir) = crate::GuestPath::new(&self.cwd) {
            b = b.workdir(dir);
        }
        b = b.env("PWD", self.cwd).io_counters(self.io).inherit(self.inherited, self.tty, self.terminal);
        if let Some(o) = self.observer {
            b = b.observer(o);
        }
        if let Some(budget) = self.budget {
            b = b.fd_budget(budget);
        }
        b.build()
    }
}

/// `proc_wait`'s flag: return at once when no child has finished.
const WNOHANG: u32 = 1;

fn text(mem: &GuestMemory<'_>, ptr: u32, len: u32) -> Result<String, Errno> {
    String::from_utf8(mem.slice(ptr, len)?.to_vec()).map_err(|_| Errno::Ilseq)
}

/// `a\0b\0` → `[a, b]`.
fn nul_separated(mem: &GuestMemory<'_>, ptr: u32, len: u32) -> Result<Vec<String>, Errno> {
    let bytes = mem.slice(ptr, len)?;
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    bytes.split(|&b| b == 0).map(|s| String::from_utf8(s.to_vec()).map_err(|_| Errno::Ilseq)).collect()
}

fn u32s(mem: &GuestMemory<'_>, ptr: u32, n: u32) -> Result<Vec<u32>, Errno> {
    (0..n).map(|i| mem.read_u32(ptr.checked_add(i.checked_mul(4).ok_or(Errno::Fault)?).ok_or(Errno::Fault)?)).collect()
}

impl WasiHost {
    fn process(&self) -> Result<&ProcessContext, Errno> {
        self.process.as_ref().ok_or(Errno::Nosys)
    }

    /// A blocking call's `EINTR`: the guest's end if it was a stop.
    fn interrupted(&self, e: Errno) -> HostError {
        match (e, self.stop.check_interrupt()) {
            (Errno::Intr, Err(HostError::Trap(t))) => HostError::Trap(t),
            _ => e.into(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn proc_spawn(
        &mut self,
        mem: &mut GuestMemory<'_>,
        path: u32,
        path_len: u32,
        argv: u32,
        argv_len: u32,
        env: u32,
        env_len: u32,
        cwd: u32,
        cwd_len: u32,
        fds: u32,
        fds_len: u32,
        pid_out: u32,
    ) -> HostResult<()> {
        let ctx = self.process()?.clone();
        let cwd = text(mem, cwd, cwd_len)?;
        if !cwd.starts_with('/') {
            return Err(Errno::Inval.into());
        }
        let mut program = text(mem, path, path_len)?;
        if program.is_empty() {
            return Err(Errno::Noent.into());
        }
        if program.contains('/') && !program.starts_with('/') {
            program = format!("{}/{program}", cwd.trim_end_matches('/'));
        }
        let argv = nul_separated(mem, argv, argv_len)?;
        let env = nul_separated(mem, env, env_len)?;
        if fds_len < 3 {
            return Err(Errno::Inval.into());
        }
        let mut inherited = Vec::with_capacity(fds_len as usize);
        for fd in u32s(mem, fds, fds_len)? {
            inherited.push(match fd {
                u32::MAX => None,
                fd => Some(self.fds.peek(fd)?.duplicate()?),
            });
        }
        mem.write_u32(pid_out, 0)?;
        let req = SpawnRequest {
            program,
            argv,
            env,
            cwd,
            inherited,
            ns: self.ns.clone(),
            observer: self.observer.clone(),
            budget: self.budget.clone(),
            max_fds: self.max_fds,
            io: self.io.clone(),
            tty: self.tty,
            terminal: self.terminal.clone(),
        };
        let pid = ctx.table.spawn(ctx.pid, req)?;
        mem.write_u32(pid_out, pid)?;
        Ok(())
    }

    pub fn proc_wait(&mut self, mem: &mut GuestMemory<'_>, pid: i32, flags: u32, out: u32) -> HostResult<()> {
        let ctx = self.process()?.clone();
        mem.slice(out, 8)?;
        let pid = if pid > 0 { Some(pid as Pid) } else { None };
        let found = ctx.table.wait(ctx.pid, pid, flags & WNOHANG != 0, &self.stop).map_err(|e| self.interrupted(e))?;
        let (pid, status) = found.unwrap_or((0, 0));
        mem.write_u32(out, pid)?;
        mem.write_u32(out + 4, status)?;
        Ok(())
    }

    pub fn proc_kill(&mut self, _mem: &mut GuestMemory<'_>, pid: u32, sig: u32) -> HostResult<()> {
        if !signal::known(sig) {
            return Err(Errno::Inval.into());
        }
        let ctx = self.process()?.clone();
        ctx.table.kill(ctx.pid, pid, sig)?;
        // A signal to oneself that ends: at once, as the kernel delivers it before kill returns.
        self.stop.check_interrupt().or_else(|e| if matches!(e, HostError::Trap(_)) { Err(e) } else { Ok(()) })
    }

    pub fn proc_sigmask(&mut self, _mem: &mut GuestMemory<'_>, mask: u64) -> HostResult<()> {
        self.process()?;
        self.stop.set_mask(mask);
        Ok(())
    }

    pub fn proc_sigpending(&mut self, mem: &mut GuestMemory<'_>, out: u32) -> HostResult<()> {
        self.process()?;
        mem.slice(out, 8)?;
        mem.write_u64(out, self.stop.take_pending())?;
        Ok(())
    }

    pub fn proc_foreground(&mut self, mem: &mut GuestMemory<'_>, pids: u32, n: u32) -> HostResult<()> {
        let ctx = self.process()?.clone();
        let pids = u32s(mem, pids, n)?;
        Ok(ctx.table.set_foreground(&pids)?)
    }

    pub fn proc_pipe(&mut self, mem: &mut GuestMemory<'_>, out: u32) -> HostResult<()> {
        self.process()?;
        mem.slice(out, 8)?;
        let (r, w) = pipe::pipe();
        let read = self.fds.insert(Descriptor::PipeRead(r))?;
        let write = match self.fds.insert(Descriptor::PipeWrite(w)) {
            Ok(fd) => fd,
            Err(e) => {
                self.fds.remove(read)?;
                return Err(e.into());
            }
        };
        mem.write_u32(out, read)?;
        mem.write_u32(out + 4, write)?;
        Ok(())
    }

    pub fn proc_self(&mut self, mem: &mut GuestMemory<'_>, out: u32) -> HostResult<()> {
        let pid = self.process()?.pid;
        mem.write_u32(out, pid)?;
        Ok(())
    }

    pub fn proc_list(&mut self, mem: &mut GuestMemory<'_>, buf: u32, len: u32, used: u32) -> HostResult<()> {
        let listing = self.process()?.table.list();
        mem.write_u32(used, listing.len() as u32)?;
        if listing.len() > len as usize {
            return Err(Errno::Range.into());
        }
        mem.write_bytes(buf, listing.as_bytes())?;
        Ok(())
    }

    pub fn tty_setmode(&mut self, _mem: &mut GuestMemory<'_>, fd: u32, mode: u32) -> HostResult<()> {
        let mode = match mode {
            0 => TtyMode::Canonical,
            1 => TtyMode::Raw,
            _ => return Err(Errno::Inval.into()),
        };
        match self.fds.get(fd)? {
            Descriptor::Stdin(SharedInput::Tty(t)) | Descriptor::Device(OpenDevice::Tty(Terminal { input: t, .. })) => {
                t.set_mode(mode);
                Ok(())
            }
            _ => Err(Errno::Notty.into()),
        }
    }

    /// The terminal this guest reads, if its stdin is one (the process table hooks Ctrl-C).
    pub fn terminal(&self) -> Option<Arc<crate::tty::Tty>> {
        match self.fds.peek(0) {
            Ok(Descriptor::Stdin(SharedInput::Tty(t))) => Some(t.clone()),
            _ => None,
        }
    }
}
