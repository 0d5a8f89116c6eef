//! A guest's `/dev` (the WASI host's device mount) from the toolbox guest's shell: each device
//! read and written, `stat` and `readdir` showing character devices, changes refused, and
//! `/dev/tty` as the guest's terminal when it has one (`ENXIO` when it has none).

mod common;

use std::fs;
use std::io::Cursor;
use std::path::Path;

use porthole_runtime::{Exit, Limits};
use porthole_wasi::{Input, MountSource, MountSpec, Namespace, Stdio, Tty};

/// A rootfs and an empty directory under the `/dev` mount.
fn namespace(tmp: &Path) -> Namespace {
    let (root, empty) = (tmp.join("rootfs"), tmp.join("dev"));
    fs::create_dir_all(&root).unwrap();
    fs::create_dir_all(&empty).unwrap();
    let dev = MountSpec {
        guest_path: "/dev".into(),
        source: MountSource::Devices { empty: common::open_dir(&empty) },
        readonly: true,
        quota: None,
    };
    Namespace::new(common::open_dir(&root), false, vec![dev]).unwrap()
}

/// `busybox sh -c SCRIPT` over a fresh namespace with `/dev`: stdout and how it ended.
fn sh(script: &str) -> (String, Exit) {
    let tmp = tempfile::tempdir().unwrap();
    common::run_with(porthole_guests::BUSYBOX, &["sh", "-c", script], namespace(tmp.path()), |b| b, &Limits::default())
}

// The toolbox's shell starts every non-builtin as a process of its own, which needs a
// process table; these scripts use builtins (and the shell's own redirections) only, so each
// open, read and write below is the guest's own call on the host's `/dev`.

#[test]
fn each_device_reads_and_writes_as_on_linux() {
    let script = "echo gone > /dev/zero; echo zero=$?; echo gone > /dev/urandom; echo urandom=$?; \
                  echo y 2>&1 > /dev/full; echo full=$?; read line < /dev/null; echo null=$?; \
                  echo a > /dev/null; echo null=$?; { read x < /dev/tty; } 2>&1; echo tty=$?";
    let (out, exit) = sh(script);
    assert_eq!(exit, Exit::Code(0), "{out}");
    assert_eq!(
        out,
        "zero=0\nurandom=0\necho: write error: No space left on device\nfull=1\nnull=1\nnull=0\n\
         sh: can't open '/dev/tty': No such device or address\ntty=1\n"
    );
}

#[test]
fn dev_holds_character_devices_only_and_refuses_changes() {
    let script = "cd /dev && echo *; for d in *; do test -c $d || echo not-c $d; done; test -e sda || echo no sda; \
                  { echo x > /dev/new; } 2>&1; echo new=$?";
    let (out, exit) = sh(script);
    assert_eq!(exit, Exit::Code(0), "{out}");
    assert_eq!(
        out,
        "full null random stderr stdin stdout tty urandom zero\nno sda\n\
         sh: can't create /dev/new: Read-only file system\nnew=1\n"
    );
}

#[test]
fn dev_tty_is_the_terminal_of_the_guest() {
    let tmp = tempfile::tempdir().unwrap();
    let out = common::Captured::default();
    let tty = Tty::new(Cursor::new(b"typed\n".to_vec()), Box::new(std::io::sink()));
    let stdio =
        Stdio { stdin: Input::Tty(tty), stdout: Box::new(out.clone()), stderr: Box::new(out.clone()), tty: true };
    // Reading /dev/tty while stdin is elsewhere still reads the terminal.
    let script = "read x < /dev/tty; echo got $x; test -c /dev/tty && echo c";
    let (_, exit) = common::run_with(
        porthole_guests::BUSYBOX,
        &["sh", "-c", script],
        namespace(tmp.path()),
        |b| b.stdio(stdio),
        &Limits::default(),
    );
    assert_eq!(exit, Exit::Code(0), "{}", out.text());
    assert_eq!(out.text(), "got typed\nc\n");
}
