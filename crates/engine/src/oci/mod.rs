//! Images as OCI image layouts and archives: `docker save` / `docker load`, and the layout the
//! registry code pushes from and pulls into.
//!
//! - `image.rs` (*pure*): an `ImageRecord` as an OCI image config (platform `wasi/wasm`,
//!   Docker's `Healthcheck`/`Shell` beside OCI's fields) and back; names as annotated.
//! - `layer.rs`: a layer directory as a tar stream and a tar stream into a new layer
//!   directory, through `cap_std::fs::Dir`s, every entry name checked.
//! - `layout.rs`: blobs by digest in a layout directory, written under a temporary name and
//!   renamed, read back checked against their digest.
//! - `archive.rs`: the archive `docker save` writes (the layout plus Docker's `manifest.json`
//!   and `repositories`) and the three `docker load` reads (that, a plain OCI layout, Docker's
//!   legacy format).
//!
//! Saving takes the records under the world lock and writes without it. Loading unpacks and
//! checks everything into a transfer directory under the store's root first (swept by
//! recovery), and only then, under the lock, moves the new layers into place and records the
//! images: an archive that fails any check leaves the store as it was.

mod archive;
mod image;
mod layer;
mod layout;

use std::path::{Path, PathBuf};

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use flate2::Compression;
use flate2::write::GzEncoder;
use oci_spec::image::{
    Descriptor, Digest, ImageIndex, ImageIndexBuilder, ImageManifest, ImageManifestBuilder, MediaType, OciLayout,
    PlatformBuilder, SCHEMA_VERSION,
};
use porthole_core::event::EventType;
use porthole_store::ImageRecord;

pub use archive::SavedArchive;
pub(crate) use image::{ARCHITECTURE, OS};

use crate::containers::{find_image, normalize_tag};
use crate::error::IoContext;
use crate::{Engine, EngineError, Result};
use layout::{LayoutReader, LayoutWriter};

/// What makes an archive or a layout unloadable. Each names the entry or blob at fault.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("archive entry {0:?} has an absolute name")]
    Absolute(String),
    #[error("archive entry {0:?} climbs out of its layer (..)")]
    Climbs(String),
    #[error("archive entry {name:?} would be written through the symbolic link {link:?}")]
    ThroughLink { name: String, link: String },
    #[error("archive entry {name:?} is under {parent:?}, which is not a directory")]
    NotDirectory { name: String, parent: String },
    #[error("archive entry {0:?} is not a whiteout of a name")]
    BadWhiteout(String),
    #[error("hard link {name:?} names {target:?}, which is not a file earlier in the archive")]
    HardLink { name: String, target: String },
    #[error("archive entry {0:?} is of a kind a layer cannot hold")]
    Entry(String),
    #[error("reading the archive: {0}")]
    Read(#[source] std::io::Error),
    #[error("reading {what}: {error}")]
    Json { what: &'static str, error: String },
    #[error("{0} is missing from the archive")]
    Missing(String),
    #[error("invalid digest {0:?} (only sha256 digests are read)")]
    Digest(String),
    #[error("blob {digest} does not match its digest (its content is sha256:{actual})")]
    BlobDigest { digest: String, actual: String },
    #[error("layer {index} of image {image}: its content is sha256:{actual}, not the {expected} its config names")]
    DiffId { image: String, index: usize, expected: String, actual: String },
    #[error("image {image} names {layers} layers but its config {diff_ids} diff ids")]
    LayerCount { image: String, layers: usize, diff_ids: usize },
    #[error("layer {0}: zstd-compressed layers are not supported")]
    Zstd(String),
    #[error("unsupported image layout version {0:?}")]
    LayoutVersion(String),
    #[error("the archive is neither an OCI image layout (index.json) nor a Docker image archive (manifest.json)")]
    UnknownFormat,
}

/// A directory under the store's root for the files of one save or load (its name starts with
/// the store's `TRANSFER_DIR_PREFIX`, so a crash leaves nothing recovery does not sweep),
/// discarded when dropped.
pub(crate) struct Transfer {
    store: porthole_store::Store,
    path: PathBuf,
}

impl Transfer {
    pub(crate) fn new(store: &porthole_store::Store) -> Result<Self> {
        let path = store.new_transfer_dir().context(|| "creating a transfer directory".into())?;
        Ok(Self { store: store.clone(), path })
    }

    pub(crate) fn dir(&self, sub: &str) -> Result<(PathBuf, Dir)> {
        let path = self.path.join(sub);
        std::fs::create_dir(&path).context(|| format!("creating {}", path.display()))?;
        let dir =
            Dir::open_ambient_dir(&path, ambient_authority()).context(|| format!("opening {}", path.display()))?;
        Ok((path, dir))
    }
}

impl Drop for Transfer {
    fn drop(&mut self) {
        // One rename into the trash; the trash thread deletes it.
        let _ = self.store.discard(&self.path);
    }
}

/// One image written into a layout.
pub(crate) struct Saved {
    /// The name it was saved under (`None` when saved by id).
    pub tag: Option<String>,
    pub id: String,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
}

/// One image to load from a layout.
pub(crate) struct ToLoad {
    pub config: Vec<u8>,
    pub layers: Vec<LayerSource>,
    pub names: Vec<String>,
}

/// Where a layer's bytes are in the layout or archive.
pub(crate) enum LayerSource {
    /// A blob, checked against its digest.
    Blob(Digest),
    /// A file named by Docker's legacy `manifest.json` (its digest is only its diff id's).
    Path(String),
}

impl Engine {
    /// Writes the images named by `references` (names, name:tag or ids) as an OCI image layout
    /// into `dir`, an existing empty directory: `oci-layout`, `index.json` (one manifest per
    /// reference, annotated `org.opencontainers.image.ref.name` = the tag and
    /// `io.containerd.image.name` = the full normalized name), `blobs/sha256/…`.
    pub fn save_oci_layout(&self, references: &[String], dir: &Path) -> Result<()> {
        let root = Dir::open_ambient_dir(dir, ambient_authority()).context(|| format!("opening {}", dir.display()))?;
        if !porthole_store::copy::is_empty_dir(&root).context(|| format!("reading {}", dir.display()))? {
            return Err(EngineError::Invalid(format!("{} is not an empty directory", dir.display())));
        }
        self.write_layout(references, &root).map(|_| ())
    }

    /// Loads every image of the OCI image layout in `dir`, tagging each as its annotations name
    /// it; returns Docker's lines (`Loaded image: NAME:TAG`, or `Loaded image ID: sha256:…`).
    pub fn load_oci_layout(&self, dir: &Path) -> Result<Vec<String>> {
        let root = Dir::open_ambient_dir(dir, ambient_authority()).context(|| format!("opening {}", dir.display()))?;
        let reader = LayoutReader { root };
        let items = oci_images(&reader)?;
        self.import(&reader, items)
    }

    /// The layout of `references` written into `root`; what was written, for `manifest.json`.
    pub(crate) fn write_layout(&self, references: &[String], root: &Dir) -> Result<Vec<Saved>> {
        // Under the lock: only which records and tags; the tarring happens without it.
        let chosen: Vec<(ImageRecord, Option<String>)> = {
            let w = self.world();
            let mut chosen: Vec<(ImageRecord, Option<String>)> = Vec::new();
            for reference in references {
                let img = find_image(&w, reference)?.clone();
                let tag = Some(normalize_tag(reference)).filter(|t| w.tags.get(t) == Some(&img.id));
                if !chosen.iter().any(|(i, t)| i.id == img.id && *t == tag) {
                    chosen.push((img, tag));
                }
            }
            chosen
        };
        let writer = LayoutWriter::new(root)?;
        // Layers shared by several images are written once: layer id → (blob, diff id).
        let mut written: std::collections::HashMap<String, (Descriptor, String)> = Default::default();
        let mut saved = Vec::new();
        let mut index_entries = Vec::new();
        for (img, tag) in chosen {
            let mut layers = Vec::new();
            let mut diff_ids = Vec::new();
            for layer in &img.layers {
                if !written.contains_key(layer) {
                    written.insert(layer.clone(), self.write_layer_blob(&writer, layer)?);
                }
                let (desc, diff_id) = &written[layer];
                layers.push(desc.clone());
                diff_ids.push(diff_id.clone());
            }
            let config = writer.json_blob(MediaType::ImageConfig, &image::config_json(&img, &diff_ids))?;
            let manifest = ImageManifestBuilder::default()
                .schema_version(SCHEMA_VERSION)
                .media_type(MediaType::ImageManifest)
                .config(config.clone())
                .layers(layers.clone())
                .build()
                .expect("a manifest has its fields");
            let mut entry = writer.json_blob(MediaType::ImageManifest, &sorted_json(&manifest))?;
            entry.set_platform(Some(
                PlatformBuilder::default()
                    .os(oci_spec::image::Os::Other(OS.into()))
                    .architecture(oci_spec::image::Arch::Wasm)
                    .build()
                    .expect("a platform"),
            ));
            if let Some(tag) = &tag {
                entry.set_annotations(Some(
                    [
                        (oci_spec::image::ANNOTATION_REF_NAME.to_string(), image::tag_of(tag).to_string()),
                        (image::CONTAINERD_NAME.to_string(), image::full_name(tag)),
                    ]
                    .into(),
                ));
            }
            index_entries.push(entry);
            saved.push(Saved { tag, id: config.digest().digest().to_string(), config, layers });
        }
        let index = ImageIndexBuilder::default()
            .schema_version(SCHEMA_VERSION)
            .media_type(MediaType::ImageIndex)
            .manifests(index_entries)
            .build()
            .expect("an index has its fields");
        let layout = oci_spec::image::OciLayoutBuilder::default()
            .image_layout_version("1.0.0")
            .build()
            .expect("a layout version");
        write_file(root, "index.json", &sorted_json(&index))?;
        write_file(root, "oci-layout", &sorted_json(&layout))?;
        Ok(saved)
    }

    /// Tars and gzips layer `layer` into a blob: its descriptor and diff id.
    fn write_layer_blob(&self, writer: &LayoutWriter, layer: &str) -> Result<(Descriptor, String)> {
        let path = self.inner.store.layer_dir(layer);
        let dir = Dir::open_ambient_dir(&path, ambient_authority()).context(|| format!("opening layer {layer}"))?;
        let (digest, len, diff_id) = writer.blob_with(|file| {
            let tar = layout::HashingWriter::new(GzEncoder::new(file, Compression::fast()));
            let (gz, diff_id, _) = layer::write_layer(&dir, tar)?.finish();
            Ok((gz.finish()?, diff_id))
        })?;
        Ok((Descriptor::new(MediaType::ImageLayerGzip, len, layout::sha256(&digest)), format!("sha256:{diff_id}")))
    }

    /// Unpacks and checks every image of `items` into a transfer directory, then records them
    /// all under the lock: Docker's `Loaded image` lines.
    pub(crate) fn import(&self, reader: &LayoutReader, items: Vec<ToLoad>) -> Result<Vec<String>> {
        let store = &self.inner.store;
        let transfer = Transfer::new(store)?;
        let mut new_layers: Vec<(String, PathBuf)> = Vec::new();
        let mut images = Vec::new();
        for item in items {
            let id = layout::sha256_hex(&item.config);
            let config = image::read_config(&item.config)?;
            if config.diff_ids.len() != item.layers.len() {
                return Err(ArchiveError::LayerCount {
                    image: format!("sha256:{id}"),
                    layers: item.layers.len(),
                    diff_ids: config.diff_ids.len(),
                }
                .into());
            }
            let mut layer_ids = Vec::new();
            for (index, (source, diff_id)) in item.layers.iter().zip(&config.diff_ids).enumerate() {
                let hex = diff_id
                    .strip_prefix("sha256:")
                    .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .ok_or_else(|| ArchiveError::Digest(diff_id.clone()))?
                    .to_ascii_lowercase();
                layer_ids.push(hex.clone());
                if store.layer_dir(&hex).exists() || new_layers.iter().any(|(l, _)| *l == hex) {
                    continue;
                }
                let (path, dir) = transfer.dir(&format!("layer-{}", new_layers.len()))?;
                let actual = archive::unpack_layer_from(reader, source, &dir)?;
                if actual != hex {
                    return Err(ArchiveError::DiffId {
                        image: format!("sha256:{id}"),
                        index,
                        expected: diff_id.clone(),
                        actual,
                    }
                    .into());
                }
                new_layers.push((hex, path));
            }
            images.push((id, config, layer_ids, item.names));
        }
        let sizes: Vec<u64> = images
            .iter()
            .map(|(_, _, layers, _)| {
                layers
                    .iter()
                    .map(|l| {
                        let at = new_layers.iter().find(|(n, _)| n == l).map(|(_, p)| p.clone());
                        porthole_store::copy::usage(&at.unwrap_or_else(|| store.layer_dir(l))).0
                    })
                    .sum()
            })
            .collect();
        // Everything is checked: now the store changes, under the lock (renames and records).
        let mut w = self.world();
        for (layer, path) in &new_layers {
            store.add_layer(layer, path).context(|| format!("storing layer {layer}"))?;
        }
        let mut lines = Vec::new();
        for ((id, config, layers, names), size) in images.into_iter().zip(sizes) {
            if let Some(missing) = layers.iter().find(|l| !store.layer_dir(l).exists()) {
                return Err(EngineError::Invalid(format!("layer {missing} was removed while loading; load again")));
            }
            if !w.images.contains_key(&id) {
                let record = ImageRecord {
                    id: id.clone(),
                    created: config.created,
                    config: config.config,
                    parent: String::new(),
                    size,
                    history: config.history,
                    layers,
                };
                porthole_store::create_private_dir(&store.image_dir(&id)).context(|| format!("storing image {id}"))?;
                store.save_image(&record).context(|| format!("storing image {id}"))?;
                w.images.insert(id.clone(), record);
            }
            for name in &names {
                w.tags.insert(normalize_tag(name), id.clone());
                lines.push(format!("Loaded image: {name}"));
                self.emit(self.event(EventType::Image, "tag", &id).with("name", normalize_tag(name)));
            }
            if names.is_empty() {
                lines.push(format!("Loaded image ID: sha256:{id}"));
            }
            self.emit(self.event(EventType::Image, "load", &id));
        }
        store.save_tags(&w.tags).context(|| "saving tags".into())?;
        Ok(lines)
    }
}

/// The images an OCI layout's `index.json` lists (a nested index, as containerd writes for a
/// multi-platform image, gives its `wasi/wasm` entry, else the first whose manifest is there).
pub(crate) fn oci_images(reader: &LayoutReader) -> Result<Vec<ToLoad>> {
    if reader.exists("oci-layout") {
        let layout: OciLayout = parse_json("oci-layout", &reader.read_path("oci-layout")?)?;
        if !layout.image_layout_version().starts_with("1.") {
            return Err(ArchiveError::LayoutVersion(layout.image_layout_version().clone()).into());
        }
    }
    let index: ImageIndex = parse_json("index.json", &reader.read_path("index.json")?)?;
    let mut out = Vec::new();
    for entry in index.manifests() {
        let names: Vec<String> = image::annotated_name(entry.annotations().as_ref()).into_iter().collect();
        let manifest_desc = match entry.media_type() {
            MediaType::ImageIndex => pick_platform(reader, entry)?,
            _ => entry.clone(),
        };
        let manifest: ImageManifest = parse_json("an image manifest", &reader.read_blob(manifest_desc.digest())?)?;
        let config = reader.read_blob(manifest.config().digest())?;
        let layers = manifest.layers().iter().map(|l| LayerSource::Blob(l.digest().clone())).collect();
        out.push(ToLoad { config, layers, names });
    }
    Ok(out)
}

fn pick_platform(reader: &LayoutReader, entry: &Descriptor) -> Result<Descriptor> {
    let nested: ImageIndex = parse_json("an image index", &reader.read_blob(entry.digest())?)?;
    let present = |d: &&Descriptor| reader.open(d.digest()).is_ok();
    let is_wasm = |d: &&Descriptor| {
        d.platform().as_ref().is_some_and(|p| p.os().to_string() == OS && p.architecture().to_string() == ARCHITECTURE)
    };
    let manifests = nested.manifests();
    manifests
        .iter()
        .filter(present)
        .find(is_wasm)
        .or_else(|| manifests.iter().find(present))
        .cloned()
        .ok_or_else(|| ArchiveError::Missing(format!("a manifest of index {}", entry.digest())).into())
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(what: &'static str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| ArchiveError::Json { what, error: e.to_string() }.into())
}

/// JSON with its object keys sorted (oci-spec keeps maps in `HashMap`s): the same content
/// always gives the same bytes and digest.
pub(crate) fn sorted_json(value: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::to_value(value).expect("serializes")).expect("json")
}

fn write_file(root: &Dir, name: &str, bytes: &[u8]) -> Result<()> {
    root.write(name, bytes).context(|| format!("writing {name}"))
}
