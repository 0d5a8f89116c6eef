//! Background jobs (`cmd &`): the table `jobs`, `wait` and `kill %N` read, and those builtins.
//! A job is its processes and its text; it is done when its last process has ended.

use porthole_sys::{self as ps, Pid};

use super::exec::{Flow, Shell};
use crate::applets::kill as signals;
use crate::stream::Io;
use crate::sys;

#[derive(Debug, Clone)]
pub struct Job {
    pub id: usize,
    pub pids: Vec<Pid>,
    /// Each process's status once it has been waited for.
    ended: Vec<Option<i32>>,
    pub text: String,
}

impl Job {
    /// The job's status (its last process's) once every process has ended.
    fn status(&self) -> Option<i32> {
        if self.ended.iter().all(Option::is_some) { self.ended.last().copied().flatten() } else { None }
    }

    /// How `pid` ended, if it has.
    fn ended(&self, pid: Pid) -> Option<i32> {
        self.pids.iter().position(|p| *p == pid).and_then(|i| self.ended[i])
    }
}

#[derive(Debug, Clone, Default)]
pub struct Jobs(Vec<Job>);

impl Jobs {
    /// Adds a job, numbered one above the highest in the table; gives its number.
    pub fn add(&mut self, pids: Vec<Pid>, text: String) -> usize {
        let id = self.0.iter().map(|j| j.id).max().unwrap_or(0) + 1;
        self.0.push(Job { id, ended: vec![None; pids.len()], pids, text });
        id
    }

    /// `%N`, `%%`/`%+` (the newest) or a pid, to the job's processes.
    pub fn resolve(&self, spec: &str) -> Option<Vec<Pid>> {
        match spec.strip_prefix('%') {
            Some("%" | "+" | "") => self.0.last().map(|j| j.pids.clone()),
            Some(n) => self.0.iter().find(|j| n.parse() == Ok(j.id)).map(|j| j.pids.clone()),
            None => spec.parse().ok().map(|pid| vec![pid]),
        }
    }

    /// Collects the processes that have ended, without blocking; `block` waits for `pid`.
    fn reap(&mut self, block: Option<Pid>) {
        for job in &mut self.0 {
            for (&pid, ended) in job.pids.iter().zip(job.ended.iter_mut()).filter(|(_, e)| e.is_none()) {
                match ps::wait(Some(pid), block != Some(pid)) {
                    Ok(Some(done)) => *ended = Some(done.status as i32),
                    Ok(None) => {}
                    // Not a child any more (or no process interface): nothing will end it later.
                    Err(_) => *ended = Some(127),
                }
            }
        }
    }

    /// The lines `jobs` prints (busybox's layout); finished jobs are reported once and dropped.
    fn listing(&mut self) -> String {
        self.reap(None);
        let newest = self.0.last().map(|j| j.id);
        let text = self
            .0
            .iter()
            .map(|j| {
                let state = match j.status() {
                    None => "Running".to_string(),
                    Some(0) => "Done".to_string(),
                    Some(s) => format!("Done({s})"),
                };
                let mark = if Some(j.id) == newest { '+' } else { ' ' };
                format!("[{}]{mark}  {state:<24}{}\n", j.id, j.text)
            })
            .collect();
        self.0.retain(|j| j.status().is_none());
        text
    }
}

impl Shell {
    /// Before an interactive prompt: reports jobs that finished since, as `jobs` would.
    pub fn report_finished_jobs(&mut self, io: &Io) {
        self.jobs.reap(None);
        if self.jobs.0.iter().any(|j| j.status().is_some()) {
            let done: String =
                self.jobs.listing().lines().filter(|l| !l.contains("Running")).map(|l| format!("{l}\n")).collect();
            io.stderr.note(&done);
        }
    }
}

/// `jobs`
pub fn jobs(sh: &mut Shell, _args: &[String], io: &Io) -> Flow {
    io.stdout.note(&sh.jobs.listing());
    Ok(0)
}

/// `wait [PID|%JOB...]`: without operands every job, status 0; else the last operand's status
/// (127 for an unknown one).
pub fn wait(sh: &mut Shell, args: &[String], io: &Io) -> Flow {
    if args.is_empty() {
        let pending: Vec<Pid> = sh.jobs.0.iter().flat_map(|j| j.pids.clone()).collect();
        for pid in pending {
            sh.jobs.reap(Some(pid));
        }
        sh.jobs.0.clear();
        return Ok(0);
    }
    let mut status = 0;
    for arg in args {
        let Some(pids) = sh.jobs.resolve(arg) else {
            sh.report(io, &format!("wait: {arg}: no such job"));
            status = 127;
            continue;
        };
        let last = *pids.last().unwrap_or(&0);
        for &pid in &pids {
            sh.jobs.reap(Some(pid));
        }
        status = match sh.jobs.0.iter().find(|j| j.pids.contains(&last)) {
            Some(job) => job.ended(last).unwrap_or(127),
            // Not a job of ours: a child started otherwise, or nothing.
            None => match ps::wait(Some(last), false) {
                Ok(Some(done)) => done.status as i32,
                _ => 127,
            },
        };
        sh.jobs.0.retain(|j| !j.pids.contains(&last));
    }
    Ok(status)
}

/// `kill [-s SIG | -SIG] PID|%JOB...` and `kill -l`: the applet's rules, plus job numbers. A
/// signal the shell sent itself acts before the next command.
pub fn kill(sh: &mut Shell, args: &[String], io: &Io) -> Flow {
    let request = match signals::parse(args) {
        Ok(signals::Request::List(text)) => {
            io.stdout.note(&text);
            return Ok(0);
        }
        Ok(signals::Request::Send { signal, targets }) => (signal, targets),
        Err(msg) => {
            io.stderr.note(&format!("kill: {msg}\n"));
            return Ok(1);
        }
    };
    let (signal, targets) = request;
    let mut status = 0;
    for target in &targets {
        let Some(pids) = sh.jobs.resolve(target) else {
            io.stderr.note(&format!("kill: {}\n", signals::bad_target(target)));
            status = 1;
            continue;
        };
        for pid in pids {
            if let Err(e) = ps::kill(pid, signal) {
                io.stderr.note(&format!("kill: can't kill pid {pid}: {}\n", sys::describe(&e)));
                status = 1;
            }
        }
    }
    Ok(status)
}
