//! `ls [-1aAdFhlRrt] [PATH...]` with busybox's output: one name per line when stdout is not a
//! terminal, columns when it is, `-l` long lines, `PATH:` headers for several directories.

use std::io::{self, Write};

use crate::calendar::DateTime;
use crate::ctx::Ctx;
use crate::fsx;
use crate::opts::Opts;
use crate::sys::{self, Kind, Stat};

/// A name to show, with what `lstat` (or `stat`, for followed operands) said about it.
struct Entry {
    /// What is printed: the operand as given, or the name inside the listed directory.
    name: String,
    /// Where it is, for reading a link target or descending.
    path: String,
    stat: Stat,
}

struct Ls {
    opts: Opts,
    columns: Option<usize>,
    now: i64,
    status: i32,
}

pub fn ls(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(opts) = ctx.opts(args, "1aAdFhlRrtCe") else { return Ok(2) };
    let columns = (ctx.io.stdout.is_terminal() && !opts.has('1') && !opts.has('l'))
        .then(|| ctx.env.get("COLUMNS").and_then(|c| c.parse().ok()).unwrap_or(80));
    let mut ls = Ls { opts, columns, now: DateTime::now().epoch, status: 0 };
    let operands = if ls.opts.operands.is_empty() { vec![".".to_string()] } else { ls.opts.operands.clone() };

    let (mut files, mut dirs) = (Vec::new(), Vec::new());
    for path in &operands {
        // Operands are followed unless they are to be shown themselves (-l, -d).
        let follow = !(ls.opts.has('l') || ls.opts.has('d'));
        let stat = if follow { sys::stat(path).or_else(|_| sys::lstat(path)) } else { sys::lstat(path) };
        let Some(stat) = ctx.check(path, stat) else {
            ls.status = 1;
            continue;
        };
        let entry = Entry { name: path.clone(), path: path.clone(), stat };
        if entry.stat.kind == Kind::Dir && !ls.opts.has('d') {
            dirs.push(entry);
        } else {
            files.push(entry);
        }
    }
    ls.sort(&mut files);
    ls.sort(&mut dirs);
    let mut out = ctx.io.stdout.clone();
    ls.show(&mut out, &files)?;
    let headers = operands.len() > 1 || ls.opts.has('R');
    let mut first = files.is_empty();
    for dir in dirs {
        ls.show_dir(ctx, &mut out, &dir.path, headers, &mut first)?;
    }
    Ok(ls.status)
}

impl Ls {
    fn sort(&self, entries: &mut [Entry]) {
        if self.opts.has('t') {
            entries.sort_by(|a, b| b.stat.mtime.secs.cmp(&a.stat.mtime.secs).then_with(|| a.name.cmp(&b.name)));
        } else {
            entries.sort_by(|a, b| a.name.cmp(&b.name));
        }
        if self.opts.has('r') {
            entries.reverse();
        }
    }

    fn show_dir(
        &mut self,
        ctx: &Ctx,
        out: &mut impl Write,
        path: &str,
        header: bool,
        first: &mut bool,
    ) -> io::Result<()> {
        if header {
            if !*first {
                writeln!(out)?;
            }
            writeln!(out, "{path}:")?;
        }
        *first = false;
        let Some(names) = ctx.check(path, fsx::sorted_entries(path)) else {
            self.status = 1;
            return Ok(());
        };
        let mut shown: Vec<String> = if self.opts.has('a') { vec![".".into(), "..".into()] } else { Vec::new() };
        let hidden_ok = self.opts.has('a') || self.opts.has('A');
        shown.extend(names.into_iter().filter(|n| hidden_ok || !n.starts_with('.')));
        let mut entries = Vec::new();
        for name in shown {
            let child = fsx::join(path, &name);
            match sys::lstat(&child) {
                Ok(stat) => entries.push(Entry { name, path: child, stat }),
                Err(e) => self.status = ctx.fail(&child, &e),
            }
        }
        self.sort(&mut entries);
        if self.opts.has('l') {
            let blocks: u64 =
                entries.iter().filter(|e| e.stat.kind != Kind::Symlink).map(|e| fsx::blocks(e.stat.size)).sum();
            writeln!(out, "total {}", blocks / 2)?;
        }
        self.show(out, &entries)?;
        if self.opts.has('R') {
            for e in entries.iter().filter(|e| e.stat.kind == Kind::Dir && e.name != "." && e.name != "..") {
                self.show_dir(ctx, out, &e.path, true, first)?;
            }
        }
        Ok(())
    }

    /// Prints entries one per line, long, or in columns (filled down, then across).
    fn show(&self, out: &mut impl Write, entries: &[Entry]) -> io::Result<()> {
        if self.opts.has('l') {
            for e in entries {
                writeln!(out, "{}", self.long_line(e))?;
            }
            return Ok(());
        }
        let names: Vec<String> = entries.iter().map(|e| format!("{}{}", e.name, self.indicator(e))).collect();
        let Some(width) = self.columns.filter(|_| !names.is_empty()) else {
            for n in names {
                writeln!(out, "{n}")?;
            }
            return Ok(());
        };
        let column_width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0) + 2;
        let ncols = (width / column_width).max(1);
        let nrows = names.len().div_ceil(ncols);
        for row in 0..nrows {
            let mut line = String::new();
            for col in 0..ncols {
                let Some(name) = names.get(col * nrows + row) else { break };
                if !line.is_empty() {
                    let pad = column_width * col - line.chars().count();
                    line.push_str(&" ".repeat(pad));
                }
                line.push_str(name);
            }
            writeln!(out, "{line}")?;
        }
        Ok(())
    }

    fn indicator(&self, e: &Entry) -> &'static str {
        if !self.opts.has('F') {
            return "";
        }
        match e.stat.kind {
            Kind::Dir => "/",
            Kind::Symlink => "@",
            Kind::Fifo => "|",
            Kind::Socket => "=",
            _ => "",
        }
    }

    /// `-rw-r--r--    1 root     root            12 Nov 29 14:33 name`, like busybox.
    fn long_line(&self, e: &Entry) -> String {
        let s = &e.stat;
        let size = if self.opts.has('h') { fsx::human_size(s.size) } else { s.size.to_string() };
        let when = DateTime::from_epoch(s.mtime.secs, s.mtime.nanos);
        const HALF_YEAR: i64 = 183 * 86_400;
        let time = if self.opts.has('e') {
            when.format("%a %b %e %H:%M:%S %Y")
        } else if s.mtime.secs > self.now || self.now - s.mtime.secs > HALF_YEAR {
            when.format("%b %e  %Y")
        } else {
            when.format("%b %e %H:%M")
        };
        let mut line = format!(
            "{:<10} {:>4} {:<8} {:<8} {:>9} {time} {}{}",
            fsx::mode_string(s.kind, s.perm),
            s.nlink,
            "root",
            "root",
            size,
            e.name,
            self.indicator(e)
        );
        if s.kind == Kind::Symlink
            && let Ok(target) = std::fs::read_link(&e.path)
        {
            line.push_str(&format!(" -> {}", target.to_string_lossy()));
        }
        line
    }
}
