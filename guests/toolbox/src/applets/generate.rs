//! Output generators: `seq`, `yes`, `true`, `false`.

use std::io::{self, Write};

use crate::ctx::Ctx;

/// `seq [-w] [-s SEP] [FIRST [INCREMENT]] LAST`, integers or decimals.
pub fn seq(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    // Negative numbers are operands, not options.
    let mut sep = "\n".to_string();
    let mut equal_width = false;
    let mut rest = args;
    loop {
        match rest.first().map(String::as_str) {
            Some("-w") => equal_width = true,
            Some("-s") if rest.len() > 1 => {
                sep = rest[1].clone();
                rest = &rest[1..];
            }
            _ => break,
        }
        rest = &rest[1..];
    }
    let mut nums = Vec::new();
    for a in rest {
        match a.parse::<f64>() {
            Ok(v) => nums.push(v),
            Err(_) => return Ok(ctx.usage(format_args!("invalid number '{a}'"))),
        }
    }
    let (first, step, last) = match nums.as_slice() {
        [last] => (1.0, 1.0, *last),
        [first, last] => (*first, 1.0, *last),
        [first, step, last] => (*first, *step, *last),
        _ => return Ok(ctx.usage("usage: seq [-w] [-s SEP] [FIRST [INC]] LAST")),
    };
    if step == 0.0 {
        return Ok(ctx.usage("invalid increment '0'"));
    }
    let decimals = rest.iter().map(|a| a.split_once('.').map_or(0, |(_, f)| f.len())).max().unwrap_or(0);
    let width =
        if equal_width { [first, last].iter().map(|v| format!("{v:.decimals$}").len()).max().unwrap_or(0) } else { 0 };
    let mut out = ctx.io.stdout.clone();
    let mut text = String::new();
    let mut i = 0u64;
    loop {
        let v = first + step * i as f64;
        if (step > 0.0 && v > last + 1e-9) || (step < 0.0 && v < last - 1e-9) {
            break;
        }
        if i > 0 {
            text.push_str(&sep);
        }
        text.push_str(&format!("{v:0width$.decimals$}"));
        i += 1;
        if text.len() > 64 * 1024 {
            out.write_all(text.as_bytes())?;
            text.clear();
        }
    }
    if i > 0 {
        text.push('\n');
    }
    out.write_all(text.as_bytes())?;
    Ok(0)
}

/// `yes [STRING...]`: repeats the line until writing fails (a full pipe ends it).
pub fn yes(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let line = if args.is_empty() { "y".to_string() } else { args.join(" ") };
    let chunk = format!("{line}\n").repeat((8192 / (line.len() + 1)).max(1));
    loop {
        ctx.io.stdout.write_all(chunk.as_bytes())?;
    }
}

pub fn r#true(_ctx: &mut Ctx, _args: &[String]) -> io::Result<i32> {
    Ok(0)
}

pub fn r#false(_ctx: &mut Ctx, _args: &[String]) -> io::Result<i32> {
    Ok(1)
}
