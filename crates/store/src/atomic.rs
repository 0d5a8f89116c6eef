//! Crash-safe writes: write a temporary file beside the target, fsync it, rename it over the
//! target. A reader (or a restart after a crash) sees the old file or the new one, never a torn
//! one; leftover temporaries are swept by recovery.
//!
//! The directory is fsynced only when the rename made a new name (a record that makes its
//! container, volume, image or network exist): then a power loss must not lose the name. A
//! record that replaces an older one needs no directory fsync, because both the old and the
//! new file are whole, fsynced records: after a power loss the store holds one of them, and
//! either is a state recovery accepts. (A killed process loses nothing either way: the kernel
//! keeps what was written.) This is what keeps the hot path's state changes, `start` and a
//! guest's exit, at one fsync each.

use std::io::Write;
use std::path::Path;

/// Temporary files end with this, so recovery can find and remove them.
pub const TMP_SUFFIX: &str = ".porthole-tmp";

/// Replaces `path` with `data` whole (see the module's comment for what is fsynced when).
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("a file path has a parent");
    let tmp = dir.join(format!(
        ".{}.{}.{}{TMP_SUFFIX}",
        path.file_name().unwrap().to_string_lossy(),
        std::process::id(),
        unique()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        let replacing = std::fs::symlink_metadata(path).is_ok();
        std::fs::rename(&tmp, path)?;
        if replacing { Ok(()) } else { std::fs::File::open(dir)?.sync_all() }
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Reads a JSON record; `Ok(None)` when the file does not exist.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> std::io::Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        write_json(&p, &vec![1, 2, 3]).unwrap();
        write_json(&p, &vec![4]).unwrap();
        assert_eq!(read_json::<Vec<i32>>(&p).unwrap(), Some(vec![4]));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert_eq!(read_json::<Vec<i32>>(&dir.path().join("missing")).unwrap(), None);
    }
}
