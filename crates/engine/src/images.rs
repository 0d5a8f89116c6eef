//! Images: the built-in base image `busybox`, content-addressed ids, tags, list, inspect and
//! removal.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::{MetadataExt, OpenOptions};
use std::path::Path;
use std::sync::{Arc, Mutex};

use cap_std::{ambient_authority, fs::Dir};
use porthole_core::config::ImageConfig;
use porthole_core::event::EventType;
use porthole_runtime::{Exit, Limits};
use porthole_runtime::{GuestSpec, GuestTree, RootDesc, Stdio};
use porthole_store::copy::usage;
use porthole_store::{HistoryEntry, ImageRecord};
use sha2::{Digest, Sha256};

use crate::containers::{find_image, normalize_tag};
use crate::error::IoContext;
use crate::{Engine, EngineError, Result};

/// The base image every tutorial starts from.
pub const BASE_IMAGE: &str = "busybox:latest";

/// Toolbox applets the userland does not replace, though it has one of the same name: uutils'
/// `ls -l` on WASI prints modes and owners it made up (`dr-xr-xr-x somebody somegroup`), the
/// toolbox's prints what the host keeps; uutils' `tail` has no follow mode on WASI (`tail -f`).
/// (The shell, mount, top, stat, id, du, df, chmod, ps and kill are the toolbox's alone: no
/// crate has them for WASI; see ARCHITECTURE.md.)
const TOOLBOX_KEEPS: &[&str] = &["ls", "tail"];

/// Writes `/bin/NAME` (mode 755) with a guest program's bytes; gives its host path.
fn install_program(rootfs: &Path, name: &str, wasm: &[u8]) -> Result<std::path::PathBuf> {
    let path = rootfs.join("bin").join(name);
    std::fs::write(&path, wasm).context(|| format!("/bin/{name}"))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).context(|| format!("/bin/{name}"))?;
    Ok(path)
}

/// Collects a guest's output in memory.
#[derive(Clone, Default)]
pub(crate) struct Collect(pub Arc<Mutex<Vec<u8>>>);

impl Write for Collect {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Collect {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// A digest of a directory tree: names, kinds, modes, link targets and file contents. Read
/// through a `Dir`, never following a link: the tree is a build stage's, made by guests.
fn tree_digest(dir: &Dir, hasher: &mut Sha256) -> std::io::Result<()> {
    let mut names: Vec<_> = dir.entries()?.map(|e| e.map(|e| e.file_name())).collect::<std::io::Result<_>>()?;
    names.sort();
    for name in names {
        let md = dir.symlink_metadata(&name)?;
        hasher.update(name.as_encoded_bytes());
        hasher.update(md.mode().to_le_bytes());
        if md.is_symlink() {
            hasher.update(dir.read_link_contents(&name)?.as_os_str().as_encoded_bytes());
        } else if md.is_dir() {
            hasher.update(b"/");
            tree_digest(&dir.open_dir_nofollow(&name)?, hasher)?;
            hasher.update(b"..");
        } else {
            let mut file = dir.open_with(&name, OpenOptions::new().read(true).follow(FollowSymlinks::No))?.into_std();
            std::io::copy(&mut file, hasher)?;
        }
    }
    Ok(())
}

/// One row of `docker history`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryItem {
    /// The image of this step; `None` (Docker's `<missing>`) where the chain of parents ends.
    pub id: Option<String>,
    pub tags: Vec<String>,
    /// Epoch nanoseconds.
    pub created: i64,
    pub created_by: String,
    pub comment: String,
    /// Bytes of the step's layer (0 for a step without one).
    pub size: u64,
}

/// An image as the next step is made on it: a build stage's state, a container's image at
/// commit. The default is `scratch` (no image, no layers).
#[derive(Debug, Clone, Default)]
pub(crate) struct Base {
    /// Empty for `scratch`.
    pub id: String,
    pub config: ImageConfig,
    pub layers: Vec<String>,
    pub history: Vec<HistoryEntry>,
    pub size: u64,
}

impl From<&ImageRecord> for Base {
    fn from(img: &ImageRecord) -> Self {
        Base {
            id: img.id.clone(),
            config: img.config.clone(),
            layers: img.layers.clone(),
            history: img.history.clone(),
            size: img.size,
        }
    }
}

/// An image's id: a digest of what it is — config, parent, layers and history without the
/// times — so the same step on the same parent with the same files is the same image.
fn image_id(config: &ImageConfig, parent: &str, layers: &[String], history: &[HistoryEntry]) -> String {
    let steps: Vec<_> = history.iter().map(|h| (&h.created_by, &h.comment, &h.author, h.empty_layer)).collect();
    let json = serde_json::to_vec(&(config, parent, layers, steps)).expect("an image serializes");
    Sha256::digest(&json).iter().map(|b| format!("{b:02x}")).collect()
}

/// A digest of the tree `dir` (a finished layer): the layer's id.
fn layer_id(dir: &Path) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    tree_digest(&Dir::open_ambient_dir(dir, ambient_authority())?, &mut hasher)?;
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn open_dir(p: &Path) -> Result<Dir> {
    Dir::open_ambient_dir(p, ambient_authority()).context(|| format!("opening {}", p.display()))
}

impl Engine {
    /// Makes the image of one step on `base`: `upper`, when it holds anything, becomes a new
    /// layer on top of `base`'s (its id a digest of its content, so an identical layer is
    /// shared); `entries` are the step's history (the first pairs with the layer, if any).
    /// Idempotent: the same step on the same base gives the same image. With `hold`, the
    /// image is held for a running build from the moment it exists.
    pub(crate) fn commit_step(
        &self,
        base: &Base,
        config: ImageConfig,
        mut entries: Vec<HistoryEntry>,
        upper: Option<&Path>,
        hold: bool,
    ) -> Result<ImageRecord> {
        let store = &self.inner.store;
        let upper = match upper {
            Some(dir) if porthole_store::copy::is_empty_dir(&open_dir(dir)?).context(|| "reading a step".into())? => {
                let _ = store.discard(dir);
                None
            }
            other => other,
        };
        let layer = match upper {
            Some(dir) => Some((layer_id(dir).context(|| "hashing a layer".into())?, usage(dir).0)),
            None => None,
        };
        let mut layers = base.layers.clone();
        layers.extend(layer.iter().map(|(id, _)| id.clone()));
        let now = porthole_store::now_nanos();
        for (i, e) in entries.iter_mut().enumerate() {
            e.created = now;
            e.empty_layer = i > 0 || layer.is_none();
        }
        let mut history = base.history.clone();
        history.extend(entries);
        let id = image_id(&config, &base.id, &layers, &history);
        let mut w = self.world();
        if hold {
            crate::image_remove::hold(&mut w, &id);
        }
        if let Some(existing) = w.images.get(&id) {
            // Under the world lock: a rename into the trash, never the deletion itself.
            if let Some(dir) = upper {
                let _ = store.discard(dir);
            }
            return Ok(existing.clone());
        }
        // The layer and the record are stored under the lock, so no removal can take a
        // layer an existing one was reused from between the two.
        if let (Some((layer, _)), Some(dir)) = (&layer, upper) {
            store.add_layer(layer, dir).context(|| format!("storing layer {layer}"))?;
        }
        let record = ImageRecord {
            id: id.clone(),
            created: now,
            config,
            parent: base.id.clone(),
            size: base.size + layer.map(|(_, size)| size).unwrap_or(0),
            history,
            layers,
        };
        std::fs::create_dir_all(store.image_dir(&id)).context(|| format!("storing image {id}"))?;
        store.save_image(&record).context(|| format!("storing image {id}"))?;
        w.images.insert(id, record.clone());
        Ok(record)
    }

    /// Points `name[:tag]` at image `id`.
    pub fn tag(&self, reference: &str, new_tag: &str) -> Result<()> {
        let mut w = self.world();
        let id = find_image(&w, reference)?.id.clone();
        let tag = normalize_tag(new_tag);
        w.tags.insert(tag.clone(), id.clone());
        self.inner.store.save_tags(&w.tags).context(|| "saving tags".into())?;
        self.emit(self.event(EventType::Image, "tag", &id).with("name", tag));
        Ok(())
    }

    /// Images with their tags, newest first.
    pub fn images(&self) -> Vec<(ImageRecord, Vec<String>)> {
        let w = self.world();
        let mut out: Vec<(ImageRecord, Vec<String>)> = w
            .images
            .values()
            .map(|img| (img.clone(), w.tags.iter().filter(|(_, id)| **id == img.id).map(|(t, _)| t.clone()).collect()))
            .collect();
        out.sort_by_key(|(img, _)| std::cmp::Reverse(img.created));
        out
    }

    /// `docker images [-a]`: without `all`, an untagged image with children (a build's
    /// intermediate step) is left out, as moby lists them.
    pub fn image_list(&self, all: bool) -> Vec<(ImageRecord, Vec<String>)> {
        let parents: std::collections::BTreeSet<String> =
            self.world().images.values().map(|i| i.parent.clone()).collect();
        self.images().into_iter().filter(|(img, tags)| all || !tags.is_empty() || !parents.contains(&img.id)).collect()
    }

    /// `docker history`: the image's steps, newest first, as moby's `ImageHistory` gives them:
    /// each step's layer size, and the image ids found by walking the parents (one per step,
    /// `None` — shown `<missing>` — past the last).
    pub fn image_history(&self, reference: &str) -> Result<Vec<HistoryItem>> {
        let (img, chain) = {
            let w = self.world();
            let img = find_image(&w, reference)?.clone();
            let mut chain = Vec::new();
            let mut id = img.id.clone();
            while let Some(i) = w.images.get(&id) {
                let tags = w.tags.iter().filter(|(_, t)| **t == i.id).map(|(t, _)| t.clone()).collect::<Vec<_>>();
                chain.push((i.id.clone(), tags));
                id = i.parent.clone();
            }
            (img, chain)
        };
        let mut layers = img.layers.iter();
        let mut items: Vec<HistoryItem> = img
            .history
            .iter()
            .map(|h| {
                let size = if h.empty_layer {
                    0
                } else {
                    layers.next().map_or(0, |l| usage(&self.inner.store.layer_dir(l)).0)
                };
                HistoryItem {
                    id: None,
                    tags: Vec::new(),
                    created: h.created,
                    created_by: h.created_by.clone(),
                    comment: h.comment.clone(),
                    size,
                }
            })
            .collect();
        items.reverse();
        for (item, (id, tags)) in items.iter_mut().zip(chain) {
            item.id = Some(id);
            item.tags = tags;
        }
        Ok(items)
    }

    pub fn image_inspect(&self, reference: &str) -> Result<(ImageRecord, Vec<String>)> {
        let w = self.world();
        let img = find_image(&w, reference)?.clone();
        let tags = w.tags.iter().filter(|(_, id)| **id == img.id).map(|(t, _)| t.clone()).collect();
        Ok((img, tags))
    }

    /// Creates `busybox:latest` from the embedded guests if it is missing: `/bin/busybox` (the
    /// toolbox) and `/bin/userland`, with a hard link in `/bin` for every applet they list — the
    /// userland's where both have one, except the toolbox applets in [`TOOLBOX_KEEPS`].
    pub(crate) fn ensure_base_image(&self) -> Result<()> {
        {
            let w = self.world();
            if w.tags.get(BASE_IMAGE).is_some_and(|id| w.images.contains_key(id)) {
                return Ok(());
            }
        }
        let build =
            self.inner.store.root().join("images").join(format!(".build-{}", porthole_store::random_id().short()));
        let rootfs = build.join("rootfs");
        let result = (|| -> Result<ImageRecord> {
            for dir in ["bin", "etc", "root", "home", "tmp", "var", "usr/bin", "usr/sbin", "sbin"] {
                std::fs::create_dir_all(rootfs.join(dir)).context(|| format!("creating /{dir}"))?;
            }
            std::fs::set_permissions(rootfs.join("tmp"), std::fs::Permissions::from_mode(0o1777))
                .context(|| "/tmp".into())?;
            std::fs::write(
                rootfs.join("etc/passwd"),
                "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
            )
            .context(|| "/etc/passwd".into())?;
            std::fs::write(rootfs.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n")
                .context(|| "/etc/group".into())?;
            let busybox = install_program(&rootfs, "busybox", porthole_guests::BUSYBOX_WASM)?;
            let toolbox = self.applets(&rootfs, "busybox", porthole_guests::BUSYBOX_WASM)?;
            for applet in toolbox.iter().filter(|a| *a != "busybox") {
                std::fs::hard_link(&busybox, rootfs.join("bin").join(applet)).context(|| format!("/bin/{applet}"))?;
            }
            let userland = install_program(&rootfs, "userland", porthole_guests::USERLAND_WASM)?;
            for applet in self.applets(&rootfs, "userland", porthole_guests::USERLAND_WASM)? {
                if TOOLBOX_KEEPS.contains(&applet.as_str()) {
                    continue;
                }
                let link = rootfs.join("bin").join(&applet);
                if toolbox.contains(&applet) {
                    std::fs::remove_file(&link).context(|| format!("/bin/{applet}"))?;
                }
                std::fs::hard_link(&userland, &link).context(|| format!("/bin/{applet}"))?;
            }
            let config = ImageConfig {
                env: vec![format!("PATH={}", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")],
                cmd: Some(vec!["sh".into()]),
                ..ImageConfig::default()
            };
            // Docker Hub's busybox has two steps: its files, then its CMD.
            let files = HistoryEntry {
                created_by: "porthole base image: the toolbox as /bin/busybox, the userland as /bin/userland".into(),
                ..Default::default()
            };
            let cmd =
                HistoryEntry { created_by: crate::step_text::nop(&config, r#"CMD ["sh"]"#), ..Default::default() };
            self.commit_step(&Base::default(), config, vec![files, cmd], Some(&rootfs), false)
        })();
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&build);
                return Err(e);
            }
        };
        let _ = self.inner.store.discard(&build);
        let mut w = self.world();
        w.tags.insert(BASE_IMAGE.to_string(), record.id.clone());
        self.inner.store.save_tags(&w.tags).context(|| "saving tags".into())
    }

    /// The applet names, asked of the multi-call program itself (`busybox --list`).
    fn applets(&self, rootfs: &Path, program: &'static str, wasm: &[u8]) -> Result<Vec<String>> {
        let loaded = self.inner.runtime.load(wasm).map_err(|e| EngineError::Toolbox(program, e))?;
        let dir = Dir::open_ambient_dir(rootfs, ambient_authority()).context(|| "opening the base rootfs".into())?;
        let tree = GuestTree::new(RootDesc { dir, lowers: Vec::new(), read_only: true, quota: None }, Vec::new())?;
        let out = Collect::default();
        let guest = GuestSpec {
            args: vec![program.into(), "--list".into()],
            stdio: Stdio { stdout: Box::new(out.clone()), ..Stdio::default() },
            ..GuestSpec::new(tree)
        }
        .prepare()
        .map_err(EngineError::PrepareGuest)?;
        match self.inner.runtime.run(&loaded, guest, &Limits::default()) {
            Ok(Exit::Code(0)) => Ok(out
                .text()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.contains('/'))
                .map(String::from)
                .collect()),
            Ok(exit) => Err(EngineError::ToolboxList(program, exit)),
            Err(e) => Err(e.into()),
        }
    }
}
