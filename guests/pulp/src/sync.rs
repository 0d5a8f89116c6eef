//! One sync of one repository: store each listed file once under its digest, publish it as an
//! absolute symlink, unlink what the manifest no longer lists. Every step first looks at what is
//! there and only writes when something differs, so a sync with nothing new changes nothing.
//! Plain `std::fs`, so it runs (and is tested) natively as well as in the guest.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::confine::{self, ConfineError};
use crate::manifest::{self, Digest, Entry, RelPath};

/// Where one repository comes from and where its files go.
#[derive(Debug, Clone)]
pub struct Repo {
    pub name: String,
    /// The repository directory holding `MANIFEST` (e.g. `/srv/upstream/sample`).
    pub upstream: PathBuf,
    /// Content-addressed storage (e.g. `/var/lib/pulp/content`); link targets name it as given.
    pub content: PathBuf,
    /// The repository's published tree (e.g. `/var/www/pub/sample`).
    pub publish: PathBuf,
}

/// What a sync did, for the summary line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub stored: usize,
    pub linked: usize,
    pub relinked: usize,
    pub unlinked: usize,
    pub unchanged: usize,
    pub refused: usize,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Report { stored, linked, relinked, unlinked, unchanged, refused } = self;
        write!(
            f,
            "{stored} stored, {linked} linked, {relinked} relinked, {unlinked} unlinked, {unchanged} unchanged, {refused} refused"
        )
    }
}

const MANIFEST: &str = "MANIFEST";
/// Prefix of files being written into the content store; never a digest, never served.
const TMP_PREFIX: &str = ".tmp-";

/// Syncs `repo`, sending one line per action to `log`.
pub fn sync(repo: &Repo, log: &mut dyn FnMut(String)) -> Report {
    let mut report = Report::default();
    let refuse = |report: &mut Report, log: &mut dyn FnMut(String), what: String| {
        report.refused += 1;
        log(format!("refused {what}"));
    };
    let text = match fs::read_to_string(repo.upstream.join(MANIFEST)) {
        Ok(t) => t,
        Err(e) => {
            // Without a manifest nothing is known to be gone: unlinking everything would be wrong.
            refuse(&mut report, log, format!("{}: cannot read {MANIFEST}: {e}", repo.name));
            return report;
        }
    };
    let (entries, bad_lines) = manifest::parse(&text);
    for bad in bad_lines {
        refuse(&mut report, log, format!("{}: {MANIFEST} line {}: {}", repo.name, bad.line, bad.error));
    }
    for entry in &entries {
        match sync_entry(repo, entry, log) {
            Ok((stored, linking)) => {
                report.stored += usize::from(stored);
                match linking {
                    Linking::Unchanged => report.unchanged += 1,
                    Linking::Linked => report.linked += 1,
                    Linking::Relinked => report.relinked += 1,
                }
            }
            Err(e) => refuse(&mut report, log, format!("{}/{}: {e}", repo.name, entry.path)),
        }
    }
    // Entries refused this time keep their earlier link: the last good version stays published.
    let listed: HashSet<String> = entries.iter().map(|e| e.path.to_string()).collect();
    if let Err(e) = unlink_unlisted(&repo.publish, "", &listed, &mut report, log) {
        refuse(&mut report, log, format!("{}: cleaning {}: {e}", repo.name, repo.publish.display()));
    }
    report
}

enum Linking {
    Unchanged,
    Linked,
    Relinked,
}

/// Stores (if new) and links one entry; says whether it stored content and what it did to the link.
fn sync_entry(repo: &Repo, entry: &Entry, log: &mut dyn FnMut(String)) -> Result<(bool, Linking), EntryError> {
    let stored = repo.content.join(entry.digest.as_str());
    let is_new = fs::symlink_metadata(&stored).is_err();
    if is_new {
        let source = upstream_file(repo, &entry.path)?;
        store(&source, entry, &repo.content).map_err(EntryError::Store)?;
        log(format!("stored {} {}/{} ({} bytes)", entry.digest, repo.name, entry.path, entry.size));
    }
    let link = repo.publish.join(entry.path.as_str());
    let linking = publish(&link, &stored).map_err(|e| EntryError::Publish(link.clone(), e))?;
    match linking {
        Linking::Linked => log(format!("linked {} -> {}", link.display(), stored.display())),
        Linking::Relinked => log(format!("relinked {} -> {}", link.display(), stored.display())),
        Linking::Unchanged => {}
    }
    Ok((is_new, linking))
}

/// The upstream file for `path`, its symlinks resolved without leaving the repository.
fn upstream_file(repo: &Repo, path: &RelPath) -> Result<PathBuf, EntryError> {
    let root: Vec<&str> = repo.upstream.iter().filter_map(|c| c.to_str()).filter(|c| *c != "/").collect();
    let parts = confine::resolve(&root, path, |parts| {
        let p = parts.iter().fold(repo.upstream.clone(), |p, c| p.join(c));
        fs::read_link(p).ok().map(|t| t.to_string_lossy().into_owned())
    })
    .map_err(EntryError::Confine)?;
    Ok(parts.iter().fold(repo.upstream.clone(), |p, c| p.join(c)))
}

/// Why one manifest entry was refused.
#[derive(Debug)]
enum EntryError {
    Confine(ConfineError),
    Store(StoreError),
    Publish(PathBuf, io::Error),
}

impl std::fmt::Display for EntryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EntryError::Confine(e) => e.fmt(f),
            EntryError::Store(e) => e.fmt(f),
            EntryError::Publish(link, e) => write!(f, "publishing {}: {e}", link.display()),
        }
    }
}

#[derive(Debug)]
enum StoreError {
    Missing(PathBuf),
    NotAFile(PathBuf),
    Size { want: u64, got: u64 },
    Digest { want: Digest, got: Digest },
    Io(PathBuf, io::Error),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Missing(p) => write!(f, "missing upstream file: {}", p.display()),
            StoreError::NotAFile(p) => write!(f, "upstream path is not a regular file: {}", p.display()),
            StoreError::Size { want, got } => write!(f, "size mismatch: manifest says {want}, file has {got}"),
            StoreError::Digest { want, got } => write!(f, "digest mismatch: manifest says {want}, file has {got}"),
            StoreError::Io(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

/// Copies `source` into the store under a temporary name, hashing on the way, and renames it to
/// its digest only if digest and size are what the manifest says.
fn store(source: &Path, entry: &Entry, content: &Path) -> Result<(), StoreError> {
    let io_err = |p: &Path| {
        let p = p.to_path_buf();
        move |e| StoreError::Io(p, e)
    };
    let mut src = match File::open(source) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StoreError::Missing(source.into())),
        Err(e) => return Err(StoreError::Io(source.into(), e)),
    };
    if !src.metadata().map_err(io_err(source))?.is_file() {
        return Err(StoreError::NotAFile(source.into()));
    }
    let tmp = content.join(format!("{TMP_PREFIX}{}", entry.digest));
    let result = copy_hashing(&mut src, &tmp).map_err(io_err(&tmp)).and_then(|(got, size)| {
        if size != entry.size {
            Err(StoreError::Size { want: entry.size, got: size })
        } else if got != entry.digest {
            Err(StoreError::Digest { want: entry.digest.clone(), got })
        } else {
            Ok(())
        }
    });
    match result {
        Ok(()) => fs::rename(&tmp, content.join(entry.digest.as_str())).map_err(io_err(&tmp)),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn copy_hashing(src: &mut File, tmp: &Path) -> io::Result<(Digest, u64)> {
    let mut out = File::create(tmp)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])?;
        size += n as u64;
    }
    out.sync_all()?;
    Ok((Digest::from_bytes(&hasher.finalize()), size))
}

/// Makes `link` a symlink to `target`, replacing a link to anything else atomically (a new link
/// beside it, renamed over it), and refusing to touch something that is not a link.
fn publish(link: &Path, target: &Path) -> io::Result<Linking> {
    match fs::read_link(link) {
        Ok(t) if t == target => Ok(Linking::Unchanged),
        Ok(_) => {
            let name = link.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let tmp = link.with_file_name(format!("{TMP_PREFIX}{name}"));
            let _ = fs::remove_file(&tmp);
            symlink(target, &tmp)?;
            fs::rename(&tmp, link)?;
            Ok(Linking::Relinked)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(parent) = link.parent() {
                fs::create_dir_all(parent)?;
            }
            symlink(target, link)?;
            Ok(Linking::Linked)
        }
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
            Err(io::Error::new(io::ErrorKind::AlreadyExists, "not a symlink; left alone"))
        }
        Err(e) => Err(e),
    }
}

/// Removes the links under `dir` (at `prefix` in the repository) that the manifest no longer
/// lists, then the directories that leaves empty (never the repository's own directory).
fn unlink_unlisted(
    dir: &Path,
    prefix: &str,
    listed: &HashSet<String>,
    report: &mut Report,
    log: &mut dyn FnMut(String),
) -> io::Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut names: Vec<(String, fs::FileType)> = Vec::new();
    for e in entries {
        let e = e?;
        names.push((e.file_name().to_string_lossy().into_owned(), e.file_type()?));
    }
    names.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, kind) in names {
        let path = dir.join(&name);
        let rel = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
        if kind.is_symlink() && !listed.contains(&rel) {
            fs::remove_file(&path)?;
            report.unlinked += 1;
            log(format!("unlinked {}", path.display()));
        } else if kind.is_dir() {
            unlink_unlisted(&path, &rel, listed, report, log)?;
            if fs::read_dir(&path)?.next().is_none() {
                fs::remove_dir(&path)?;
                log(format!("removed empty directory {}", path.display()));
            }
        }
    }
    Ok(())
}

/// `std::os::wasi::fs::symlink_path` is unstable; wasi-libc's `symlink` resolves the link's
/// path through the preopens as every other libc call does.
#[cfg(target_os = "wasi")]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    use std::ffi::CString;
    let c = |p: &Path| CString::new(p.to_string_lossy().into_owned()).map_err(|_| io::ErrorKind::InvalidInput);
    let (target, link) = (c(target)?, c(link)?);
    // SAFETY: both are NUL-terminated strings that outlive the call.
    if unsafe { libc::symlink(target.as_ptr(), link.as_ptr()) } == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::Scratch;
    use std::os::unix::fs::MetadataExt;

    fn sha(data: &[u8]) -> String {
        Digest::from_bytes(&Sha256::digest(data)).to_string()
    }

    fn repo(s: &Scratch) -> Repo {
        for d in ["up/r", "content", "www/pub"] {
            fs::create_dir_all(s.0.join(d)).unwrap();
        }
        Repo {
            name: "r".into(),
            upstream: s.0.join("up/r"),
            content: s.0.join("content"),
            publish: s.0.join("www/pub/r"),
        }
    }

    /// Writes upstream files and a manifest listing `listed` (path, contents).
    fn upstream(repo: &Repo, files: &[(&str, &[u8])], extra: &str) {
        let mut m = String::new();
        for (path, data) in files {
            let p = repo.upstream.join(path);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, data).unwrap();
            m.push_str(&format!("{} {} {path}\n", sha(data), data.len()));
        }
        m.push_str(extra);
        fs::write(repo.upstream.join(MANIFEST), m).unwrap();
    }

    fn run(repo: &Repo) -> (Report, Vec<String>) {
        let mut lines = Vec::new();
        let report = sync(repo, &mut |l| lines.push(l.replace(&repo.content.display().to_string(), "$C")));
        let root = repo.publish.parent().unwrap().parent().unwrap().display().to_string();
        (report, lines.iter().map(|l| l.replace(&root, "$W")).collect())
    }

    #[test]
    fn stores_links_then_changes_nothing_then_follows_upstream() {
        let s = Scratch::new("cycle");
        let r = repo(&s);
        upstream(&r, &[("a.txt", b"alpha"), ("d/b.txt", b"beta"), ("d/e/c.txt", b"alpha")], "");
        let (report, lines) = run(&r);
        let (a, b) = (sha(b"alpha"), sha(b"beta"));
        assert_eq!(
            lines,
            [
                format!("stored {a} r/a.txt (5 bytes)"),
                format!("linked $W/pub/r/a.txt -> $C/{a}"),
                format!("stored {b} r/d/b.txt (4 bytes)"),
                format!("linked $W/pub/r/d/b.txt -> $C/{b}"),
                format!("linked $W/pub/r/d/e/c.txt -> $C/{a}"),
            ]
        );
        assert_eq!(report.to_string(), "2 stored, 3 linked, 0 relinked, 0 unlinked, 0 unchanged, 0 refused");
        assert_eq!(fs::read(r.publish.join("d/e/c.txt")).unwrap(), b"alpha");

        let before = fs::metadata(r.content.join(&a)).unwrap();
        let (report, lines) = run(&r);
        assert_eq!((lines.len(), report.unchanged), (0, 3));
        assert_eq!(fs::metadata(r.content.join(&a)).unwrap().ino(), before.ino());

        upstream(&r, &[("a.txt", b"alpha2"), ("n.txt", b"new")], "");
        let (report, lines) = run(&r);
        let (a2, n) = (sha(b"alpha2"), sha(b"new"));
        assert_eq!(
            lines,
            [
                format!("stored {a2} r/a.txt (6 bytes)"),
                format!("relinked $W/pub/r/a.txt -> $C/{a2}"),
                format!("stored {n} r/n.txt (3 bytes)"),
                format!("linked $W/pub/r/n.txt -> $C/{n}"),
                "unlinked $W/pub/r/d/b.txt".to_string(),
                "unlinked $W/pub/r/d/e/c.txt".to_string(),
                "removed empty directory $W/pub/r/d/e".to_string(),
                "removed empty directory $W/pub/r/d".to_string(),
            ]
        );
        assert_eq!(report.to_string(), "2 stored, 1 linked, 1 relinked, 2 unlinked, 0 unchanged, 0 refused");
    }

    #[test]
    fn bad_entries_are_refused_and_the_rest_syncs() {
        let s = Scratch::new("bad");
        let r = repo(&s);
        fs::write(s.0.join("up/secret"), b"outside").unwrap();
        std::os::unix::fs::symlink("../secret", r.upstream.join("esc")).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", r.upstream.join("abs")).unwrap();
        fs::write(r.upstream.join("lie.txt"), b"liars").unwrap();
        let (z, truth) = (sha(b""), sha(b"truth"));
        let extra = format!(
            "{z} 3 gone.txt\n{truth} 5 lie.txt\n{} 7 esc\n{z} 1 abs\n{z} 1 ../x\n{z} 0 ok.txt\n",
            sha(b"outside")
        );
        upstream(&r, &[("ok.txt", b"fine")], &extra);
        let (report, lines) = run(&r);
        let ok = sha(b"fine");
        let up = r.upstream.display().to_string();
        assert_eq!(
            lines,
            [
                "refused r: MANIFEST line 6: path leaves the repository: ../x".to_string(),
                "refused r: MANIFEST line 7: path listed twice: ok.txt".to_string(),
                format!("stored {ok} r/ok.txt (4 bytes)"),
                format!("linked $W/pub/r/ok.txt -> $C/{ok}"),
                format!("refused r/gone.txt: missing upstream file: {up}/gone.txt"),
                format!("refused r/lie.txt: digest mismatch: manifest says {truth}, file has {}", sha(b"liars")),
                "refused r/esc: upstream symlink points outside the repository: esc -> ../secret".to_string(),
                "refused r/abs: upstream symlink points outside the repository: abs -> /etc/hostname".to_string(),
            ]
        );
        assert_eq!(report.refused, 6);
        let stored: Vec<_> = fs::read_dir(&r.content).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(stored, [std::ffi::OsString::from(ok)], "no temporary files stay behind");
    }
}
