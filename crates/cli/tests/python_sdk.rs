//! End to end: the Python Docker SDK (`python3-docker`, what docker-compose and most scripts
//! drive the engine with) runs `python_sdk.py` against a real `porthole serve`.
//!
//! Skipped (with a note) where python3 or its `docker` module is missing, but never under `CI`.

use std::process::Command;

mod common;
use common::{Daemon, text};

/// A Python with the SDK: the one on `PATH`, else Debian's (where `scripts/setup.sh` puts
/// `python3-docker` when the `PATH` one, a pyenv say, lacks it).
fn python_with_sdk() -> Option<&'static str> {
    let has_sdk =
        |python: &str| Command::new(python).args(["-c", "import docker"]).output().is_ok_and(|o| o.status.success());
    let found = ["python3", "/usr/bin/python3"].into_iter().find(|p| has_sdk(p));
    // CI installs it (scripts/setup.sh); there a missing one is a failure, not a skip.
    assert!(
        found.is_some() || std::env::var_os("CI").is_none(),
        "the Python Docker SDK is missing; scripts/setup.sh installs it"
    );
    if found.is_none() {
        eprintln!("skipping: no Python Docker SDK on this machine (scripts/setup.sh installs python3-docker)");
    }
    found
}

#[test]
fn the_python_sdk_drives_porthole() {
    let Some(python) = python_with_sdk() else { return };
    let d = Daemon::start();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python_sdk.py");
    let out = Command::new(python)
        .arg(script)
        .env("DOCKER_HOST", format!("tcp://{}", d.addr))
        .env_remove("DOCKER_TLS_VERIFY")
        .env_remove("DOCKER_CERT_PATH")
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "python_sdk.py failed ({}):\n{stdout}{stderr}", out.status);
    assert!(stdout.contains("checks passed"), "{stdout}");
    eprintln!("{stdout}");
}
