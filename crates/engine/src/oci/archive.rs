//! `docker save` and `docker load`: the archive is a tar of an OCI image layout with Docker's
//! `manifest.json` and `repositories` beside it (as Docker 25+ writes, so older loaders read it
//! too). Load takes that, a plain OCI layout, or Docker's legacy format (`manifest.json` with
//! `Config`, `RepoTags`, `Layers` naming `…/layer.tar` files), any of them gzip'd.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::PathBuf;

use cap_std::fs::Dir;
use flate2::read::GzDecoder;

use super::image::{DockerManifest, repositories};
use super::layout::{HashingReader, LayoutReader};
use super::{ArchiveError, LayerSource, ToLoad, Transfer, layer, parse_json, sorted_json};
use crate::error::IoContext;
use crate::{Engine, Result};

/// An archive ready to be streamed (`docker save`): its files are in a transfer directory,
/// discarded when this is dropped.
pub struct SavedArchive {
    _transfer: Transfer,
    dir: Dir,
}

impl SavedArchive {
    /// Writes the archive as a tar stream.
    pub fn write_to<W: Write>(self, out: W) -> io::Result<()> {
        layer::write_layer(&self.dir, out)?.flush()
    }
}

impl Engine {
    /// `docker save`: the images of `references` as Docker 25+ writes them (an OCI layout, plus
    /// `manifest.json` and `repositories`). Unknown references fail here, before any byte is
    /// streamed.
    pub fn save_archive(&self, references: &[String]) -> Result<SavedArchive> {
        let transfer = Transfer::new(&self.inner.store)?;
        let (_, dir) = transfer.dir("archive")?;
        let saved = self.write_layout(references, &dir)?;
        let blob = |d: &oci_spec::image::Descriptor| format!("blobs/sha256/{}", d.digest().digest());
        let manifest: Vec<DockerManifest> = saved
            .iter()
            .map(|s| DockerManifest {
                config: blob(&s.config),
                repo_tags: Some(s.tag.iter().cloned().collect()),
                layers: s.layers.iter().map(blob).collect(),
            })
            .collect();
        let tagged: Vec<(String, String)> = saved.iter().filter_map(|s| Some((s.tag.clone()?, s.id.clone()))).collect();
        dir.write("manifest.json", sorted_json(&manifest)).context(|| "writing manifest.json".into())?;
        dir.write("repositories", sorted_json(&repositories(&tagged))).context(|| "writing repositories".into())?;
        Ok(SavedArchive { _transfer: transfer, dir })
    }

    /// `docker load`: reads the archive from `input` (a tar, or a gzip'd tar), loads every image
    /// in it, and returns Docker's `Loaded image` lines. Nothing is kept if anything in it is
    /// refused.
    pub fn load_archive(&self, input: impl Read) -> Result<Vec<String>> {
        let transfer = Transfer::new(&self.inner.store)?;
        let (_, dir) = transfer.dir("archive")?;
        layer::unpack_layer(decompressed(input, "the archive")?, &dir)?;
        let reader = LayoutReader { root: dir };
        let items = if reader.exists("index.json") {
            super::oci_images(&reader)?
        } else if reader.exists("manifest.json") {
            legacy_images(&reader)?
        } else {
            return Err(ArchiveError::UnknownFormat.into());
        };
        self.import(&reader, items)
    }
}

/// The images of Docker's `manifest.json`.
fn legacy_images(reader: &LayoutReader) -> Result<Vec<ToLoad>> {
    let manifest: Vec<DockerManifest> = parse_json("manifest.json", &reader.read_path("manifest.json")?)?;
    manifest
        .into_iter()
        .map(|m| {
            Ok(ToLoad {
                config: reader.read_path(&resolve(reader, &m.config)?)?,
                layers: m.layers.iter().map(|l| resolve(reader, l).map(LayerSource::Path)).collect::<Result<_>>()?,
                names: m.repo_tags.unwrap_or_default(),
            })
        })
        .collect()
}

/// A name of the archive with the symlinks Docker's legacy format uses for a layer shared by
/// two images (`<id>/layer.tar -> ../<other>/layer.tar`) resolved, by name, inside the archive.
fn resolve(reader: &LayoutReader, name: &str) -> Result<String> {
    let mut path = layer::entry_path(std::path::Path::new(name))?.ok_or_else(|| ArchiveError::Missing(name.into()))?;
    for _ in 0..8 {
        match reader.root.read_link_contents(&path) {
            Ok(target) => {
                let joined = path.parent().map(|p| p.join(&target)).unwrap_or(target);
                path = normalize(&joined).ok_or_else(|| ArchiveError::Climbs(name.into()))?;
            }
            Err(_) => return Ok(path.to_string_lossy().into_owned()),
        }
    }
    Err(ArchiveError::Missing(name.into()).into())
}

/// `a/b/../c` → `a/c`, `None` when it climbs above the root or is absolute.
fn normalize(path: &std::path::Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::Normal(n) => out.push(n),
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Unpacks one layer into `dir`: its diff id (hex). A blob is checked against its digest too.
pub(crate) fn unpack_layer_from(reader: &LayoutReader, source: &LayerSource, dir: &Dir) -> Result<String> {
    let (file, name, digest) = match source {
        LayerSource::Blob(d) => (reader.open(d)?, d.to_string(), Some(d)),
        LayerSource::Path(p) => (reader.open_path(p)?, p.clone(), None),
    };
    let mut hashing = HashingReader::new(file);
    let unpacked = layer::unpack_layer(decompressed(&mut hashing, &name)?, dir)?;
    io::copy(&mut hashing, &mut io::sink()).map_err(ArchiveError::Read)?;
    if let Some(d) = digest
        && hashing.hex() != d.digest()
    {
        return Err(ArchiveError::BlobDigest { digest: d.to_string(), actual: hashing.hex() }.into());
    }
    Ok(unpacked.diff_id)
}

/// `input` decompressed by what its first bytes say it is (gzip, or a plain tar).
fn decompressed<'a>(input: impl Read + 'a, name: &str) -> Result<Box<dyn Read + 'a>> {
    let mut buffered = BufReader::with_capacity(64 * 1024, input);
    let head = buffered.fill_buf().map_err(ArchiveError::Read)?;
    Ok(match head {
        [0x1f, 0x8b, ..] => Box::new(GzDecoder::new(buffered)),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => return Err(ArchiveError::Zstd(name.to_string()).into()),
        _ => Box::new(buffered),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_link_targets_stay_in_the_archive() {
        let n = |s: &str| normalize(std::path::Path::new(s)).map(|p| p.display().to_string());
        assert_eq!(n("a/../b/layer.tar"), Some("b/layer.tar".into()));
        assert_eq!(n("a/../../etc/passwd"), None);
        assert_eq!(n("/etc/passwd"), None);
    }
}
