//! The guests' own unit tests (request, range and manifest parsing, path rules, the worker's
//! sync over real directories, the toolbox shell's parser, expander, builtins and line editor,
//! the userland's option parsing, dates, dd sizes, awk front end) run natively: `guests/` is a
//! separate workspace, so the outer
//! `cargo test --workspace` reaches them only through this test, which runs a nested cargo.

use std::path::Path;
use std::process::Command;

#[test]
fn guest_unit_tests_pass_natively() {
    let guests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guests");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&guests)
        .args(["test", "--package", "pulp", "--package", "toolbox", "--package", "userland", "--lib", "--target-dir"])
        .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("guests-native"));
    // As in build.rs: the outer build's settings must not leak into the nested one.
    for (key, _) in std::env::vars() {
        if key.starts_with("CARGO_") && key != "CARGO_HOME" || key.starts_with("RUSTC") || key == "RUSTFLAGS" {
            cmd.env_remove(key);
        }
    }
    let out = cmd.output().expect("running cargo test in guests/");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "guest unit tests failed:\n{text}");
    assert!(text.contains("test result: ok."), "{text}");
}
