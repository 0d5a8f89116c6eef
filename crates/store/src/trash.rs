//! Removal that does not wait for the disk: a tree to delete is renamed into `<root>/trash/`
//! (one rename: from then on it is gone as far as the store is concerned) and deleted there by
//! one background thread. What a crash leaves in the trash is deleted at the next open.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::mpsc::{Sender, channel};

/// The trash folder of the state root `root`.
pub(crate) fn dir(root: &Path) -> PathBuf {
    root.join("trash")
}

/// Moves `tree` into the trash of `root` and has it deleted in the background.
pub(crate) fn discard(root: &Path, tree: &Path) -> io::Result<()> {
    let trash = dir(root);
    let name = tree.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let dest = trash.join(format!("{name}-{}", crate::random_id().short()));
    // The trash is made on first use only: making sure of it on every removal set its mode
    // again each time, an inode change the journal commits on the hot path of `rm`.
    if let Err(e) = fs::rename(tree, &dest) {
        if e.kind() != io::ErrorKind::NotFound || trash.exists() {
            return Err(e);
        }
        crate::create_private_dir(&trash)?;
        fs::rename(tree, &dest)?;
    }
    delete_later(dest);
    Ok(())
}

/// Deletes whatever a previous run left in the trash, in the background.
pub(crate) fn empty(root: &Path) -> io::Result<()> {
    match fs::read_dir(dir(root)) {
        Ok(entries) => {
            for entry in entries {
                delete_later(entry?.path());
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Queues `path` for deletion by the one trash thread (started on first use).
fn delete_later(path: PathBuf) {
    static WORKER: OnceLock<std::sync::Mutex<Sender<PathBuf>>> = OnceLock::new();
    let worker = WORKER.get_or_init(|| {
        let (tx, rx) = channel::<PathBuf>();
        let spawned = std::thread::Builder::new().name("trash".into()).spawn(move || {
            for path in rx {
                crate::make_removable(&path);
                let _ = if path.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) };
            }
        });
        if spawned.is_err() {
            // No thread to be had: the next open empties the trash.
        }
        std::sync::Mutex::new(tx)
    });
    let _ = worker.lock().unwrap().send(path);
}
