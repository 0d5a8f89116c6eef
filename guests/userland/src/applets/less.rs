//! `less [FILE]`: a small pager. Not on a terminal it copies its input through, as less does.
//! On one it shows a screen (`LINES`, else 24 rows) at a time: space/f next page, Enter/j next
//! line, b/k back, g/G top/end, q quit. Keys come raw with Porthole's TTY call, else one line at
//! a time (type the key, then Enter). Reading a pipe, keys come from `/dev/tty` when the
//! container has one; without one the text is shown whole.

use std::ffi::OsString;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};

use crate::sys;

const USAGE: &str = "Usage: less [FILE]\nspace/f next page, Enter/j next line, b/k back, g/G top/end, q quit";

pub fn less(args: Vec<OsString>) -> i32 {
    let args: Vec<String> = args.iter().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    let files: Vec<&String> = args.iter().filter(|a| !a.starts_with('-') || *a == "-").collect();
    if let Some(code) = super::opts::info("less", &args, USAGE, &[], &["-V"]) {
        return code;
    }
    let mut text = Vec::new();
    let read = match files.first() {
        Some(f) if f.as_str() != "-" => fs::File::open(f).and_then(|mut file| file.read_to_end(&mut text)),
        _ => io::stdin().read_to_end(&mut text),
    };
    if let Err(e) = read {
        eprintln!("less: {}: {}", files.first().map_or("-", |f| f.as_str()), sys::describe(&e));
        return 1;
    }
    let keys: Option<Box<dyn Read>> = match files.first() {
        Some(f) if f.as_str() != "-" && sys::isatty(0) => Some(Box::new(io::stdin())),
        _ => fs::File::open("/dev/tty").ok().map(|t| Box::new(t) as Box<dyn Read>),
    };
    let mut out = io::stdout().lock();
    let (Some(keys), true) = (keys, sys::isatty(1)) else {
        return if out.write_all(&text).and_then(|()| out.flush()).is_ok() { 0 } else { 1 };
    };
    let rows = std::env::var("LINES").ok().and_then(|l| l.parse::<usize>().ok()).filter(|&r| r > 1).unwrap_or(24);
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    let raw = sys::raw_tty(0, true).is_ok();
    let shown = page(&lines, rows - 1, keys, raw, &mut out);
    if raw {
        let _ = sys::raw_tty(0, false);
    }
    if shown.is_ok() { 0 } else { 1 }
}

/// What a key does to the first line shown.
fn step(key: u8, top: usize, page: usize, last_top: usize) -> Option<usize> {
    Some(match key {
        b' ' | b'f' => (top + page).min(last_top),
        b'\n' | b'\r' | b'j' => (top + 1).min(last_top),
        b'b' => top.saturating_sub(page),
        b'k' => top.saturating_sub(1),
        b'g' | b'<' => 0,
        b'G' | b'>' => last_top,
        b'q' | b'Q' => return None,
        _ => top,
    })
}

fn page(lines: &[&str], page: usize, keys: Box<dyn Read>, raw: bool, out: &mut impl Write) -> io::Result<()> {
    let last_top = lines.len().saturating_sub(page);
    let mut keys = BufReader::new(keys);
    let mut top = 0;
    loop {
        write!(out, "\x1b[H\x1b[2J")?;
        for line in lines.iter().skip(top).take(page) {
            writeln!(out, "{line}")?;
        }
        write!(out, "{}", if top >= last_top { "(END)" } else { ":" })?;
        out.flush()?;
        let key = if raw {
            let mut b = [0u8];
            if keys.read(&mut b)? == 0 {
                break;
            }
            b[0]
        } else {
            let mut line = String::new();
            if keys.read_line(&mut line)? == 0 {
                break;
            }
            line.bytes().next().unwrap_or(b'\n')
        };
        match step(key, top, page, last_top) {
            Some(next) => top = next,
            None => break,
        }
    }
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::step;

    #[test]
    fn keys_move_the_window() {
        assert_eq!(step(b' ', 0, 23, 100), Some(23));
        assert_eq!(step(b' ', 90, 23, 100), Some(100));
        assert_eq!(step(b'b', 10, 23, 100), Some(0));
        assert_eq!(step(b'G', 0, 23, 100), Some(100));
        assert_eq!(step(b'q', 0, 23, 100), None);
    }
}
