//! `zip [-r] [-q] ARCHIVE[.zip] PATH...` and `unzip [-l] [-o] [-q] [-p] [-d DIR] ARCHIVE[.zip]
//! [MEMBER...]` on the zip crate, worded as Info-ZIP's. Times go through DOS dates (2-second
//! steps, UTC: the container's zone); modes through Porthole where it keeps them.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use chrono::{Datelike, NaiveDate, Timelike};

use super::archive::{safe_member, utc};
use super::opts::{self, Spec};
use crate::sys;

const ZIP_SPEC: Spec = Spec { flags: "rqj0123456789", valued: "", long: &[("recurse-paths", 'r'), ("quiet", 'q')] };
const ZIP_USAGE: &str =
    "Usage: zip [-rq] [-0-9] ARCHIVE[.zip] FILE...\nAdd FILEs to a new zip ARCHIVE (directories' contents with -r).";
const UNZIP_USAGE: &str = "Usage: unzip [-lopq] [-d DIR] ARCHIVE[.zip] [MEMBER]...\nExtract (or -l list, -p print) the members of a zip ARCHIVE.";
const UNZIP_SPEC: Spec = Spec { flags: "loqpn", valued: "d", long: &[] };

pub fn zip(args: Vec<OsString>) -> i32 {
    let args = opts::strings(&args);
    if let Some(code) = opts::info("zip", &args, ZIP_USAGE, &["-h"], &["-v"]) {
        return code;
    }
    let p = match opts::parse(&ZIP_SPEC, &args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("zip error: Invalid command arguments ({e})");
            return 16;
        }
    };
    let Some((archive, paths)) = p.operands.split_first().filter(|(_, paths)| !paths.is_empty()) else {
        eprintln!("zip error: Nothing to do! (try: zip -r archive.zip dir)");
        return 12;
    };
    let archive = if Path::new(archive).extension().is_some() { archive.clone() } else { format!("{archive}.zip") };
    let stored = if p.has('0') { CompressionMethod::Stored } else { CompressionMethod::Deflated };
    let job = Zipper { recurse: p.has('r'), quiet: p.has('q'), junk: p.has('j'), method: stored };
    match job.run(&archive, paths) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("zip error: {e}");
            let _ = fs::remove_file(&archive);
            15
        }
    }
}

struct Zipper {
    recurse: bool,
    quiet: bool,
    junk: bool,
    method: CompressionMethod,
}

impl Zipper {
    fn run(&self, archive: &str, paths: &[String]) -> Result<(), String> {
        let file = fs::File::create(archive)
            .map_err(|e| format!("Could not create output file ({archive}): {}", sys::describe(&e)))?;
        let mut writer = ZipWriter::new(file);
        for path in paths {
            self.add(&mut writer, Path::new(path))?;
        }
        writer.finish().map_err(|e| e.to_string())?.flush().map_err(|e| e.to_string())
    }

    fn add(&self, writer: &mut ZipWriter<fs::File>, path: &Path) -> Result<(), String> {
        let md = fs::symlink_metadata(path).map_err(|e| format!("{}: {}", path.display(), sys::describe(&e)))?;
        let name = if self.junk {
            path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        } else {
            path.to_string_lossy().trim_start_matches('/').trim_start_matches("./").to_string()
        };
        let options = SimpleFileOptions::default()
            .compression_method(self.method)
            .last_modified_time(dos_time(sys::mtime(&md) as i64))
            .unix_permissions(sys::mode(path, md.is_dir()));
        let zip_err = |e: zip::result::ZipError| format!("{name}: {e}");
        if md.is_dir() {
            if !self.junk {
                self.say(&format!("  adding: {name}/ (stored 0%)"));
                writer.add_directory(format!("{name}/"), options).map_err(zip_err)?;
            }
            if self.recurse {
                let mut children: Vec<_> = fs::read_dir(path)
                    .and_then(|d| d.map(|e| e.map(|e| e.file_name())).collect::<io::Result<Vec<_>>>())
                    .map_err(|e| format!("{name}: {}", sys::describe(&e)))?;
                children.sort();
                for child in children {
                    self.add(writer, &path.join(child))?;
                }
            }
            return Ok(());
        }
        if md.is_symlink() {
            let target = fs::read_link(path).map_err(|e| format!("{name}: {}", sys::describe(&e)))?;
            self.say(&format!("  adding: {name} (stored 0%)"));
            return writer.add_symlink(name.as_str(), target.to_string_lossy(), options).map_err(zip_err);
        }
        let mut file = fs::File::open(path).map_err(|e| format!("{name}: {}", sys::describe(&e)))?;
        writer.start_file(name.as_str(), options).map_err(zip_err)?;
        io::copy(&mut file, writer).map_err(|e| format!("{name}: {}", sys::describe(&e)))?;
        let how = if self.method == CompressionMethod::Stored { "stored" } else { "deflated" };
        self.say(&format!("  adding: {name} ({how})"));
        Ok(())
    }

    fn say(&self, line: &str) {
        if !self.quiet {
            println!("{line}");
        }
    }
}

pub fn unzip(args: Vec<OsString>) -> i32 {
    let args = opts::strings(&args);
    if args.is_empty() {
        println!("{UNZIP_USAGE}");
        return 0;
    }
    if let Some(code) = opts::info("unzip", &args, UNZIP_USAGE, &["-h"], &["-v"]) {
        return code;
    }
    let p = match opts::parse(&UNZIP_SPEC, &args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("unzip: {e}");
            return 10;
        }
    };
    let Some((archive, members)) = p.operands.split_first() else {
        eprintln!("unzip: no archive named");
        return 10;
    };
    let file = match fs::File::open(archive).or_else(|e| fs::File::open(format!("{archive}.zip")).map_err(|_| e)) {
        Ok(f) => f,
        Err(_) => {
            eprintln!("unzip:  cannot find or open {archive}, {archive}.zip or {archive}.ZIP.");
            return 9;
        }
    };
    let mut zip = match ZipArchive::new(file) {
        Ok(z) => z,
        Err(e) => {
            eprintln!("unzip:  cannot read {archive}: {e}");
            return 9;
        }
    };
    let job = Unzipper {
        dir: Path::new(p.value('d').unwrap_or(".")),
        overwrite: p.has('o'),
        never: p.has('n'),
        quiet: p.has('q'),
    };
    let result = if p.has('l') {
        job.list(&mut zip, archive)
    } else {
        if !p.has('p') && !job.quiet {
            println!("Archive:  {archive}");
        }
        job.extract(&mut zip, members, p.has('p'))
    };
    match result {
        Ok(0) => 0,
        Ok(_) => 1,
        Err(e) => {
            eprintln!("unzip: {e}");
            2
        }
    }
}

struct Unzipper<'a> {
    dir: &'a Path,
    overwrite: bool,
    never: bool,
    quiet: bool,
}

impl Unzipper<'_> {
    fn list(&self, zip: &mut ZipArchive<fs::File>, archive: &str) -> Result<usize, String> {
        println!("Archive:  {archive}\n  Length      Date    Time    Name\n---------  ---------- -----   ----");
        let (mut total, mut count) = (0u64, 0usize);
        for i in 0..zip.len() {
            let entry = zip.by_index(i).map_err(|e| e.to_string())?;
            let t = entry.last_modified().map_or(0, unix_time);
            println!(
                "{:>9}  {}   {}",
                entry.size(),
                utc(t).format("%m-%d-%Y %H:%M"),
                entry.name().map_err(|e| e.to_string())?
            );
            total += entry.size();
            count += 1;
        }
        println!(
            "---------                     -------\n{total:>9}                     {count} file{}",
            if count == 1 { "" } else { "s" }
        );
        Ok(0)
    }

    fn extract(&self, zip: &mut ZipArchive<fs::File>, members: &[String], to_stdout: bool) -> Result<usize, String> {
        let mut soft = 0;
        for i in 0..zip.len() {
            let mut entry = zip.by_index(i).map_err(|e| e.to_string())?;
            let raw = entry.name().map_err(|e| e.to_string())?.into_owned();
            if !members.is_empty()
                && !members.iter().any(|m| raw == *m || raw.starts_with(&format!("{}/", m.trim_end_matches('/'))))
            {
                continue;
            }
            let Some(rel) = safe_member(Path::new(&raw)) else {
                eprintln!("warning:  skipped \"../\" path component(s) in {raw}");
                soft += 1;
                continue;
            };
            if to_stdout {
                if !entry.is_dir() {
                    io::copy(&mut entry, &mut io::stdout().lock())
                        .map_err(|e| format!("{raw}: {}", sys::describe(&e)))?;
                }
                continue;
            }
            let dest = self.dir.join(&rel);
            let made = (|| -> io::Result<Option<&str>> {
                if entry.is_dir() {
                    fs::create_dir_all(&dest)?;
                    return Ok(Some("   creating"));
                }
                if let Some(parent) = dest.parent() {
                    fs::create_dir_all(parent)?;
                }
                if fs::symlink_metadata(&dest).is_ok() {
                    if self.never || !self.overwrite {
                        return Ok(None);
                    }
                    fs::remove_file(&dest)?;
                }
                if entry.is_symlink() {
                    let mut target = String::new();
                    io::Read::read_to_string(&mut entry, &mut target)?;
                    sys::symlink(Path::new(&target), &dest)?;
                    return Ok(Some("    linking"));
                }
                let mut out = fs::File::create(&dest)?;
                io::copy(&mut entry, &mut out)?;
                drop(out);
                if let Some(mode) = entry.unix_mode() {
                    sys::set_mode(&dest, mode)?;
                }
                if let Some(t) = entry.last_modified() {
                    sys::set_mtime(&dest, unix_time(t).max(0) as u64)?;
                }
                Ok(Some("  inflating"))
            })();
            match made {
                Ok(Some(verb)) => self.say(&format!("{verb}: {}", dest.display())),
                Ok(None) => self.say(&format!("  skipping: {} (exists; -o overwrites)", dest.display())),
                Err(e) => {
                    eprintln!("unzip: {}: {}", dest.display(), sys::describe(&e));
                    soft += 1;
                }
            }
        }
        Ok(soft)
    }

    fn say(&self, line: &str) {
        if !self.quiet {
            println!("{line}");
        }
    }
}

/// A file time as a DOS date (UTC), clamped to the range DOS dates have (1980-2107).
fn dos_time(secs: i64) -> DateTime {
    let t = utc(secs);
    let year = t.year().clamp(1980, 2107) as u16;
    DateTime::from_date_and_time(
        year,
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
    )
    .unwrap_or_default()
}

fn unix_time(t: DateTime) -> i64 {
    NaiveDate::from_ymd_opt(i32::from(t.year()), u32::from(t.month()), u32::from(t.day()))
        .and_then(|d| d.and_hms_opt(u32::from(t.hour()), u32::from(t.minute()), u32::from(t.second())))
        .map_or(0, |t| t.and_utc().timestamp())
}
