//! Copying directory trees the way copy-up, container rootfs copies and COPY need: modes, times
//! and symlinks kept (links are copied as links, never followed), hard links kept as hard links.
//!
//! Every access goes through a `cap_std::fs::Dir` and no symlink is ever followed on the host:
//! the trees hold image content, which is untrusted, and its links are the guest's, so a link to
//! a host path is stored verbatim, never read through or written through.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt};
use cap_std::ambient_authority;
use cap_std::fs::{Dir, Metadata, MetadataExt, OpenOptions, OpenOptionsExt, PermissionsExt};

/// Copies the contents of `src` into the directory `dst`, merging with what is there as
/// unpacking a layer does: a directory already in `dst` is kept and filled, anything else in the
/// way (a file, a symlink) is replaced.
pub fn copy_tree(src: &Dir, dst: &Dir) -> io::Result<()> {
    let mut links = HashMap::new();
    copy_dir_contents(src, dst, dst, Path::new(""), &mut links)
}

/// Hard-linked files seen so far, by `(dev, ino)`: where the first copy went, relative to the
/// root of the destination.
type Links = HashMap<(u64, u64), PathBuf>;

fn copy_dir_contents(src: &Dir, dst: &Dir, root: &Dir, rel: &Path, links: &mut Links) -> io::Result<()> {
    for entry in src.entries()? {
        let name = entry?.file_name();
        let md = src.symlink_metadata(&name)?;
        let ft = md.file_type();
        if ft.is_symlink() {
            let target = src.read_link_contents(&name)?;
            clear(dst, &name, false)?;
            dst.symlink_contents(target, &name)?;
        } else if ft.is_dir() {
            clear(dst, &name, true)?;
            match dst.create_dir(&name) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
                _ => {}
            }
            let to = dst.open_dir_nofollow(&name)?;
            copy_dir_contents(&src.open_dir_nofollow(&name)?, &to, root, &rel.join(&name), links)?;
            // A directory's times after its contents are copied.
            copy_dir_attributes(&md, &to)?;
        } else if ft.is_file() {
            let here = rel.join(&name);
            if md.nlink() > 1 {
                if let Some(first) = links.get(&(md.dev(), md.ino())) {
                    clear(dst, &name, false)?;
                    root.hard_link(first, dst, &name)?;
                    continue;
                }
                links.insert((md.dev(), md.ino()), here);
            }
            copy_file(src, &name, dst, &name)?;
        }
        // Devices, sockets and fifos have no place in a guest's file system.
    }
    Ok(())
}

/// Removes what is at `name` in `dir` (without following it), unless it is a directory and
/// `keep_dir` is set.
fn clear(dir: &Dir, name: &OsStr, keep_dir: bool) -> io::Result<()> {
    match dir.symlink_metadata(name) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(md) if md.is_dir() && keep_dir => Ok(()),
        Ok(md) if md.is_dir() => dir.remove_dir_all(name),
        Ok(_) => dir.remove_file(name),
    }
}

/// Copies the regular file `name` of `src` to `dst_name` in `dst`, keeping its mode and times.
/// Whatever was at `dst_name` is replaced, never written through: it may be a symlink, or a file
/// hard-linked elsewhere.
pub fn copy_file(src: &Dir, name: impl AsRef<Path>, dst: &Dir, dst_name: impl AsRef<Path>) -> io::Result<()> {
    let dst_name = dst_name.as_ref();
    let from = src.open_with(name, OpenOptions::new().read(true).follow(FollowSymlinks::No))?;
    let md = from.metadata()?;
    if !md.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
    }
    clear(dst, dst_name.as_os_str(), false)?;
    let mut to = dst
        .open_with(dst_name, OpenOptions::new().write(true).create_new(true).follow(FollowSymlinks::No).mode(0o600))?
        .into_std();
    io::copy(&mut from.into_std(), &mut to)?;
    set_attributes(&md, &to)
}

/// Gives the directory `to` the mode and times of `md`.
pub fn copy_dir_attributes(md: &Metadata, to: &Dir) -> io::Result<()> {
    // A `Dir` may be an `O_PATH` descriptor, which cannot change attributes: reopen it.
    let opts = OpenOptions::new().read(true).follow(FollowSymlinks::No).maybe_dir(true).clone();
    set_attributes(md, &to.open_with(".", &opts)?.into_std())
}

fn set_attributes(md: &Metadata, to: &std::fs::File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    to.set_permissions(std::fs::Permissions::from_mode(md.permissions().mode()))?;
    let times =
        std::fs::FileTimes::new().set_accessed(md.accessed()?.into_std()).set_modified(md.modified()?.into_std());
    to.set_times(times)
}

/// True when `dir` has no entries.
pub fn is_empty_dir(dir: &Dir) -> io::Result<bool> {
    Ok(dir.entries()?.next().is_none())
}

/// Bytes and files below `dir` (not following links), for `volume ls` sizes, image sizes and the
/// dashboard. A file with several hard links is counted once, as `du` does: the base image
/// links one 13 MB program under a hundred names.
pub fn usage(dir: &Path) -> (u64, u64) {
    let mut seen = std::collections::HashSet::new();
    Dir::open_ambient_dir(dir, ambient_authority()).map(|d| dir_usage(&d, &mut seen)).unwrap_or((0, 0))
}

fn dir_usage(dir: &Dir, seen: &mut std::collections::HashSet<(u64, u64)>) -> (u64, u64) {
    use cap_std::fs::MetadataExt as _;
    let mut total = (0, 0);
    let Ok(entries) = dir.entries() else { return total };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Ok(md) = dir.symlink_metadata(&name) else { continue };
        if md.is_dir() {
            let (b, f) = dir.open_dir_nofollow(&name).map(|d| dir_usage(&d, seen)).unwrap_or((0, 0));
            total = (total.0 + b, total.1 + f);
        } else {
            let first = md.nlink() < 2 || seen.insert((md.dev(), md.ino()));
            total = (total.0 + if first { md.len() } else { 0 }, total.1 + 1);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _, symlink};

    fn open(p: &Path) -> Dir {
        Dir::open_ambient_dir(p, ambient_authority()).unwrap()
    }

    #[test]
    fn usage_counts_a_hard_linked_file_once() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("prog"), vec![0u8; 1000]).unwrap();
        fs::hard_link(dir.path().join("prog"), dir.path().join("alias")).unwrap();
        fs::write(dir.path().join("other"), b"12345").unwrap();
        assert_eq!(usage(dir.path()), (1005, 3));
    }

    #[test]
    fn keeps_links_modes_and_hard_links() {
        let src = tempfile::tempdir().unwrap();
        let dst = tempfile::tempdir().unwrap();
        fs::create_dir(src.path().join("d")).unwrap();
        fs::write(src.path().join("d/f"), "x").unwrap();
        fs::set_permissions(src.path().join("d/f"), fs::Permissions::from_mode(0o640)).unwrap();
        fs::hard_link(src.path().join("d/f"), src.path().join("h")).unwrap();
        symlink("/etc/passwd", src.path().join("abs")).unwrap();
        copy_tree(&open(src.path()), &open(dst.path())).unwrap();
        assert_eq!(fs::read_link(dst.path().join("abs")).unwrap(), Path::new("/etc/passwd"));
        let f = fs::metadata(dst.path().join("d/f")).unwrap();
        assert_eq!(f.permissions().mode() & 0o777, 0o640);
        assert_eq!(f.ino(), fs::metadata(dst.path().join("h")).unwrap().ino());
        // The hard-linked file counts once (`du`), its two names twice.
        assert_eq!(usage(dst.path()), (1 + "/etc/passwd".len() as u64, 3));
    }

    /// A destination whose entries are links out of it: they are replaced, never written
    /// through, and an existing directory is merged into.
    #[test]
    fn merging_replaces_links_and_never_writes_through_them() {
        let src = tempfile::tempdir().unwrap();
        let dst = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("victim"), "canary").unwrap();
        fs::create_dir(src.path().join("d")).unwrap();
        fs::write(src.path().join("d/new"), "n").unwrap();
        fs::write(src.path().join("victim"), "payload").unwrap();
        fs::write(src.path().join("sub"), "file").unwrap();
        symlink(outside.path().join("victim"), dst.path().join("victim")).unwrap();
        symlink(outside.path(), dst.path().join("sub")).unwrap();
        fs::create_dir(dst.path().join("d")).unwrap();
        fs::write(dst.path().join("d/old"), "o").unwrap();
        copy_tree(&open(src.path()), &open(dst.path())).unwrap();
        assert_eq!(fs::read_to_string(outside.path().join("victim")).unwrap(), "canary");
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 1);
        assert_eq!(fs::read_to_string(dst.path().join("victim")).unwrap(), "payload");
        assert_eq!(fs::read_to_string(dst.path().join("sub")).unwrap(), "file");
        assert!(dst.path().join("d/old").exists() && dst.path().join("d/new").exists());
    }
}
