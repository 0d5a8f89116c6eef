//! The walks the host reports to an observer that asks for them: the toolbox's `cat` through a
//! symlink from one mount into another, through a link whose target's mount is absent, and of a
//! plain file, each rendered as the `Walk`'s one-line text.

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::sync::{Arc, Mutex};

use porthole_runtime::{Exit, Limits};
use porthole_wasi::{Mutation, MutationObserver, Walk};

/// Keeps every walk as its text.
#[derive(Default)]
struct Walks(Mutex<Vec<String>>);

impl MutationObserver for Walks {
    fn mutated(&self, _: &Mutation) {}

    fn wants_walks(&self) -> bool {
        true
    }

    fn walked(&self, walk: &Walk<'_>) {
        self.0.lock().unwrap().push(walk.to_string());
    }
}

/// Runs the userland's `ARGS…` (`cat`, which stats each operand before it reads it) over
/// `root` and `mounts`; returns its stdout, exit and the walks.
fn walks_of(args: &[&str], root: &Path, mounts: &[common::M<'_>]) -> (String, Exit, Vec<String>) {
    let walks = Arc::new(Walks::default());
    let observer = walks.clone();
    let (out, exit) = common::run_with(
        porthole_guests::USERLAND,
        args,
        common::namespace(root, mounts),
        |b| b.observer(observer),
        &Limits::default(),
    );
    let walks = walks.0.lock().unwrap().clone();
    (out, exit, walks)
}

/// The Pulp arrangement: a rootfs, `/var/www` with `pub/f` linking into `/var/lib/pulp`.
struct Pulp {
    _tmp: tempfile::TempDir,
    root: std::path::PathBuf,
    www: std::path::PathBuf,
    content: std::path::PathBuf,
}

fn pulp() -> Pulp {
    let tmp = tempfile::tempdir().unwrap();
    let (root, www, content) = (tmp.path().join("rootfs"), tmp.path().join("www"), tmp.path().join("pulp"));
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::write(root.join("etc/hostname"), "c0ffee\n").unwrap();
    fs::create_dir_all(www.join("pub")).unwrap();
    fs::create_dir_all(content.join("content")).unwrap();
    fs::write(content.join("content/abc"), "mirrored\n").unwrap();
    symlink("/var/lib/pulp/content/abc", www.join("pub/f")).unwrap();
    Pulp { _tmp: tmp, root, www, content }
}

#[test]
fn a_link_from_one_mount_into_another() {
    let p = pulp();
    let mounts = [("/var/www", p.www.as_path(), true), ("/var/lib/pulp", p.content.as_path(), true)];
    let (out, exit, walks) = walks_of(&["cat", "/var/www/pub/f"], &p.root, &mounts);
    assert_eq!((out.as_str(), exit), ("mirrored\n", Exit::Code(0)));
    assert_eq!(
        walks,
        [
            "stat /var/www/pub/f: link /var/www/pub/f [/var/www] -> /var/lib/pulp/content/abc; \
             /var/lib/pulp/content/abc [/var/lib/pulp] file: ok",
            "read /var/www/pub/f: link /var/www/pub/f [/var/www] -> /var/lib/pulp/content/abc; \
             /var/lib/pulp/content/abc [/var/lib/pulp] file: ok"
        ]
    );
}

#[test]
fn a_link_into_a_volume_not_mounted_breaks_where_the_path_ends() {
    let p = pulp();
    // Only the www volume: `/var/lib` does not exist in the rootfs, so the walk breaks there.
    fs::create_dir_all(p.root.join("var")).unwrap();
    let mounts = [("/var/www", p.www.as_path(), true)];
    let (_, exit, walks) = walks_of(&["cat", "/var/www/pub/f"], &p.root, &mounts);
    assert_eq!(exit, Exit::Code(1));
    assert_eq!(
        walks,
        [
            "stat /var/www/pub/f: link /var/www/pub/f [/var/www] -> /var/lib/pulp/content/abc; ENOENT (broke at /var [/]: lib missing)"
        ]
    );
}

#[test]
fn a_plain_file_and_a_missing_one() {
    let p = pulp();
    let (out, _, walks) = walks_of(&["cat", "/etc/hostname", "/etc/nope"], &p.root, &[]);
    assert_eq!(out, "c0ffee\n");
    assert_eq!(
        walks,
        [
            "stat /etc/hostname: /etc/hostname [/] file: ok",
            "read /etc/hostname: /etc/hostname [/] file: ok",
            "stat /etc/nope: /etc/nope [/] missing: ENOENT (broke at /etc [/]: nope missing)"
        ]
    );
}

#[test]
fn an_observer_that_wants_no_walks_is_told_none() {
    struct Quiet(Mutex<usize>);
    impl MutationObserver for Quiet {
        fn mutated(&self, _: &Mutation) {}
        fn walked(&self, _: &Walk<'_>) {
            *self.0.lock().unwrap() += 1;
        }
    }
    let p = pulp();
    let quiet = Arc::new(Quiet(Mutex::new(0)));
    let observer = quiet.clone();
    let ns = common::namespace(&p.root, &[]);
    let (out, _) = common::run_with(
        porthole_guests::USERLAND,
        &["cat", "/etc/hostname"],
        ns,
        |b| b.observer(observer),
        &Limits::default(),
    );
    assert_eq!(out, "c0ffee\n");
    assert_eq!(*quiet.0.lock().unwrap(), 0);
}
