//! Porthole's state root on disk, laid out like Docker's:
//!
//! ```text
//! <root>/volumes/<name>/_data          a volume's files
//! <root>/volumes/<name>/meta.json      its record
//! <root>/containers/<id>/config.json   a container's record (written last at create)
//! <root>/containers/<id>/rootfs/       its writable copy of the image
//! <root>/containers/<id>/container.log its output, one JSON line per line (json-file);
//!                                      rotated to container.log.1, .2, … (max-file)
//! <root>/images/<id>/{config.json,rootfs/}
//! <root>/images/tags.json              name:tag -> image id
//! <root>/module-cache/                 compiled guests
//! ```
//!
//! Every record is written atomically. Volume references are not counted separately: they are
//! the container records' mounts, so a reference can never be lost or left dangling.

pub mod atomic;
pub mod copy;
pub mod records;

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use porthole_core::names::Id;

use atomic::{TMP_SUFFIX, read_json, write_json};
pub use records::{ANONYMOUS_LABEL, ContainerRecord, HostOptions, ImageRecord, StateRecord, VolumeRecord};

/// What recovery found and did when the store was opened.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Containers that were running when the controller died, now marked exited.
    pub marked_exited: Vec<String>,
    /// Container directories without a record (a create that never finished), removed.
    pub removed_incomplete: Vec<String>,
    /// Volume directories whose record was missing, given a fresh one.
    pub adopted_volumes: Vec<String>,
    /// Temporary files of interrupted writes, removed.
    pub removed_temporaries: usize,
}

/// The state root. All methods are plain file operations; the engine serializes them.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// Creates `dir` (and missing parents) readable by its owner only, and makes an existing one
/// so: the state root holds every volume's files and every container's rootfs, which other
/// users must not read through it.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

/// The exit code recorded for containers that were running when the controller died.
pub const EXIT_CODE_CONTROLLER_DIED: i32 = 255;

impl Store {
    /// Opens (creating if needed) the state root and recovers from an interrupted run.
    pub fn open(root: &Path) -> io::Result<(Self, Recovery)> {
        create_private_dir(root)?;
        for dir in ["volumes", "containers", "images", "module-cache"] {
            create_private_dir(&root.join(dir))?;
        }
        let store = Self { root: root.canonicalize()? };
        let recovery = store.recover()?;
        Ok((store, recovery))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn module_cache_dir(&self) -> PathBuf {
        self.root.join("module-cache")
    }

    // ---- volumes ----

    pub fn volume_dir(&self, name: &str) -> PathBuf {
        self.root.join("volumes").join(name)
    }

    /// The directory guests see: `volumes/<name>/_data`.
    pub fn volume_data(&self, name: &str) -> PathBuf {
        self.volume_dir(name).join("_data")
    }

    pub fn volume(&self, name: &str) -> io::Result<Option<VolumeRecord>> {
        read_json(&self.volume_dir(name).join("meta.json"))
    }

    pub fn volumes(&self) -> io::Result<Vec<VolumeRecord>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(self.root.join("volumes"))? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if let Some(v) = self.volume(&name)? {
                out.push(v);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Creates the volume's directories, then its record (so a record always has data).
    pub fn create_volume(&self, record: &VolumeRecord) -> io::Result<()> {
        fs::create_dir_all(self.volume_data(&record.name))?;
        write_json(&self.volume_dir(&record.name).join("meta.json"), record)
    }

    /// Removes the record first: a crash midway leaves data without a record, which recovery
    /// adopts again rather than losing silently.
    pub fn remove_volume(&self, name: &str) -> io::Result<()> {
        let dir = self.volume_dir(name);
        fs::remove_file(dir.join("meta.json"))?;
        make_removable(&dir);
        fs::remove_dir_all(&dir)
    }

    // ---- containers ----

    pub fn container_dir(&self, id: &Id) -> PathBuf {
        self.root.join("containers").join(id.as_str())
    }

    pub fn rootfs(&self, id: &Id) -> PathBuf {
        self.container_dir(id).join("rootfs")
    }

    pub fn log_path(&self, id: &Id) -> PathBuf {
        self.container_dir(id).join("container.log")
    }

    pub fn containers(&self) -> io::Result<Vec<ContainerRecord>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(self.root.join("containers"))? {
            let path = entry?.path().join("config.json");
            if let Some(c) = read_json::<ContainerRecord>(&path)? {
                out.push(c);
            }
        }
        out.sort_by_key(|c| c.created);
        Ok(out)
    }

    pub fn save_container(&self, c: &ContainerRecord) -> io::Result<()> {
        write_json(&self.container_dir(&c.id).join("config.json"), c)
    }

    /// Removes the record first, then the files: a crash midway leaves a directory without a
    /// record, which recovery removes.
    pub fn remove_container(&self, id: &Id) -> io::Result<()> {
        let dir = self.container_dir(id);
        match fs::remove_file(dir.join("config.json")) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        make_removable(&dir);
        fs::remove_dir_all(&dir)
    }

    // ---- images ----

    pub fn image_dir(&self, id: &str) -> PathBuf {
        self.root.join("images").join(id)
    }

    pub fn image(&self, id: &str) -> io::Result<Option<ImageRecord>> {
        if id.is_empty() || id.contains('/') || id.contains("..") {
            return Ok(None);
        }
        read_json(&self.image_dir(id).join("config.json"))
    }

    pub fn images(&self) -> io::Result<Vec<ImageRecord>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(self.root.join("images"))? {
            let entry = entry?;
            if entry.path().is_dir()
                && let Some(img) = self.image(&entry.file_name().to_string_lossy())?
            {
                out.push(img);
            }
        }
        Ok(out)
    }

    pub fn save_image(&self, img: &ImageRecord) -> io::Result<()> {
        write_json(&self.image_dir(&img.id).join("config.json"), img)
    }

    pub fn remove_image(&self, id: &str) -> io::Result<()> {
        let dir = self.image_dir(id);
        fs::remove_file(dir.join("config.json"))?;
        make_removable(&dir);
        fs::remove_dir_all(dir)
    }

    pub fn tags(&self) -> io::Result<BTreeMap<String, String>> {
        Ok(read_json(&self.root.join("images/tags.json"))?.unwrap_or_default())
    }

    pub fn save_tags(&self, tags: &BTreeMap<String, String>) -> io::Result<()> {
        write_json(&self.root.join("images/tags.json"), tags)
    }

    // ---- recovery ----

    fn recover(&self) -> io::Result<Recovery> {
        let mut r = Recovery { removed_temporaries: remove_temporaries(&self.root)?, ..Recovery::default() };
        for entry in fs::read_dir(self.root.join("containers"))? {
            let dir = entry?.path();
            let record = dir.join("config.json");
            match read_json::<ContainerRecord>(&record) {
                Ok(Some(mut c)) => {
                    if c.state.status.is_running() {
                        c.state.status = porthole_core::state::Status::Exited;
                        c.state.exit_code = EXIT_CODE_CONTROLLER_DIED;
                        c.state.error = "the controller stopped while the container was running".into();
                        c.state.finished_at = c.state.finished_at.max(c.state.started_at);
                        self.save_container(&c)?;
                        r.marked_exited.push(c.id.to_string());
                    }
                }
                Ok(None) | Err(_) => {
                    make_removable(&dir);
                    fs::remove_dir_all(&dir)?;
                    r.removed_incomplete.push(dir.file_name().unwrap().to_string_lossy().into_owned());
                }
            }
        }
        for entry in fs::read_dir(self.root.join("volumes"))? {
            let dir = entry?.path();
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            if !dir.join("meta.json").exists() {
                let mut labels = BTreeMap::new();
                if porthole_core::names::Id::new(&name).is_ok() {
                    labels.insert(ANONYMOUS_LABEL.to_string(), String::new());
                }
                fs::create_dir_all(dir.join("_data"))?;
                let created = fs::metadata(&dir).and_then(|m| m.modified()).map(epoch_nanos).unwrap_or(0);
                write_json(
                    &dir.join("meta.json"),
                    &VolumeRecord { name: name.clone(), created, labels, options: BTreeMap::new() },
                )?;
                r.adopted_volumes.push(name);
            }
        }
        Ok(r)
    }
}

/// Nanoseconds since the epoch of a `SystemTime`.
pub fn epoch_nanos(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0)
}

pub fn now_nanos() -> i64 {
    epoch_nanos(std::time::SystemTime::now())
}

/// 32 random bytes as a new id (containers, anonymous volumes).
pub fn random_id() -> Id {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    Id::from_bytes(&bytes)
}

/// A guest may leave read-only directories behind (mode bits copied from an image); make the
/// tree writable by its owner so removal cannot fail halfway.
fn make_removable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(entries) = fs::read_dir(dir) else { return };
    if let Ok(md) = fs::symlink_metadata(dir)
        && md.is_dir()
        && md.permissions().mode() & 0o700 != 0o700
    {
        let _ = fs::set_permissions(dir, fs::Permissions::from_mode(md.permissions().mode() | 0o700));
    }
    for e in entries.flatten() {
        if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            make_removable(&e.path());
        }
    }
}

fn remove_temporaries(dir: &Path) -> io::Result<usize> {
    let mut n = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let ft = entry.file_type()?;
        // Only the store's own directories hold records; never descend into guest data.
        if ft.is_dir() && !matches!(name.to_str(), Some("_data" | "rootfs" | "module-cache")) {
            n += remove_temporaries(&entry.path())?;
        } else if ft.is_file() && name.to_string_lossy().ends_with(TMP_SUFFIX) {
            fs::remove_file(entry.path())?;
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_and_its_directories_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let old = tmp.path().join("old");
        fs::create_dir_all(old.join("volumes")).unwrap();
        fs::set_permissions(old.join("volumes"), fs::Permissions::from_mode(0o755)).unwrap();
        for root in [tmp.path().join("new/root"), old] {
            Store::open(&root).unwrap();
            for dir in ["", "volumes", "containers", "images", "module-cache"] {
                let mode = fs::metadata(root.join(dir)).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o700, "{}", root.join(dir).display());
            }
        }
    }

    #[test]
    fn recovery_marks_running_exited_removes_incomplete_and_adopts_volumes() {
        let tmp = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(tmp.path()).unwrap();
        let id = random_id();
        let mut c = ContainerRecord {
            id: id.clone(),
            name: porthole_core::names::ContainerName::new("web").unwrap(),
            created: 1,
            image: "busybox".into(),
            image_id: "x".into(),
            config: Default::default(),
            tty: false,
            open_stdin: false,
            path: "sh".into(),
            args: vec![],
            host: Default::default(),
            mounts: vec![],
            state: Default::default(),
            restart_count: 0,
        };
        c.state.status = porthole_core::state::Status::Running;
        fs::create_dir_all(store.rootfs(&id)).unwrap();
        store.save_container(&c).unwrap();
        let half = random_id();
        fs::create_dir_all(store.rootfs(&half)).unwrap();
        fs::create_dir_all(store.volume_data("orphan-vol")).unwrap();
        fs::write(store.volume_data("orphan-vol").join("keep"), "data").unwrap();
        fs::write(store.root().join(format!("containers/.x{TMP_SUFFIX}")), "torn").unwrap();

        let (store, r) = Store::open(tmp.path()).unwrap();
        assert_eq!(r.marked_exited, [id.to_string()]);
        assert_eq!(r.removed_incomplete, [half.to_string()]);
        assert_eq!(r.adopted_volumes, ["orphan-vol"]);
        assert_eq!(r.removed_temporaries, 1);
        let c = &store.containers().unwrap()[0];
        assert_eq!((c.state.status, c.state.exit_code), (porthole_core::state::Status::Exited, 255));
        assert_eq!(fs::read_to_string(store.volume_data("orphan-vol").join("keep")).unwrap(), "data");
        assert!(!store.volume("orphan-vol").unwrap().unwrap().is_anonymous());
    }
}
