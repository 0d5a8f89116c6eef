//! The toolbox: Porthole's `busybox` image, one multi-call program for `wasm32-wasip1` whose
//! applets (`sh`, `ls`, `cat`, …) are picked by the name it is called by. The shell starts each
//! applet as its own process (`/bin/NAME`) through Porthole's process interface, except the
//! few it runs as builtins (`echo`, `test`, `printf`, …).
//!
//! Map: `applets/` (one module per applet or small group, and the name table), `sh/` (lexer,
//! parser, expansion, executor), `ctx` and `stream` (what an applet runs with), `fsx`, `glob`,
//! `pattern`, `calendar`, `mounts` (shared helpers), `spawn` (starting a
//! program as a process, for the shell and the applets that run commands), `sys` (the only `unsafe`: wasi-libc calls).

mod applets;
mod calendar;
mod ctx;
mod fsx;
mod glob;
mod mounts;
mod opts;
mod pattern;
mod sh;
mod spawn;
mod stream;
mod sys;

use ctx::{Ctx, Env};
use stream::Io;

/// The applet an `argv[0]` names: its last path component, without a login shell's `-`.
pub fn applet_name(argv0: &str) -> &str {
    let base = argv0.rsplit('/').next().unwrap_or(argv0);
    base.strip_prefix('-').unwrap_or(base)
}

/// Runs the program with its arguments and returns the exit code. `busybox APPLET ARGS…` and
/// `APPLET ARGS…` (a hard link's name) both work; `busybox --list` names the applets.
pub fn main(argv: Vec<String>) -> i32 {
    let mut args = argv.as_slice();
    let mut name = args.first().map_or("busybox", |a| applet_name(a));
    if name == "busybox" {
        match args.get(1).map(String::as_str) {
            None | Some("--help") => {
                print!(
                    "BusyBox-compatible toolbox for Porthole (wasm32-wasip1)\nUsage: busybox APPLET [ARGS]...\n\nApplets:\n"
                );
                for (applet, _) in applets::APPLETS {
                    println!("\t{applet}");
                }
                return 0;
            }
            Some("--list") => {
                for (applet, _) in applets::APPLETS {
                    println!("{applet}");
                }
                return 0;
            }
            Some(applet) => {
                name = applet_name(applet);
                args = &args[1..];
            }
        }
    }
    start_in_pwd();
    let mut ctx = Ctx::new(name, Io::real(), Env::from_process());
    match applets::find(name) {
        Some(applet) => applets::run(applet, &mut ctx, &args[1..]),
        None => {
            ctx.name = "busybox".to_string();
            ctx.warn(format_args!("applet not found: {name}"));
            127
        }
    }
}

/// Starts in `$PWD` when it names a directory. WASI gives a program no working directory
/// (wasi-libc starts at `/`), so this is how an engine can pass one (Docker's `-w`, `WORKDIR`).
fn start_in_pwd() {
    if let Ok(pwd) = std::env::var("PWD")
        && pwd.starts_with('/')
        && fsx::is_dir(&pwd)
    {
        let _ = std::env::set_current_dir(fsx::absolute(&pwd));
    }
}
