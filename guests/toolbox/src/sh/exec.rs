//! The executor: runs a parsed [`List`] with given streams. There are no processes: applets run
//! as functions, pipeline stages run one after another with each stage's output buffered in
//! memory (see [`crate::stream::PIPE_LIMIT`]), and subshells (`( … )`, pipeline stages, `$(…)`)
//! run on a copy of the shell's state, restoring the current directory afterwards.

use std::collections::HashMap;
use std::io::Read;
use std::rc::Rc;

use super::ast::{AndOr, Command, Compound, Connector, List, Pipeline, Redir, RedirKind, Word};
use super::builtins;
use super::vars::Vars;
use crate::applets::{self, AppletFn};
use crate::ctx::{self, Ctx, Env};
use crate::stream::{Input, Io, Output};
use crate::sys::{self, Kind};
use crate::{fsx, glob};

/// Why execution stops early: these unwind to the construct that handles them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unwind {
    Exit(i32),
    Break(usize),
    Continue(usize),
    Return(i32),
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
            self.run_and_or(item, io)?;
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
            let mut input = io.stdin.clone();
            let mut status = 0;
            for (i, command) in pipeline.commands.iter().enumerate() {
                let last = i + 1 == pipeline.commands.len();
                let output = if last { io.stdout.clone() } else { Output::pipe() };
                let stage = Io { stdin: input, stdout: output.clone(), stderr: io.stderr.clone() };
                status = self.subshell(|sh| sh.run_command(command, &stage));
                // The last stage wrote where the pipeline's output goes (a `$(…)` buffer, say):
                // that is not the next stage's input, and taking it would lose it.
                input = if last { Input::bytes(Vec::new()) } else { Input::bytes(output.take()) };
            }
            status
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
        };
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

    /// Runs `argv`: a builtin, a function, an applet, or a file (script or applet link).
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
        if name.contains('/') {
            return Ok(self.run_file(name, argv, io, env));
        }
        if let Some(applet) = applets::find(name) {
            return Ok(run_applet(applet, name, &argv[1..], io, env));
        }
        match self.search_path(name) {
            Some(path) => Ok(self.run_file(&path, argv, io, env)),
            None => {
                self.report(io, &format!("{name}: not found"));
                Ok(127)
            }
        }
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

    /// Runs the file at `path`: a link to this program runs the applet it names; a script runs
    /// under the applet its `#!` line names (a new `sh` without one).
    fn run_file(&mut self, path: &str, argv: &[String], io: &Io, env: Env) -> i32 {
        let mut head = [0u8; 256];
        let read = std::fs::File::open(path).and_then(|mut f| f.read(&mut head));
        let n = match (sys::stat(path), read) {
            (Err(_), _) => {
                self.report(io, &format!("{path}: not found"));
                return 127;
            }
            (Ok(s), _) if s.kind == Kind::Dir => {
                self.report(io, &format!("{path}: Permission denied"));
                return 126;
            }
            (Ok(_), Err(e)) => {
                self.report(io, &format!("{path}: {}", sys::describe(&e)));
                return 126;
            }
            (Ok(_), Ok(n)) => n,
        };
        let head = &head[..n];
        if head.starts_with(b"\0asm") {
            let name = crate::applet_name(path);
            return match applets::find(name) {
                Some(applet) => run_applet(applet, name, &argv[1..], io, env),
                None if name == "busybox" && argv.len() > 1 => {
                    let mut ctx = Ctx::new("busybox", io.clone(), env);
                    applets::call_in(&mut ctx, &argv[1..])
                }
                None => {
                    self.report(io, &format!("{path}: cannot execute binary file"));
                    126
                }
            };
        }
        let mut full: Vec<String> = match head.strip_prefix(b"#!") {
            Some(rest) => {
                let line = rest.split(|b| *b == b'\n').next().unwrap_or_default();
                String::from_utf8_lossy(line).split_whitespace().map(str::to_string).collect()
            }
            None => Vec::new(),
        };
        if full.is_empty() {
            full.push("sh".into());
        }
        full.push(path.to_string());
        full.extend(argv[1..].iter().cloned());
        let mut ctx = Ctx::new("sh", io.clone(), env);
        applets::call_in(&mut ctx, &full)
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

    /// The streams after applying `redirs` in order. Only descriptors 0–2 exist: the toolbox
    /// has no others to give a command.
    pub fn redirect(&mut self, redirs: &[Redir], io: &Io) -> Result<Io, String> {
        let mut io = io.clone();
        for r in redirs {
            let target = self.expand_string(&r.target, &io).map_err(|e| e.0)?;
            match r.kind {
                RedirKind::HereDoc => set_input(&mut io, r.fd, Input::bytes(target.into_bytes())),
                RedirKind::In => {
                    let input = ctx::open_input(&io, &target).map_err(|e| ctx::cant("open", &target, &e))?;
                    set_input(&mut io, r.fd, input);
                }
                RedirKind::Out | RedirKind::Append => {
                    let output = ctx::open_output(&io, &target, r.kind == RedirKind::Append)
                        .map_err(|e| format!("can't create {target}: {}", sys::describe(&e)))?;
                    set_output(&mut io, r.fd, output);
                }
                RedirKind::DupOut => {
                    let output = match target.as_str() {
                        "1" => io.stdout.clone(),
                        "2" => io.stderr.clone(),
                        "-" => Output::null(),
                        other => return Err(format!("{other}: Bad file descriptor")),
                    };
                    set_output(&mut io, r.fd, output);
                }
                RedirKind::DupIn => match target.as_str() {
                    "0" => {}
                    "-" => set_input(&mut io, r.fd, Input::empty()),
                    other => return Err(format!("{other}: Bad file descriptor")),
                },
            }
        }
        Ok(io)
    }
}

fn set_input(io: &mut Io, fd: u32, input: Input) {
    if fd == 0 {
        io.stdin = input;
    }
}

fn set_output(io: &mut Io, fd: u32, output: Output) {
    match fd {
        1 => io.stdout = output,
        2 => io.stderr = output,
        _ => {}
    }
}

/// Runs an applet as a command of the shell.
fn run_applet(applet: AppletFn, name: &str, args: &[String], io: &Io, env: Env) -> i32 {
    let mut ctx = Ctx::new(name, io.clone(), env);
    applets::run(applet, &mut ctx, args)
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
