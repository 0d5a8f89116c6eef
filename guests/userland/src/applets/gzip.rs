//! `gzip`, `gunzip` and `zcat` on flate2, with GNU gzip's file handling: `FILE` becomes
//! `FILE.gz` (and back) keeping the original's time, the original is removed unless `-k` or
//! `-c`, no operands (or `-`) means standard input to standard output.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use flate2::{Compression, GzBuilder};

use super::opts::{self, Spec};
use crate::sys;

const SPEC: Spec = Spec {
    flags: "cdfklnqtv123456789",
    valued: "",
    long: &[
        ("stdout", 'c'),
        ("to-stdout", 'c'),
        ("decompress", 'd'),
        ("uncompress", 'd'),
        ("force", 'f'),
        ("keep", 'k'),
        ("list", 'l'),
        ("quiet", 'q'),
        ("test", 't'),
        ("verbose", 'v'),
        ("fast", '1'),
        ("best", '9'),
    ],
};

pub fn gzip(args: Vec<OsString>) -> i32 {
    main("gzip", &[], args)
}

pub fn gunzip(args: Vec<OsString>) -> i32 {
    main("gunzip", &['d'], args)
}

pub fn zcat(args: Vec<OsString>) -> i32 {
    main("zcat", &['d', 'c'], args)
}

fn main(name: &str, implied: &[char], args: Vec<OsString>) -> i32 {
    let args = opts::strings(&args);
    let usage = format!(
        "Usage: {name} [-cdfkqtv19] [FILE]...
Compress or uncompress FILEs (by default, in place)."
    );
    if let Some(code) = opts::info(name, &args, &usage, &["-h"], &["-V"]) {
        return code;
    }
    let mut p = match opts::parse(&SPEC, &args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{name}: {e}\nTry '{name} --help' for more information.");
            return 1;
        }
    };
    p.opts.extend(implied.iter().map(|&c| (c, None)));
    let level = ('1'..='9').rev().find(|&c| p.has(c)).map_or(6, |c| c as u32 - '0' as u32);
    let job = Job {
        decompress: p.has('d') || p.has('t'),
        test: p.has('t'),
        stdout: p.has('c') || p.has('t'),
        force: p.has('f'),
        keep: p.has('k'),
        level: Compression::new(level),
    };
    if p.operands.is_empty() {
        p.operands.push("-".into());
    }
    let mut status = 0;
    for file in &p.operands {
        if let Err(e) = job.one(file) {
            eprintln!("{name}: {e}");
            status = 1;
        }
    }
    status
}

struct Job {
    decompress: bool,
    test: bool,
    stdout: bool,
    force: bool,
    keep: bool,
    level: Compression,
}

impl Job {
    fn one(&self, file: &str) -> Result<(), String> {
        if file == "-" {
            if !self.decompress && !self.force && sys::isatty(1) {
                return Err("compressed data not written to a terminal. Use -f to force compression.".into());
            }
            return self.filter(io::stdin().lock(), io::stdout().lock(), None, "stdin");
        }
        let md = fs::metadata(file).map_err(|e| format!("{file}: {}", sys::describe(&e)))?;
        if md.is_dir() {
            return Err(format!("{file} is a directory -- ignored"));
        }
        let input = fs::File::open(file).map_err(|e| format!("{file}: {}", sys::describe(&e)))?;
        if self.stdout {
            return self.filter(input, io::stdout().lock(), None, file);
        }
        let target = if self.decompress {
            strip_suffix(file).ok_or_else(|| format!("{file}: unknown suffix -- ignored"))?
        } else if strip_suffix(file).is_some() && !self.force {
            return Err(format!("{file} already has .gz suffix -- unchanged"));
        } else {
            format!("{file}.gz")
        };
        if Path::new(&target).exists() && !self.force {
            return Err(format!("{target} already exists; not overwritten"));
        }
        let out = fs::File::create(&target).map_err(|e| format!("{target}: {}", sys::describe(&e)))?;
        let stored_name = Path::new(file).file_name().map(|n| n.to_string_lossy().into_owned());
        let header = stored_name.as_deref().map(|n| (n, sys::mtime(&md) as u32));
        if let Err(e) = self.filter(input, out, header, file) {
            let _ = fs::remove_file(&target);
            return Err(e);
        }
        // The new file takes the old one's time and mode, as GNU gzip does.
        let _ = sys::set_mode(Path::new(&target), sys::mode(Path::new(file), false));
        let _ = sys::set_mtime(Path::new(&target), sys::mtime(&md));
        if !self.keep {
            fs::remove_file(file).map_err(|e| format!("{file}: {}", sys::describe(&e)))?;
        }
        Ok(())
    }

    /// Compresses or decompresses `input` into `output`; `header` (the file's name and mtime) is
    /// stored in a new gzip header, as GNU gzip stores them.
    fn filter(
        &self,
        mut input: impl Read,
        mut output: impl Write,
        header: Option<(&str, u32)>,
        shown: &str,
    ) -> Result<(), String> {
        let io_err = |e: io::Error| format!("{shown}: {}", sys::describe(&e));
        if self.decompress {
            let mut decoder = MultiGzDecoder::new(input);
            let copied =
                if self.test { io::copy(&mut decoder, &mut io::sink()) } else { io::copy(&mut decoder, &mut output) };
            return match copied {
                Ok(_) => output.flush().map_err(io_err),
                Err(e) if e.kind() == io::ErrorKind::InvalidInput || e.kind() == io::ErrorKind::InvalidData => {
                    Err(format!("{shown}: not in gzip format"))
                }
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(format!("{shown}: unexpected end of file")),
                Err(e) => Err(io_err(e)),
            };
        }
        let mut builder = GzBuilder::new();
        if let Some((name, mtime)) = header {
            builder = builder.filename(name).mtime(mtime);
        }
        let mut encoder = builder.write(output, self.level);
        io::copy(&mut input, &mut encoder).map_err(io_err)?;
        encoder.finish().and_then(|mut o| o.flush()).map_err(io_err)
    }
}

/// `a.gz` → `a`, `a.tgz` → `a.tar` (gzip's suffixes); `None` for a name without one.
fn strip_suffix(file: &str) -> Option<String> {
    for (suffix, replace) in
        [(".gz", ""), (".tgz", ".tar"), (".taz", ".tar"), ("-gz", ""), (".z", ""), ("-z", ""), ("_z", "")]
    {
        if let Some(stem) = file.strip_suffix(suffix).filter(|s| !s.is_empty() && !s.ends_with('/')) {
            return Some(format!("{stem}{replace}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::strip_suffix;

    #[test]
    fn suffixes_as_gzip_knows_them() {
        assert_eq!(strip_suffix("a.txt.gz").as_deref(), Some("a.txt"));
        assert_eq!(strip_suffix("x.tgz").as_deref(), Some("x.tar"));
        assert_eq!(strip_suffix("plain"), None);
    }
}
