//! Programs as processes, through Porthole's process interface (`porthole_sys`): every
//! command that is not a builtin or a function is a program started with its own descriptors
//! (the command's streams), environment (the exported variables) and working directory.
//! Pipeline stages run at once, joined by host pipes; a stage that is a builtin or compound
//! command runs in a child shell given the stage as text (see `print`) after a prelude that
//! recreates the shell's unexported variables and functions, as a forked subshell would have.
//!
//! A stream in memory has no descriptor to hand over: a here-document goes to the child through
//! a pipe the shell fills, and output captured by `$(…)` comes back through a pipe the shell
//! drains before it waits.

use std::fs::File;
use std::io::{self, Write};

use porthole_sys::{self as ps, Pid};

use super::ast::{AndOr, Command, Pipeline};
use super::builtins;
use super::exec::{Flow, Shell, Unwind};
use super::print;
use crate::ctx::Env;
use crate::spawn::{self, ChildFds, drain_all, pipe, raw};
use crate::stream::{Input, Io, Output};
use crate::sys;

/// What one started pipeline stage is.
pub(super) enum Stage {
    Running(Pid),
    /// It could not start (not found, say) and has this status.
    Done(i32),
}

/// Started processes and what the shell must do until they end.
#[derive(Default)]
pub(super) struct Started {
    pub stages: Vec<Stage>,
    /// Here-document bytes for a child's stdin, written after the spawn (they may not fit the
    /// pipe's buffer).
    feeds: Vec<(File, Vec<u8>)>,
    /// Pipes whose output belongs in a capture buffer (`$(…)`).
    drains: Vec<(File, Output)>,
}

impl Started {
    pub fn pids(&self) -> Vec<Pid> {
        self.stages
            .iter()
            .filter_map(|s| match s {
                Stage::Running(pid) => Some(*pid),
                Stage::Done(_) => None,
            })
            .collect()
    }
}

/// A signal's shell status.
pub const INTERRUPTED: i32 = 128 + ps::signal::INT as i32;

impl Shell {
    /// Starts `program` (a path, as found by [`Shell::find_program`]) with `argv`; a failure is
    /// reported as the shell reports it and given as the command's status.
    pub(super) fn start_program(
        &mut self,
        program: &str,
        argv: &[String],
        env: &Env,
        io: &Io,
    ) -> Result<Started, Flow> {
        let extra = match self.extra_fds.keys().next_back() {
            Some(&top) => {
                (3..=top).map(|n| self.extra_fds.get(&n).and_then(|s| s.fd()).unwrap_or(ps::CLOSED)).collect()
            }
            None => Vec::new(),
        };
        let spawned = ChildFds::new(io, extra)
            .and_then(|child| child.spawn(program, argv, env))
            .map_err(|e| self.cannot_start(&argv[0], &e, io))?;
        Ok(Started {
            stages: vec![Stage::Running(spawned.pid)],
            feeds: spawned.feed.into_iter().collect(),
            drains: spawned.drains,
        })
    }

    /// Starts a child shell running `command` (with this shell's state), on `io`.
    pub(super) fn start_child_shell(&mut self, script: &str, io: &Io) -> Result<Started, Flow> {
        let mut argv =
            vec!["sh".to_string(), "-c".to_string(), format!("{}{script}", self.prelude()), self.arg0.clone()];
        argv.extend(self.positional.iter().cloned());
        let env = self.vars.env();
        self.start_program("/bin/sh", &argv, &env, io)
    }

    /// Text that gives a child shell this shell's unexported variables, functions, options
    /// and `$?` (exported variables go in its environment, arguments in its argv).
    pub(super) fn prelude(&self) -> String {
        let mut text = String::new();
        for (name, value, exported) in self.vars.sorted() {
            if !exported && super::parser::is_name(name) {
                text.push_str(&format!("{name}={}\n", print::quote(value)));
            }
        }
        for (name, body) in &self.functions {
            text.push_str(&print::command(&Command::Function { name: name.clone(), body: body.clone() }));
        }
        let o = &self.options;
        for (on, option) in
            [(o.errexit, "errexit"), (o.xtrace, "xtrace"), (o.noglob, "noglob"), (o.pipefail, "pipefail")]
        {
            if on {
                text.push_str(&format!("set -o {option}\n"));
            }
        }
        if self.status != 0 {
            text.push_str(&format!("(exit {})\n", self.status));
        }
        text
    }

    /// Starts one pipeline stage on `io`: a program directly, anything else in a child shell.
    fn start_stage(&mut self, command: &Command, io: &Io) -> Result<Started, Flow> {
        if let Command::Simple { assigns, words, redirs } = command {
            let literal = words.first().and_then(|w| w.as_literal());
            let in_shell = literal.is_some_and(|n| builtins::find(n).is_some() || self.functions.contains_key(n));
            if !words.is_empty() && !in_shell {
                let Some((argv, env, io)) = self.prepare_simple(assigns, words, redirs, io)? else {
                    return Ok(Started { stages: vec![Stage::Done(0)], ..Default::default() });
                };
                if builtins::find(&argv[0]).is_some() || self.functions.contains_key(&argv[0]) {
                    let text: Vec<String> = argv.iter().map(|a| print::quote(a)).collect();
                    return self.start_child_shell(&format!("{}\n", text.join(" ")), &io);
                }
                return match self.find_program(&argv[0]) {
                    Some(path) => self.start_program(&path, &argv, &env, &io),
                    None => Err(self.not_found(&argv[0], &io)),
                };
            }
        }
        self.start_child_shell(&print::command(command), io)
    }

    /// Starts every stage of a pipeline, each reading the previous one through a pipe.
    pub(super) fn start_pipeline(&mut self, pipeline: &Pipeline, io: &Io) -> Result<Started, Flow> {
        let mut all = Started::default();
        let mut input = None;
        let n = pipeline.commands.len();
        for (i, command) in pipeline.commands.iter().enumerate() {
            let (next, stdout) = if i + 1 < n {
                match pipe() {
                    Ok((r, w)) => (Some(Input::file(r)), Output::file(w)),
                    Err(e) => {
                        self.report(io, &format!("can't create pipe: {}", sys::describe(&e)));
                        all.stages.push(Stage::Done(2));
                        break;
                    }
                }
            } else {
                (None, io.stdout.clone())
            };
            let stage =
                Io { stdin: input.take().unwrap_or_else(|| io.stdin.clone()), stdout, stderr: io.stderr.clone() };
            let started = match self.start_stage(command, &stage) {
                Ok(s) => s,
                Err(Ok(status)) => Started { stages: vec![Stage::Done(status)], ..Default::default() },
                Err(Err(unwind)) => {
                    self.finish(all, io).ok();
                    return Err(Err(unwind));
                }
            };
            // The shell's copies of this stage's pipe ends close here, so that EOF and
            // SIGPIPE reach the neighbours.
            drop(stage);
            all.stages.extend(started.stages);
            all.feeds.extend(started.feeds);
            all.drains.extend(started.drains);
            input = next;
        }
        Ok(all)
    }

    /// Waits for started processes in the foreground: Ctrl-C goes to them while they run.
    /// Gives the last stage's status; a foreground job ended by Ctrl-C interrupts the shell
    /// too (an interactive one goes back to its prompt; a script ends), unless INT is trapped.
    pub(super) fn finish(&mut self, started: Started, io: &Io) -> Flow {
        let pids = started.pids();
        if self.owns_terminal && !pids.is_empty() {
            let _ = ps::set_foreground(&pids);
        }
        for (mut pipe, bytes) in started.feeds {
            // A child that does not read it all ends the pipe: that is its business.
            let _ = pipe.write_all(&bytes);
        }
        drain_all(started.drains);
        let mut statuses = Vec::new();
        for stage in &started.stages {
            let status = match stage {
                Stage::Done(s) => *s,
                Stage::Running(pid) => match ps::wait(Some(*pid), false) {
                    Ok(Some(done)) => done.status as i32,
                    Ok(None) => 0,
                    Err(e) => {
                        self.report(io, &format!("wait: {}", sys::describe(&e)));
                        127
                    }
                },
            };
            statuses.push(status);
        }
        let last = statuses.last().copied().unwrap_or(0);
        let status = match self.options.pipefail {
            true => statuses.iter().rev().find(|s| **s != 0).copied().unwrap_or(0),
            false => last,
        };
        if self.owns_terminal && !pids.is_empty() {
            let _ = ps::set_foreground(&[self.pid]);
        }
        if statuses.contains(&INTERRUPTED) && !pids.is_empty() {
            if let Some(action) = self.traps.get(&ps::signal::INT).cloned() {
                self.run_trap(&action, io)?;
            } else if self.interactive {
                io.stderr.note("\n");
                return Err(Unwind::Interrupt);
            } else {
                return Err(Unwind::Exit(INTERRUPTED));
            }
        }
        Ok(status)
    }

    /// Runs `item` as a background job: `$!` is its last process.
    pub(super) fn start_background(&mut self, item: &AndOr, io: &Io) -> Flow {
        // Without job control, a background job reads /dev/null (POSIX), not the terminal.
        let io = Io { stdin: Input::empty(), ..io.clone() };
        let started = match item.rest.is_empty() && !item.first.negate {
            true => self.start_pipeline(&item.first, &io),
            false => self.start_child_shell(&print::and_or(item), &io),
        };
        let started = match started {
            Ok(s) => s,
            Err(flow) => return flow.map(|_| 0),
        };
        let mut pids = started.pids();
        // Nobody waits on a background job to fill a capture or write a here-document's rest;
        // output to nowhere goes to a child shell that reads it to its end, so that the job
        // does not die of SIGPIPE (`daemon >/dev/null 2>&1 &`).
        drop(started.feeds);
        for (pipe, out) in started.drains {
            if !out.is_capture()
                && let Ok(pid) = self.start_discarder(pipe)
            {
                pids.insert(0, pid);
            }
        }
        if let Some(&last) = pids.last() {
            self.last_background = Some(last);
            let id = self.jobs.add(pids, print::and_or(item).trim_end().to_string());
            if self.interactive {
                io.stderr.note(&format!("[{id}] {last}\n"));
            }
        }
        Ok(0)
    }

    /// A child shell that reads `pipe` to its end and drops what it reads.
    fn start_discarder(&mut self, pipe: File) -> io::Result<Pid> {
        let argv = ["sh".to_string(), "-c".to_string(), "cat >/dev/null".to_string()];
        let fds = [raw(&pipe), ps::CLOSED, ps::CLOSED];
        let cwd = crate::fsx::cwd();
        ps::spawn(&ps::Command { program: "/bin/sh", argv: &argv, env: &[], cwd: &cwd, fds: &fds })
    }

    /// The program `name` names: a path as is, else found in `$PATH`.
    pub(super) fn find_program(&self, name: &str) -> Option<String> {
        spawn::find_program(name, self.vars.get("PATH"))
    }

    pub(super) fn not_found(&mut self, name: &str, io: &Io) -> Flow {
        self.report(io, &format!("{name}: not found"));
        Ok(127)
    }

    /// How a failed start is reported: busybox's texts, 127 for a missing program, 126 for one
    /// that cannot run; the container's process limit stops a script, as a failed fork does.
    fn cannot_start(&mut self, name: &str, err: &io::Error, io: &Io) -> Flow {
        match err.raw_os_error() {
            Some(libc::ENOENT) => self.not_found(name, io),
            Some(libc::EAGAIN) => self.fatal(io, "can't fork: the container's process limit is reached"),
            Some(libc::EISDIR) => {
                self.report(io, &format!("{name}: Permission denied"));
                Ok(126)
            }
            _ if err.kind() == io::ErrorKind::Unsupported => {
                self.report(io, &format!("{name}: can't run programs: {err}"));
                Ok(126)
            }
            _ => {
                self.report(io, &format!("{name}: {}", sys::describe(err)));
                Ok(126)
            }
        }
    }
}
