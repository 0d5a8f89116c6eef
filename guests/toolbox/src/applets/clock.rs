//! Time: `date`, `sleep`.

use std::io::{self, Write};
use std::time::Duration;

use crate::calendar::DateTime;
use crate::ctx::Ctx;

/// `date [-uR] [-I] [-d @SECONDS] [+FORMAT]`: always UTC (there is no zone database).
pub fn date(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "uRId:") else { return Ok(2) };
    let when = match o.value('d') {
        None => DateTime::now(),
        Some(d) => match d.strip_prefix('@').and_then(|s| s.parse::<i64>().ok()) {
            Some(secs) => DateTime::from_epoch(secs, 0),
            None => return Ok(ctx.usage(format_args!("invalid date '{d}'"))),
        },
    };
    let format = match o.operands.first() {
        Some(f) if f.starts_with('+') => &f[1..],
        Some(_) => {
            ctx.warn("can't set date: Operation not permitted");
            return Ok(1);
        }
        None if o.has('R') => "%a, %d %b %Y %H:%M:%S %z",
        None if o.has('I') => "%Y-%m-%d",
        None => "%a %b %e %H:%M:%S %Z %Y",
    };
    writeln!(ctx.io.stdout, "{}", when.format(format))?;
    Ok(0)
}

/// `sleep DURATION...`: seconds, fractions, `s`/`m`/`h`/`d` suffixes, or `inf`; the durations
/// add up. std's sleep becomes `poll_oneoff` on the host, which a stop interrupts.
pub fn sleep(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    if args.is_empty() {
        return Ok(ctx.usage("usage: sleep [N]..."));
    }
    let mut total = 0.0f64;
    for arg in args {
        match parse_duration(arg) {
            Some(secs) => total += secs,
            None => return Ok(ctx.usage(format_args!("invalid number '{arg}'"))),
        }
    }
    ctx.io.stdout.flush()?;
    if total.is_infinite() {
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    std::thread::sleep(Duration::from_secs_f64(total));
    Ok(0)
}

fn parse_duration(arg: &str) -> Option<f64> {
    if matches!(arg, "inf" | "infinity") {
        return Some(f64::INFINITY);
    }
    let (number, unit) = match arg.char_indices().last()? {
        (i, c @ ('s' | 'm' | 'h' | 'd')) => (&arg[..i], c),
        _ => (arg, 's'),
    };
    let value: f64 = number.parse().ok().filter(|v: &f64| *v >= 0.0 && v.is_finite())?;
    let scale = match unit {
        'm' => 60.0,
        'h' => 3600.0,
        'd' => 86_400.0,
        _ => 1.0,
    };
    Some(value * scale)
}
