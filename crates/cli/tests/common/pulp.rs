//! The images of `examples/pulp`, built through the docker CLI: shared by the Pulp end-to-end
//! test and the `httpd` benchmark.

use std::path::{Path, PathBuf};

use super::Daemon;

pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/pulp")
}

/// `examples/pulp/<dir>` as a build context; `pulp-base` also gets the guests, which
/// Porthole's build makes (they are never committed).
pub fn build(d: &Daemon, tag: &str, dir: &str) {
    let context = tempfile::tempdir().unwrap();
    std::fs::copy(examples().join(dir).join("Dockerfile"), context.path().join("Dockerfile")).unwrap();
    if dir == "base" {
        std::fs::copy(porthole_guests::PULP_WORKER, context.path().join("pulp-worker.wasm")).unwrap();
        std::fs::copy(porthole_guests::HTTPD, context.path().join("httpd.wasm")).unwrap();
    }
    d.ok(&["build", "-q", "-t", tag, context.path().to_str().unwrap()]);
}
