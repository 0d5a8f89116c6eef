//! Builds every guest in `guests/` for `wasm32-wasip1` (release) with a nested cargo, into its
//! own target directory so it never waits on the outer build's lock, and writes `paths.rs` with
//! the absolute path of each `.wasm`. Guests are always built from source; nothing prebuilt is
//! committed.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip1";

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let guests = manifest_dir.join("../../guests").canonicalize().expect("guests/ directory");
    let target_dir = guests_target_dir(&manifest_dir);
    println!("cargo:rerun-if-changed={}", guests.display());
    for entry in walk(&guests) {
        println!("cargo:rerun-if-changed={}", entry.display());
    }

    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&guests)
        .args(["build", "--release", "--target", TARGET, "--workspace", "--bins"])
        .arg("--target-dir")
        .arg(&target_dir);
    // The outer build's settings (its target, rustflags, profile) must not leak into the guests.
    for (key, _) in env::vars() {
        if key.starts_with("CARGO_") && key != "CARGO_HOME" || key.starts_with("RUSTC") || key == "RUSTFLAGS" {
            cmd.env_remove(key);
        }
    }
    let status = cmd.status().expect("running cargo for the guests");
    if !status.success() {
        panic!("building the guests failed; is the target installed? run: rustup target add {TARGET} wasm32-wasip2");
    }

    let bin_dir = target_dir.join(TARGET).join("release");
    let mut out = String::new();
    for name in guest_binaries(&guests) {
        let wasm = bin_dir.join(format!("{name}.wasm"));
        assert!(wasm.exists(), "guest {name} was not built at {}", wasm.display());
        let konst = name.to_uppercase().replace('-', "_");
        let path = format!("{:?}", wasm.display().to_string());
        out.push_str(&format!("/// Path of `{name}.wasm`, built from `guests/`.\npub const {konst}: &str = {path};\n"));
        out.push_str(&format!(
            "/// The bytes of `{name}.wasm`.\npub static {konst}_WASM: &[u8] = include_bytes!({path});\n"
        ));
    }
    let out_file = PathBuf::from(env::var("OUT_DIR").unwrap()).join("paths.rs");
    std::fs::write(out_file, out).unwrap();
}

/// `<workspace target>/guests`: beside the host build, so `cargo clean` removes it too.
/// `PORTHOLE_GUESTS_TARGET_DIR` overrides it, for two checkouts that share one target dir but
/// must not overwrite each other's guests.
fn guests_target_dir(manifest_dir: &Path) -> PathBuf {
    println!("cargo:rerun-if-env-changed=PORTHOLE_GUESTS_TARGET_DIR");
    if let Some(dir) = env::var_os("PORTHOLE_GUESTS_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir).join("guests"),
        None => manifest_dir.join("../../target/guests"),
    }
}

/// Binary names: every `src/bin/*.rs` of every guest package, and each package with `src/main.rs`.
fn guest_binaries(guests: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for pkg in std::fs::read_dir(guests).unwrap().flatten() {
        let bin_dir = pkg.path().join("src/bin");
        if let Ok(bins) = std::fs::read_dir(&bin_dir) {
            for bin in bins.flatten() {
                if let Some(stem) = bin.path().file_stem().and_then(|s| s.to_str()) {
                    names.push(stem.to_string());
                }
            }
        }
        if pkg.path().join("src/main.rs").exists() {
            names.push(pkg.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    names
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name == "Cargo.lock" {
            continue;
        }
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
