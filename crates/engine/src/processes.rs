//! `docker top`: what runs in a container — its main guest and the `exec` guests running
//! beside it. Guests are not host processes, so there are no PIDs to show: the main guest is
//! 1 and each exec session is numbered after it in the order they started, as a PID
//! namespace would number them.

use porthole_core::names::Id;

use crate::{Engine, Result};

/// An exec guest running in a container: what stops it with the container, and what `top`
/// shows.
pub(crate) struct ExecSession {
    pub stopper: porthole_runtime::Stopper,
    pub cmd: Vec<String>,
    pub started: i64,
    pub tty: bool,
}

/// One guest running in a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// 1 for the main guest, then 2, 3, … for exec sessions.
    pub pid: u64,
    pub cmd: Vec<String>,
    /// Nanoseconds since the epoch.
    pub started: i64,
    pub tty: bool,
}

impl Engine {
    /// The guests running in the container; an error if it is not running.
    pub fn top(&self, reference: &str) -> Result<(Id, Vec<Process>)> {
        let w = self.world();
        let c = w.container(reference)?;
        let r = &c.record;
        r.state.status.can_kill(r.id.as_str())?;
        let main = Process {
            pid: 1,
            cmd: std::iter::once(&r.path).chain(&r.args).cloned().collect(),
            started: r.state.started_at,
            tty: r.tty,
        };
        let execs = c.execs.iter().map(|(serial, e)| Process {
            pid: serial + 1,
            cmd: e.cmd.clone(),
            started: e.started,
            tty: e.tty,
        });
        Ok((r.id.clone(), std::iter::once(main).chain(execs).collect()))
    }
}
