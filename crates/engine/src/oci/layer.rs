//! One layer as a tar stream, both ways. Out: a layer directory walked through its `Dir`
//! without following links (modes, times, symlinks verbatim, hard links within the layer as
//! tar links, whiteouts as the files they are). In: a tar unpacked into a new directory through
//! its `Dir`, every name checked first (`entry_path`) and every parent walked without following
//! links, so a hostile archive cannot write outside the layer.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::path::{Component, Path, PathBuf};

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::{Dir, MetadataExt, OpenOptions, OpenOptionsExt};
use porthole_runtime::{OPAQUE, WHITEOUT_PREFIX};

use super::ArchiveError;
use crate::error::IoContext;
use crate::{EngineError, Result};

/// Writes the tree of `dir` as a tar stream into `out` (names relative, directories with a
/// trailing `/`, sorted, so the same tree always gives the same bytes).
pub(crate) fn write_layer<W: Write>(dir: &Dir, out: W) -> io::Result<W> {
    let mut builder = tar::Builder::new(out);
    builder.mode(tar::HeaderMode::Complete);
    let mut links = HashMap::new();
    append_dir(&mut builder, dir, Path::new(""), &mut links)?;
    builder.into_inner()
}

fn header(md: &cap_std::fs::Metadata, kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(md.mode() & 0o7777);
    h.set_mtime(md.mtime().max(0) as u64);
    h.set_uid(0);
    h.set_gid(0);
    h.set_size(size);
    h
}

/// The header of a file or directory: its mode as guests see it (the kept request, setuid
/// and all, where the host file could not hold it), read through an open handle.
fn header_of(md: &cap_std::fs::Metadata, kind: tar::EntryType, size: u64, handle: &std::fs::File) -> tar::Header {
    let mut h = header(md, kind, size);
    h.set_mode(porthole_runtime::mode_of(handle.as_fd(), md.mode(), md.is_dir()));
    h
}

fn append_dir<W: Write>(
    b: &mut tar::Builder<W>,
    dir: &Dir,
    rel: &Path,
    links: &mut HashMap<(u64, u64), PathBuf>,
) -> io::Result<()> {
    let mut names: Vec<_> = dir.entries()?.map(|e| e.map(|e| e.file_name())).collect::<io::Result<_>>()?;
    names.sort();
    for name in names {
        let md = dir.symlink_metadata(&name)?;
        let path = rel.join(&name);
        if md.is_symlink() {
            let target = dir.read_link_contents(&name)?;
            b.append_link(&mut header(&md, tar::EntryType::Symlink, 0), &path, &target)?;
        } else if md.is_dir() {
            let mut with_slash = path.clone().into_os_string();
            with_slash.push("/");
            let sub = dir.open_dir_nofollow(&name)?;
            let handle = sub.open_with(".", &read_dir_opts())?.into_std();
            b.append_data(&mut header_of(&md, tar::EntryType::Directory, 0, &handle), with_slash, io::empty())?;
            append_dir(b, &sub, &path, links)?;
        } else if md.is_file() {
            if md.nlink() > 1 {
                if let Some(first) = links.get(&(md.dev(), md.ino())) {
                    b.append_link(&mut header(&md, tar::EntryType::Link, 0), &path, first)?;
                    continue;
                }
                links.insert((md.dev(), md.ino()), path.clone());
            }
            let file = dir.open_with(&name, OpenOptions::new().read(true).follow(FollowSymlinks::No))?.into_std();
            b.append_data(&mut header_of(&md, tar::EntryType::Regular, md.len(), &file), &path, &file)?;
        }
        // Devices, sockets and fifos are never in a layer (the copy and the WASI host make none).
    }
    Ok(())
}

/// The checked name of an archive entry, relative to the layer's root: `None` for the root
/// itself (`./`). Refused: absolute names, `..` anywhere, and `.wh.` names that are not a
/// whiteout of one ordinary name or the opaque marker.
pub(crate) fn entry_path(raw: &Path) -> Result<Option<PathBuf>, ArchiveError> {
    let shown = || raw.display().to_string();
    let mut out = PathBuf::new();
    for c in raw.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => return Err(ArchiveError::Climbs(shown())),
            Component::RootDir | Component::Prefix(_) => return Err(ArchiveError::Absolute(shown())),
        }
    }
    if let Some(name) = out.file_name().and_then(|n| n.to_str())
        && let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX)
        && name != OPAQUE
        && (matches!(hidden, "" | "." | "..") || hidden.starts_with(WHITEOUT_PREFIX))
    {
        return Err(ArchiveError::BadWhiteout(shown()));
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

/// What unpacking one layer gave: the sha256 of the tar stream (its diff id).
pub(crate) struct Unpacked {
    pub diff_id: String,
}

/// Unpacks the tar stream `input` (already decompressed) into the empty directory `root`,
/// hashing it as it goes.
pub(crate) fn unpack_layer(input: impl Read, root: &Dir) -> Result<Unpacked> {
    let mut hashing = super::layout::HashingReader::new(input);
    let mut archive = tar::Archive::new(&mut hashing);
    let mut dirs: Vec<(PathBuf, u32, i64)> = Vec::new();
    for entry in archive.entries().map_err(ArchiveError::Read)? {
        let mut entry = entry.map_err(ArchiveError::Read)?;
        let raw = entry.path().map_err(ArchiveError::Read)?.into_owned();
        let Some(path) = entry_path(&raw)? else { continue };
        let h = entry.header();
        let (mode, mtime) = (h.mode().unwrap_or(0o644) & 0o7777, h.mtime().unwrap_or(0) as i64);
        let kind = h.entry_type();
        let (parent, name) = parent_dir(root, &path)?;
        let at = || path.display().to_string();
        match kind {
            tar::EntryType::Directory => {
                match parent.symlink_metadata(name) {
                    Ok(md) if md.is_dir() => {}
                    Ok(_) => {
                        parent.remove_file(name).context(at)?;
                        parent.create_dir(name).context(at)?;
                    }
                    Err(_) => parent.create_dir(name).context(at)?,
                }
                dirs.push((path.clone(), mode, mtime));
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                clear(&parent, name).context(at)?;
                let opts =
                    OpenOptions::new().write(true).create_new(true).follow(FollowSymlinks::No).mode(0o600).clone();
                let mut file = parent.open_with(name, &opts).context(at)?.into_std();
                io::copy(&mut entry, &mut file).map_err(ArchiveError::Read)?;
                set_mode_and_time(&file, mode, mtime, false).context(at)?;
            }
            tar::EntryType::Symlink => {
                let target = entry.link_name().map_err(ArchiveError::Read)?.ok_or_else(|| ArchiveError::Entry(at()))?;
                clear(&parent, name).context(at)?;
                parent.symlink_contents(&*target, name).context(at)?;
                let t = || cap_fs_ext::SystemTimeSpec::Absolute(cap_std::time::SystemTime::from_std(time_of(mtime)));
                parent.set_symlink_times(name, Some(t()), Some(t())).context(at)?;
            }
            tar::EntryType::Link => {
                let target = entry.link_name().map_err(ArchiveError::Read)?.ok_or_else(|| ArchiveError::Entry(at()))?;
                let target = entry_path(&target)?.ok_or_else(|| ArchiveError::Entry(at()))?;
                let (from_dir, from_name) = parent_dir(root, &target)?;
                match from_dir.symlink_metadata(from_name) {
                    Ok(md) if md.is_file() => {}
                    _ => {
                        return Err(ArchiveError::HardLink { name: at(), target: target.display().to_string() }.into());
                    }
                }
                clear(&parent, name).context(at)?;
                from_dir.hard_link(from_name, &parent, name).context(at)?;
            }
            // Device nodes and fifos of another platform's image: nothing a guest can use, and
            // nothing an unprivileged controller may make.
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {}
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => {}
            _ => return Err(ArchiveError::Entry(at()).into()),
        }
    }
    // Deepest first: a directory's times and mode once nothing more is written into it.
    dirs.sort_by_key(|d| std::cmp::Reverse(d.0.components().count()));
    for (path, mode, mtime) in dirs {
        let d = open_nofollow(root, &path).context(|| path.display().to_string())?;
        let f = d.open_with(".", &read_dir_opts()).context(|| path.display().to_string())?.into_std();
        set_mode_and_time(&f, mode, mtime, true).context(|| path.display().to_string())?;
    }
    // Whatever follows the tar's end-of-archive blocks belongs to the stream's digest too.
    io::copy(&mut hashing, &mut io::sink()).map_err(ArchiveError::Read)?;
    Ok(Unpacked { diff_id: hashing.hex() })
}

/// Read access to a directory through a `Dir` (cap-std's own handles are `O_PATH`, on which
/// neither `fchmod` nor the xattr calls work).
fn read_dir_opts() -> OpenOptions {
    let mut opts = OpenOptions::new();
    opts.read(true).follow(FollowSymlinks::No);
    cap_fs_ext::OpenOptionsMaybeDirExt::maybe_dir(&mut opts, true);
    opts
}

/// The entry's mode as Porthole keeps modes (see `porthole_runtime::apply_mode`), and its time.
fn set_mode_and_time(f: &std::fs::File, mode: u32, mtime: i64, dir: bool) -> io::Result<()> {
    porthole_runtime::apply_mode(f.as_fd(), mode, dir)?;
    let t = time_of(mtime);
    f.set_times(std::fs::FileTimes::new().set_modified(t).set_accessed(t))
}

fn time_of(mtime: i64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(mtime.max(0) as u64)
}

/// Removes a non-directory at `name` (a later entry replaces an earlier one, as tar does); a
/// directory in the way is an error, as GNU tar's.
fn clear(dir: &Dir, name: &std::ffi::OsStr) -> io::Result<()> {
    match dir.symlink_metadata(name) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(md) if md.is_dir() => Err(io::Error::new(io::ErrorKind::AlreadyExists, "a directory is in the way")),
        Ok(_) => dir.remove_file(name),
    }
}

/// The directory holding `path` (created as needed, 0755 as tar makes missing parents) and the
/// last name, reached component by component without following a link: a symlink or a file
/// where a directory should be refuses the entry.
fn parent_dir<'p>(root: &Dir, path: &'p Path) -> Result<(Dir, &'p std::ffi::OsStr)> {
    let name = path.file_name().ok_or_else(|| ArchiveError::Entry(path.display().to_string()))?;
    let mut dir = root.try_clone().context(|| "opening the layer".into())?;
    let mut walked = PathBuf::new();
    for c in path.parent().into_iter().flat_map(Path::components) {
        walked.push(c);
        match dir.symlink_metadata(c) {
            Ok(md) if md.is_dir() => {}
            Ok(md) => {
                return Err(if md.is_symlink() {
                    ArchiveError::ThroughLink { name: path.display().to_string(), link: walked.display().to_string() }
                } else {
                    ArchiveError::NotDirectory {
                        name: path.display().to_string(),
                        parent: walked.display().to_string(),
                    }
                }
                .into());
            }
            Err(_) => dir.create_dir(c).context(|| walked.display().to_string())?,
        }
        dir = dir.open_dir_nofollow(c).context(|| walked.display().to_string())?;
    }
    Ok((dir, name))
}

fn open_nofollow(root: &Dir, path: &Path) -> io::Result<Dir> {
    let mut dir = root.try_clone()?;
    for c in path.components() {
        dir = dir.open_dir_nofollow(c)?;
    }
    Ok(dir)
}

impl From<ArchiveError> for EngineError {
    fn from(e: ArchiveError) -> Self {
        EngineError::Archive(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_are_checked() {
        let ok =
            |s: &str| entry_path(Path::new(s)).map(|p| p.map(|p| p.display().to_string())).map_err(|e| e.to_string());
        assert_eq!(ok("./bin/sh"), Ok(Some("bin/sh".into())));
        assert_eq!(ok("./"), Ok(None));
        assert_eq!(ok("etc/.wh.passwd"), Ok(Some("etc/.wh.passwd".into())));
        assert_eq!(ok("var/.wh..wh..opq"), Ok(Some("var/.wh..wh..opq".into())));
        assert_eq!(ok("../etc/passwd"), Err("archive entry \"../etc/passwd\" climbs out of its layer (..)".into()));
        assert_eq!(ok("a/../../b"), Err("archive entry \"a/../../b\" climbs out of its layer (..)".into()));
        assert_eq!(ok("/etc/passwd"), Err("archive entry \"/etc/passwd\" has an absolute name".into()));
        assert_eq!(ok("etc/.wh..."), Err("archive entry \"etc/.wh...\" is not a whiteout of a name".into()));
        assert_eq!(ok(".wh..wh.plnk"), Err("archive entry \".wh..wh.plnk\" is not a whiteout of a name".into()));
    }
}
