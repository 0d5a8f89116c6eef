//! The applets: functions from arguments to an exit code, run with a [`Ctx`], and the table that
//! names them. An applet returns `Err` only when writing its output failed; file errors are
//! reported where they happen and turn into the exit code.

mod cat;
mod clock;
mod columns;
mod copy;
mod echo;
mod env;
mod files;
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
mod test;
mod text;
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
    ("basename", names::basename),
    ("cat", cat::cat),
    ("chmod", modes::chmod),
    ("cp", copy::cp),
    ("cut", columns::cut),
    ("date", clock::date),
    ("df", mount::df),
    ("dirname", names::dirname),
    ("du", mount::du),
    ("echo", echo::echo),
    ("env", env::env),
    ("false", generate::r#false),
    ("find", find::find),
    ("grep", grep::grep),
    ("head", text::head),
    ("hostname", identity::hostname),
    ("id", identity::id),
    ("kill", kill::kill),
    ("ln", files::ln),
    ("ls", ls::ls),
    ("mkdir", files::mkdir),
    ("mount", mount::mount),
    ("mv", copy::mv),
    ("printenv", env::printenv),
    ("printf", printf::printf),
    ("ps", ps::ps),
    ("pwd", names::pwd),
    ("readlink", files::readlink),
    ("rm", files::rm),
    ("rmdir", files::rmdir),
    ("seq", generate::seq),
    ("sh", crate::sh::main),
    ("sleep", clock::sleep),
    ("sort", text::sort),
    ("stat", stat::stat),
    ("tail", text::tail),
    ("tee", cat::tee),
    ("test", test::test),
    ("top", top::top),
    ("touch", files::touch),
    ("tr", columns::tr),
    ("true", generate::r#true),
    ("uname", identity::uname),
    ("wc", text::wc),
    ("which", env::which),
    ("whoami", identity::whoami),
    ("xargs", xargs::xargs),
    ("yes", generate::yes),
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

/// Runs the applet named by `argv[0]` with `ctx`'s streams and environment (for `env CMD`,
/// `find -exec`); `ctx.name` is the caller's until the applet is found.
pub fn call_in(ctx: &mut Ctx, argv: &[String]) -> i32 {
    let Some(first) = argv.first() else { return 0 };
    let name = crate::applet_name(first);
    match find(name) {
        Some(applet) => {
            ctx.name = name.to_string();
            run(applet, ctx, &argv[1..])
        }
        None => {
            ctx.warn(format_args!("can't execute '{first}': No such file or directory"));
            127
        }
    }
}

/// [`call_in`] with a copy of `ctx`'s streams and environment.
pub fn call(ctx: &Ctx, argv: &[String]) -> i32 {
    let mut inner = Ctx::new(&ctx.name, ctx.io.clone(), ctx.env.clone());
    call_in(&mut inner, argv)
}
