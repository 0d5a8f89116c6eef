//! Line-oriented text applets: `head`, `tail`, `wc`, `sort`.

use std::cmp::Ordering;
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

pub fn head(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(&count_shorthand(args), "n:c:qv") else { return Ok(2) };
    let (lines, bytes) = match counts(ctx, &o) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    each_input(ctx, &o.operands, |ctx, out, path, input, _| {
        if let Some(n) = bytes {
            let mut data = Vec::new();
            let status = match input.take(n).read_to_end(&mut data) {
                Ok(_) => 0,
                Err(e) => ctx.fail(path, &e),
            };
            out.write_all(&data)?;
            return Ok(status);
        }
        let mut buf = Vec::new();
        for _ in 0..lines {
            buf.clear();
            match input.read_line(&mut buf) {
                Ok(0) => break,
                Ok(_) => out.write_all(&buf)?,
                Err(e) => return Ok(ctx.fail(path, &e)),
            }
        }
        Ok(0)
    })
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

/// `wc [-lwcmL] [FILE...]`, laid out like busybox: one count unpadded, several in 9 columns.
pub fn wc(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "lwcmL") else { return Ok(2) };
    let mut which: Vec<usize> = "lwmcL".chars().enumerate().filter(|(_, c)| o.has(*c)).map(|(i, _)| i).collect();
    if which.is_empty() {
        which = vec![0, 1, 3];
    }
    let mut out = ctx.io.stdout.clone();
    let mut status = 0;
    let mut totals = [0u64; 5];
    let files = or_stdin(&o.operands);
    for path in &files {
        let Some(input) = ctx.open_input(path) else {
            status = 1;
            continue;
        };
        let mut data = Vec::new();
        if let Err(e) = input.read_to_end(&mut data) {
            status = ctx.fail(path, &e);
            continue;
        }
        let text = String::from_utf8_lossy(&data);
        let counts = [
            data.iter().filter(|b| **b == b'\n').count() as u64,
            text.split_whitespace().count() as u64,
            text.chars().count() as u64,
            data.len() as u64,
            text.lines().map(|l| l.chars().count() as u64).max().unwrap_or(0),
        ];
        for (t, c) in totals.iter_mut().zip(counts) {
            *t += c;
        }
        write_counts(&mut out, &which, &counts, (path != "-").then_some(path.as_str()))?;
    }
    if files.len() > 1 {
        write_counts(&mut out, &which, &totals, Some("total"))?;
    }
    Ok(status)
}

fn write_counts(out: &mut impl Write, which: &[usize], counts: &[u64; 5], name: Option<&str>) -> io::Result<()> {
    let mut line = String::new();
    for (i, &k) in which.iter().enumerate() {
        match (i, which.len()) {
            (0, 1) => line.push_str(&counts[k].to_string()),
            (0, _) => line.push_str(&format!("{:9}", counts[k])),
            _ => line.push_str(&format!(" {:9}", counts[k])),
        }
    }
    if let Some(name) = name {
        line.push(' ');
        line.push_str(name);
    }
    writeln!(out, "{line}")
}

/// `sort [-rnufb] [-t SEP] [-k N[,M]] [FILE...]`.
pub fn sort(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "rnufbsdt:k:o:") else { return Ok(2) };
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut status = 0;
    for path in or_stdin(&o.operands) {
        let Some(input) = ctx.open_input(&path) else {
            status = 1;
            continue;
        };
        for line in input.lines() {
            match line {
                Ok(l) => lines.push(l),
                Err(e) => {
                    status = ctx.fail(&path, &e);
                    break;
                }
            }
        }
    }
    let key = SortKey::new(o.value('k'), o.value('t'));
    let (numeric, fold) = (o.has('n'), o.has('f'));
    let compare_keys = |a: &[u8], b: &[u8]| {
        let (ka, kb) = (key.of(a), key.of(b));
        if numeric {
            leading_number(&ka).partial_cmp(&leading_number(&kb)).unwrap_or(Ordering::Equal)
        } else if fold {
            ka.to_ascii_lowercase().cmp(&kb.to_ascii_lowercase())
        } else {
            ka.cmp(&kb)
        }
    };
    // Equal keys fall back to whole-line order, except under -u, where they are duplicates.
    let unique = o.has('u');
    lines.sort_by(|a, b| {
        let ord = compare_keys(a, b);
        let ord = if unique { ord } else { ord.then_with(|| a.cmp(b)) };
        if o.has('r') { ord.reverse() } else { ord }
    });
    if unique {
        lines.dedup_by(|a, b| compare_keys(a, b) == Ordering::Equal);
    }
    let mut out = match o.value('o') {
        Some(path) => match ctx.open_output(path, false) {
            Some(out) => out,
            None => return Ok(2),
        },
        None => ctx.io.stdout.clone(),
    };
    for line in lines {
        out.write_all(&line)?;
        out.write_all(b"\n")?;
    }
    Ok(status)
}

/// `-k N[,M]` with `-t SEP`: the fields a line is sorted by (whole line without `-k`).
struct SortKey {
    first: usize,
    last: Option<usize>,
    sep: Option<u8>,
}

impl SortKey {
    fn new(k: Option<&str>, t: Option<&str>) -> SortKey {
        let field =
            |s: &str| s.split('.').next().and_then(|n| n.trim_end_matches(char::is_alphabetic).parse::<usize>().ok());
        let (first, last) = match k {
            Some(spec) => match spec.split_once(',') {
                Some((a, b)) => (field(a).unwrap_or(1), field(b)),
                None => (field(spec).unwrap_or(1), None),
            },
            None => (1, None),
        };
        SortKey { first: first.max(1), last, sep: t.and_then(|s| s.bytes().next()) }
    }

    fn of(&self, line: &[u8]) -> Vec<u8> {
        if self.first == 1 && self.last.is_none() {
            return line.to_vec();
        }
        let fields: Vec<&[u8]> = match self.sep {
            Some(sep) => line.split(|b| *b == sep).collect(),
            None => line.split(|b| b.is_ascii_whitespace()).filter(|f| !f.is_empty()).collect(),
        };
        let last = self.last.unwrap_or(fields.len()).min(fields.len());
        let joiner = [self.sep.unwrap_or(b' ')];
        fields.get(self.first - 1..last).map(|f| f.join(&joiner[..])).unwrap_or_default()
    }
}

/// The number a line starts with (after blanks), 0 when there is none: `sort -n`'s key.
fn leading_number(text: &[u8]) -> f64 {
    let s = String::from_utf8_lossy(text);
    let s = s.trim_start();
    let end = s
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (c == '-' && i == 0)))
        .map_or(s.len(), |(i, _)| i);
    s[..end].parse().unwrap_or(0.0)
}
