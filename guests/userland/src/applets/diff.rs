//! `diff` and `cmp` from uutils diffutils. Its library has `cmp`'s entry point but not `diff`'s
//! (that lives in its binary), so `diff` here is that entry point rebuilt on the library's
//! parameter parser and output formats, with GNU's exit codes: 0 same, 1 different, 2 trouble.

use std::env::ArgsOs;
use std::ffi::OsString;
use std::fs;
use std::io::{self, Read, Write};
use std::iter::Peekable;
use std::process::ExitCode;

use diffutilslib::params::{Format, parse_params};
use diffutilslib::{context_diff, ed_diff, normal_diff, side_by_side_diff, unified_diff};

/// diffutils' version, for `--version` (its own entry points do not take that option).
const VERSION: &str = "0.6";

pub fn cmp(args: Vec<OsString>) -> i32 {
    if version(&args, "cmp") {
        return 0;
    }
    exit_code(diffutilslib::cmp::main(process_args(args.len())))
}

/// The process's own arguments from the applet's name on: `cmp::main` takes `std::env::ArgsOs`
/// itself, which only the standard library can make, so the `userland` in front (when called as
/// `userland cmp …`) is skipped on it instead.
fn process_args(applet_args: usize) -> Peekable<ArgsOs> {
    let mut all = std::env::args_os();
    for _ in applet_args..all.len() {
        all.next();
    }
    all.peekable()
}

fn exit_code(code: ExitCode) -> i32 {
    if code == ExitCode::SUCCESS {
        0
    } else if code == ExitCode::from(1) {
        1
    } else {
        2
    }
}

/// `NAME --version` prints the version; says whether it did.
fn version(args: &[OsString], name: &str) -> bool {
    let asked = args.len() == 2 && args[1] == "--version";
    if asked {
        println!("{name} (uutils diffutils) {VERSION}");
    }
    asked
}

pub fn diff(args: Vec<OsString>) -> i32 {
    if version(&args, "diff") {
        return 0;
    }
    let params = match parse_params(args.into_iter().peekable()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let from_name = params.from.to_string_lossy().into_owned();
    let to_name = params.to.to_string_lossy().into_owned();
    let identical = || {
        if params.report_identical_files {
            println!("Files {from_name} and {to_name} are identical");
        }
    };
    if params.from == "-" && params.to == "-" {
        identical();
        return 0;
    }
    let read = |path: &OsString| -> Option<Vec<u8>> {
        let got = if path == "-" {
            let mut buf = Vec::new();
            io::stdin().read_to_end(&mut buf).map(|_| buf)
        } else {
            fs::read(path)
        };
        got.map_err(|e| eprintln!("diff: {}: {}", path.to_string_lossy(), crate::sys::describe(&e))).ok()
    };
    let (Some(from), Some(to)) = (read(&params.from), read(&params.to)) else {
        return 2;
    };
    let mut stdout = io::stdout().lock();
    let output = match params.format {
        Format::Normal => normal_diff(&from, &to, &params),
        Format::Unified => unified_diff(&from, &to, &params),
        Format::Context => context_diff(&from, &to, &params),
        Format::Ed => match ed_diff(&from, &to, &params) {
            Ok(out) => out,
            Err(e) => {
                eprintln!("diff: {e}");
                return 2;
            }
        },
        Format::SideBySide => side_by_side_diff(&from, &to, &mut stdout, &params),
    };
    if output.is_empty() {
        identical();
        return 0;
    }
    let written = if params.brief {
        writeln!(stdout, "Files {from_name} and {to_name} differ")
    } else {
        stdout.write_all(&output)
    };
    if written.and_then(|()| stdout.flush()).is_err() {
        return 2;
    }
    1
}
