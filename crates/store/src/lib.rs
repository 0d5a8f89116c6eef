//! Porthole's state root on disk, laid out like Docker's:
//!
//! ```text
//! <root>/volumes/<name>/_data          a volume's files
//! <root>/volumes/<name>/meta.json      its record
//! <root>/containers/<id>/config.json   a container's record (written last at create)
//! <root>/containers/<id>/rootfs/       its writable upper layer over its image's layers (a
//!                                      container made before layers: a whole copy, alone)
//! <root>/containers/<id>/container.log its output, one JSON line per line (json-file);
//!                                      rotated to container.log.1, .2, … (max-file)
//! <root>/images/<id>/config.json       an image's record, naming its layers bottom first
//! <root>/layers/<id>/                  a layer's files, read-only, shared by the images naming
//!                                      it and their containers (an old store's
//!                                      images/<id>/rootfs/ is moved here at open)
//! <root>/images/tags.json              name:tag -> image id
//! <root>/networks/<id>.json            a created network's record (a record only: no connectivity)
//! <root>/module-cache/                 compiled guests
//! <root>/quarantine/<time>-<kind>-<name> what recovery could not read, moved here whole
//! ```
//!
//! Nothing the store cannot read is deleted: a record that fails to parse, or a file where a
//! directory belongs, is moved to `quarantine/` and reported, and the rest opens.
//!
//! Every record is written atomically. Volume references are not counted separately: they are
//! the container records' mounts, so a reference can never be lost or left dangling.

pub mod atomic;
pub mod copy;
pub mod records;
mod trash;

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use porthole_core::names::Id;

use atomic::{TMP_SUFFIX, read_json, write_json};
pub use records::{
    ANONYMOUS_LABEL, ContainerRecord, Endpoint, HistoryEntry, HostOptions, ImageRecord, NetworkRecord, RECORD_VERSION,
    RecordError, StateRecord, VolumeRecord,
};

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
    /// Build stages (`images/.build-*`) and received build contexts (`.build-context-*`) of
    /// builds the controller did not finish, removed.
    pub removed_build_dirs: usize,
    /// Copy-ups into volumes the controller did not finish (`volumes/<name>/.copyup-*`),
    /// removed: each of those volumes is as empty as before its copy-up began.
    pub removed_copyups: usize,
    /// Image saves and loads the controller did not finish (`.transfer-*`), removed: a load
    /// records nothing until all of it is checked, so none was half done.
    pub removed_transfers: usize,
    /// Layers no image and no container names (a build or commit that stored its layer but
    /// not yet its image, a removal cut short), removed.
    pub removed_layers: usize,
    /// What could not be read, moved to `quarantine/` (never deleted).
    pub quarantined: Vec<Quarantined>,
}

impl Recovery {
    /// One line per thing an operator should look at (`docker info`'s `Warnings`).
    pub fn warnings(&self) -> Vec<String> {
        self.quarantined.iter().map(ToString::to_string).collect()
    }
}

/// What kind of thing was quarantined; its name in the quarantine folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuarantineKind {
    /// A container directory whose `config.json` could not be read (moved whole).
    Container,
    /// A volume's `meta.json` (the volume's data stays, adopted with a fresh record).
    Volume,
    /// An image directory whose `config.json` could not be read (moved whole).
    Image,
    /// `images/tags.json` (the tags are lost until restored by hand).
    Tags,
    /// A network's record (`networks/<id>.json`).
    Network,
    /// A file where the store keeps only directories.
    Stray,
}

impl QuarantineKind {
    fn as_str(self) -> &'static str {
        match self {
            QuarantineKind::Container => "container",
            QuarantineKind::Volume => "volume",
            QuarantineKind::Image => "image",
            QuarantineKind::Tags => "tags",
            QuarantineKind::Network => "network",
            QuarantineKind::Stray => "stray",
        }
    }
}

/// One thing recovery moved to `quarantine/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    pub kind: QuarantineKind,
    /// The container id, volume name, image id or file name.
    pub name: String,
    /// Where it was, and where it is now.
    pub from: PathBuf,
    pub to: PathBuf,
    /// Why it could not be read.
    pub reason: String,
}

impl std::fmt::Display for Quarantined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.kind {
            QuarantineKind::Container => "unreadable container",
            QuarantineKind::Volume => "unreadable record of volume",
            QuarantineKind::Image => "unreadable image",
            QuarantineKind::Tags => "unreadable image tags",
            QuarantineKind::Network => "unreadable network",
            QuarantineKind::Stray => "stray file",
        };
        write!(f, "{what} {} moved to {}: {}", self.name, self.to.display(), self.reason)
    }
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
        for dir in ["volumes", "containers", "images", "layers", "networks", "module-cache"] {
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

    pub fn quarantine_dir(&self) -> PathBuf {
        self.root.join("quarantine")
    }

    /// Everything in `quarantine/`, oldest first (names start with the time).
    pub fn quarantine_entries(&self) -> io::Result<Vec<PathBuf>> {
        let mut out = match fs::read_dir(self.quarantine_dir()) {
            Ok(entries) => entries.map(|e| e.map(|e| e.path())).collect::<io::Result<Vec<_>>>()?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        out.sort();
        Ok(out)
    }

    /// The volumes among `names` that a quarantined container record mentions. The record may
    /// be torn, so its mounts cannot be parsed; any of these names appearing as a JSON string
    /// in it counts, so `volume prune` never deletes data an unreadable container may hold.
    pub fn quarantine_holds<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> io::Result<Vec<String>> {
        let texts = self.quarantined_records(&[QuarantineKind::Container])?;
        Ok(names.into_iter().filter(|n| mentioned(&texts, n)).map(String::from).collect())
    }

    /// The text of every quarantined record of these kinds (a directory's `config.json`).
    fn quarantined_records(&self, kinds: &[QuarantineKind]) -> io::Result<Vec<String>> {
        let mut texts = Vec::new();
        for path in self.quarantine_entries()? {
            let file_name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            if !kinds.iter().any(|k| file_name.contains(&format!("-{}-", k.as_str()))) {
                continue;
            }
            let record = if path.is_dir() { path.join("config.json") } else { path };
            if let Ok(bytes) = fs::read(&record) {
                texts.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        Ok(texts)
    }

    /// Moves `path` to `quarantine/<time>-<kind>-<name>` (a rename: its bytes stay as they
    /// were) and says so.
    fn quarantine(&self, kind: QuarantineKind, name: &str, path: &Path, reason: String) -> io::Result<Quarantined> {
        let dir = self.quarantine_dir();
        create_private_dir(&dir)?;
        let stamp: String = porthole_core::time::rfc3339_secs(now_nanos()).chars().filter(|c| *c != ':').collect();
        let safe_name: String = name.chars().map(|c| if c == '/' || c.is_control() { '_' } else { c }).collect();
        let base = format!("{stamp}-{}-{safe_name}", kind.as_str());
        let mut to = dir.join(&base);
        let mut n = 1;
        while fs::symlink_metadata(&to).is_ok() {
            n += 1;
            to = dir.join(format!("{base}.{n}"));
        }
        fs::rename(path, &to)?;
        fs::File::open(&dir)?.sync_all()?;
        Ok(Quarantined { kind, name: name.to_string(), from: path.to_path_buf(), to, reason })
    }

    /// Removes a tree of the store (a build stage, a duplicate image) without waiting for the
    /// disk: one rename into the trash, deleted in the background (see `trash`).
    pub fn discard(&self, tree: &Path) -> io::Result<()> {
        trash::discard(&self.root, tree)
    }

    /// A new, empty `<root>/.transfer-<id>` for one image save or load (see
    /// [`TRANSFER_DIR_PREFIX`]); the caller discards it when done.
    pub fn new_transfer_dir(&self) -> io::Result<PathBuf> {
        let dir = self.root.join(format!("{TRANSFER_DIR_PREFIX}{}", random_id().short()));
        create_private_dir(&dir)?;
        Ok(dir)
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
            let entry = entry?;
            if !entry.file_type()?.is_dir() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
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

    /// Removes the volume: its record at once, its files in the background (see `trash`).
    /// The record goes first: a crash midway leaves data without a record, which recovery
    /// adopts again rather than losing silently.
    pub fn remove_volume(&self, name: &str) -> io::Result<()> {
        let dir = self.volume_dir(name);
        fs::remove_file(dir.join("meta.json"))?;
        trash::discard(&self.root, &dir)
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
            let entry = entry?;
            if !entry.file_type()?.is_dir() {
                continue;
            }
            let path = entry.path().join("config.json");
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
        trash::discard(&self.root, &dir)
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

    /// Removes an image's record, then its directory (the caller has checked that nothing
    /// uses it; its layers are the caller's to free with [`Store::remove_layer`]).
    pub fn remove_image(&self, id: &str) -> io::Result<()> {
        let dir = self.image_dir(id);
        fs::remove_file(dir.join("config.json"))?;
        trash::discard(&self.root, &dir)
    }

    // ---- layers ----

    pub fn layer_dir(&self, id: &str) -> PathBuf {
        self.root.join("layers").join(id)
    }

    /// Stores the finished tree `dir` as layer `id` (one rename; `dir` must be in the store's
    /// file system). A layer that exists already is kept and `dir` discarded: ids are digests
    /// of content.
    pub fn add_layer(&self, id: &str, dir: &Path) -> io::Result<()> {
        let target = self.layer_dir(id);
        if target.exists() {
            return trash::discard(&self.root, dir);
        }
        fs::rename(dir, &target)?;
        fs::File::open(self.root.join("layers"))?.sync_all()
    }

    /// Removes a layer no image or container names any more (into the trash: one rename).
    pub fn remove_layer(&self, id: &str) -> io::Result<()> {
        let dir = self.layer_dir(id);
        if fs::symlink_metadata(&dir).is_err() {
            return Ok(());
        }
        trash::discard(&self.root, &dir)
    }

    pub fn tags(&self) -> io::Result<BTreeMap<String, String>> {
        Ok(read_json(&self.root.join("images/tags.json"))?.unwrap_or_default())
    }

    pub fn save_tags(&self, tags: &BTreeMap<String, String>) -> io::Result<()> {
        write_json(&self.root.join("images/tags.json"), tags)
    }

    // ---- networks ----

    fn network_path(&self, id: &Id) -> PathBuf {
        self.root.join("networks").join(format!("{id}.json"))
    }

    /// The created networks, oldest first.
    pub fn networks(&self) -> io::Result<Vec<NetworkRecord>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(self.root.join("networks"))? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "json")
                && let Some(n) = read_json::<NetworkRecord>(&path)?
            {
                out.push(n);
            }
        }
        out.sort_by_key(|n| n.created);
        Ok(out)
    }

    pub fn save_network(&self, n: &NetworkRecord) -> io::Result<()> {
        write_json(&self.network_path(&n.id), n)
    }

    pub fn remove_network(&self, id: &Id) -> io::Result<()> {
        fs::remove_file(self.network_path(id))?;
        fs::File::open(self.root.join("networks"))?.sync_all()
    }

    // ---- recovery ----

    fn recover(&self) -> io::Result<Recovery> {
        trash::empty(&self.root)?;
        let mut r = Recovery { removed_temporaries: remove_temporaries(&self.root)?, ..Recovery::default() };
        r.removed_build_dirs = self.remove_build_dirs(&self.root, BUILD_DIR_PREFIX)?
            + self.remove_build_dirs(&self.root.join("images"), BUILD_DIR_PREFIX)?;
        r.removed_transfers = self.remove_build_dirs(&self.root, TRANSFER_DIR_PREFIX)?;
        self.recover_containers(&mut r)?;
        self.recover_volumes(&mut r)?;
        self.recover_images(&mut r)?;
        self.recover_networks(&mut r)?;
        r.removed_layers = self.sweep_layers()?;
        Ok(r)
    }

    /// Moves to the trash each layer no image or container record names. A layer is stored
    /// before the image that names it (both under the engine's lock, but a crash can fall
    /// between them), so such a layer is a step that never finished. A layer a quarantined
    /// record may name is kept: that record may be restored.
    fn sweep_layers(&self) -> io::Result<usize> {
        let mut named: std::collections::BTreeSet<String> = self.images()?.into_iter().flat_map(|i| i.layers).collect();
        named.extend(self.containers()?.into_iter().flat_map(|c| c.layers));
        let quarantined = self.quarantined_records(&[QuarantineKind::Container, QuarantineKind::Image])?;
        let mut n = 0;
        for entry in fs::read_dir(self.root.join("layers"))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if named.contains(&name) || mentioned(&quarantined, &name) {
                continue;
            }
            self.discard(&entry.path())?;
            n += 1;
        }
        Ok(n)
    }

    /// Moves the directories directly in `dir` whose names start with `prefix` (builds,
    /// transfers) to the trash: none survives its controller.
    fn remove_build_dirs(&self, dir: &Path, prefix: &str) -> io::Result<usize> {
        let mut n = 0;
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() && entry.file_name().to_string_lossy().starts_with(prefix) {
                self.discard(&entry.path())?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Moves unfinished copy-ups from a volume's folder to the trash. If the crash fell inside
    /// the fallback exchange (`_data` moved aside to `.copyup-<id>.old`, the copy not yet in
    /// its place), the empty `_data` is put back first.
    fn sweep_copyups(&self, volume_dir: &Path) -> io::Result<usize> {
        let mut n = 0;
        for entry in fs::read_dir(volume_dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with(COPYUP_PREFIX) {
                continue;
            }
            let data = volume_dir.join("_data");
            if name.ends_with(".old") && fs::symlink_metadata(&data).is_err() {
                fs::rename(entry.path(), &data)?;
                continue;
            }
            self.discard(&entry.path())?;
            n += 1;
        }
        Ok(n)
    }

    /// A network record that cannot be read, or anything else in `networks/`, is quarantined.
    fn recover_networks(&self, r: &mut Recovery) -> io::Result<()> {
        for entry in fs::read_dir(self.root.join("networks"))? {
            let entry = entry?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let id = name.strip_suffix(".json").filter(|id| Id::new(id).is_ok());
            if !entry.file_type()?.is_file() || id.is_none() {
                r.quarantined.push(self.quarantine(
                    QuarantineKind::Stray,
                    &name,
                    &path,
                    "not a network record".into(),
                )?);
                continue;
            }
            match read_json::<NetworkRecord>(&path) {
                Ok(Some(n)) if Some(n.id.as_str()) == id => {}
                Ok(_) => r.quarantined.push(self.quarantine(
                    QuarantineKind::Network,
                    &name,
                    &path,
                    "its id is not its file name".into(),
                )?),
                Err(e) => r.quarantined.push(self.quarantine(QuarantineKind::Network, &name, &path, e.to_string())?),
            }
        }
        Ok(())
    }

    fn recover_containers(&self, r: &mut Recovery) -> io::Result<()> {
        for entry in fs::read_dir(self.root.join("containers"))? {
            let entry = entry?;
            let dir = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if !entry.file_type()?.is_dir() {
                r.quarantined.push(self.quarantine(QuarantineKind::Stray, &name, &dir, "not a directory".into())?);
                continue;
            }
            match read_json::<ContainerRecord>(&dir.join("config.json")) {
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
                // No record: a create that never finished (the record is written last).
                Ok(None) => {
                    self.discard(&dir)?;
                    r.removed_incomplete.push(name);
                }
                // A record that exists but cannot be read is a container that did exist: keep
                // its rootfs and logs with it.
                Err(e) => r.quarantined.push(self.quarantine(QuarantineKind::Container, &name, &dir, e.to_string())?),
            }
        }
        Ok(())
    }

    fn recover_volumes(&self, r: &mut Recovery) -> io::Result<()> {
        for entry in fs::read_dir(self.root.join("volumes"))? {
            let entry = entry?;
            let dir = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if !entry.file_type()?.is_dir() {
                r.quarantined.push(self.quarantine(QuarantineKind::Stray, &name, &dir, "not a directory".into())?);
                continue;
            }
            r.removed_copyups += self.sweep_copyups(&dir)?;
            let meta = dir.join("meta.json");
            // An unreadable record goes to quarantine and the volume is adopted as if it had
            // none: its data stays where the containers that hold it expect it.
            if let Err(e) = read_json::<VolumeRecord>(&meta) {
                r.quarantined.push(self.quarantine(QuarantineKind::Volume, &name, &meta, e.to_string())?);
            }
            if !meta.exists() {
                let mut labels = BTreeMap::new();
                if porthole_core::names::Id::new(&name).is_ok() {
                    labels.insert(ANONYMOUS_LABEL.to_string(), String::new());
                }
                fs::create_dir_all(dir.join("_data"))?;
                let created = fs::metadata(&dir).and_then(|m| m.modified()).map(epoch_nanos).unwrap_or(0);
                write_json(&meta, &VolumeRecord { name: name.clone(), created, labels, options: BTreeMap::new() })?;
                r.adopted_volumes.push(name);
            }
        }
        Ok(())
    }

    /// An image of a store older than layers: its `rootfs/` becomes its single layer (moved,
    /// not copied), then the record names it. A crash between the two leaves the layer in
    /// place, which the next open records.
    fn migrate_image(&self, mut img: ImageRecord, dir: &Path) -> io::Result<()> {
        let rootfs = dir.join("rootfs");
        if rootfs.is_dir() && !self.layer_dir(&img.id).exists() {
            fs::rename(&rootfs, self.layer_dir(&img.id))?;
        }
        if self.layer_dir(&img.id).is_dir() {
            img.layers = vec![img.id.clone()];
            self.save_image(&img)?;
        }
        Ok(())
    }

    fn recover_images(&self, r: &mut Recovery) -> io::Result<()> {
        let images = self.root.join("images");
        for entry in fs::read_dir(&images)? {
            let entry = entry?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if !entry.file_type()?.is_dir() {
                if name != "tags.json" {
                    r.quarantined.push(self.quarantine(
                        QuarantineKind::Stray,
                        &name,
                        &path,
                        "not a directory".into(),
                    )?);
                }
                continue;
            }
            match read_json::<ImageRecord>(&path.join("config.json")) {
                Ok(Some(img)) if img.layers.is_empty() => self.migrate_image(img, &path)?,
                Ok(_) => {}
                Err(e) => r.quarantined.push(self.quarantine(QuarantineKind::Image, &name, &path, e.to_string())?),
            }
        }
        let tags = images.join("tags.json");
        if let Err(e) = read_json::<BTreeMap<String, String>>(&tags) {
            r.quarantined.push(self.quarantine(QuarantineKind::Tags, "tags.json", &tags, e.to_string())?);
        }
        Ok(())
    }
}

/// Whether any of `texts` (JSON records, perhaps torn) holds `name` as a string.
fn mentioned(texts: &[String], name: &str) -> bool {
    texts.iter().any(|t| t.contains(&format!("\"{name}\"")))
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

/// A copy-up into a volume is made in `volumes/<name>/.copyup-<id>` and exchanged with the
/// empty `_data` when complete; recovery removes what a crash left.
pub const COPYUP_PREFIX: &str = ".copyup-";

/// The files of one image save or load (`<root>/.transfer-<id>`: an archive received,
/// layers unpacked and checked before they are stored, a layout written before it is sent);
/// recovery removes them.
pub const TRANSFER_DIR_PREFIX: &str = ".transfer-";

/// Build stages (`images/.build-<id>`) and received contexts (`<root>/.build-context-*`)
/// start with this; recovery removes them.
pub const BUILD_DIR_PREFIX: &str = ".build-";

fn remove_temporaries(dir: &Path) -> io::Result<usize> {
    let mut n = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let ft = entry.file_type()?;
        // Only the store's own directories hold records; never descend into guest data (a
        // part copy-up and a build stage or context are image or guest content, and are
        // swept whole).
        let guest_data =
            matches!(name.to_str(), Some("_data" | "rootfs" | "layers" | "module-cache" | "quarantine" | "trash"))
                || [COPYUP_PREFIX, BUILD_DIR_PREFIX, TRANSFER_DIR_PREFIX]
                    .iter()
                    .any(|p| name.to_string_lossy().starts_with(p));
        if ft.is_dir() && !guest_data {
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

    /// Each kind of unreadable record, and a stray file, beside a readable one of its kind:
    /// the store opens, the bad ones are in quarantine byte for byte, the good ones are there.
    #[test]
    fn unreadable_records_and_stray_files_are_quarantined_never_deleted() {
        let tmp = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(tmp.path()).unwrap();
        let good = container("good");
        fs::create_dir_all(store.rootfs(&good.id)).unwrap();
        store.save_container(&good).unwrap();
        let bad = random_id();
        fs::create_dir_all(store.rootfs(&bad)).unwrap();
        fs::write(store.rootfs(&bad).join("work"), "guest data").unwrap();
        fs::write(store.log_path(&bad), "{\"log\":\"hi\"}\n").unwrap();
        let torn_container = format!("{{\"id\": \"{bad}\", \"mounts\": [{{\"volume\": \"anon-of-bad\"");
        fs::write(store.container_dir(&bad).join("config.json"), &torn_container).unwrap();
        for name in ["kept", "torn-vol", "anon-of-bad"] {
            store
                .create_volume(&VolumeRecord {
                    name: name.into(),
                    created: 1,
                    labels: BTreeMap::new(),
                    options: BTreeMap::new(),
                })
                .unwrap();
        }
        fs::write(store.volume_data("torn-vol").join("keep"), "data").unwrap();
        fs::write(store.volume_dir("torn-vol").join("meta.json"), "{\"name\": \"torn-").unwrap();
        fs::write(store.root().join("volumes/stray.txt"), "stray").unwrap();
        let img = ImageRecord {
            id: "ee".repeat(32),
            created: 1,
            config: Default::default(),
            parent: String::new(),
            size: 0,
            history: vec![],
            layers: vec![],
        };
        fs::create_dir_all(store.image_dir(&img.id).join("rootfs")).unwrap();
        store.save_image(&img).unwrap();
        let torn_image = "ff".repeat(32);
        fs::create_dir_all(store.image_dir(&torn_image).join("rootfs")).unwrap();
        fs::write(store.image_dir(&torn_image).join("config.json"), "{\"id\": \"ff").unwrap();
        fs::write(store.root().join("images/tags.json"), "{\"busybox:latest\": \"ee").unwrap();
        fs::create_dir_all(store.root().join("images/.build-0123456789ab/rootfs/bin")).unwrap();
        fs::create_dir_all(store.root().join(".build-context-xyz/context")).unwrap();
        fs::create_dir_all(store.root().join(".transfer-0123/layer-0")).unwrap();

        let (store, r) = Store::open(tmp.path()).unwrap();
        let mut moved: Vec<String> = r.quarantined.iter().map(|q| format!("{:?} {}", q.kind, q.name)).collect();
        moved.sort();
        let expected = [
            format!("Container {bad}"),
            format!("Image {torn_image}"),
            "Stray stray.txt".into(),
            "Tags tags.json".into(),
            "Volume torn-vol".into(),
        ];
        assert_eq!(moved, expected);
        let to = |kind| &r.quarantined.iter().find(|q| q.kind == kind).unwrap().to;
        let c = to(QuarantineKind::Container);
        assert_eq!(fs::read_to_string(c.join("config.json")).unwrap(), torn_container);
        assert_eq!(fs::read_to_string(c.join("rootfs/work")).unwrap(), "guest data");
        assert_eq!(fs::read_to_string(c.join("container.log")).unwrap(), "{\"log\":\"hi\"}\n");
        assert_eq!(fs::read_to_string(to(QuarantineKind::Volume)).unwrap(), "{\"name\": \"torn-");
        assert_eq!(fs::read_to_string(to(QuarantineKind::Stray)).unwrap(), "stray");
        assert_eq!(fs::read_to_string(to(QuarantineKind::Image).join("config.json")).unwrap(), "{\"id\": \"ff");
        assert_eq!(fs::read_to_string(to(QuarantineKind::Tags)).unwrap(), "{\"busybox:latest\": \"ee");
        // (A volume's `meta.json` is written afresh when the volume is adopted.)
        assert!(r.quarantined.iter().all(
            |q| q.to.starts_with(store.quarantine_dir()) && (q.kind == QuarantineKind::Volume || !q.from.exists())
        ));
        assert_eq!(r.warnings().len(), 5);
        assert!(
            r.warnings().contains(&format!(
                "unreadable container {bad} moved to {}: {}",
                to(QuarantineKind::Container).display(),
                r.quarantined[0].reason
            )),
            "{:?}",
            r.warnings()
        );
        assert_eq!(r.removed_build_dirs, 2);
        assert_eq!(r.removed_transfers, 1);
        assert!(!store.root().join(".transfer-0123").exists());
        assert!(!store.root().join("images/.build-0123456789ab").exists());

        // Everything readable is still there; the volume with a torn record is adopted.
        assert_eq!(store.containers().unwrap(), [good]);
        let volumes: Vec<String> = store.volumes().unwrap().into_iter().map(|v| v.name).collect();
        assert_eq!(volumes, ["anon-of-bad", "kept", "torn-vol"]);
        assert_eq!(fs::read_to_string(store.volume_data("torn-vol").join("keep")).unwrap(), "data");
        // An image of a store older than layers: its rootfs became its one layer.
        let migrated = ImageRecord { layers: vec![img.id.clone()], ..img.clone() };
        assert_eq!(store.images().unwrap(), [migrated]);
        assert!(store.layer_dir(&img.id).is_dir() && !store.image_dir(&img.id).join("rootfs").exists());
        assert!(store.tags().unwrap().is_empty());
        // The volume only the quarantined container named is held by it.
        assert_eq!(store.quarantine_holds(volumes.iter().map(String::as_str)).unwrap(), ["anon-of-bad"]);

        // A second open finds nothing new and leaves the quarantine alone.
        let (store, r) = Store::open(tmp.path()).unwrap();
        assert_eq!(r.quarantined, []);
        assert_eq!(store.quarantine_entries().unwrap().len(), 5);
    }

    /// A crash between storing a layer and the image naming it leaves a layer nothing names:
    /// the next open sweeps it, and keeps the layers that images, containers and quarantined
    /// records name. An image record of version 1 (history as lines of text) still opens.
    #[test]
    fn unnamed_layers_are_swept_and_old_image_histories_open() {
        let tmp = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(tmp.path()).unwrap();
        for layer in ["imaged", "contained", "quarantined", "orphan"] {
            fs::create_dir_all(store.layer_dir(layer).join("etc")).unwrap();
        }
        let old = "dd".repeat(32);
        fs::create_dir_all(store.image_dir(&old)).unwrap();
        let v1 = format!(
            r#"{{"version": 1, "id": "{old}", "created": 7, "history": ["FROM busybox", "RUN x"], "layers": ["imaged"]}}"#
        );
        fs::write(store.image_dir(&old).join("config.json"), v1).unwrap();
        let c = ContainerRecord { layers: vec!["contained".into()], ..container("holder") };
        fs::create_dir_all(store.rootfs(&c.id)).unwrap();
        store.save_container(&c).unwrap();
        let torn = "cc".repeat(32);
        fs::create_dir_all(store.image_dir(&torn)).unwrap();
        fs::write(store.image_dir(&torn).join("config.json"), r#"{"id": "cc", "layers": ["quarantined""#).unwrap();

        let (store, r) = Store::open(tmp.path()).unwrap();
        assert_eq!(r.removed_layers, 1);
        let mut left: Vec<String> = fs::read_dir(store.root().join("layers"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into())
            .collect();
        left.sort();
        assert_eq!(left, ["contained", "imaged", "quarantined"]);
        let img = store.image(&old).unwrap().unwrap();
        let lines: Vec<(&str, bool, i64)> =
            img.history.iter().map(|h| (h.created_by.as_str(), h.empty_layer, h.created)).collect();
        assert_eq!(lines, [("FROM busybox", true, 7), ("RUN x", true, 7)]);
        // Written again, it is version 2 and reads back the same.
        store.save_image(&img).unwrap();
        let text = fs::read_to_string(store.image_dir(&old).join("config.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!((json["version"].as_u64(), json["history"][1]["created_by"].as_str()), (Some(2), Some("RUN x")));
        assert_eq!(store.image(&old).unwrap().unwrap(), img);
    }

    /// Network records survive a reopen; a torn one, one whose id is not its file name and a
    /// stray file go to quarantine, the good one stays.
    #[test]
    fn network_records_are_recovered_and_bad_ones_quarantined() {
        let tmp = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(tmp.path()).unwrap();
        let good = NetworkRecord {
            id: random_id(),
            name: porthole_core::names::NetworkName::new("pulp_default").unwrap(),
            created: 1,
            driver: "bridge".into(),
            labels: BTreeMap::from([("com.docker.compose.project".into(), "pulp".into())]),
            options: BTreeMap::new(),
            internal: false,
            attachable: true,
            enable_ipv6: false,
        };
        store.save_network(&good).unwrap();
        let networks = store.root().join("networks");
        fs::write(networks.join(format!("{}.json", random_id())), "{\"id\": \"to").unwrap();
        let other = NetworkRecord { id: random_id(), ..good.clone() };
        fs::write(networks.join(format!("{}.json", random_id())), serde_json::to_vec(&other).unwrap()).unwrap();
        fs::write(networks.join("notes.txt"), "stray").unwrap();

        let (store, r) = Store::open(tmp.path()).unwrap();
        let mut kinds: Vec<QuarantineKind> = r.quarantined.iter().map(|q| q.kind).collect();
        kinds.sort_by_key(|k| k.as_str());
        assert_eq!(kinds, [QuarantineKind::Network, QuarantineKind::Network, QuarantineKind::Stray]);
        assert_eq!(store.networks().unwrap(), std::slice::from_ref(&good));
        store.remove_network(&good.id).unwrap();
        assert_eq!(store.networks().unwrap(), []);
    }

    fn container(name: &str) -> ContainerRecord {
        ContainerRecord {
            id: random_id(),
            name: porthole_core::names::ContainerName::new(name).unwrap(),
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
            layers: vec![],
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
            layers: vec![],
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
