//! `docker top`: every process of a container — its main guest (pid 1), its `exec` sessions
//! and the processes they spawned — from its process table. Guests are not host processes:
//! the pids are the container's own, as a PID namespace numbers them.

use porthole_core::names::Id;

use crate::{Engine, Result};

/// An exec guest running in a container: what stops it with the container.
pub(crate) struct ExecSession {
    pub stopper: porthole_runtime::Stopper,
}

/// One process running in a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub pid: u64,
    /// 0 for what the engine started (the main guest, an exec session).
    pub ppid: u64,
    pub cmd: Vec<String>,
    /// Nanoseconds since the epoch.
    pub started: i64,
    /// CPU time so far.
    pub cpu_nanos: u64,
    pub tty: bool,
}

impl Engine {
    /// The processes running in the container; an error if it is not running.
    pub fn top(&self, reference: &str) -> Result<(Id, Vec<Process>)> {
        let (id, tty, table) = {
            let w = self.world();
            let c = w.container(reference)?;
            let r = &c.record;
            r.state.status.can_kill(r.id.as_str())?;
            (r.id.clone(), r.tty, c.running.as_ref().map(|r| r.processes.clone()))
        };
        // Read outside the world lock: the table is the container's own.
        let list = table.map(|t| t.list()).unwrap_or_default();
        let processes = list
            .into_iter()
            .filter(|p| p.state != 'Z')
            .map(|p| Process {
                pid: p.pid.into(),
                ppid: p.ppid.into(),
                cmd: p.argv,
                started: p.started,
                cpu_nanos: p.cpu_nanos,
                tty,
            })
            .collect();
        Ok((id, processes))
    }
}
