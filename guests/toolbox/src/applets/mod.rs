//! The applets: functions from arguments to an exit code, run with a [`Ctx`], and the table that
//! names them. An applet returns `Err` only when writing its output failed; file errors are
//! reported where they happen and turn into the exit code.

mod echo;
mod env;
mod find;
mod generate;
mod grep;
mod identity;
pub mod kill;
mod ls;
mod modes;
mod mount;
mod names;
mod printf;
mod ps;
mod stat;
mod tail;
mod test;
mod top;
mod xargs;

use std::io;

use crate::ctx::Ctx;

/// An applet's entry point: `args` excludes the applet name (which is `ctx.name`).
pub type AppletFn = fn(&mut Ctx, &[String]) -> io::Result<i32>;

/// The applets, sorted by name (what `busybox --list` prints).
pub const APPLETS: &[(&str, AppletFn)] = &[
    ("[", test::bracket),
    ("ash", crate::sh::main),
    ("chmod", modes::chmod),
    ("df", mount::df),
    ("du", mount::du),
    ("echo", echo::echo),
    ("env", env::env),
    ("false", generate::r#false),
    ("find", find::find),
    ("grep", grep::grep),
    ("hostname", identity::hostname),
    ("id", identity::id),
    ("kill", kill::kill),
    ("ls", ls::ls),
    ("mount", mount::mount),
    ("printf", printf::printf),
    ("ps", ps::ps),
    ("pwd", names::pwd),
    ("sh", crate::sh::main),
    ("stat", stat::stat),
    ("tail", tail::tail),
    ("test", test::test),
    ("top", top::top),
    ("true", generate::r#true),
    ("which", env::which),
    ("whoami", identity::whoami),
    ("xargs", xargs::xargs),
];

/// The applet called `name`.
pub fn find(name: &str) -> Option<AppletFn> {
    APPLETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Runs `applet`. A write to a closed pipe ends it quietly with 141, the status a shell shows
/// for a process killed by SIGPIPE; other write errors are reported.
pub fn run(applet: AppletFn, ctx: &mut Ctx, args: &[String]) -> i32 {
    use std::io::Write;
    let result = applet(ctx, args).and_then(|code| ctx.io.stdout.flush().map(|_| code));
    match result {
        Ok(code) => code,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 141,
        Err(e) => {
            ctx.warn(format_args!("write error: {}", crate::sys::describe(&e)));
            1
        }
    }
}
