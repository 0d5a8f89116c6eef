//! `docker stats`: a sample of what a container's guests use now.

use porthole_runtime::Limits;

use crate::{Engine, Result};

/// One sample. Counters (CPU time, bytes read and written) count from the container's start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub running: bool,
    pub memory_bytes: u64,
    /// `--memory`, or the cap every guest gets without it.
    pub memory_limit: u64,
    pub cpu_nanos: u64,
    pub read_bytes: u64,
    pub written_bytes: u64,
    /// Guests running now: the main program and its execs.
    pub guests: u64,
}

impl Engine {
    pub fn stats(&self, reference: &str) -> Result<Stats> {
        let w = self.world();
        let c = w.container(reference)?;
        let memory_limit = c.record.host.memory_bytes.unwrap_or(Limits::DEFAULT_MEMORY_BYTES as u64);
        let Some(running) = &c.running else { return Ok(Stats { memory_limit, ..Default::default() }) };
        let u = running.usage.clone();
        drop(w);
        Ok(Stats {
            running: true,
            memory_bytes: u.memory_bytes(),
            memory_limit,
            cpu_nanos: u.cpu_nanos(),
            read_bytes: u.read_bytes(),
            written_bytes: u.written_bytes(),
            guests: u.guests() as u64,
        })
    }
}
