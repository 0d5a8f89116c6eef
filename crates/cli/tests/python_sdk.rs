//! End to end: the Python Docker SDK (`python3-docker`, what docker-compose and most scripts
//! drive the engine with) runs `python_sdk.py` against a real `porthole serve`.
//!
//! Skipped (with a note) where python3 or its `docker` module is missing, but never under `CI`.

use std::process::Command;

mod common;
use common::{Daemon, text};

fn sdk_available() -> bool {
    let found = Command::new("python3").args(["-c", "import docker"]).output().is_ok_and(|o| o.status.success());
    // CI installs it (scripts/setup.sh); there a missing one is a failure, not a skip.
    assert!(
        found || std::env::var_os("CI").is_none(),
        "the Python Docker SDK is missing; scripts/setup.sh installs it"
    );
    if !found {
        eprintln!("skipping: no Python Docker SDK on this machine (scripts/setup.sh installs python3-docker)");
    }
    found
}

#[test]
fn the_python_sdk_drives_porthole() {
    if !sdk_available() {
        return;
    }
    let d = Daemon::start();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python_sdk.py");
    let out = Command::new("python3")
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
