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
use porthole_store::ImageRecord;
use porthole_store::copy::usage;
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

/// The directory of an image's one layer: what a build starts `FROM` and `COPY --from` reads
/// (builds flatten, so every image Porthole makes has one).
pub(crate) fn single_layer(store: &porthole_store::Store, image: &ImageRecord) -> Result<std::path::PathBuf> {
    match image.layers.as_slice() {
        [layer] => Ok(store.layer_dir(layer)),
        layers => Err(EngineError::Build(format!(
            "image {} has {} layers; the builder reads images of one layer",
            &image.id[..12.min(image.id.len())],
            layers.len()
        ))),
    }
}

impl Engine {
    /// Turns a finished build directory (`<dir>/rootfs`) into an image: computes its
    /// content-addressed id, moves it into place and records it (idempotent for identical
    /// content).
    pub(crate) fn commit_image(
        &self,
        build_dir: &Path,
        config: ImageConfig,
        parent: &str,
        history: Vec<String>,
    ) -> Result<ImageRecord> {
        let rootfs = build_dir.join("rootfs");
        let mut hasher = Sha256::new();
        hasher.update(serde_json::to_vec(&config).expect("config serializes"));
        Dir::open_ambient_dir(&rootfs, ambient_authority())
            .and_then(|d| tree_digest(&d, &mut hasher))
            .context(|| "hashing the image".into())?;
        let id: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let store = &self.inner.store;
        let mut w = self.world();
        if let Some(existing) = w.images.get(&id) {
            // Under the world lock: a rename into the trash, never the deletion itself.
            let _ = store.discard(build_dir);
            return Ok(existing.clone());
        }
        let record = ImageRecord {
            id: id.clone(),
            created: porthole_store::now_nanos(),
            config,
            parent: parent.to_string(),
            size: usage(&rootfs).0,
            history,
            // A build is flattened into one layer: the stage's whole rootfs (the base image's
            // files and every step's changes), so each image has exactly one.
            layers: vec![id.clone()],
        };
        store.add_layer(&id, &rootfs).context(|| format!("storing the layer of image {id}"))?;
        let target = store.image_dir(&id);
        std::fs::rename(build_dir, &target).context(|| format!("storing image {id}"))?;
        store.save_image(&record).context(|| format!("storing image {id}"))?;
        w.images.insert(id.clone(), record.clone());
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

    pub fn image_inspect(&self, reference: &str) -> Result<(ImageRecord, Vec<String>)> {
        let w = self.world();
        let img = find_image(&w, reference)?.clone();
        let tags = w.tags.iter().filter(|(_, id)| **id == img.id).map(|(t, _)| t.clone()).collect();
        Ok((img, tags))
    }

    /// `docker rmi`: removes a tag; deletes the image when no tag and no container is left on
    /// it. As in Docker, a tag of an image with other tags goes even while containers use the
    /// image; its last tag (or the image by id) does not, unless forced. Returns Docker's
    /// `Untagged:` / `Deleted:` lines.
    pub fn remove_image(&self, reference: &str, force: bool) -> Result<Vec<String>> {
        let mut w = self.world();
        let img = find_image(&w, reference)?.clone();
        let tags: Vec<String> = w.tags.iter().filter(|(_, id)| **id == img.id).map(|(t, _)| t.clone()).collect();
        let named_tag = normalize_tag(reference);
        let by_tag = tags.contains(&named_tag);
        let untag: Vec<String> = if by_tag { vec![named_tag] } else { tags.clone() };
        let last_reference = untag.len() == tags.len();
        let user = w.containers.values().find(|c| c.record.image_id == img.id).map(|c| c.record.id.short().to_string());
        if let (Some(container), true, false) = (&user, last_reference, force) {
            return Err(EngineError::ImageInUse {
                reference: reference.to_string(),
                container: container.clone(),
                image: img.id[..12].to_string(),
            });
        }
        let mut report = Vec::new();
        for t in untag {
            w.tags.remove(&t);
            report.push(format!("Untagged: {t}"));
            self.emit(self.event(EventType::Image, "untag", &img.id).with("name", t));
        }
        self.inner.store.save_tags(&w.tags).context(|| "saving tags".into())?;
        if user.is_none() && last_reference {
            self.inner.store.remove_image(&img.id).context(|| format!("removing image {}", img.id))?;
            w.images.remove(&img.id);
            report.push(format!("Deleted: sha256:{}", img.id));
            self.emit(self.event(EventType::Image, "delete", &img.id));
        }
        Ok(report)
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
            self.commit_image(
                &build,
                config,
                "",
                vec!["porthole base image: the toolbox as /bin/busybox, the userland as /bin/userland".into()],
            )
        })();
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&build);
                return Err(e);
            }
        };
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
