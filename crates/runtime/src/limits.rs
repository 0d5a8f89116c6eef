//! Per-guest resource caps, enforced by a wasmtime `ResourceLimiter`.

/// Caps for one guest run.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest linear memory in bytes; `None` leaves only wasm32's 4 GiB.
    pub memory_bytes: Option<usize>,
}

impl Limits {
    /// The memory cap of a guest run that asks for none (`docker run` without `--memory`,
    /// `exec`, build steps): Docker leaves such containers unlimited, but here every guest
    /// lives in the controller's own address space, so one runaway guest would take the
    /// controller (and every other guest) with it.
    pub const DEFAULT_MEMORY_BYTES: usize = 512 << 20;

    /// The caps for `memory_bytes` (`--memory`), or the default when it is `None`.
    pub fn with_memory(memory_bytes: Option<u64>) -> Self {
        let memory = memory_bytes.map_or(Self::DEFAULT_MEMORY_BYTES, |m| usize::try_from(m).unwrap_or(usize::MAX));
        Limits { memory_bytes: Some(memory) }
    }
}

impl Default for Limits {
    /// The default memory cap.
    fn default() -> Self {
        Limits::with_memory(None)
    }
}

/// Refuses growth past the cap with a trap (rather than `memory.grow` returning -1, which a
/// Rust guest turns into an abort that looks like any other crash) and remembers that it did,
/// so the run is reported as out of memory. Growth that fails for any other reason (past the
/// module's declared maximum, past wasm32's 4 GiB, the host refusing to map more) is treated
/// the same way: the kernel's OOM killer would end such a process too.
pub(crate) struct MemoryLimiter {
    cap: Option<usize>,
    exceeded: bool,
    /// Linear memory granted so far, also told to the container's usage.
    held: u64,
    /// The container's usage: the cap is on what all its processes hold together, as a
    /// cgroup's is.
    usage: Option<std::sync::Arc<crate::Usage>>,
    /// This process's own count, for its line in the process table.
    own: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum OutOfMemory {
    #[error("guest memory limit of {cap} bytes exceeded (wanted {wanted})")]
    Cap { cap: usize, wanted: usize },
    #[error("guest memory could not grow: {0}")]
    GrowFailed(String),
}

impl MemoryLimiter {
    pub fn new(
        limits: &Limits,
        usage: Option<std::sync::Arc<crate::Usage>>,
        own: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    ) -> Self {
        Self { cap: limits.memory_bytes, exceeded: false, held: 0, usage, own }
    }

    pub fn held(&self) -> u64 {
        self.held
    }

    pub fn exceeded(&self) -> bool {
        self.exceeded
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let grown = desired.saturating_sub(current) as u64;
        let together = self.usage.as_ref().map_or(desired as u64, |u| u.memory_bytes() + grown);
        match self.cap {
            Some(cap) if desired > cap || together > cap as u64 => {
                self.exceeded = true;
                Err(wasmtime::Error::new(OutOfMemory::Cap { cap, wanted: desired }))
            }
            _ => {
                self.held += grown;
                if let Some(u) = &self.usage {
                    u.grew(grown);
                }
                if let Some(own) = &self.own {
                    own.fetch_add(grown, std::sync::atomic::Ordering::Relaxed);
                }
                Ok(true)
            }
        }
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.exceeded = true;
        Err(wasmtime::Error::new(OutOfMemory::GrowFailed(error.to_string())))
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}
