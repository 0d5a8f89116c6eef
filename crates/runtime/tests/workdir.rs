//! The working directory (WORKDIR, `-w`) handed to a program's wasi-libc before it starts: a
//! Rust std guest (`guests/test-guests` `cwd`) and a C guest built with Debian's wasi-libc
//! (`guests/c/cwd.c`) both report it from `getcwd`/`current_dir`, open relative paths under it,
//! and `chdir` from it, into a mount and back to `/`, with absolute paths unchanged.

mod common;

use std::fs;
use std::path::Path;

use porthole_runtime::Exit;
use porthole_wasi::GuestPath;

/// A rootfs with `here.txt` in `/`, `/app` and `/app/sub`, and a mount `/data` with its own.
fn layout() -> (tempfile::TempDir, tempfile::TempDir) {
    let root = tempfile::tempdir().unwrap();
    fs::create_dir_all(root.path().join("app/sub")).unwrap();
    fs::write(root.path().join("here.txt"), "root\n").unwrap();
    fs::write(root.path().join("app/here.txt"), "app\n").unwrap();
    fs::write(root.path().join("app/sub/here.txt"), "sub\n").unwrap();
    let data = tempfile::tempdir().unwrap();
    fs::write(data.path().join("here.txt"), "data\n").unwrap();
    (root, data)
}

fn run(wasm: &str, workdir: Option<&str>, args: &[&str]) -> String {
    let (root, data) = layout();
    let ns = common::namespace(root.path(), &[("/data", data.path(), false)]);
    let (out, exit) = common::run_with(
        wasm,
        args,
        ns,
        |b| match workdir {
            Some(w) => b.workdir(GuestPath::new(w).unwrap()),
            None => b,
        },
        &Default::default(),
    );
    assert_eq!(exit, Exit::Code(0), "{out}");
    out
}

fn check_both(workdir: Option<&str>, args: &[&str], expect: &str) {
    assert_eq!(run(porthole_guests::CWD, workdir, args), expect, "Rust std guest");
    if let Some(c) = porthole_guests::c_guest("cwd") {
        assert_eq!(run(c.to_str().unwrap(), workdir, args), expect, "C guest");
    }
}

#[test]
fn without_a_workdir_the_guest_starts_in_the_root() {
    check_both(None, &[], "cwd=/ here.txt=root\n");
}

#[test]
fn the_workdir_is_the_libc_working_directory() {
    check_both(
        Some("/app"),
        &["sub", "/data", "/"],
        "cwd=/app here.txt=app\ncwd=/app/sub here.txt=sub\ncwd=/data here.txt=data\ncwd=/ here.txt=root\n",
    );
}

#[test]
fn a_workdir_in_a_mount_resolves_through_the_mount() {
    check_both(Some("/data"), &["/app"], "cwd=/data here.txt=data\ncwd=/app here.txt=app\n");
}

#[test]
fn a_stripped_program_keeps_the_root() {
    // Without its `name` section the libc's variable cannot be found; the program runs as before.
    let wasm = std::fs::read(porthole_guests::CWD).unwrap();
    let stripped = strip_names(&wasm);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cwd-stripped.wasm");
    fs::write(&path, stripped).unwrap();
    assert_eq!(run(path.to_str().unwrap(), Some("/app"), &[]), "cwd=/ here.txt=root\n");
}

/// The module without its custom sections (`name` among them).
fn strip_names(wasm: &[u8]) -> Vec<u8> {
    let mut out = wasm[..8].to_vec();
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        let (len, used) = leb(&wasm[at + 1..]);
        let end = at + 1 + used + len;
        if id != 0 {
            out.extend_from_slice(&wasm[at..end]);
        }
        at = end;
    }
    out
}

fn leb(bytes: &[u8]) -> (usize, usize) {
    let (mut v, mut shift) = (0usize, 0);
    for (i, b) in bytes.iter().enumerate() {
        v |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return (v, i + 1);
        }
        shift += 7;
    }
    panic!("truncated LEB128 in {}", Path::new("module").display())
}
