//! `xargs [-r] [-t] [-0] [-n N] [-I REPLACE] [COMMAND [ARG...]]`: runs a program (default
//! `echo`) with words read from stdin as more arguments — all at once, `N` at a time, or once per
//! line with each `REPLACE` in the arguments replaced. Each run is a process with an empty stdin,
//! waited for before the next; the status is busybox's: 127 or 126 (and no more runs) when the
//! program is not found or cannot run, 123 when a run failed.

use std::io;

use crate::ctx::Ctx;
use crate::spawn;
use crate::stream::Input;

struct Plan {
    batch: Option<usize>,
    replace: Option<String>,
    nul: bool,
    trace: bool,
    skip_empty: bool,
}

pub fn xargs(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let mut plan = Plan { batch: None, replace: None, nul: false, trace: false, skip_empty: false };
    let mut rest = args;
    // Options come before the command; the command's own options are its business.
    while let Some(arg) = rest.first().filter(|a| a.starts_with('-') && a.len() > 1) {
        let (flag, attached) = arg.split_at(2);
        let mut value = || {
            if attached.is_empty() {
                rest = &rest[1..];
                rest.first().cloned()
            } else {
                Some(attached.to_string())
            }
        };
        match flag {
            "-n" => match value().and_then(|v| v.parse().ok()).filter(|n| *n > 0) {
                Some(n) => plan.batch = Some(n),
                None => return Ok(ctx.usage("invalid number for -n")),
            },
            "-I" => plan.replace = Some(value().unwrap_or_else(|| "{}".into())),
            "-0" => plan.nul = true,
            "-t" => plan.trace = true,
            "-r" => plan.skip_empty = true,
            _ => return Ok(ctx.usage(format_args!("unrecognized option: {arg}"))),
        }
        rest = &rest[1..];
    }
    let command: Vec<String> = if rest.is_empty() { vec!["echo".into()] } else { rest.to_vec() };
    let mut input = Vec::new();
    if let Err(e) = ctx.io.stdin.read_to_end(&mut input) {
        return Ok(ctx.fail("-", &e));
    }
    let text = String::from_utf8_lossy(&input);
    let runs: Vec<Vec<String>> = match &plan.replace {
        Some(r) => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| command.iter().map(|a| a.replace(r.as_str(), line)).collect())
            .collect(),
        None => {
            let items: Vec<String> = if plan.nul {
                text.split('\0').filter(|s| !s.is_empty()).map(str::to_string).collect()
            } else {
                words(&text)
            };
            if items.is_empty() {
                if plan.skip_empty { Vec::new() } else { vec![command.clone()] }
            } else {
                items
                    .chunks(plan.batch.unwrap_or(items.len()))
                    .map(|batch| command.iter().cloned().chain(batch.iter().cloned()).collect())
                    .collect()
            }
        }
    };
    let mut status = 0;
    for argv in runs {
        if plan.trace {
            ctx.io.stderr.note(&format!("{}\n", argv.join(" ")));
        }
        let mut io = ctx.io.clone();
        io.stdin = Input::empty();
        match spawn::run(ctx, &argv, &ctx.env, &io) {
            0 => {}
            code @ (126 | 127) => return Ok(code),
            _ => status = 123,
        }
    }
    Ok(status)
}

/// Splits input into words at blanks and newlines, honoring quotes and backslashes.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                word.extend(chars.next());
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if std::mem::take(&mut in_word) {
                    out.push(std::mem::take(&mut word));
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}
