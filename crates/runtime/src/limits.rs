//! Per-guest resource caps, enforced by a wasmtime `ResourceLimiter`.

/// Caps for one guest run.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    /// Largest linear memory in bytes; `None` leaves only wasm32's 4 GiB.
    pub memory_bytes: Option<usize>,
}

/// Refuses growth past the cap with a trap (rather than `memory.grow` returning -1, which a
/// Rust guest turns into an abort that looks like any other crash) and remembers that it did,
/// so the run is reported as out of memory.
pub(crate) struct MemoryLimiter {
    cap: Option<usize>,
    exceeded: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("guest memory limit of {cap} bytes exceeded (wanted {wanted})")]
pub(crate) struct MemoryLimitExceeded {
    cap: usize,
    wanted: usize,
}

impl MemoryLimiter {
    pub fn new(limits: &Limits) -> Self {
        Self { cap: limits.memory_bytes, exceeded: false }
    }

    pub fn exceeded(&self) -> bool {
        self.exceeded
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        match self.cap {
            Some(cap) if desired > cap => {
                self.exceeded = true;
                Err(wasmtime::Error::new(MemoryLimitExceeded { cap, wanted: desired }))
            }
            _ => Ok(true),
        }
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}
