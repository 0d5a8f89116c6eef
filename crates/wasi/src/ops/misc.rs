//! Arguments, environment, clocks, randomness and process control.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::abi::clock;
use crate::errno::Errno;
use crate::host::{GuestExit, HostError, HostResult, WasiHost};
use crate::memory::GuestMemory;

/// Writes `strings` as a pointer table at `ptrs` and NUL-terminated bytes at `buf`.
fn write_string_table(mem: &mut GuestMemory<'_>, strings: &[Vec<u8>], ptrs: u32, buf: u32) -> Result<(), Errno> {
    let mut at = buf;
    for (i, s) in strings.iter().enumerate() {
        mem.write_u32(ptrs + 4 * i as u32, at)?;
        mem.write_bytes(at, s)?;
        mem.write_u8(at + s.len() as u32, 0)?;
        at += s.len() as u32 + 1;
    }
    Ok(())
}

fn write_sizes(mem: &mut GuestMemory<'_>, strings: &[Vec<u8>], count: u32, size: u32) -> Result<(), Errno> {
    mem.write_u32(count, strings.len() as u32)?;
    mem.write_u32(size, strings.iter().map(|s| s.len() as u32 + 1).sum())?;
    Ok(())
}

impl WasiHost {
    pub fn args_get(&mut self, mem: &mut GuestMemory<'_>, argv: u32, buf: u32) -> HostResult<()> {
        Ok(write_string_table(mem, &self.args, argv, buf)?)
    }

    pub fn args_sizes_get(&mut self, mem: &mut GuestMemory<'_>, count: u32, size: u32) -> HostResult<()> {
        Ok(write_sizes(mem, &self.args, count, size)?)
    }

    pub fn environ_get(&mut self, mem: &mut GuestMemory<'_>, environ: u32, buf: u32) -> HostResult<()> {
        Ok(write_string_table(mem, &self.env, environ, buf)?)
    }

    pub fn environ_sizes_get(&mut self, mem: &mut GuestMemory<'_>, count: u32, size: u32) -> HostResult<()> {
        Ok(write_sizes(mem, &self.env, count, size)?)
    }

    pub fn clock_res_get(&mut self, mem: &mut GuestMemory<'_>, id: u32, out: u32) -> HostResult<()> {
        match id {
            clock::REALTIME | clock::MONOTONIC | clock::PROCESS_CPUTIME | clock::THREAD_CPUTIME => {
                Ok(mem.write_u64(out, 1)?)
            }
            _ => Err(Errno::Inval.into()),
        }
    }

    pub fn clock_time_get(&mut self, mem: &mut GuestMemory<'_>, id: u32, _precision: u64, out: u32) -> HostResult<()> {
        let now = self.clock_now(id)?;
        Ok(mem.write_u64(out, now)?)
    }

    /// Nanoseconds on clock `id`. The monotonic clock counts from the guest's start, and the CPU
    /// clocks report it too: a guest cannot observe other processes' time.
    pub(crate) fn clock_now(&self, id: u32) -> Result<u64, Errno> {
        match id {
            clock::REALTIME => {
                Ok(SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0))
            }
            clock::MONOTONIC | clock::PROCESS_CPUTIME | clock::THREAD_CPUTIME => {
                Ok(self.started.elapsed().as_nanos() as u64)
            }
            _ => Err(Errno::Inval),
        }
    }

    pub fn random_get(&mut self, mem: &mut GuestMemory<'_>, buf: u32, len: u32) -> HostResult<()> {
        getrandom::fill(mem.slice_mut(buf, len)?).map_err(|_| Errno::Io)?;
        Ok(())
    }

    pub fn proc_exit(&mut self, _mem: &mut GuestMemory<'_>, code: u32) -> HostResult<()> {
        Err(HostError::Trap(wasmtime::Error::new(GuestExit(code as i32))))
    }

    pub fn proc_raise(&mut self, _mem: &mut GuestMemory<'_>, _sig: u8) -> HostResult<()> {
        Err(Errno::Nosys.into())
    }

    pub fn sched_yield(&mut self, _mem: &mut GuestMemory<'_>) -> HostResult<()> {
        std::thread::yield_now();
        Ok(())
    }
}
