//! What a container's guests use, for `docker stats`: linear memory of the guests running
//! now, CPU time of all of them so far (those that ended, plus each running guest's thread),
//! and bytes read from and written to files. One `Usage` is shared by every guest of a
//! container, as a cgroup counts every process in it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

pub use porthole_wasi::IoCounters;

#[derive(Debug, Default)]
pub struct Usage {
    memory: AtomicU64,
    cpu_ended_ns: AtomicU64,
    /// Thread ids of the guests running now (each guest runs on a thread of its own).
    threads: Mutex<Vec<i32>>,
    pub(crate) io: std::sync::Arc<IoCounters>,
}

impl Usage {
    /// Bytes of linear memory the running guests hold.
    pub fn memory_bytes(&self) -> u64 {
        self.memory.load(Ordering::Relaxed)
    }

    /// CPU time so far, user and system, in nanoseconds.
    pub fn cpu_nanos(&self) -> u64 {
        let live: u64 = self.threads.lock().unwrap().iter().map(|&tid| thread_cpu_nanos(tid)).sum();
        self.cpu_ended_ns.load(Ordering::Relaxed) + live
    }

    /// How many guests run now (Docker's `pids`).
    pub fn guests(&self) -> usize {
        self.threads.lock().unwrap().len()
    }

    pub fn read_bytes(&self) -> u64 {
        self.io.read.load(Ordering::Relaxed)
    }

    pub fn written_bytes(&self) -> u64 {
        self.io.written.load(Ordering::Relaxed)
    }

    pub(crate) fn grew(&self, bytes: u64) {
        self.memory.fetch_add(bytes, Ordering::Relaxed);
    }

    /// A guest starts on the calling thread.
    pub(crate) fn enter(&self) -> i32 {
        let tid = rustix::thread::gettid().as_raw_nonzero().get();
        self.threads.lock().unwrap().push(tid);
        tid
    }

    /// The guest on thread `tid`, which held `memory` bytes, ended: its CPU time is kept.
    pub(crate) fn leave(&self, tid: i32, memory: u64) {
        let cpu = thread_cpu_nanos(tid);
        let mut threads = self.threads.lock().unwrap();
        threads.retain(|&t| t != tid);
        self.cpu_ended_ns.fetch_add(cpu, Ordering::Relaxed);
        self.memory.fetch_sub(memory.min(self.memory.load(Ordering::Relaxed)), Ordering::Relaxed);
    }
}

/// A thread's CPU time from `/proc/self/task/<tid>/stat` (utime + stime, in clock ticks of
/// 10 ms on Linux).
pub(crate) fn thread_cpu_nanos(tid: i32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")) else { return 0 };
    let Some((_, rest)) = stat.rsplit_once(") ") else { return 0 };
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 = fields.get(11).and_then(|u| u.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|s| s.parse().ok()).unwrap_or(0);
    ticks * 10_000_000
}
