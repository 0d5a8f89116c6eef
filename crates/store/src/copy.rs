//! Copying directory trees the way copy-up and container rootfs copies need: modes, times and
//! symlinks kept (links are copied as links, never followed), hard links kept as hard links.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::Path;

/// Copies the contents of `src` into the existing directory `dst`.
pub fn copy_tree(src: &Path, dst: &Path) -> std::io::Result<()> {
    let mut links = HashMap::new();
    copy_dir_contents(src, dst, &mut links)
}

fn copy_dir_contents(
    src: &Path,
    dst: &Path,
    links: &mut HashMap<(u64, u64), std::path::PathBuf>,
) -> std::io::Result<()> {
    for entry in fs::read_dir(src)? {
        let entry = entry?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let md = fs::symlink_metadata(&from)?;
        let ft = md.file_type();
        if ft.is_symlink() {
            symlink(fs::read_link(&from)?, &to)?;
            continue;
        }
        if ft.is_dir() {
            fs::create_dir(&to)?;
            copy_dir_contents(&from, &to, links)?;
        } else if ft.is_file() {
            let key = (md.dev(), md.ino());
            if md.nlink() > 1 {
                if let Some(first) = links.get(&key) {
                    fs::hard_link(first, &to)?;
                    continue;
                }
                links.insert(key, to.clone());
            }
            fs::copy(&from, &to)?;
        } else {
            // Devices, sockets and fifos have no place in a guest's file system.
            continue;
        }
        copy_attributes(&md, &to)?;
    }
    Ok(())
}

/// Gives `to` the mode and times of `md` (a directory's times after its contents are copied).
pub fn copy_attributes(md: &fs::Metadata, to: &Path) -> std::io::Result<()> {
    fs::set_permissions(to, fs::Permissions::from_mode(md.permissions().mode()))?;
    let times = fs::FileTimes::new().set_accessed(md.accessed()?).set_modified(md.modified()?);
    fs::File::open(to)?.set_times(times)
}

/// True when `dir` has no entries.
pub fn is_empty_dir(dir: &Path) -> std::io::Result<bool> {
    Ok(fs::read_dir(dir)?.next().is_none())
}

/// Bytes and files below `dir` (not following links), for `volume ls` sizes and the dashboard.
pub fn usage(dir: &Path) -> (u64, u64) {
    let mut total = (0, 0);
    let Ok(entries) = fs::read_dir(dir) else { return total };
    for entry in entries.flatten() {
        let Ok(md) = entry.path().symlink_metadata() else { continue };
        if md.is_dir() {
            let (b, f) = usage(&entry.path());
            total = (total.0 + b, total.1 + f);
        } else {
            total = (total.0 + md.len(), total.1 + 1);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_links_modes_and_hard_links() {
        let src = tempfile::tempdir().unwrap();
        let dst = tempfile::tempdir().unwrap();
        fs::create_dir(src.path().join("d")).unwrap();
        fs::write(src.path().join("d/f"), "x").unwrap();
        fs::set_permissions(src.path().join("d/f"), fs::Permissions::from_mode(0o640)).unwrap();
        fs::hard_link(src.path().join("d/f"), src.path().join("h")).unwrap();
        symlink("/etc/passwd", src.path().join("abs")).unwrap();
        copy_tree(src.path(), dst.path()).unwrap();
        assert_eq!(fs::read_link(dst.path().join("abs")).unwrap(), Path::new("/etc/passwd"));
        let f = fs::metadata(dst.path().join("d/f")).unwrap();
        assert_eq!(f.permissions().mode() & 0o777, 0o640);
        assert_eq!(f.ino(), fs::metadata(dst.path().join("h")).unwrap().ino());
        assert_eq!(usage(dst.path()), (2 + "/etc/passwd".len() as u64, 3));
    }
}
