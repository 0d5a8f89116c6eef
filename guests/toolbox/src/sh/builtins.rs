//! Commands that run in the shell: those that act on it (`cd`, `exit`, `export`, `set`, `read`,
//! `eval`, `.`, `trap`, `getopts`, loop and function control, jobs in `jobs`), and the
//! utilities dash also builds in (`echo`, `printf`, `test`, `pwd`, `true`, `false`, `kill`),
//! which are the toolbox's applets called in the shell instead of started as programs.

use std::io::Write;

use super::exec::{Flow, Shell, Unwind};
use super::jobs;
use super::parser::{is_name, parse};
use super::repl::LineReader;
use crate::applets::kill as signals;
use crate::ctx::Ctx;
use crate::stream::Io;
use crate::{applets, fsx, sys};

/// A builtin: the shell, the arguments after the name, the command's streams.
pub type Builtin = fn(&mut Shell, &[String], &Io) -> Flow;

const BUILTINS: &[(&str, Builtin)] = &[
    (":", colon),
    (".", source),
    ("[", bracket),
    ("break", break_),
    ("cd", cd),
    ("command", command),
    ("continue", continue_),
    ("echo", echo),
    ("eval", eval),
    ("exec", exec),
    ("exit", exit),
    ("export", export),
    ("false", false_),
    ("getopts", getopts),
    ("hash", hash),
    ("jobs", jobs::jobs),
    ("kill", jobs::kill),
    ("local", local),
    ("printf", printf),
    ("pwd", pwd),
    ("read", read),
    ("readonly", export),
    ("return", return_),
    ("set", set),
    ("shift", shift),
    ("source", source),
    ("test", test),
    ("trap", trap),
    ("true", true_),
    ("type", type_),
    ("umask", umask),
    ("unset", unset),
    ("wait", jobs::wait),
];

/// Runs the toolbox's applet `name` in the shell, as dash runs its builtin utilities.
fn applet(sh: &mut Shell, name: &str, args: &[String], io: &Io) -> Flow {
    let Some(f) = applets::find(name) else { return sh.not_found(name, io) };
    let mut ctx = Ctx::new(name, io.clone(), sh.vars.env());
    Ok(applets::run(f, &mut ctx, args))
}

macro_rules! applet_builtins {
    ($($f:ident => $name:literal),* $(,)?) => {
        $(fn $f(sh: &mut Shell, args: &[String], io: &Io) -> Flow {
            applet(sh, $name, args, io)
        })*
    };
}

applet_builtins!(bracket => "[", echo => "echo", false_ => "false", printf => "printf", pwd => "pwd", test => "test", true_ => "true");

pub fn find(name: &str) -> Option<Builtin> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Writes builtin output, which has nowhere to report a failure but the status.
fn say(io: &Io, text: &str) -> Flow {
    let mut out = io.stdout.clone();
    Ok(if out.write_all(text.as_bytes()).and_then(|_| out.flush()).is_ok() { 0 } else { 1 })
}

/// `'value'` with embedded single quotes escaped, as `set` and `export` print values.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// A numeric argument, or the fatal "Illegal number" error.
fn number(sh: &Shell, io: &Io, builtin: &str, arg: Option<&String>, default: i64) -> Result<i64, Flow> {
    match arg {
        None => Ok(default),
        Some(a) => a.parse().map_err(|_| sh.fatal(io, &format!("{builtin}: Illegal number: {a}"))),
    }
}

fn colon(_sh: &mut Shell, _args: &[String], _io: &Io) -> Flow {
    Ok(0)
}

/// `cd [DIR|-]`: the logical directory (`..` removes a component) becomes the current one.
fn cd(sh: &mut Shell, args: &[String], io: &Io) -> Flow {
    let target = match args.first().map(String::as_str) {
        None => sh.vars.get("HOME").unwrap_or("/").to_string(),
        Some("-") => sh.vars.get("OLDPWD").unwrap_or("/").to_string(),
        Some(dir) => dir.to_string(),
    };
    let new = fsx::absolute(&target);
    let checked = sys::stat(&new).and_then(|s| {
        if s.kind == sys::Kind::Dir {
            std::env::set_current_dir(&new)
        } else {
            Err(std::io::Error::from_raw_os_error(libc::ENOTDIR))
        }
    });
    if let Err(e) = checked {
        return sh.fatal(io, &format!("cd: can't cd to {target}: {}", sys::describe(&e)));
    }
    let old = sh.vars.get("PWD").map(str::to_string).unwrap_or_default();
    sh.vars.set("OLDPWD", &old);
    sh.vars.set("PWD", &new);
    if args.first().is_some_and(|a| a == "-") {
        return say(io, &format!("{new}\n"));
    }
    Ok(0)
}

fn exit(sh: &mut Shell, args: &[String], io: &Io) -> Flow {
    match number(sh, io, "exit", args.first(), i64::from(sh.status)) {
        Ok(n) => Err(Unwind::Exit((n & 0xff) as i32)),
        Err(flow) => flow,
    }
}

fn return_(sh: &mut Shell, args: &[String], io: &Io) -> Flow {
    match number(sh, io, "return", args.first(), i64::from(sh.status)) {
        Ok(n) => Err(Unwind::Return((n & 0xff) as i32)),
        Err(flow) => flow,
    }
}

fn break_(sh: &mut Shell, args: &[String], io: &Io) -> Flow {
    loop_control(sh, args, io, "break", Unwind::Break)
}

fn continue_(sh: &mut Shell, args: &[String], io: &Io) -> Flow {
    loop_control(sh, args, io, "continue", Unwind::Continue)
}

/// `break [N]` and `continue [N]`; outside a loop they do nothing.
fn loop_control(sh: &mut Shell, args: &[String], io: &Io, name: &str, unwind: fn(usize) -> Unwind) -> Flow {
    let n = match number(sh, io, name, args.first(), 1) {
        Ok(n) if n >= 1 => n as usize,
        Ok(_) => return sh.fatal(io, &format!("{name}: Illegal number: {}", args[0])),
        Err(flow) => return flow,
    };
    if sh.loops == 0 { Ok(0) } else { Err(unwind(n.min(sh.loops))) }
}

/// `export [-p] [NAME[=VALUE]...]`; also `readonly` (nothing here is read-only).
fn export(sh: &mut Shell, args: &[String], io: &Io) -> Flow {
    let names: Vec<&String> = args.iter().filter(|a| *a != "-p").collect();
    if names.is_empty() {
        let listing: String = sh
            .vars
            .sorted()
            .iter()
            .filter(|(_, _, e)| *e)
            .map(|(n, v, _)| format!("export {n}={}\n", shell_quote(v)))
            .collect();
        return say(io, &listing);
    }
    let mut status = 0;
    for arg in names {
        let (name, value) = match arg.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (arg.as_str(), None),
        };
        if is_name(name) {
            sh.vars.export(name, value);
        } else {
            sh.report(io, &format!("export: {name}: bad variable name"));
            status = 1;
        }
    }
    Ok(status)
}

fn unset(sh: &mut Shell, args: &[String], _io: &Io) -> Flow {
    let functions = args.first().is_some_and(|a| a == "-f");
    for name in args.iter().filter(|a| !a.starts_with('-')) {
        if functions {
            sh.functions.remove(name);
        } else {
            sh.vars.unset(name);
        }
    }
    Ok(0)
}

/// `local NAME[=VALUE]...`: the old values come back when the function returns.
fn local(sh: &mut Shell, args: &[String], io: &Io) -> Flow {
    if sh.locals.is_empty() {
        sh.report(io, "local: not in a function");
        return Ok(1);
    }
    for arg in args {
        let (name, value) = arg.split_once('=').unwrap_or((arg, ""));
        let old = sh.vars.get(name).map(str::to_string);
        let frame = sh.locals.last_mut().expect("checked above");
        if !frame.iter().any(|(n, _)| n == name) {
            frame.push((name.to_string(), old));
        }
        sh.vars.set(name, value);
    }
    Ok(0)
}

/// `set [-efx] [+efx] [-o OPTION] [--] [ARG...]`; without arguments, lists the variables.
fn set(sh: &mut Shell, args: &[String], io: &Io) -> Flow {
    if args.is_empty() {
        let listing: String = sh.vars.sorted().iter().map(|(n, v, _)| format!("{n}={}\n", shell_quote(v))).collect();
        return say(io, &listing);
    }
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        let on = arg.starts_with('-');
        if arg == "--" {
            sh.positional = args[i + 1..].to_vec();
            return Ok(0);
        }
        if !(on || arg.starts_with('+')) || arg.len() < 2 {
            sh.positional = args[i..].to_vec();
            return Ok(0);
        }
        for c in arg[1..].chars() {
            let option = if c == 'o' {
                i += 1;
                args.get(i).map(String::as_str).unwrap_or_default()
            } else {
                match c {
                    'e' => "errexit",
                    'x' => "xtrace",
                    'f' => "noglob",
                    // Accepted without effect: unset variables expand to empty, no job control.
                    'u' | 'm' | 'v' | 'h' | 'C' | 'a' | 'b' | 'n' => "",
                    _ => return sh.fatal(io, &format!("set: -{c}: invalid option")),
                }
            };
            match option {
                "errexit" => sh.options.errexit = on,
                "xtrace" => sh.options.xtrace = on,
                "noglob" => sh.options.noglob = on,
                "pipefail" => sh.options.pipefail = on,
                _ => {}
            }
        }
        i += 1;
    }
    Ok(0)
}

fn shift(sh: &mut Shell, args: &[String], io: &Io) -> Flow {
    let n = match number(sh, io, "shift", args.first(), 1) {
        Ok(n) => n.max(0) as usize,
        Err(flow) => return flow,
    };
    if n > sh.positional.len() {
        return sh.fatal(io, "shift: can't shift that many");
    }
    sh.positional.drain(..n);
    Ok(0)
}

/// `read [-r] [-p PROMPT] [NAME...]`: one line from stdin, split on `$IFS` into the names (the
/// last takes the rest); status 1 at end of input.
fn read(sh: &mut Shell, args: &[String], io: &Io) -> Flow {
    let mut raw = false;
    let mut names = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-r" => raw = true,
            "-p" => io.stderr.note(it.next().map_or("", String::as_str)),
            _ => names.push(a.clone()),
        }
    }
    if names.is_empty() {
        names.push("REPLY".into());
    }
    // On a terminal (raw mode) the line ends at Enter's `\r`, as the interactive shell reads it.
    let mut reader = LineReader::new(io.stdin.is_stdin() && sys::isatty(0));
    let mut text = String::new();
    let mut got_any = false;
    while let Ok(Some(mut chunk)) = reader.read(&io.stdin) {
        got_any = true;
        // Without -r, a trailing backslash continues the line.
        let continued = !raw && chunk.ends_with('\\');
        if continued {
            chunk.pop();
        }
        text.push_str(&chunk);
        if !continued {
            break;
        }
    }
    if !raw {
        text = crate::glob::unescape(&text);
    }
    let ifs = sh.vars.get("IFS").unwrap_or(" \t\n").to_string();
    let is_sep = |c: char| ifs.contains(c);
    let mut rest = text.trim_start_matches(is_sep);
    for (i, name) in names.iter().enumerate() {
        let value = if i + 1 == names.len() {
            rest.trim_end_matches(is_sep)
        } else {
            let end = rest.find(is_sep).unwrap_or(rest.len());
            let (field, after) = rest.split_at(end);
            rest = after.trim_start_matches(is_sep);
            field
        };
        sh.vars.set(name, value);
    }
    Ok(if got_any { 0 } else { 1 })
}

fn eval(sh: &mut Shell, args: &[String], io: &Io) -> Flow {
    run_text(sh, &args.join(" "), io)
}

/// `. FILE [ARG...]` / `source FILE`: runs the file in this shell.
fn source(sh: &mut Shell, args: &[String], io: &Io) -> Flow {
    let Some(file) = args.first() else { return sh.fatal(io, ".: filename argument required") };
    let path = if file.contains('/') { file.clone() } else { sh.search_path(file).unwrap_or_else(|| file.clone()) };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            // Arguments after the file become its positional parameters while it runs.
            let saved = (args.len() > 1).then(|| std::mem::replace(&mut sh.positional, args[1..].to_vec()));
            let result = run_text(sh, &text, io);
            if let Some(saved) = saved {
                sh.positional = saved;
            }
            match result {
                Err(Unwind::Return(s)) => Ok(s),
                other => other,
            }
        }
        Err(e) => sh.fatal(io, &format!(".: {}", crate::ctx::cant("open", file, &e))),
    }
}

/// Parses and runs `text` in this shell.
pub fn run_text(sh: &mut Shell, text: &str, io: &Io) -> Flow {
    match parse(text) {
        Ok(list) => sh.run_list(&list, io),
        Err(e) => sh.fatal(io, &e.to_string()),
    }
}

/// `exec COMMAND [ARG...]`: runs the command, then the shell ends with its status (a process
/// cannot replace itself here). `exec` with only redirections is `redirect_persistently`.
fn exec(sh: &mut Shell, args: &[String], io: &Io) -> Flow {
    if args.is_empty() {
        return Ok(0);
    }
    let status = sh.dispatch(args, &[], io)?;
    Err(Unwind::Exit(status))
}

/// What a command name is: `Some(description for type, text for command -v)`.
fn describe_command(sh: &Shell, name: &str) -> Option<(String, String)> {
    if find(name).is_some() {
        Some((format!("{name} is a shell builtin"), name.to_string()))
    } else if sh.functions.contains_key(name) {
        Some((format!("{name} is a function"), name.to_string()))
    } else {
        let path = if name.contains('/') { fsx::exists(name).then(|| name.to_string()) } else { sh.search_path(name) };
        path.map(|p| (format!("{name} is {p}"), p))
    }
}

/// `command -v NAME...` prints how each name would run; `command CMD [ARG...]` runs it.
fn command(sh: &mut Shell, args: &[String], io: &Io) -> Flow {
    match args.first().map(String::as_str) {
        Some("-v" | "-V") => {
            let verbose = args[0] == "-V";
            let mut status = 0;
            let mut text = String::new();
            for name in &args[1..] {
                match describe_command(sh, name) {
                    Some((long, short)) => text.push_str(&format!("{}\n", if verbose { long } else { short })),
                    None => status = 1,
                }
            }
            say(io, &text)?;
            Ok(status)
        }
        Some(_) => sh.dispatch(args, &[], io),
        None => Ok(0),
    }
}

/// `hash [-r] [NAME...]`: the shell looks programs up in `$PATH` each time, so there is nothing
/// to remember; a name that is not found is still an error, as in dash.
fn hash(sh: &mut Shell, args: &[String], io: &Io) -> Flow {
    let mut status = 0;
    for name in args.iter().filter(|a| !a.starts_with('-')) {
        if describe_command(sh, name).is_none() {
            sh.report(io, &format!("hash: {name}: not found"));
            status = 1;
        }
    }
    Ok(status)
}

fn type_(sh: &mut Shell, args: &[String], io: &Io) -> Flow {
    let mut status = 0;
    let mut text = String::new();
    for name in args {
        match describe_command(sh, name) {
            Some((long, _)) => text.push_str(&format!("{long}\n")),
            None => {
                text.push_str(&format!("{name}: not found\n"));
                status = 1;
            }
        }
    }
    say(io, &text)?;
    Ok(status)
}

/// `trap [ACTION CONDITION...]`, `trap - CONDITION...`, `trap` (list). `EXIT`/`0` runs when
/// the shell ends; a signal's action runs between commands once the signal arrives (the host
/// holds trapped signals for the shell, see `update_sigmask`); `''` ignores the signal.
fn trap(sh: &mut Shell, args: &[String], io: &Io) -> Flow {
    let Some((action, conditions)) = args.split_first() else {
        let mut text = String::new();
        if let Some(action) = &sh.exit_trap {
            text.push_str(&format!("trap -- {} EXIT\n", shell_quote(action)));
        }
        for (signal, action) in &sh.traps {
            text.push_str(&format!("trap -- {} {}\n", shell_quote(action), signals::name(*signal).unwrap_or("?")));
        }
        return say(io, &text);
    };
    // `trap N...` (a number first) resets, as `trap - N...`.
    let (reset, conditions) = if action == "-" {
        (true, conditions)
    } else if action.parse::<u32>().is_ok() {
        (true, args)
    } else {
        (false, conditions)
    };
    let mut status = 0;
    for condition in conditions {
        if condition == "EXIT" || condition == "0" {
            sh.exit_trap = (!reset && !action.is_empty()).then(|| action.clone());
            continue;
        }
        match signals::number(condition).filter(|n| *n != 0) {
            Some(signal) if reset => {
                sh.traps.remove(&signal);
            }
            Some(signal) => {
                sh.traps.insert(signal, action.clone());
            }
            None => {
                sh.report(io, &format!("trap: {condition}: bad trap"));
                status = 1;
            }
        }
    }
    sh.update_sigmask();
    Ok(status)
}

/// `getopts OPTSTRING NAME [ARG...]`: the next option of the arguments (the positional
/// parameters without any) in `NAME`, its argument in `OPTARG`, the next index in `OPTIND`;
/// status 1 after the last option. A leading `:` in OPTSTRING reports errors through `NAME`
/// (`?` or `:`) and `OPTARG` instead of messages.
fn getopts(sh: &mut Shell, args: &[String], io: &Io) -> Flow {
    let [spec, name, rest @ ..] = args else {
        sh.report(io, "getopts: usage: getopts optstring var [arg...]");
        return Ok(2);
    };
    let argv = if rest.is_empty() { sh.positional.clone() } else { rest.to_vec() };
    let optind_text = sh.vars.get("OPTIND").unwrap_or("1").to_string();
    // A new OPTIND (a script's `OPTIND=1`) starts over inside the group.
    if sh.getopts_at.1 != optind_text {
        sh.getopts_at.0 = 0;
    }
    let mut optind: usize = optind_text.parse().unwrap_or(1).max(1);
    let silent = spec.starts_with(':');
    let step = getopts_step(spec, &argv, &mut optind, &mut sh.getopts_at.0);
    sh.vars.unset("OPTARG");
    let (value, status) = match &step {
        GetoptsStep::End => ("?".to_string(), 1),
        GetoptsStep::Option(c, arg) => {
            if let Some(arg) = arg {
                sh.vars.set("OPTARG", arg);
            }
            (c.to_string(), 0)
        }
        // With a leading `:`, errors go to NAME (`?` unknown, `:` missing) and OPTARG.
        GetoptsStep::Unknown(c) | GetoptsStep::MissingArgument(c) if silent => {
            sh.vars.set("OPTARG", &c.to_string());
            let unknown = matches!(step, GetoptsStep::Unknown(_));
            (if unknown { "?" } else { ":" }.to_string(), 0)
        }
        GetoptsStep::Unknown(c) | GetoptsStep::MissingArgument(c) => {
            let what =
                if matches!(step, GetoptsStep::Unknown(_)) { "illegal option" } else { "option requires an argument" };
            sh.report(io, &format!("{what} -- {c}"));
            ("?".to_string(), 0)
        }
    };
    sh.vars.set(name, &value);
    let optind = optind.to_string();
    sh.vars.set("OPTIND", &optind);
    sh.getopts_at.1 = optind;
    Ok(status)
}

/// One `getopts` step's outcome.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum GetoptsStep {
    End,
    Option(char, Option<String>),
    Unknown(char),
    MissingArgument(char),
}

/// The pure part of `getopts`: from `argv`, `optind` (1-based) and the position inside the
/// current group, the next option; advances both.
pub(super) fn getopts_step(spec: &str, argv: &[String], optind: &mut usize, at: &mut usize) -> GetoptsStep {
    let Some(arg) = argv.get(*optind - 1) else { return GetoptsStep::End };
    if *at == 0 {
        if arg == "--" {
            *optind += 1;
            return GetoptsStep::End;
        }
        if !arg.starts_with('-') || arg == "-" {
            return GetoptsStep::End;
        }
        *at = 1;
    }
    let chars: Vec<char> = arg.chars().collect();
    let c = chars[*at];
    *at += 1;
    let group_done = *at >= chars.len();
    if group_done {
        *optind += 1;
        *at = 0;
    }
    let spec = spec.strip_prefix(':').unwrap_or(spec);
    let Some(i) = spec.find(c).filter(|_| c != ':') else { return GetoptsStep::Unknown(c) };
    if spec[i + c.len_utf8()..].starts_with(':') {
        if !group_done {
            let rest: String = chars[*at..].iter().collect();
            *optind += 1;
            *at = 0;
            return GetoptsStep::Option(c, Some(rest));
        }
        return match argv.get(*optind - 1) {
            Some(value) => {
                *optind += 1;
                GetoptsStep::Option(c, Some(value.clone()))
            }
            None => GetoptsStep::MissingArgument(c),
        };
    }
    GetoptsStep::Option(c, None)
}

/// `umask [MASK]`: files get no permissions in WASI, so the mask is always 0022.
fn umask(_sh: &mut Shell, args: &[String], io: &Io) -> Flow {
    if args.is_empty() { say(io, "0022\n") } else { Ok(0) }
}
