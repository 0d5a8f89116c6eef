//! Paths and bytes of the guest programs in `guests/`, built for `wasm32-wasip1` by this
//! crate's build script. The engine embeds the toolbox (`BUSYBOX_WASM`) as its base image;
//! tests and benchmarks run the others by path.

include!(concat!(env!("OUT_DIR"), "/paths.rs"));

use std::path::{Path, PathBuf};

/// A build context in `dir` for an image `FROM busybox` with the working-directory reporters in
/// `/bin` — `cwd-rust` (`test-guests` `cwd`) and, where clang is installed, `cwd-c`
/// (`guests/c/cwd.c`) — then the Dockerfile lines `more`; gives the commands it has.
pub fn cwd_context(dir: &Path, more: &str) -> Vec<&'static str> {
    std::fs::copy(CWD, dir.join("cwd-rust")).unwrap();
    let mut cmds = vec!["cwd-rust"];
    let mut dockerfile = String::from("FROM busybox\nCOPY cwd-rust /bin/\n");
    if let Some(c) = c_guest("cwd") {
        std::fs::copy(c, dir.join("cwd-c")).unwrap();
        dockerfile.push_str("COPY cwd-c /bin/\n");
        cmds.push("cwd-c");
    }
    dockerfile.push_str(more);
    std::fs::write(dir.join("Dockerfile"), dockerfile).unwrap();
    cmds
}

/// `guests/c/NAME.c` compiled for wasm32-wasi (see [`compile_c`]).
pub fn c_guest(name: &str) -> Option<PathBuf> {
    compile_c(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guests/c").join(format!("{name}.c")))
}

/// Compiles a C program with the installed wasi-libc (`clang --target=wasm32-wasi -O2`) into
/// `target/c-guests/`, at test time rather than in the build script, because clang is optional
/// outside CI; `None` (the caller skips) when clang is missing, except under `CI`, where
/// `scripts/setup.sh` installs it. Written beside its final name and renamed, so test binaries
/// compiling the same program at once never read half a module.
pub fn compile_c(source: &Path) -> Option<PathBuf> {
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/c-guests");
    std::fs::create_dir_all(&out_dir).unwrap();
    let stem = source.file_stem().expect("a C source file").to_string_lossy().into_owned();
    let wasm = out_dir.join(format!("{stem}.wasm"));
    let tmp = out_dir.join(format!(".{stem}.{}.{:?}.wasm", std::process::id(), std::thread::current().id()));
    let status = std::process::Command::new("clang")
        .args(["--target=wasm32-wasi", "-O2", "-Wall", "-o"])
        .arg(&tmp)
        .arg(source)
        .status();
    match status {
        Ok(s) if s.success() => {
            std::fs::rename(&tmp, &wasm).unwrap();
            Some(wasm)
        }
        Ok(s) => panic!("clang failed ({s}) on {}", source.display()),
        Err(e) => {
            assert!(std::env::var_os("CI").is_none(), "clang is missing ({e}); scripts/setup.sh installs it");
            eprintln!("skipping: no clang for wasm32-wasi ({e})");
            None
        }
    }
}
