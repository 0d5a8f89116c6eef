//! The compiled-module cache: `<dir>/<sha256 of the wasm>-<engine hash>.cwasm`. The engine hash
//! covers the wasmtime version and every setting that changes compiled code, so a cache shared
//! by differently configured engines (or an upgrade) never loads a stale artifact.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::PathBuf;

use wasmtime::{Engine, Module};

use crate::LoadError;

#[derive(Clone)]
pub(crate) struct ModuleCache {
    dir: PathBuf,
    engine_hash: u64,
}

impl ModuleCache {
    pub fn new(dir: PathBuf, engine: &Engine) -> Self {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        Self { dir, engine_hash: h.finish() }
    }

    /// The module of `bytes` (whose sha256 is `digest`), from the cache or compiled into it.
    pub fn get_or_compile(&self, engine: &Engine, digest: &[u8; 32], bytes: &[u8]) -> Result<Module, LoadError> {
        let digest = hex(digest);
        let path = self.dir.join(format!("{digest}-{:016x}.cwasm", self.engine_hash));
        if path.exists() {
            // SAFETY: the file was written by `Module::serialize` of an engine with the same
            // compatibility hash, into a directory only Porthole writes, atomically (a reader
            // never sees a partial file). A file that fails to load is recompiled below.
            if let Ok(m) = unsafe { Module::deserialize_file(engine, &path) } {
                return Ok(m);
            }
        }
        let module = Module::new(engine, bytes).map_err(LoadError::Invalid)?;
        if let Ok(artifact) = module.serialize() {
            // A cache that cannot be written only costs speed.
            let _ = write_atomically(&path, &artifact);
        }
        Ok(module)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Write, fsync, rename: concurrent writers (parallel tests) each write their own temporary
/// file, and readers see either no file or a whole one.
fn write_atomically(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("cache file has a directory");
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.{:?}.tmp",
        path.file_name().unwrap().to_string_lossy(),
        std::process::id(),
        std::thread::current().id()
    ));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}
