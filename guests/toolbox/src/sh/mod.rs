//! `sh`: a POSIX-style shell. Builtins run in it; every other command, the toolbox's own
//! applets included, is a program it starts as a process (see `process`).
//!
//! `sh -c SCRIPT [ARG0 [ARG...]]`, `sh FILE [ARG...]`, or commands from stdin — interactively,
//! with a prompt, when stdin is a terminal or `-i` is given.

mod arith;
mod ast;
mod builtins;
mod editor;
mod exec;
mod expand;
mod jobs;
mod lexer;
mod parser;
mod print;
mod process;
mod repl;
#[cfg(test)]
mod tests;
mod vars;

use std::io;

use exec::{Shell, Unwind};

use crate::ctx::Ctx;
use crate::stream::Io;
use crate::sys;

/// Where the commands come from.
enum Source {
    Text(String),
    File(String),
    Stdin,
}

pub fn main(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let (mut command, mut interactive, mut from_stdin) = (false, false, false);
    let mut options = exec::Options::default();
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        if arg == "--" || arg == "-" {
            i += 1;
            break;
        }
        let Some(flags) = arg.strip_prefix('-').filter(|f| !f.is_empty()) else { break };
        for c in flags.chars() {
            match c {
                'c' => command = true,
                'i' => interactive = true,
                's' => from_stdin = true,
                'e' => options.errexit = true,
                'x' => options.xtrace = true,
                'f' => options.noglob = true,
                // Login shell, no-op options.
                'l' | 'u' | 'm' => {}
                _ => return Ok(ctx.usage(format_args!("-{c}: invalid option"))),
            }
        }
        i += 1;
    }
    let rest = &args[i..];
    let (source, arg0, positional) = if command {
        let Some(script) = rest.first() else { return Ok(ctx.usage("-c requires an argument")) };
        (Source::Text(script.clone()), rest.get(1).map_or("sh", String::as_str), rest.get(2..).unwrap_or_default())
    } else if let (false, Some(file)) = (from_stdin, rest.first()) {
        (Source::File(file.clone()), file.as_str(), &rest[1..])
    } else {
        (Source::Stdin, "sh", rest)
    };
    let interactive = interactive || matches!(source, Source::Stdin) && ctx.io.stdin.is_stdin() && sys::isatty(0);
    let mut sh = Shell::new(&ctx.env, arg0, positional.to_vec(), interactive);
    sh.options = options;
    sh.update_sigmask();
    let status = match source {
        Source::Text(text) => run_script(&mut sh, &text, &ctx.io),
        Source::File(path) => match std::fs::read_to_string(&path) {
            Ok(text) => run_script(&mut sh, &text, &ctx.io),
            Err(e) => {
                ctx.warn(crate::ctx::cant("open", &path, &e));
                127
            }
        },
        Source::Stdin => repl::run_lines(&mut sh, &ctx.io),
    };
    Ok(finish(&mut sh, status, &ctx.io))
}

/// Parses and runs a whole script; a syntax error runs nothing and gives 2.
fn run_script(sh: &mut Shell, text: &str, io: &Io) -> i32 {
    match parser::parse(text) {
        Ok(list) => match sh.run_list(&list, io) {
            Ok(status) | Err(Unwind::Exit(status) | Unwind::Return(status)) => status,
            Err(Unwind::Break(_) | Unwind::Continue(_)) => sh.status,
            Err(Unwind::Interrupt) => process::INTERRUPTED,
        },
        Err(e) => {
            sh.report(io, &e.to_string());
            2
        }
    }
}

/// Runs the `trap … EXIT` action, which may change the exit status only by `exit`.
fn finish(sh: &mut Shell, status: i32, io: &Io) -> i32 {
    let Some(action) = sh.exit_trap.take() else { return status };
    sh.status = status;
    match builtins::run_text(sh, &action, io) {
        Err(Unwind::Exit(s)) => s,
        _ => status,
    }
}
