//! `top [-b] [-n COUNT] [-d SECONDS]`: one screen about the only process there is (this one),
//! then — without `-n` — idling until the container is stopped, as a container whose command is
//! `top` does. On a terminal it refreshes every `-d` seconds and quits on `q` or Ctrl-C, which
//! arrive as bytes: the terminal is in raw mode and WASI delivers no signals.

use std::io::{self, Read, Write};
use std::time::Duration;

use crate::ctx::Ctx;
use crate::sys;

const PAGE: u64 = 64 * 1024;

pub fn top(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "bn:d:") else { return Ok(2) };
    let frames: Option<u64> = match o.value('n').map(str::parse) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return Ok(ctx.usage("invalid number for -n")),
    };
    let delay = o.value('d').and_then(|d| d.parse::<f64>().ok()).unwrap_or(5.0).max(0.1);
    let mut out = ctx.io.stdout.clone();
    let clear = out.is_terminal() && !o.has('b');
    let keys = ctx.io.stdin.is_stdin() && sys::isatty(0) && !o.has('b');
    let pause = Duration::from_secs_f64(delay);
    let mut shown = 0;
    loop {
        if clear {
            write!(out, "\x1b[H\x1b[J")?;
        }
        out.write_all(screen().as_bytes())?;
        out.flush()?;
        shown += 1;
        if frames.is_some_and(|n| shown >= n) {
            return Ok(0);
        }
        if keys {
            if sys::wait_readable(0, pause) && quit_key(&mut ctx.io.stdin) {
                return Ok(0);
            }
        } else if frames.is_some() {
            std::thread::sleep(pause);
        } else {
            // A log is no screen: one frame, then idle until stopped.
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
    }
}

/// Reads one key: `q`, Ctrl-C or end of input quit.
fn quit_key(input: &mut impl Read) -> bool {
    let mut key = [0u8; 1];
    match input.read(&mut key) {
        Ok(0) | Err(_) => true,
        Ok(_) => matches!(key[0], b'q' | b'Q' | 0x03),
    }
}

/// The header and the process line; memory is the guest's linear memory, against the 4 GiB a
/// wasm32 guest can address.
fn screen() -> String {
    let used_kib = memory_bytes() / 1024;
    let free_kib = (4u64 << 30) / 1024 - used_kib;
    format!(
        "Mem: {used_kib}K used, {free_kib}K free, 0K shrd, 0K buff, 0K cached\n\
         CPU:   0% usr   0% sys   0% nic 100% idle   0% io   0% irq   0% sirq\n\
         Load average: 0.00 0.00 0.00 1/1 1\n\
         \x20 PID  PPID USER     STAT   VSZ %VSZ CPU %CPU COMMAND\n\
         \x20   1     0 root     R    {used_kib:>5}   0%   0   0% top\n"
    )
}

fn memory_bytes() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size(0) as u64 * PAGE
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        PAGE
    }
}
