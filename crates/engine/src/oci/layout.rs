//! The OCI image layout on disk: `oci-layout`, `index.json`, `blobs/sha256/<hex>`, each
//! reached through the layout's `Dir`. Blobs are written under a temporary name and renamed to
//! their digest once complete; blobs read are checked against their digest.

use std::io::{self, Read, Write};

use cap_fs_ext::{FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::{Dir, OpenOptions};
use oci_spec::image::{Descriptor, Digest, MediaType};
use sha2::{Digest as _, Sha256};

use super::ArchiveError;
use crate::Result;
use crate::error::IoContext;

/// The largest JSON document (index, manifest, config) read whole.
const JSON_LIMIT: u64 = 16 << 20;

/// Counts and hashes what passes through it.
pub(crate) struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    pub(crate) len: u64,
}

impl<W: Write> HashingWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        Self { inner, hasher: Sha256::new(), len: 0 }
    }
    pub(crate) fn finish(self) -> (W, String, u64) {
        (self.inner, hex(self.hasher.finalize().as_slice()), self.len)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Hashes what is read through it.
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> HashingReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self { inner, hasher: Sha256::new() }
    }
    pub(crate) fn hex(&self) -> String {
        hex(self.hasher.clone().finalize().as_slice())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(Sha256::digest(bytes).as_slice())
}

/// A layout being written.
pub(crate) struct LayoutWriter {
    blobs: Dir,
}

impl LayoutWriter {
    /// Starts a layout in the directory `root` (`blobs/sha256/` made).
    pub(crate) fn new(root: &Dir) -> Result<Self> {
        root.create_dir_all("blobs/sha256").context(|| "creating blobs/sha256".into())?;
        let blobs = root.open_dir("blobs/sha256").context(|| "opening blobs/sha256".into())?;
        Ok(Self { blobs })
    }

    /// Writes a blob with `write` (given the file), then names it by its digest.
    pub(crate) fn blob_with<T>(
        &self,
        write: impl FnOnce(HashingWriter<std::fs::File>) -> io::Result<(HashingWriter<std::fs::File>, T)>,
    ) -> Result<(String, u64, T)> {
        let tmp = format!(".tmp-{}", porthole_store::random_id().short());
        let opts = OpenOptions::new().write(true).create_new(true).follow(FollowSymlinks::No).clone();
        let file = self.blobs.open_with(&tmp, &opts).context(|| format!("creating blob {tmp}"))?.into_std();
        let written = write(HashingWriter::new(file)).and_then(|(w, t)| {
            let (file, digest, len) = w.finish();
            file.sync_all()?;
            Ok((digest, len, t))
        });
        match written {
            Ok((digest, len, t)) => {
                self.blobs.rename(&tmp, &self.blobs, &digest).context(|| format!("storing blob {digest}"))?;
                Ok((digest, len, t))
            }
            Err(e) => {
                let _ = self.blobs.remove_file(&tmp);
                Err(e).context(|| "writing a blob".into())
            }
        }
    }

    /// Writes `bytes` as a blob; its descriptor.
    pub(crate) fn json_blob(&self, media_type: MediaType, bytes: &[u8]) -> Result<Descriptor> {
        let (digest, len, ()) = self.blob_with(|mut w| w.write_all(bytes).map(|()| (w, ())))?;
        Ok(Descriptor::new(media_type, len, sha256(&digest)))
    }
}

/// `sha256:<hex>` as oci-spec's digest (the hex is ours, so it is valid).
pub(crate) fn sha256(hex: &str) -> Digest {
    format!("sha256:{hex}").parse().expect("a sha256 digest")
}

/// A layout being read.
pub(crate) struct LayoutReader {
    pub(crate) root: Dir,
}

impl LayoutReader {
    /// Opens the blob of `digest` (only `sha256:` digests; the name never leaves `blobs/sha256`).
    pub(crate) fn open(&self, digest: &Digest) -> Result<std::fs::File> {
        let hex = digest.digest();
        if digest.algorithm().as_ref() != "sha256" || hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ArchiveError::Digest(digest.to_string()).into());
        }
        self.open_path(&format!("blobs/sha256/{hex}"))
    }

    /// Opens a file of the layout by its relative name, without following links.
    pub(crate) fn open_path(&self, path: &str) -> Result<std::fs::File> {
        let opts = OpenOptions::new().read(true).follow(FollowSymlinks::No).clone();
        let name = super::layer::entry_path(std::path::Path::new(path))?
            .ok_or_else(|| ArchiveError::Missing(path.to_string()))?;
        let f = self.root.open_with(&name, &opts).map_err(|_| ArchiveError::Missing(path.to_string()))?;
        if !f.metadata().map(|m| m.is_file()).unwrap_or(false) {
            return Err(ArchiveError::Missing(path.to_string()).into());
        }
        Ok(f.into_std())
    }

    /// Reads a small file of the layout whole.
    pub(crate) fn read_path(&self, path: &str) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.open_path(path)?.take(JSON_LIMIT).read_to_end(&mut bytes).map_err(ArchiveError::Read)?;
        Ok(bytes)
    }

    /// Reads a JSON blob whole and checks it against its digest.
    pub(crate) fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.open(digest)?.take(JSON_LIMIT).read_to_end(&mut bytes).map_err(ArchiveError::Read)?;
        let actual = sha256_hex(&bytes);
        if actual != digest.digest() {
            return Err(ArchiveError::BlobDigest { digest: digest.to_string(), actual }.into());
        }
        Ok(bytes)
    }

    pub(crate) fn exists(&self, path: &str) -> bool {
        self.root.symlink_metadata(path).is_ok_and(|m| m.is_file())
    }
}
