//! What an applet runs with: its name (for messages), its three streams and its environment,
//! and the one way applets report errors in busybox's words (`ls: /nope: No such file or
//! directory`).

use std::fmt::Display;
use std::io;

use crate::fsx::{self, Device};
use crate::opts::Opts;
use crate::stream::{Input, Io, Output};
use crate::sys;

/// Exported variables, in the order they were first set (what `env` prints).
#[derive(Debug, Clone, Default)]
pub struct Env(Vec<(String, String)>);

impl Env {
    /// The program's real environment.
    pub fn from_process() -> Self {
        Env(std::env::vars().collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn set(&mut self, name: &str, value: &str) {
        match self.0.iter_mut().find(|(k, _)| k == name) {
            Some(entry) => entry.1 = value.to_string(),
            None => self.0.push((name.to_string(), value.to_string())),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(k, _)| k != name);
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// One applet invocation's surroundings.
pub struct Ctx {
    /// The applet name, prefixed to every message.
    pub name: String,
    pub io: Io,
    pub env: Env,
}

impl Ctx {
    pub fn new(name: &str, io: Io, env: Env) -> Self {
        Ctx { name: name.to_string(), io, env }
    }

    /// Writes `NAME: MSG` to stderr.
    pub fn warn(&self, msg: impl Display) {
        self.io.stderr.note(&format!("{}: {msg}\n", self.name));
    }

    /// Reports `NAME: PATH: ERROR` and returns 1, the exit code for it.
    pub fn fail(&self, path: &str, err: &io::Error) -> i32 {
        self.warn(format_args!("{path}: {}", sys::describe(err)));
        1
    }

    /// The value of `r`, or `None` after reporting its error against `path`.
    pub fn check<T>(&self, path: &str, r: io::Result<T>) -> Option<T> {
        r.map_err(|e| self.fail(path, &e)).ok()
    }

    /// Reports a usage error and returns 2.
    pub fn usage(&self, msg: impl Display) -> i32 {
        self.warn(msg);
        2
    }

    /// Parses options by `spec` (see [`Opts::parse`]), reporting a usage error on failure.
    pub fn opts(&self, args: &[String], spec: &str) -> Option<Opts> {
        Opts::parse(args, spec).map_err(|e| self.usage(e)).ok()
    }

    /// Opens an input operand: `-` is stdin, other paths go to [`open_input`].
    pub fn try_open_input(&self, path: &str) -> io::Result<Input> {
        if path == "-" { Ok(self.io.stdin.clone()) } else { open_input(&self.io, path) }
    }

    /// [`Ctx::try_open_input`], reporting errors.
    pub fn open_input(&self, path: &str) -> Option<Input> {
        self.check(path, self.try_open_input(path))
    }
}

/// busybox's wording for a failed operation on a path: `can't VERB 'PATH': ERROR`.
pub fn cant(verb: &str, path: &str, err: &io::Error) -> String {
    format!("can't {verb} '{path}': {}", sys::describe(err))
}

/// The file operands, or `-` (stdin) when there are none.
pub fn or_stdin(paths: &[String]) -> Vec<String> {
    if paths.is_empty() { vec!["-".to_string()] } else { paths.to_vec() }
}

/// Opens `path` for reading; `/dev/stdin` is `io`'s stdin and `/dev/null` is empty.
pub fn open_input(io: &Io, path: &str) -> io::Result<Input> {
    match fsx::device(path) {
        Some(Device::Null) => Ok(Input::empty()),
        Some(Device::Stdin) => Ok(io.stdin.clone()),
        _ => std::fs::File::open(path).map(Input::file),
    }
}

/// Opens `path` for writing, created if missing, truncated unless `append`; `/dev/null`,
/// `/dev/stdout` and `/dev/stderr` are served from `io`.
pub fn open_output(io: &Io, path: &str, append: bool) -> io::Result<Output> {
    match fsx::device(path) {
        Some(Device::Null | Device::Stdin) => Ok(Output::null()),
        Some(Device::Stdout) => Ok(io.stdout.clone()),
        Some(Device::Stderr) => Ok(io.stderr.clone()),
        None => std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(path)
            .map(Output::file),
    }
}
