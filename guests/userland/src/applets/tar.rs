//! `tar -c|-x|-t [-zvO] [-f FILE] [-C DIR] [PATH...]` on the tar crate's archive format. The
//! crate's `append_path` and `unpack` read and set Unix metadata that wasm32-wasip1 does not
//! have, so headers are built here from what WASI does tell (kind, size, mtime, link text; modes
//! through Porthole) and extraction writes the files itself.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use tar::{Archive, Builder, EntryType, Header};

use super::archive::{mode_string, safe_member, utc};
use super::opts::{self, Spec};
use crate::sys;

const SPEC: Spec = Spec {
    flags: "cxtzvOh",
    valued: "fC",
    long: &[
        ("create", 'c'),
        ("extract", 'x'),
        ("get", 'x'),
        ("list", 't'),
        ("gzip", 'z'),
        ("gunzip", 'z'),
        ("verbose", 'v'),
        ("to-stdout", 'O'),
        ("dereference", 'h'),
        ("file", 'f'),
        ("directory", 'C'),
        ("help", 'H'),
    ],
};

const USAGE: &str = "Usage: tar -c|-x|-t [-zvO] [-f ARCHIVE] [-C DIR] [FILE]...\n\
    Create (-c), extract (-x) or list (-t) a tar archive, gzip-compressed with -z.\n";

pub fn tar(args: Vec<OsString>) -> i32 {
    let mut args = opts::strings(&args);
    // Old style: the first word is a cluster of letters without a dash (`tar czf out.tgz dir`).
    if let Some(first) = args.first_mut().filter(|a| !a.starts_with('-')) {
        first.insert(0, '-');
    }
    if let Some(code) = opts::info("tar", &args, USAGE, &[], &[]) {
        return code;
    }
    let p = match opts::parse(&SPEC, &args) {
        Ok(p) => p,
        Err(e) => return usage_error(&e),
    };
    let modes: Vec<char> = ['c', 'x', 't'].into_iter().filter(|&m| p.has(m)).collect();
    let job = Job {
        gzip: p.has('z'),
        verbose: p.has('v'),
        to_stdout: p.has('O'),
        follow: p.has('h'),
        file: p.value('f').unwrap_or("-").to_string(),
        dir: PathBuf::from(p.value('C').unwrap_or(".")),
    };
    let result = match modes.as_slice() {
        ['c'] if p.operands.is_empty() => return usage_error("Cowardly refusing to create an empty archive"),
        ['c'] => job.create(&p.operands),
        ['x'] => job.read(&p.operands, Action::Extract),
        ['t'] => job.read(&p.operands, Action::List),
        [] => return usage_error("You must specify one of the '-ctx' options"),
        _ => return usage_error("You may not specify more than one '-ctx' option"),
    };
    match result {
        Ok(0) => 0,
        Ok(_) => {
            eprintln!("tar: Exiting with failure status due to previous errors");
            2
        }
        Err(e) => {
            eprintln!("tar: {e}");
            2
        }
    }
}

fn usage_error(msg: &str) -> i32 {
    eprintln!("tar: {msg}\nTry 'tar --help' for more information.");
    2
}

struct Job {
    gzip: bool,
    verbose: bool,
    to_stdout: bool,
    follow: bool,
    /// The archive, `-` for standard input/output.
    file: String,
    /// `-C`: where members are read from or written to.
    dir: PathBuf,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    List,
    Extract,
}

/// A member that failed without ending the run (GNU tar goes on and exits 2 at the end).
type Soft = usize;

impl Job {
    fn create(&self, paths: &[String]) -> io::Result<Soft> {
        let out: Box<dyn Write> = if self.file == "-" {
            Box::new(io::stdout().lock())
        } else {
            Box::new(fs::File::create(&self.file).map_err(|e| ctx(&self.file, "Cannot open", e))?)
        };
        if !self.gzip {
            let (mut out, soft) = self.members(out, paths)?;
            out.flush()?;
            return Ok(soft);
        }
        let (gz, soft) = self.members(GzEncoder::new(out, Compression::default()), paths)?;
        gz.finish()?.flush()?;
        Ok(soft)
    }

    /// Writes every member and the archive's end to `out`, and gives `out` back.
    fn members<W: Write>(&self, out: W, paths: &[String]) -> io::Result<(W, Soft)> {
        let mut builder = Builder::new(out);
        let mut soft = 0;
        let mut warned_root = false;
        for path in paths {
            let name = path.trim_start_matches('/');
            if name.len() != path.len() && !warned_root {
                eprintln!("tar: Removing leading `/' from member names");
                warned_root = true;
            }
            let name = if name.is_empty() { "." } else { name };
            soft += self.add(&mut builder, &self.dir.join(path), name)?;
        }
        Ok((builder.into_inner()?, soft))
    }

    /// Adds `fs_path` as member `name`, directories with everything below them (sorted, so an
    /// archive of the same tree is the same archive).
    fn add<W: Write>(&self, builder: &mut Builder<W>, fs_path: &Path, name: &str) -> io::Result<Soft> {
        let md = if self.follow { fs::metadata(fs_path) } else { fs::symlink_metadata(fs_path) };
        let md = match md {
            Ok(md) => md,
            Err(e) => {
                eprintln!("tar: {name}: Cannot stat: {}", sys::describe(&e));
                return Ok(1);
            }
        };
        if self.verbose {
            eprintln!("{name}{}", if md.is_dir() { "/" } else { "" });
        }
        let mut header = Header::new_gnu();
        header.set_mtime(sys::mtime(&md));
        header.set_uid(0);
        header.set_gid(0);
        header.set_username("root")?;
        header.set_groupname("root")?;
        header.set_mode(sys::mode(fs_path, md.is_dir()));
        if md.is_symlink() {
            header.set_entry_type(EntryType::Symlink);
            header.set_size(0);
            let target = fs::read_link(fs_path)?;
            builder.append_link(&mut header, name, target)?;
            return Ok(0);
        }
        if md.is_dir() {
            header.set_entry_type(EntryType::Directory);
            header.set_size(0);
            let dir_name = format!("{}/", name.trim_end_matches('/'));
            builder.append_data(&mut header, &dir_name, io::empty())?;
            let mut names: Vec<_> =
                fs::read_dir(fs_path)?.map(|e| e.map(|e| e.file_name())).collect::<Result<_, _>>()?;
            names.sort();
            let mut soft = 0;
            for child in names {
                let child_name = format!("{dir_name}{}", child.to_string_lossy());
                soft += self.add(builder, &fs_path.join(&child), child_name.trim_start_matches("./"))?;
            }
            return Ok(soft);
        }
        header.set_entry_type(EntryType::Regular);
        header.set_size(md.len());
        match fs::File::open(fs_path) {
            Ok(file) => builder.append_data(&mut header, name, file).map(|_| 0),
            Err(e) => {
                eprintln!("tar: {name}: Cannot open: {}", sys::describe(&e));
                Ok(1)
            }
        }
    }

    /// Opens the archive and lists or extracts each member (of those named, or all).
    fn read(&self, names: &[String], action: Action) -> io::Result<Soft> {
        let input: Box<dyn Read> = if self.file == "-" {
            Box::new(io::stdin().lock())
        } else {
            Box::new(fs::File::open(&self.file).map_err(|e| ctx(&self.file, "Cannot open", e))?)
        };
        let input: Box<dyn Read> = if self.gzip { Box::new(MultiGzDecoder::new(input)) } else { input };
        let mut archive = Archive::new(input);
        let mut soft = 0;
        let mut dirs = Vec::new();
        let mut seen = vec![false; names.len()];
        for entry in archive.entries()? {
            let mut entry = entry?;
            let path = entry.path()?.into_owned();
            let wanted = names.is_empty()
                || names.iter().enumerate().any(|(i, n)| {
                    let hit = path.starts_with(n.trim_end_matches('/'));
                    seen[i] |= hit;
                    hit
                });
            if !wanted {
                continue;
            }
            if entry.header().entry_type() == EntryType::Directory && !self.to_stdout && action == Action::Extract {
                // A directory's time and mode are set after its contents are written.
                dirs.push((path.clone(), entry.header().mtime().unwrap_or(0), entry.header().mode().unwrap_or(0o755)));
            }
            soft += match action {
                Action::List => self.list(&mut entry)?,
                Action::Extract => self.extract(&mut entry)?,
            };
        }
        for (path, mtime, mode) in dirs.into_iter().rev() {
            if let Some(rel) = safe_member(&path) {
                let dest = self.dir.join(rel);
                let _ = sys::set_mode(&dest, mode);
                let _ = sys::set_mtime(&dest, mtime);
            }
        }
        for (name, _) in names.iter().zip(seen).filter(|(_, s)| !s) {
            eprintln!("tar: {name}: Not found in archive");
            soft += 1;
        }
        Ok(soft)
    }

    fn list(&self, entry: &mut tar::Entry<'_, Box<dyn Read>>) -> io::Result<Soft> {
        let h = entry.header();
        let path = entry.path()?.display().to_string();
        if !self.verbose {
            println!("{path}");
            return Ok(0);
        }
        let kind = match h.entry_type() {
            EntryType::Directory => 'd',
            EntryType::Symlink => 'l',
            EntryType::Char => 'c',
            EntryType::Block => 'b',
            EntryType::Fifo => 'p',
            _ => '-',
        };
        let owner = format!(
            "{}/{}",
            h.username().ok().flatten().map_or_else(|| h.uid().unwrap_or(0).to_string(), String::from),
            h.groupname().ok().flatten().map_or_else(|| h.gid().unwrap_or(0).to_string(), String::from)
        );
        let t = utc(h.mtime().unwrap_or(0) as i64).format("%Y-%m-%d %H:%M");
        let link = match entry.link_name()? {
            Some(target) if kind == 'l' => format!(" -> {}", target.display()),
            Some(target) => format!(" link to {}", target.display()),
            None => String::new(),
        };
        println!("{} {owner} {:>8} {t} {path}{link}", mode_string(kind, h.mode().unwrap_or(0)), h.size().unwrap_or(0),);
        Ok(0)
    }

    fn extract(&self, entry: &mut tar::Entry<'_, Box<dyn Read>>) -> io::Result<Soft> {
        let path = entry.path()?.into_owned();
        let Some(rel) = safe_member(&path) else {
            eprintln!("tar: {}: Member name contains '..'", path.display());
            return Ok(1);
        };
        if self.verbose {
            println!("{}", path.display());
        }
        let kind = entry.header().entry_type();
        if self.to_stdout {
            if kind.is_file() {
                io::copy(entry, &mut io::stdout().lock())?;
            }
            return Ok(0);
        }
        if rel.as_os_str().is_empty() {
            return Ok(0);
        }
        let dest = self.dir.join(&rel);
        let made = (|| -> io::Result<()> {
            if let Some(parent) = dest.parent() {
                fs::create_dir_all(parent)?;
            }
            match kind {
                EntryType::Directory => return fs::create_dir_all(&dest),
                EntryType::Symlink => {
                    let _ = fs::remove_file(&dest);
                    let target = entry.link_name()?.unwrap_or_default().into_owned();
                    return sys::symlink(&target, &dest);
                }
                EntryType::Link => {
                    let target = entry.link_name()?.unwrap_or_default().into_owned();
                    let target = safe_member(&target).ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
                    let _ = fs::remove_file(&dest);
                    return fs::hard_link(self.dir.join(target), &dest);
                }
                _ if kind.is_file() || kind == EntryType::Continuous => {}
                // Devices and FIFOs cannot be made on WASI; their data (none) is skipped.
                _ => return Err(io::Error::new(io::ErrorKind::Unsupported, "Cannot create special file")),
            }
            let _ = fs::remove_file(&dest);
            let mut file = fs::File::create(&dest)?;
            io::copy(entry, &mut file)?;
            drop(file);
            sys::set_mode(&dest, entry.header().mode().unwrap_or(0o644))?;
            sys::set_mtime(&dest, entry.header().mtime().unwrap_or(0))
        })();
        match made {
            Ok(()) => Ok(0),
            Err(e) => {
                eprintln!("tar: {}: Cannot open: {}", rel.display(), sys::describe(&e));
                Ok(1)
            }
        }
    }
}

fn ctx(file: &str, what: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{file}: {what}: {}", sys::describe(&e)))
}
