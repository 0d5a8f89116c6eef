//! What every engine test file needs: an engine on a fresh temporary root, sharing one
//! compiled-module cache under `target/` so each guest is compiled once per build.

#![allow(dead_code)]

use std::path::Path;

use porthole_engine::{CreateOptions, Engine, EngineConfig, LogOptions, WaitCondition};

/// An engine whose state root is `<dir>/root`; `fd_budget` as `EngineConfig` has it.
pub fn open_engine(dir: &Path, fd_budget: Option<usize>) -> Engine {
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/module-cache");
    Engine::open(EngineConfig { root: dir.join("root"), module_cache: Some(cache), fd_budget, ..Default::default() })
        .unwrap()
        .0
}

/// An engine on a new temporary directory, which lives as long as the returned guard.
pub fn engine() -> (tempfile::TempDir, Engine) {
    let tmp = tempfile::tempdir().unwrap();
    let engine = open_engine(tmp.path(), None);
    (tmp, engine)
}

/// `sh -c SCRIPT` as a command.
pub fn sh(script: &str) -> Option<Vec<String>> {
    Some(vec!["sh".into(), "-c".into(), script.into()])
}

/// Everything container `id` wrote, both streams.
pub fn output(e: &Engine, id: &str) -> String {
    e.logs(id, LogOptions::default()).unwrap().past.map(|l| l.unwrap().log).collect()
}

/// `docker run --rm busybox true`, as the CLI drives it: create, start, wait until removed.
pub fn run_rm(e: &Engine) -> porthole_core::names::Id {
    let id = e
        .create(CreateOptions {
            image: "busybox".into(),
            cmd: Some(vec!["true".into()]),
            auto_remove: true,
            ..Default::default()
        })
        .unwrap();
    e.start(id.as_str()).unwrap();
    let _ = e.wait(id.as_str(), WaitCondition::Removed);
    id
}

/// `docker run` without `-d`: create, start, wait; gives the exit code, the output and the id.
pub fn run(e: &Engine, opts: CreateOptions) -> (i32, String, String) {
    let id = e.create(opts).unwrap();
    e.start(id.as_str()).unwrap();
    let code = e.wait(id.as_str(), WaitCondition::NotRunning).unwrap();
    (code, output(e, id.as_str()), id.to_string())
}

/// An output stream for an exec that keeps what it is given; `text()` reads it.
#[derive(Clone, Default)]
pub struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
