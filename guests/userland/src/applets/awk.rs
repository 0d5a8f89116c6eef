//! `awk [-F fs] [-v var=value]... [-f progfile | 'program'] [file...]` on awk-rs's interpreter.
//! Its own front end gives `-v` values to `Interpreter::set_variable`, which stores them as
//! plain variables, so the ones awk itself reads (`OFS`, `ORS`, `RS`, `SUBSEP`, …) never take
//! effect; here those become an assignment in a `BEGIN` rule that runs before the program's own.

use std::ffi::OsString;
use std::fs;
use std::io::{self, BufRead, BufReader};

use awk_rs::{Interpreter, Lexer, Parser, TokenKind};

/// Variables the interpreter keeps outside its variable table (see the module comment).
const SPECIAL: &[&str] =
    &["FS", "OFS", "ORS", "RS", "OFMT", "CONVFMT", "SUBSEP", "FPAT", "FIELDWIDTHS", "NR", "NF", "FNR"];

#[derive(Debug, Default, PartialEq)]
struct Invocation {
    fs: Option<String>,
    /// `-v` assignments, the value as written (escapes not yet processed).
    assigns: Vec<(String, String)>,
    program: String,
    files: Vec<String>,
}

pub fn awk(args: Vec<OsString>) -> i32 {
    let args: Vec<String> = args.iter().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    if args.first().is_some_and(|a| a == "--version") {
        println!("awk (awk-rs 0.2)");
        return 0;
    }
    if args.first().is_some_and(|a| a == "--help" || a == "-h") {
        println!("Usage: awk [-F fs] [-v var=value] [-f progfile | 'program'] [file ...]");
        return 0;
    }
    let inv = match parse(&args, |p| {
        fs::read_to_string(p).map_err(|e| format!("can't open file {p}: {}", crate::sys::describe(&e)))
    }) {
        Ok(inv) => inv,
        Err(e) => {
            eprintln!("awk: {e}");
            return 2;
        }
    };
    match run(inv) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("awk: {e}");
            2
        }
    }
}

fn parse(args: &[String], read: impl Fn(&str) -> Result<String, String>) -> Result<Invocation, String> {
    let mut inv = Invocation::default();
    let mut from_files = false;
    let mut i = 0;
    let value = |i: &mut usize, attached: &str, opt: &str| -> Result<String, String> {
        if !attached.is_empty() {
            return Ok(attached.to_string());
        }
        *i += 1;
        args.get(*i).cloned().ok_or_else(|| format!("option requires an argument -- {opt}"))
    };
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            i += 1;
            break;
        }
        if let Some(rest) = arg.strip_prefix("-F") {
            inv.fs = Some(value(&mut i, rest, "F")?);
        } else if let Some(rest) = arg.strip_prefix("-v") {
            let assign = value(&mut i, rest, "v")?;
            let (name, val) = assign.split_once('=').ok_or_else(|| format!("invalid -v argument: {assign}"))?;
            inv.assigns.push((name.to_string(), val.to_string()));
        } else if let Some(rest) = arg.strip_prefix("-f") {
            inv.program.push_str(&read(&value(&mut i, rest, "f")?)?);
            inv.program.push('\n');
            from_files = true;
        } else if arg.starts_with('-') && arg.len() > 1 {
            return Err(format!("unknown option {arg}"));
        } else {
            break;
        }
        i += 1;
    }
    if !from_files {
        inv.program = args.get(i).cloned().ok_or("usage: awk [-F fs][-v var=value][prog | -f progfile][file ...]")?;
        i += 1;
    }
    inv.files = args[i.min(args.len())..].to_vec();
    Ok(inv)
}

/// A `-v` value with awk's string escapes processed, by awk-rs's own lexer.
fn unescape(raw: &str) -> Result<String, String> {
    let literal = quote(raw);
    let tokens = Lexer::new(&literal).tokenize().map_err(|e| e.to_string())?;
    match tokens.into_iter().next().map(|t| t.kind) {
        Some(TokenKind::String(s)) => Ok(s),
        _ => Err(format!("invalid -v value: {raw}")),
    }
}

/// `raw` as an awk string literal whose escapes are still to be processed: only the quote and
/// a raw newline need protecting.
fn quote(raw: &str) -> String {
    format!("\"{}\"", raw.replace('"', "\\\"").replace('\n', "\\n"))
}

fn run(inv: Invocation) -> Result<i32, String> {
    let mut source = String::new();
    for (name, raw) in inv.assigns.iter().filter(|(n, _)| SPECIAL.contains(&n.as_str())) {
        source.push_str(&format!("BEGIN {{ {name} = {} }}\n", quote(raw)));
    }
    source.push_str(&inv.program);
    let tokens = Lexer::new(&source).tokenize().map_err(|e| e.to_string())?;
    let program = Parser::new(tokens).parse().map_err(|e| e.to_string())?;
    let mut interp = Interpreter::new(&program);
    if let Some(fs) = &inv.fs {
        // POSIX: `-Ft` means a tab.
        let fs = if fs == "t" { "\t".to_string() } else { unescape(fs)? };
        interp.set_fs(&fs);
    }
    for (name, raw) in inv.assigns.iter().filter(|(n, _)| !SPECIAL.contains(&n.as_str())) {
        interp.set_variable(name, &unescape(raw)?);
    }
    let mut argv = vec!["awk".to_string()];
    argv.extend(inv.files.iter().cloned());
    interp.set_args(argv);
    let mut inputs: Vec<Box<dyn BufRead>> = Vec::new();
    let mut names = Vec::new();
    if inv.files.is_empty() {
        inputs.push(Box::new(BufReader::new(io::stdin())));
        names.push(String::new());
    }
    for file in &inv.files {
        if file == "-" {
            inputs.push(Box::new(BufReader::new(io::stdin())));
        } else {
            let f =
                fs::File::open(file).map_err(|e| format!("cannot open \"{file}\" ({})", crate::sys::describe(&e)))?;
            inputs.push(Box::new(BufReader::new(f)));
        }
        names.push(file.clone());
    }
    interp.set_filenames(names);
    let mut out = io::stdout().lock();
    interp.run(inputs, &mut out).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn options_then_program_then_files() {
        let inv = parse(&words("-F: -v OFS=- -vx=1 {print} a b"), |_| unreachable!()).unwrap();
        assert_eq!(inv.fs.as_deref(), Some(":"));
        assert_eq!(inv.assigns, [("OFS".into(), "-".into()), ("x".into(), "1".into())]);
        assert_eq!((inv.program.as_str(), inv.files.len()), ("{print}", 2));
        let inv = parse(&words("-f p.awk x"), |p| Ok(format!("# {p}"))).unwrap();
        assert_eq!((inv.program.as_str(), inv.files.as_slice()), ("# p.awk\n", &["x".to_string()][..]));
    }

    #[test]
    fn values_take_awk_escapes() {
        assert_eq!(unescape(r"a\tb").unwrap(), "a\tb");
        assert_eq!(unescape("say \"hi\"").unwrap(), "say \"hi\"");
    }
}
