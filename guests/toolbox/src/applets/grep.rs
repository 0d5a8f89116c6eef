//! `grep [-qvicnlLhHrsFEwxo] [-e PATTERN]... PATTERN [FILE...]`. Exit code 0 when a line was
//! selected, 1 when none was, 2 on an error (unless `-q` found a match), like GNU and busybox.

use std::io::{self, Write};

use crate::ctx::{Ctx, or_stdin};
use crate::fsx;
use crate::opts::Opts;
use crate::pattern::{Regex, Syntax};
use crate::stream::Input;

struct Grep {
    opts: Opts,
    patterns: Vec<Regex>,
    /// Prefix lines with the file name.
    names: bool,
    matched: bool,
    error: bool,
}

pub fn grep(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(mut opts) = ctx.opts(args, "qvicnlLhHrRsFEwxoe:") else { return Ok(2) };
    let mut texts: Vec<String> = opts.values('e').map(str::to_string).collect();
    if texts.is_empty() {
        if opts.operands.is_empty() {
            return Ok(ctx.usage("usage: grep [-qvicnlLhHrsFEwxo] PATTERN [FILE]..."));
        }
        texts.push(opts.operands.remove(0));
    }
    let syntax = if opts.has('F') {
        Syntax::Fixed
    } else if opts.has('E') {
        Syntax::Extended
    } else {
        Syntax::Basic
    };
    // A pattern with newlines is several patterns, as in GNU grep.
    let mut patterns = Vec::new();
    for text in texts.iter().flat_map(|t| t.split('\n')) {
        match Regex::new(text, syntax, opts.has('i')) {
            Ok(re) => patterns.push(re),
            Err(msg) => return Ok(ctx.usage(msg)),
        }
    }
    let recursive = opts.has('r') || opts.has('R');
    let files = if opts.operands.is_empty() && recursive { vec![".".to_string()] } else { or_stdin(&opts.operands) };
    let names = !opts.has('h') && (opts.has('H') || files.len() > 1 || recursive);
    let mut g = Grep { opts, patterns, names, matched: false, error: false };
    let mut out = ctx.io.stdout.clone();
    for path in files {
        if recursive && fsx::is_dir(&path) {
            g.search_tree(ctx, &mut out, &path)?;
        } else {
            g.search_path(ctx, &mut out, &path)?;
        }
        if g.matched && g.opts.has('q') {
            break;
        }
    }
    Ok(match (g.matched, g.error) {
        (true, _) if g.opts.has('q') => 0,
        (_, true) => 2,
        (true, false) => 0,
        (false, false) => 1,
    })
}

impl Grep {
    fn search_tree(&mut self, ctx: &Ctx, out: &mut impl Write, dir: &str) -> io::Result<()> {
        let names = match fsx::sorted_entries(dir) {
            Ok(n) => n,
            Err(e) => {
                self.report(ctx, dir, &e);
                return Ok(());
            }
        };
        for name in names {
            let path = fsx::join(dir, &name);
            match crate::sys::lstat(&path) {
                Ok(s) if s.kind == crate::sys::Kind::Dir => self.search_tree(ctx, out, &path)?,
                Ok(s) if s.kind == crate::sys::Kind::Symlink => {}
                _ => self.search_path(ctx, out, &path)?,
            }
        }
        Ok(())
    }

    fn report(&mut self, ctx: &Ctx, path: &str, e: &io::Error) {
        if !self.opts.has('s') {
            ctx.fail(path, e);
        }
        self.error = true;
    }

    fn search_path(&mut self, ctx: &Ctx, out: &mut impl Write, path: &str) -> io::Result<()> {
        match ctx.try_open_input(path) {
            Ok(input) => self.search(ctx, out, path, input),
            Err(e) => {
                self.report(ctx, path, &e);
                Ok(())
            }
        }
    }

    fn search(&mut self, ctx: &Ctx, out: &mut impl Write, path: &str, input: Input) -> io::Result<()> {
        let shown_name = if path == "-" { "(standard input)" } else { path };
        let mut count = 0u64;
        for (i, line) in input.lines().enumerate() {
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    self.report(ctx, path, &e);
                    break;
                }
            };
            if self.selects(&String::from_utf8_lossy(&line)) == self.opts.has('v') {
                continue;
            }
            self.matched = true;
            count += 1;
            if self.opts.has('q') {
                return Ok(());
            }
            if self.opts.has('l') {
                writeln!(out, "{shown_name}")?;
                return Ok(());
            }
            if self.opts.has('c') || self.opts.has('L') {
                continue;
            }
            let prefix = match (self.names, self.opts.has('n')) {
                (true, true) => format!("{shown_name}:{}:", i + 1),
                (true, false) => format!("{shown_name}:"),
                (false, true) => format!("{}:", i + 1),
                (false, false) => String::new(),
            };
            if self.opts.has('o') {
                if !self.opts.has('v') {
                    self.only_matching(out, &prefix, &String::from_utf8_lossy(&line))?;
                }
                continue;
            }
            out.write_all(prefix.as_bytes())?;
            out.write_all(&line)?;
            out.write_all(b"\n")?;
        }
        if self.opts.has('L') && count == 0 {
            writeln!(out, "{shown_name}")?;
        }
        if self.opts.has('c') {
            if self.names {
                write!(out, "{shown_name}:")?;
            }
            writeln!(out, "{count}")?;
        }
        Ok(())
    }

    /// `-o`: each non-empty match on a line of its own.
    fn only_matching(&self, out: &mut impl Write, prefix: &str, line: &str) -> io::Result<()> {
        let chars: Vec<char> = line.chars().collect();
        for re in &self.patterns {
            for (start, end) in re.matches(line).into_iter().filter(|(s, e)| e > s) {
                let text: String = chars[start..end].iter().collect();
                writeln!(out, "{prefix}{text}")?;
            }
        }
        Ok(())
    }

    fn selects(&self, line: &str) -> bool {
        let (words, whole) = (self.opts.has('w'), self.opts.has('x'));
        let accept = |text: &[char], start: usize, end: usize| {
            let word_char = |i: usize| text.get(i).is_some_and(|c| c.is_alphanumeric() || *c == '_');
            if whole {
                start == 0 && end == text.len()
            } else if words {
                end > start && (start == 0 || !word_char(start - 1)) && !word_char(end)
            } else {
                true
            }
        };
        self.patterns.iter().any(|re| re.find(line, &accept))
    }
}
