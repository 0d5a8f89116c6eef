//! An OCI image layout on disk (`oci-layout`, `index.json`, `blobs/sha256/<hex>`): what a push
//! reads and a pull writes. Every access goes through the layout's `cap_std` `Dir`, and a blob
//! is named only by a checked `sha256:` digest, so no name in a manifest reaches outside it.

use std::io::{Read, Write};
use std::path::Path;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use oci_spec::image::ImageIndex;
use sha2::{Digest, Sha256};

use crate::RegistryError;

const OCI_LAYOUT: &str = r#"{"imageLayoutVersion":"1.0.0"}"#;

/// A layout directory, opened.
pub struct Layout {
    dir: Dir,
}

impl Layout {
    /// Makes a layout in `path` (an existing directory): `oci-layout` and `blobs/sha256/`.
    pub fn create(path: &Path) -> Result<Layout, RegistryError> {
        let layout = Layout::open(path)?;
        layout.dir.write("oci-layout", OCI_LAYOUT).map_err(RegistryError::layout("writing oci-layout"))?;
        layout.dir.create_dir_all("blobs/sha256").map_err(RegistryError::layout("creating blobs/sha256"))?;
        Ok(layout)
    }

    pub fn open(path: &Path) -> Result<Layout, RegistryError> {
        let dir = Dir::open_ambient_dir(path, ambient_authority())
            .map_err(RegistryError::layout(format!("opening {}", path.display())))?;
        Ok(Layout { dir })
    }

    pub fn index(&self) -> Result<ImageIndex, RegistryError> {
        let text = self.dir.read_to_string("index.json").map_err(RegistryError::layout("reading index.json"))?;
        serde_json::from_str(&text).map_err(|e| RegistryError::InvalidLayout(format!("index.json: {e}")))
    }

    pub fn write_index(&self, index: &ImageIndex) -> Result<(), RegistryError> {
        let text = serde_json::to_vec(index).map_err(|e| RegistryError::InvalidLayout(e.to_string()))?;
        self.dir.write("index.json", text).map_err(RegistryError::layout("writing index.json"))
    }

    /// A blob's bytes, checked against its digest.
    pub fn read_blob(&self, digest: &str) -> Result<Vec<u8>, RegistryError> {
        let path = blob_path(digest)?;
        let mut bytes = Vec::new();
        self.dir
            .open(&path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(RegistryError::layout(format!("reading blob {digest}")))?;
        let actual = sha256_digest(&bytes);
        if actual != digest {
            return Err(RegistryError::InvalidLayout(format!("blob {digest} holds {actual}")));
        }
        Ok(bytes)
    }

    /// Stores `bytes` as a blob and gives its digest.
    pub fn write_blob(&self, bytes: &[u8]) -> Result<String, RegistryError> {
        let digest = sha256_digest(bytes);
        let (mut file, part) = self.part_file(&digest)?;
        file.write_all(bytes).map_err(RegistryError::layout(format!("writing blob {digest}")))?;
        self.commit_blob(&part, &digest)?;
        Ok(digest)
    }

    /// A file to download blob `digest` into; [`Layout::commit_blob`] puts it in its place
    /// once the download is verified.
    pub fn part_file(&self, digest: &str) -> Result<(std::fs::File, String), RegistryError> {
        let part = format!("{}.part", blob_path(digest)?);
        let file = self.dir.create(&part).map_err(RegistryError::layout(format!("creating blob {digest}")))?;
        Ok((file.into_std(), part))
    }

    pub fn commit_blob(&self, part: &str, digest: &str) -> Result<(), RegistryError> {
        self.dir
            .rename(part, &self.dir, blob_path(digest)?)
            .map_err(RegistryError::layout(format!("storing blob {digest}")))
    }
}

/// `sha256:<64 lower-case hex>` → `blobs/sha256/<hex>`; anything else is refused.
fn blob_path(digest: &str) -> Result<String, RegistryError> {
    match digest.strip_prefix("sha256:") {
        Some(hex) if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) => {
            Ok(format!("blobs/sha256/{hex}"))
        }
        _ => Err(RegistryError::InvalidLayout(format!("unsupported digest {digest:?}"))),
    }
}

pub fn sha256_digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_named_by_checked_digests_only() {
        let tmp = tempfile::tempdir().unwrap();
        let layout = Layout::create(tmp.path()).unwrap();
        let digest = layout.write_blob(b"hello").unwrap();
        assert_eq!(digest, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assert_eq!(layout.read_blob(&digest).unwrap(), b"hello");
        for bad in ["sha256:../../etc/passwd", "sha512:00", "sha256:ABCDEF"] {
            assert!(matches!(layout.read_blob(bad), Err(RegistryError::InvalidLayout(_))), "{bad}");
        }
        std::fs::write(tmp.path().join(blob_path(&digest).unwrap()), "tampered").unwrap();
        let err = layout.read_blob(&digest).unwrap_err().to_string();
        assert!(err.starts_with(&format!("invalid OCI image layout: blob {digest} holds sha256:")), "{err}");
    }
}
