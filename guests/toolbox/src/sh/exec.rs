//! The executor: runs a parsed [`List`] with given streams. Builtins and functions run in the
//! shell; every other command is a program started as a process (see `process`), pipeline
//! stages run at once, `cmd &` is a background job. Subshells (`( … )`, `$(…)`) run in the
//! shell on a copy of its state, restoring the current directory afterwards.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use porthole_sys::{self as ps, Pid};

use super::ast::{AndOr, Command, Compound, Connector, List, Pipeline, Redir, RedirKind, Word};
use super::builtins;
use super::jobs::Jobs;
use super::vars::Vars;
use crate::ctx;
use crate::ctx::Env;
use crate::stream::{Input, Io, Output};
use crate::{fsx, glob, sys};

/// Why execution stops early: these unwind to the construct that handles them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unwind {
    Exit(i32),
    Break(usize),
    Continue(usize),
    Return(i32),
    /// Ctrl-C in an interactive shell: back to the prompt.
    Interrupt,
}

/// A command's exit status, or an unwind in progress.
pub type Flow = Result<i32, Unwind>;

/// `set` options.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `-e`: exit when a command fails outside a condition.
    pub errexit: bool,
    /// `-x`: print each command before running it.
    pub xtrace: bool,
    /// `-f`: no filename expansion.
    pub noglob: bool,
    /// `-o pipefail`: a pipeline's status is its last failing stage's.
    pub pipefail: bool,
}

/// The shell's state.
#[derive(Clone)]
pub struct Shell {
    pub vars: Vars,
    pub positional: Vec<String>,
    /// `$0`.
    pub arg0: String,
    /// `$?`.
    pub status: i32,
    pub functions: HashMap<String, Rc<Command>>,
    pub options: Options,
    pub interactive: bool,
    /// The command `trap … EXIT` registered.
    pub exit_trap: Option<String>,
    /// How deep we are in conditions (`if`, `while`, `!`, left of `&&`/`||`), where `set -e`
    /// does not apply.
    condition: usize,
    /// How many loops enclose the running command (for `break` and `continue`).
    pub(super) loops: usize,
    /// Per function call: variables `local` saved, with their previous values.
    pub(super) locals: Vec<Vec<(String, Option<String>)>>,
    /// The status of the last command substitution in the current command.
    pub(super) substitution_status: Option<i32>,
    /// Descriptors 3 and up that `exec 3>FILE` opened.
    pub extra_fds: BTreeMap<u32, Stream>,
    pub jobs: Jobs,
    /// `$!`.
    pub last_background: Option<Pid>,
    /// `trap ACTION SIGNAL`: the actions by signal number (`""` ignores the signal).
    pub traps: BTreeMap<u32, String>,
    /// Whether this shell hands the terminal's Ctrl-C to the jobs it waits for: an
    /// interactive shell, or the container's main process.
    pub owns_terminal: bool,
    /// `$$`.
    pub pid: Pid,
    /// `$RANDOM`'s generator state.
    pub(super) random: u32,
    /// `getopts`: the position inside a group of options (`-abc`), and the `OPTIND` it was for.
    pub(super) getopts_at: (usize, String),
}

/// A descriptor the shell keeps open for later commands (`exec 3<FILE`).
#[derive(Clone)]
pub enum Stream {
    In(Input),
    Out(Output),
}

impl Stream {
    pub fn fd(&self) -> Option<u32> {
        match self {
            Stream::In(i) => i.fd(),
            Stream::Out(o) => o.fd(),
        }
    }
}

impl Shell {
    pub fn new(env: &Env, arg0: &str, positional: Vec<String>, interactive: bool) -> Shell {
        let mut vars = Vars::from_env(env);
        if vars.get("PWD").is_none() {
            vars.set("PWD", &fsx::cwd());
        }
        if vars.get("IFS").is_none() {
            vars.set("IFS", " \t\n");
        }
        let pid = ps::self_pid().unwrap_or(1);
        Shell {
            vars,
            positional,
            arg0: arg0.to_string(),
            status: 0,
            functions: HashMap::new(),
            options: Options::default(),
            interactive,
            exit_trap: None,
            condition: 0,
            loops: 0,
            locals: Vec::new(),
            substitution_status: None,
            extra_fds: BTreeMap::new(),
            jobs: Jobs::default(),
            last_background: None,
            traps: BTreeMap::new(),
            owns_terminal: interactive || pid == 1,
            pid,
            random: pid.wrapping_mul(2_654_435_761) ^ clock_seed(),
            getopts_at: (0, String::new()),
        }
    }

    /// Writes `sh: MSG` to the command's stderr.
    pub fn report(&self, io: &Io, msg: &str) {
        io.stderr.note(&format!("sh: {msg}\n"));
    }

    /// Reports an error that ends a non-interactive shell with status 2, as ash does.
    pub fn fatal(&self, io: &Io, msg: &str) -> Flow {
        self.report(io, msg);
        if self.interactive { Ok(2) } else { Err(Unwind::Exit(2)) }
    }

    pub fn run_list(&mut self, list: &List, io: &Io) -> Flow {
        for item in list {
            self.take_signals(io)?;
            if item.background {
                self.status = self.start_background(item, io)?;
            } else {
                self.run_and_or(item, io)?;
            }
        }
        Ok(self.status)
    }

    fn run_and_or(&mut self, item: &AndOr, io: &Io) -> Flow {
        let mut status = self.conditionally(!item.rest.is_empty(), |sh| sh.run_pipeline(&item.first, io))?;
        // Only a failure of the last pipeline that ran, when it is the list's last, counts for -e.
        let mut last_ran = item.rest.is_empty();
        for (i, (connector, pipeline)) in item.rest.iter().enumerate() {
            let run = match connector {
                Connector::And => status == 0,
                Connector::Or => status != 0,
            };
            if run {
                let last = i + 1 == item.rest.len();
                status = self.conditionally(!last, |sh| sh.run_pipeline(pipeline, io))?;
                last_ran = last;
            }
        }
        self.status = status;
        if status != 0 && last_ran && self.options.errexit && self.condition == 0 {
            return Err(Unwind::Exit(status));
        }
        Ok(status)
    }

    /// Runs `f` as a condition when `yes` (so `set -e` ignores its failure).
    fn conditionally(&mut self, yes: bool, f: impl FnOnce(&mut Shell) -> Flow) -> Flow {
        self.condition += usize::from(yes);
        let result = f(self);
        self.condition -= usize::from(yes);
        result
    }

    fn run_pipeline(&mut self, pipeline: &Pipeline, io: &Io) -> Flow {
        let status = if let [only] = pipeline.commands.as_slice() {
            self.conditionally(pipeline.negate, |sh| sh.run_command(only, io))?
        } else {
            match self.start_pipeline(pipeline, io) {
                Ok(started) => self.finish(started, io)?,
                Err(flow) => flow?,
            }
        };
        let status = if pipeline.negate { i32::from(status == 0) } else { status };
        self.status = status;
        Ok(status)
    }

    /// Runs `f` on a copy of the shell, as a forked subshell would; gives its exit status.
    pub fn subshell(&mut self, f: impl FnOnce(&mut Shell) -> Flow) -> i32 {
        let mut child = self.clone();
        child.exit_trap = None;
        let cwd = fsx::cwd();
        let status = match f(&mut child) {
            Ok(s) | Err(Unwind::Exit(s) | Unwind::Return(s)) => s,
            Err(Unwind::Break(_) | Unwind::Continue(_)) => child.status,
            Err(Unwind::Interrupt) => super::process::INTERRUPTED,
        };
        // Jobs the subshell started are its own; `$!` and the table stay the parent's.
        self.random = child.random;
        if fsx::cwd() != cwd {
            let _ = std::env::set_current_dir(&cwd);
        }
        status
    }

    pub fn run_command(&mut self, command: &Command, io: &Io) -> Flow {
        let status = match command {
            Command::Simple { assigns, words, redirs } => self.run_simple(assigns, words, redirs, io)?,
            Command::Compound { body, redirs } => match self.redirect(redirs, io) {
                Ok(io) => self.run_compound(body, &io)?,
                Err(msg) => {
                    self.report(io, &msg);
                    1
                }
            },
            Command::Function { name, body } => {
                self.functions.insert(name.clone(), body.clone());
                0
            }
        };
        self.status = status;
        Ok(status)
    }

    fn run_simple(&mut self, assigns: &[(String, Word)], words: &[Word], redirs: &[Redir], io: &Io) -> Flow {
        self.substitution_status = None;
        let argv = match self.expand_words(words, io) {
            Ok(argv) => argv,
            Err(e) => return self.fatal(io, &e.0),
        };
        let mut values = Vec::new();
        for (name, word) in assigns {
            match self.expand_string(word, io) {
                Ok(v) => values.push((name.clone(), v)),
                Err(e) => return self.fatal(io, &e.0),
            }
        }
        if argv.len() == 1 && argv[0] == "exec" && values.is_empty() {
            return match self.redirect_persistently(redirs, io) {
                Ok(()) => Ok(0),
                Err(msg) => self.fatal(io, &msg),
            };
        }
        let io = match self.redirect(redirs, io) {
            Ok(io) => io,
            Err(msg) => {
                self.report(io, &msg);
                return Ok(1);
            }
        };
        if argv.is_empty() {
            for (name, value) in &values {
                self.vars.set(name, value);
            }
            return Ok(self.substitution_status.unwrap_or(0));
        }
        if self.options.xtrace {
            let shown: Vec<String> =
                values.iter().map(|(n, v)| format!("{n}={v}")).chain(argv.iter().cloned()).collect();
            io.stderr.note(&format!("+ {}\n", shown.join(" ")));
        }
        self.dispatch(&argv, &values, &io)
    }

    /// Runs `argv`: a builtin, a function, or a program (as a process, waited for).
    pub fn dispatch(&mut self, argv: &[String], assigns: &[(String, String)], io: &Io) -> Flow {
        let name = argv[0].as_str();
        if let Some(builtin) = builtins::find(name) {
            // Assignments before a builtin stay, as for POSIX's special builtins.
            for (n, v) in assigns {
                self.vars.set(n, v);
            }
            return builtin(self, &argv[1..], io);
        }
        if let Some(body) = self.functions.get(name).cloned() {
            for (n, v) in assigns {
                self.vars.set(n, v);
            }
            return self.call_function(&body, argv, io);
        }
        let mut env = self.vars.env();
        for (n, v) in assigns {
            env.set(n, v);
        }
        let Some(program) = self.find_program(name) else { return self.not_found(name, io) };
        match self.start_program(&program, argv, &env, io) {
            Ok(started) => self.finish(started, io),
            Err(flow) => flow,
        }
    }

    /// Expands a simple command for a pipeline stage that may be a program: its arguments,
    /// environment and streams (`None` when it has no words left, `Err` with its status when
    /// an expansion or redirection failed).
    pub(super) fn prepare_simple(
        &mut self,
        assigns: &[(String, Word)],
        words: &[Word],
        redirs: &[Redir],
        io: &Io,
    ) -> Result<Option<(Vec<String>, Env, Io)>, Flow> {
        let argv = self.expand_words(words, io).map_err(|e| self.fatal(io, &e.0))?;
        let mut env = self.vars.env();
        for (name, word) in assigns {
            let value = self.expand_string(word, io).map_err(|e| self.fatal(io, &e.0))?;
            env.set(name, &value);
        }
        let io = self.redirect(redirs, io).map_err(|msg| {
            self.report(io, &msg);
            Ok(1)
        })?;
        Ok((!argv.is_empty()).then_some((argv, env, io)))
    }

    fn call_function(&mut self, body: &Command, argv: &[String], io: &Io) -> Flow {
        let saved = std::mem::replace(&mut self.positional, argv[1..].to_vec());
        self.locals.push(Vec::new());
        let result = self.run_command(body, io);
        for (name, old) in self.locals.pop().unwrap_or_default().into_iter().rev() {
            match old {
                Some(v) => self.vars.set(&name, &v),
                None => self.vars.unset(&name),
            }
        }
        self.positional = saved;
        match result {
            Err(Unwind::Return(s)) => Ok(s),
            other => other,
        }
    }

    /// `name` in `$PATH`, for scripts installed in the image.
    pub fn search_path(&self, name: &str) -> Option<String> {
        fsx::search_path(self.vars.get("PATH"), name)
    }

    fn run_compound(&mut self, body: &Compound, io: &Io) -> Flow {
        match body {
            Compound::Group(list) => self.run_list(list, io),
            Compound::Subshell(list) => Ok(self.subshell(|sh| sh.run_list(list, io))),
            Compound::If { branches, otherwise } => {
                for (cond, then) in branches {
                    if self.conditionally(true, |sh| sh.run_list(cond, io))? == 0 {
                        return self.run_list(then, io);
                    }
                }
                match otherwise {
                    Some(list) => self.run_list(list, io),
                    None => Ok(0),
                }
            }
            Compound::For { var, items, body } => {
                let values = match items {
                    Some(words) => match self.expand_words(words, io) {
                        Ok(v) => v,
                        Err(e) => return self.fatal(io, &e.0),
                    },
                    None => self.positional.clone(),
                };
                self.in_loop(|sh| {
                    let mut status = 0;
                    for value in values {
                        sh.vars.set(var, &value);
                        if !after_body(sh.run_list(body, io), &mut status)? {
                            break;
                        }
                    }
                    Ok(status)
                })
            }
            Compound::While { cond, body, until } => self.in_loop(|sh| {
                let mut status = 0;
                loop {
                    let c = sh.conditionally(true, |sh| sh.run_list(cond, io))?;
                    if (c == 0) == *until {
                        break;
                    }
                    if !after_body(sh.run_list(body, io), &mut status)? {
                        break;
                    }
                }
                Ok(status)
            }),
            Compound::Case { word, arms } => {
                let subject = match self.expand_string(word, io) {
                    Ok(s) => s,
                    Err(e) => return self.fatal(io, &e.0),
                };
                for (patterns, body) in arms {
                    for pattern in patterns {
                        let pattern = match self.expand_pattern(pattern, io) {
                            Ok(p) => p,
                            Err(e) => return self.fatal(io, &e.0),
                        };
                        if glob::matches(&pattern, &subject) {
                            return self.run_list(body, io);
                        }
                    }
                }
                Ok(0)
            }
        }
    }

    fn in_loop(&mut self, f: impl FnOnce(&mut Shell) -> Flow) -> Flow {
        self.loops += 1;
        let result = f(self);
        self.loops -= 1;
        result
    }

    /// The streams after applying `redirs` in order. A command gets descriptors 0–2 from
    /// its redirections; 3 and up exist as `exec` opened them (`>&3` reads them).
    pub fn redirect(&mut self, redirs: &[Redir], io: &Io) -> Result<Io, String> {
        let mut io = io.clone();
        for r in redirs {
            match self.redirection_target(r, &io)? {
                Stream::In(input) if r.fd == 0 => io.stdin = input,
                Stream::Out(output) if r.fd == 1 => io.stdout = output,
                Stream::Out(output) if r.fd == 2 => io.stderr = output,
                // Descriptors past 2 for one command only are not kept (see `exec`).
                _ => {}
            }
        }
        Ok(io)
    }

    /// `exec REDIRECTION...`: the changes stay for the rest of the shell (`exec >log`,
    /// `exec 3>f`, `exec 3>&-`).
    pub fn redirect_persistently(&mut self, redirs: &[Redir], io: &Io) -> Result<(), String> {
        for r in redirs {
            let target = self.redirection_target(r, io)?;
            let closing = matches!(r.kind, RedirKind::DupOut | RedirKind::DupIn)
                && self.expand_string(&r.target, io).map_err(|e| e.0)? == "-";
            match (r.fd, target) {
                (0, Stream::In(input)) => io.stdin.retarget(&input),
                (1, Stream::Out(output)) => io.stdout.retarget(&output),
                (2, Stream::Out(output)) => io.stderr.retarget(&output),
                (fd, _) if fd > 2 && closing => {
                    self.extra_fds.remove(&fd);
                }
                (fd, stream) if fd > 2 => {
                    self.extra_fds.insert(fd, stream);
                }
                (fd, _) => return Err(format!("{fd}: Bad file descriptor")),
            }
        }
        Ok(())
    }

    /// The stream one redirection opens or names.
    fn redirection_target(&mut self, r: &Redir, io: &Io) -> Result<Stream, String> {
        let target = self.expand_string(&r.target, io).map_err(|e| e.0)?;
        Ok(match r.kind {
            RedirKind::HereDoc => Stream::In(Input::bytes(target.into_bytes())),
            RedirKind::In => Stream::In(ctx::open_input(io, &target).map_err(|e| ctx::cant("open", &target, &e))?),
            RedirKind::Out | RedirKind::Append => Stream::Out(
                ctx::open_output(io, &target, r.kind == RedirKind::Append)
                    .map_err(|e| format!("can't create {target}: {}", sys::describe(&e)))?,
            ),
            RedirKind::DupOut | RedirKind::DupIn => {
                let output = r.kind == RedirKind::DupOut;
                match target.as_str() {
                    "-" if output => Stream::Out(Output::null()),
                    "-" => Stream::In(Input::empty()),
                    "0" => Stream::In(io.stdin.dup()),
                    "1" => Stream::Out(io.stdout.dup()),
                    "2" => Stream::Out(io.stderr.dup()),
                    n => match n.parse::<u32>().ok().and_then(|n| self.extra_fds.get(&n)) {
                        Some(Stream::In(input)) => Stream::In(input.dup()),
                        Some(Stream::Out(output)) => Stream::Out(output.dup()),
                        None => return Err(format!("{n}: Bad file descriptor")),
                    },
                }
            }
        })
    }

    /// Runs the actions of trapped signals that arrived; an untrapped Ctrl-C in an
    /// interactive shell (which catches INT) interrupts what runs; any other untrapped signal
    /// sent to the shell itself (`kill $$`, which the host holds) ends it as the signal would.
    pub fn take_signals(&mut self, io: &Io) -> Result<(), Unwind> {
        let Ok(pending) = ps::take_pending() else { return Ok(()) };
        for signal in (1..64u32).filter(|s| pending & (1 << s) != 0) {
            match self.traps.get(&signal).cloned() {
                Some(action) => self.run_trap(&action, io)?,
                None if signal == ps::signal::INT && self.interactive => {
                    io.stderr.note("\n");
                    return Err(Unwind::Interrupt);
                }
                None => return Err(Unwind::Exit(128 + signal as i32)),
            }
        }
        Ok(())
    }

    /// Runs a trap's action; `$?` is kept across it, as POSIX says.
    pub fn run_trap(&mut self, action: &str, io: &Io) -> Result<(), Unwind> {
        if action.is_empty() {
            return Ok(());
        }
        let status = self.status;
        builtins::run_text(self, action, io)?;
        self.status = status;
        Ok(())
    }

    /// Sets which signals the host holds for this shell: the trapped ones, and INT in an
    /// interactive shell (Ctrl-C must not end it).
    pub fn update_sigmask(&self) {
        let mut mask = self.traps.keys().fold(0u64, |m, s| m | 1 << s);
        if self.interactive {
            mask |= 1 << ps::signal::INT;
        }
        let _ = ps::set_sigmask(mask);
    }
}

/// Some bits that differ from run to run, for `$RANDOM`'s seed.
fn clock_seed() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() ^ d.as_secs() as u32)
}

/// Handles a loop body's outcome: `Ok(true)` to go on, `Ok(false)` after `break`, or an unwind
/// that belongs to an outer construct.
fn after_body(result: Flow, status: &mut i32) -> Result<bool, Unwind> {
    match result {
        Ok(s) => {
            *status = s;
            Ok(true)
        }
        Err(Unwind::Break(n)) if n > 1 => Err(Unwind::Break(n - 1)),
        Err(Unwind::Break(_)) => Ok(false),
        Err(Unwind::Continue(n)) if n > 1 => Err(Unwind::Continue(n - 1)),
        Err(Unwind::Continue(_)) => Ok(true),
        Err(other) => Err(other),
    }
}
