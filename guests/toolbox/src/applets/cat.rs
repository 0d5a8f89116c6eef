//! `cat [-n] [FILE...]`, and `tee [-a] [FILE...]`, which copies stdin to stdout and files.

use std::io::{self, Read, Write};

use crate::ctx::{Ctx, or_stdin};

pub fn cat(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "nbuv") else { return Ok(2) };
    let mut out = ctx.io.stdout.clone();
    let mut status = 0;
    let mut line_no = 0;
    for path in or_stdin(&o.operands) {
        let Some(input) = ctx.open_input(&path) else {
            status = 1;
            continue;
        };
        if !(o.has('n') || o.has('b')) {
            if !copy(ctx, &path, input, &mut [&mut out])? {
                status = 1;
            }
            continue;
        }
        for line in input.lines() {
            let Some(line) = ctx.check(&path, line) else {
                status = 1;
                break;
            };
            if o.has('b') && line.is_empty() {
                out.write_all(b"\n")?;
                continue;
            }
            line_no += 1;
            write!(out, "{line_no:6}\t")?;
            out.write_all(&line)?;
            out.write_all(b"\n")?;
        }
    }
    Ok(status)
}

pub fn tee(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "ai") else { return Ok(2) };
    let mut status = 0;
    let mut outputs = vec![ctx.io.stdout.clone()];
    for path in &o.operands {
        match ctx.open_output(path, o.has('a')) {
            Some(out) => outputs.push(out),
            None => status = 1,
        }
    }
    let mut sinks: Vec<&mut dyn Write> = outputs.iter_mut().map(|o| o as &mut dyn Write).collect();
    let input = ctx.io.stdin.clone();
    if !copy(ctx, "-", input, &mut sinks)? {
        status = 1;
    }
    Ok(status)
}

/// Copies `input` to every sink. A read error is reported against `path` (`Ok(false)`); a
/// write error ends the applet (`Err`).
pub fn copy(ctx: &Ctx, path: &str, mut input: impl Read, sinks: &mut [&mut dyn Write]) -> io::Result<bool> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return Ok(true),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                ctx.fail(path, &e);
                return Ok(false);
            }
        };
        for sink in sinks.iter_mut() {
            sink.write_all(&buf[..n])?;
            sink.flush()?;
        }
    }
}
