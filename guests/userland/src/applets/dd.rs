//! `dd [if=F] [of=F] [bs=N|ibs=N obs=N] [count=N] [skip=N] [seek=N] [conv=notrunc,...]
//! [status=none|noxfer|progress]`. uutils' dd runs its progress reporter and alarm on threads
//! of their own, which wasm32-wasip1 cannot start, so this one copies on the one thread it has.
//! Each input block is written as one output block (GNU's behaviour with `bs=`), and the
//! summary on standard error is GNU's.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::time::Instant;

use crate::sys;

#[derive(Debug, PartialEq, Eq)]
struct Settings {
    input: Option<String>,
    output: Option<String>,
    ibs: usize,
    obs: usize,
    count: Option<u64>,
    skip: u64,
    seek: u64,
    notrunc: bool,
    status: Status,
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Status {
    Default,
    NoXfer,
    None,
}

const USAGE: &str = "Usage: dd [if=FILE] [of=FILE] [bs=N] [ibs=N] [obs=N] [count=N] [skip=N] [seek=N] [conv=notrunc] [status=none|noxfer]";

pub fn dd(args: Vec<OsString>) -> i32 {
    let args = super::opts::strings(&args);
    if let Some(code) = super::opts::info("dd", &args, USAGE, &[], &[]) {
        return code;
    }
    let settings = match parse(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("dd: {e}\nTry 'dd --help' for more information.");
            return 1;
        }
    };
    match copy(&settings) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("dd: {e}");
            1
        }
    }
}

fn parse(args: &[String]) -> Result<Settings, String> {
    let mut s = Settings {
        input: None,
        output: None,
        ibs: 512,
        obs: 512,
        count: None,
        skip: 0,
        seek: 0,
        notrunc: false,
        status: Status::Default,
    };
    for arg in args {
        let (key, value) = arg.split_once('=').ok_or_else(|| format!("unrecognized operand '{arg}'"))?;
        let number = || size(value).ok_or_else(|| format!("invalid number: '{value}'"));
        match key {
            "if" => s.input = Some(value.to_string()),
            "of" => s.output = Some(value.to_string()),
            "bs" => (s.ibs, s.obs) = (number()? as usize, number()? as usize),
            "ibs" => s.ibs = number()? as usize,
            "obs" => s.obs = number()? as usize,
            "count" => s.count = Some(number()?),
            "skip" | "iseek" => s.skip = number()?,
            "seek" | "oseek" => s.seek = number()?,
            "conv" => {
                for conv in value.split(',') {
                    match conv {
                        "notrunc" => s.notrunc = true,
                        "fsync" | "fdatasync" => {}
                        other => return Err(format!("invalid conversion: '{other}'")),
                    }
                }
            }
            "status" => {
                s.status = match value {
                    "none" => Status::None,
                    "noxfer" => Status::NoXfer,
                    "progress" => Status::Default,
                    other => return Err(format!("invalid status level: '{other}'")),
                }
            }
            _ => return Err(format!("unrecognized operand '{arg}'")),
        }
    }
    if s.ibs == 0 || s.obs == 0 {
        return Err("invalid number: '0'".into());
    }
    Ok(s)
}

/// `512`, `4k`/`4K` (1024), `1kB` (1000), `2M`, `1MB`, `1G`, `3b` (512 bytes), `2w`, `2c`, `2x3`.
fn size(text: &str) -> Option<u64> {
    if let Some((a, b)) = text.split_once('x') {
        return size(a)?.checked_mul(size(b)?);
    }
    let at = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, suffix) = text.split_at(at);
    let n: u64 = digits.parse().ok()?;
    let unit: u64 = match suffix {
        "" | "c" => 1,
        "w" => 2,
        "b" => 512,
        "kB" => 1000,
        "k" | "K" | "KiB" => 1 << 10,
        "MB" => 1_000_000,
        "M" | "MiB" => 1 << 20,
        "GB" => 1_000_000_000,
        "G" | "GiB" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(unit)
}

fn copy(s: &Settings) -> Result<(), String> {
    let started = Instant::now();
    let name = |f: &Option<String>, std: &str| f.clone().unwrap_or_else(|| std.to_string());
    let fail = |f: &Option<String>, std: &str, what: &str, e: io::Error| {
        format!("{what} '{}': {}", name(f, std), sys::describe(&e))
    };
    let mut input: Box<dyn Read> = match &s.input {
        Some(path) => {
            let mut file = fs::File::open(path).map_err(|e| fail(&s.input, "", "failed to open", e))?;
            file.seek(SeekFrom::Start(s.skip * s.ibs as u64)).map_err(|e| fail(&s.input, "", "cannot skip", e))?;
            Box::new(file)
        }
        None => {
            let mut stdin = io::stdin().lock();
            io::copy(&mut (&mut stdin).take(s.skip * s.ibs as u64), &mut io::sink())
                .map_err(|e| fail(&None, "standard input", "cannot skip", e))?;
            Box::new(stdin)
        }
    };
    let mut output: Box<dyn Write> = match &s.output {
        Some(path) => {
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map_err(|e| fail(&s.output, "", "failed to open", e))?;
            let start = s.seek * s.obs as u64;
            if !s.notrunc {
                file.set_len(start).map_err(|e| fail(&s.output, "", "failed to truncate", e))?;
            }
            file.seek(SeekFrom::Start(start)).map_err(|e| fail(&s.output, "", "cannot seek", e))?;
            Box::new(file)
        }
        None => Box::new(io::stdout().lock()),
    };
    let mut buf = vec![0u8; s.ibs];
    let (mut full, mut partial, mut bytes) = (0u64, 0u64, 0u64);
    while s.count.is_none_or(|c| full + partial < c) {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(fail(&s.input, "standard input", "error reading", e)),
        };
        output.write_all(&buf[..n]).map_err(|e| fail(&s.output, "standard output", "error writing", e))?;
        if n == s.ibs {
            full += 1
        } else {
            partial += 1
        }
        bytes += n as u64;
    }
    output.flush().map_err(|e| fail(&s.output, "standard output", "error writing", e))?;
    if s.status != Status::None {
        let mut err = io::stderr().lock();
        let _ = write!(err, "{full}+{partial} records in\n{full}+{partial} records out\n");
        if s.status == Status::Default {
            let _ = writeln!(err, "{}", summary(bytes, started.elapsed().as_secs_f64()));
        }
    }
    Ok(())
}

/// `70000 bytes (70 kB, 68 KiB) copied, 0.01 s, 7.0 MB/s`, as GNU dd words it.
fn summary(bytes: u64, secs: f64) -> String {
    let amount = if bytes < 1000 {
        format!("{bytes} byte{}", if bytes == 1 { "" } else { "s" })
    } else {
        format!(
            "{bytes} bytes ({}, {})",
            human(bytes as f64, 1000.0, &["kB", "MB", "GB", "TB"]),
            human(bytes as f64, 1024.0, &["KiB", "MiB", "GiB", "TiB"])
        )
    };
    let rate =
        if secs > 0.0 { human(bytes as f64 / secs, 1000.0, &["kB", "MB", "GB", "TB"]) } else { "Infinity B".into() };
    format!("{amount} copied, {secs:.5} s, {rate}/s")
}

/// A quantity in the largest unit that keeps it at least 1: two significant digits, as GNU.
fn human(mut n: f64, base: f64, units: &[&str]) -> String {
    let mut unit = "B";
    for u in units {
        if n < base {
            break;
        }
        n /= base;
        unit = u;
    }
    if unit == "B" {
        format!("{n:.0} B")
    } else if n < 10.0 {
        format!("{n:.1} {unit}")
    } else {
        format!("{n:.0} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_gnu_suffixes() {
        assert_eq!(size("4"), Some(4));
        assert_eq!(size("1k"), Some(1024));
        assert_eq!(size("1kB"), Some(1000));
        assert_eq!(size("2b"), Some(1024));
        assert_eq!(size("2x3"), Some(6));
        assert_eq!(size("1q"), None);
    }

    #[test]
    fn operands_and_summary() {
        let s = parse(&["bs=4".into(), "count=2".into(), "conv=notrunc".into()]).unwrap();
        assert_eq!((s.ibs, s.obs, s.count, s.notrunc), (4, 4, Some(2), true));
        assert!(parse(&["nope".into()]).is_err());
        assert!(summary(8, 0.5).starts_with("8 bytes copied, 0.50000 s, 16 B/s"));
        assert!(summary(70_000, 1.0).starts_with("70000 bytes (70 kB, 68 KiB) copied"));
    }
}
