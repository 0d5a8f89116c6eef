//! A C program built with the real wasi-libc (Debian's `wasi-libc`, `clang --target=wasm32-wasi`)
//! under Porthole's host: the open flag combinations POSIX allows and CPython uses, stdio,
//! listings, a working directory, and the Pulp layout's absolute link across mounts. The C
//! source is `tests/c/posix_io.c`; it is compiled here, at test time, into `target/c-guests/`.
//! Without clang the test is skipped, except under `CI`, where `scripts/setup.sh` installs it.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use porthole_runtime::Exit;

/// Compiles `tests/c/NAME.c` for wasm32-wasi, or `None` (a skip) when clang is not installed.
fn compile_c(name: &str) -> Option<PathBuf> {
    porthole_guests::compile_c(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c").join(format!("{name}.c")))
}

#[test]
fn a_wasi_libc_program_gets_posix_file_semantics() {
    let Some(wasm) = compile_c("posix_io") else { return };
    let root = tempfile::tempdir().unwrap();
    fs::create_dir(root.path().join("etc")).unwrap();
    fs::write(root.path().join("etc/hostname"), "guest\n").unwrap();
    let data = tempfile::tempdir().unwrap();
    let content = tempfile::tempdir().unwrap();
    fs::write(content.path().join("file.txt"), "content\n").unwrap();
    let mounts = [("/data", data.path(), false), ("/content", content.path(), true)];
    let (out, exit) = common::run(wasm.to_str().unwrap(), &["/data"], root.path(), &mounts);
    assert!(out.ends_with("0 failures\n"), "{out}");
    assert_eq!(exit, Exit::Code(0), "{out}");
    // What it did is on the host, in the volume.
    assert_eq!(fs::read_to_string(data.path().join("append.log")).unwrap(), "one\ntwo\n");
    assert_eq!(fs::read_to_string(data.path().join("renamed.txt")).unwrap(), "hello");
    assert_eq!(fs::read_link(data.path().join("link")).unwrap(), Path::new("/content/file.txt"));
}
