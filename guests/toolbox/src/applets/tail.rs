//! `tail [-n [+]N] [-c N] [-f] [FILE...]`. The toolbox keeps its own `tail` because uutils'
//! has no follow mode on WASI, and `tail -f` (a log, or `/dev/null` to keep a container up) is
//! what containers run it for.

use std::io::{self, Read, Write};

use crate::ctx::{Ctx, or_stdin};
use crate::opts::Opts;
use crate::stream::{Input, Output};

/// Rewrites the obsolete `-N` count form (`head -5`) as `-n N`.
fn count_shorthand(args: &[String]) -> Vec<String> {
    args.iter()
        .flat_map(|a| match a.strip_prefix('-') {
            Some(n) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => vec!["-n".to_string(), n.to_string()],
            _ => vec![a.clone()],
        })
        .collect()
}

/// A count option's value (`None` when not given), or the usage error's exit code.
fn count(ctx: &Ctx, value: Option<&str>) -> Result<Option<u64>, i32> {
    match value {
        None => Ok(None),
        Some(v) => {
            v.trim_start_matches('+').parse().map(Some).map_err(|_| ctx.usage(format_args!("invalid number '{v}'")))
        }
    }
}

/// Prints `==> NAME <==` before each file when there are several, as head and tail do.
fn header(out: &mut impl Write, files: &[String], index: usize, path: &str) -> io::Result<()> {
    if files.len() > 1 {
        let name = if path == "-" { "standard input" } else { path };
        writeln!(out, "{}==> {name} <==", if index > 0 { "\n" } else { "" })?;
    }
    Ok(())
}

/// The `-n`/`-c` counts head and tail share: lines (10 when not given) and bytes, or the
/// usage error's exit code.
fn counts(ctx: &Ctx, o: &Opts) -> Result<(u64, Option<u64>), i32> {
    Ok((count(ctx, o.value('n'))?.unwrap_or(10), count(ctx, o.value('c'))?))
}

/// Runs `each` on every operand (stdin when there is none) after its `==> NAME <==` header, as
/// head and tail do; a file that cannot be opened is reported and makes the status 1. `each`
/// gets whether it is the last file, and returns its own status.
fn each_input(
    ctx: &mut Ctx,
    operands: &[String],
    mut each: impl FnMut(&mut Ctx, &mut Output, &str, Input, bool) -> io::Result<i32>,
) -> io::Result<i32> {
    let mut out = ctx.io.stdout.clone();
    let mut status = 0;
    let files = or_stdin(operands);
    for (i, path) in files.iter().enumerate() {
        let Some(input) = ctx.open_input(path) else {
            status = 1;
            continue;
        };
        header(&mut out, &files, i, path)?;
        status = status.max(each(ctx, &mut out, path, input, i + 1 == files.len())?);
    }
    Ok(status)
}

/// `tail [-n [+]N] [-c N] [-f] [FILE...]`; `-f` keeps polling a file for what is appended
/// (sleeping between looks) until the container is stopped.
pub fn tail(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(&count_shorthand(args), "n:c:fFqvs:") else { return Ok(2) };
    let from_start = o.value('n').is_some_and(|n| n.starts_with('+'));
    let follow_last = o.has('f') || o.has('F');
    let (lines, bytes) = match counts(ctx, &o) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    each_input(ctx, &o.operands, |ctx, out, path, input, last| {
        let mut data = Vec::new();
        if let Err(e) = input.read_to_end(&mut data) {
            return Ok(ctx.fail(path, &e));
        }
        let start = match bytes {
            Some(n) => data.len().saturating_sub(n as usize),
            None if from_start => line_start(&data, lines.saturating_sub(1) as usize),
            None => last_lines_start(&data, lines as usize),
        };
        out.write_all(&data[start..])?;
        out.flush()?;
        if follow_last && last && path != "-" {
            follow(out, input)?;
        }
        Ok(0)
    })
}

/// Copies whatever is appended to `input` from now on, forever.
fn follow(out: &mut impl Write, mut input: Input) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match input.read(&mut buf) {
            Ok(0) | Err(_) => std::thread::sleep(std::time::Duration::from_millis(500)),
            Ok(n) => {
                out.write_all(&buf[..n])?;
                out.flush()?;
            }
        }
    }
}

/// Offset of line `n` (0-based) in `data`.
fn line_start(data: &[u8], n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    data.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(n - 1).map_or(data.len(), |(i, _)| i + 1)
}

/// Offset where the last `n` lines of `data` begin (a final line without `\n` counts).
fn last_lines_start(data: &[u8], n: usize) -> usize {
    if n == 0 {
        return data.len();
    }
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    body.iter().enumerate().rev().filter(|(_, b)| **b == b'\n').nth(n - 1).map_or(0, |(i, _)| i + 1)
}
