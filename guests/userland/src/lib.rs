//! Porthole's userland: well-kept crates (uutils coreutils, sed and diffutils, awk-rs, tar,
//! flate2, zip) behind one multi-call entry point, plus the few applets no crate provides as a
//! library (the archive front ends, a pager). Every applet runs as its own process: uucore keeps
//! the utility's name, message bundle and exit code in globals, so two applets in one instance
//! would see each other's state.

mod applets;
mod sys;

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

pub use applets::{Applet, Source, all};

/// The name the program answers to when called by its own name (`userland sort …`).
const SELF: &str = "userland";

/// Runs the applet that `args[0]` (or, for `userland`, `args[1]`) names; returns the exit code.
pub fn main(args: Vec<OsString>) -> i32 {
    start_in_pwd();
    let called = args.first().map(file_name).unwrap_or_default();
    if called != SELF {
        return run(&called, args);
    }
    match args.get(1).and_then(|a| a.to_str()) {
        Some("--list") => list(false),
        Some("--sources") => list(true),
        Some(name) if find(name).is_some() => {
            // uucore reads the utility's name from the process's own arguments; tell it to look
            // one further, past `userland`.
            uucore::set_utility_is_second_arg();
            run(name, args[1..].to_vec())
        }
        Some(name) => {
            eprintln!("{SELF}: applet not found: {name}");
            127
        }
        None => {
            eprintln!("Usage: {SELF} APPLET [ARGS]...   or   {SELF} --list | --sources");
            1
        }
    }
}

/// Starts in `$PWD` when it names a directory, as the toolbox does. A process started through
/// the process interface gets its parent's working directory only as `PWD`: the runtime sets
/// wasi-libc's own variable solely in a module that kept its `name` section, and this one is
/// stripped (crates/runtime/src/libc_cwd.rs), so without this `mkdir sub` after `cd /data`
/// would make `/sub`.
fn start_in_pwd() {
    if let Some(pwd) = std::env::var_os("PWD") {
        let pwd = std::path::Path::new(&pwd);
        if pwd.is_absolute() && pwd.is_dir() {
            let _ = std::env::set_current_dir(pwd);
        }
    }
}

fn run(name: &str, args: Vec<OsString>) -> i32 {
    match find(name) {
        Some(applet) => (applet.run)(args),
        None => {
            eprintln!("{SELF}: applet not found: {name}");
            127
        }
    }
}

fn find(name: &str) -> Option<&'static Applet> {
    all().find(|a| a.name == name)
}

/// `--list`: the applet names, one a line; `--sources`: each with the crate it comes from.
fn list(sources: bool) -> i32 {
    let mut applets: Vec<&Applet> = all().collect();
    applets.sort_unstable_by_key(|a| a.name);
    let mut out = std::io::stdout().lock();
    for a in applets {
        let line =
            if sources { writeln!(out, "{}\t{}", a.name, a.source.crate_name()) } else { writeln!(out, "{}", a.name) };
        if line.is_err() {
            return 1;
        }
    }
    0
}

/// `/bin/sort` → `sort`: the applet a hard link names.
fn file_name(arg: &OsString) -> String {
    Path::new(arg).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}
