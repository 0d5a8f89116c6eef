//! The mount namespace, through a real guest on real host directories: the Pulp layout
//! (`/var/lib/pulp` and `/var/www` as separate volumes with links between them), mount points
//! in listings, `..` across mounts, nested mounts, and Linux's errors.

mod common;

use common::{check_probe, probe};
use std::fs;

struct Pulp {
    _tmp: tempfile::TempDir,
    root: std::path::PathBuf,
    pulp: std::path::PathBuf,
    www: std::path::PathBuf,
}

fn pulp() -> Pulp {
    let tmp = tempfile::tempdir().unwrap();
    let (root, pulp, www) = (tmp.path().join("rootfs"), tmp.path().join("pulp"), tmp.path().join("www"));
    for d in [&root, &pulp, &www] {
        fs::create_dir_all(d).unwrap();
    }
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::write(root.join("etc/hostname"), "c0ffee\n").unwrap();
    Pulp { _tmp: tmp, root, pulp, www }
}

#[test]
fn pulp_worker_links_and_web_server_follows() {
    let p = pulp();
    let mounts = [("/var/lib/pulp", p.pulp.as_path(), false), ("/var/www", p.www.as_path(), false)];
    check_probe(
        &p.root,
        &mounts,
        &[
            ("preopens", "ok 3:/ 4:/var/lib/pulp 5:/var/www"),
            ("mkdirp /var/lib/pulp/content", "ok"),
            ("write /var/lib/pulp/content/f hello", "ok"),
            ("mkdirp /var/www/pub", "ok"),
            ("symlink /var/lib/pulp/content/f /var/www/pub/f", "ok"),
            ("symlink ../../lib/pulp/content/f /var/www/pub/rel", "ok"),
            ("symlink /var/lib/pulp/content /var/www/pub/dir", "ok"),
            ("readlink /var/www/pub/f", "ok \"/var/lib/pulp/content/f\""),
            ("read /var/www/pub/f", "ok \"hello\""),
            ("read /var/www/pub/rel", "ok \"hello\""),
            ("read /var/www/pub/dir/f", "ok \"hello\""),
            ("lstat /var/www/pub/f", "ok symlink size=23"),
            ("stat /var/www/pub/f", "ok file size=5"),
            ("ls /var", "ok lib/ www/"),
            ("ls /var/lib", "ok pulp/"),
            ("ls /", "ok etc/ var/"),
            ("ls /var/www/pub", "ok dir@ f@ rel@"),
            ("read /var/www/../lib/pulp/content/f", "ok \"hello\""),
            ("read /var/lib/pulp/../../../../../etc/hostname", "ok \"c0ffee\\n\""),
            ("samedev /var/www /var/lib/pulp", "ok false"),
            ("samedev /var/www/pub /var/www", "ok true"),
            ("samedev / /etc", "ok true"),
        ],
    );
    // On the host: the link is stored verbatim in the www volume, the file in the pulp volume.
    assert_eq!(fs::read_link(p.www.join("pub/f")).unwrap(), std::path::Path::new("/var/lib/pulp/content/f"));
    assert_eq!(fs::read_to_string(p.pulp.join("content/f")).unwrap(), "hello");
    assert!(!p.root.join("var").exists(), "mount points need no directory in the rootfs");
}

#[test]
fn link_into_a_volume_that_is_not_mounted_dangles() {
    let p = pulp();
    fs::create_dir_all(p.pulp.join("content")).unwrap();
    fs::write(p.pulp.join("content/f"), "hello").unwrap();
    fs::create_dir_all(p.www.join("pub")).unwrap();
    std::os::unix::fs::symlink("/var/lib/pulp/content/f", p.www.join("pub/f")).unwrap();
    check_probe(
        &p.root,
        &[("/var/www", p.www.as_path(), false)],
        &[
            ("read /var/www/pub/f", "err ENOENT"),
            ("lstat /var/www/pub/f", "ok symlink size=23"),
            ("ls /var", "ok www/"),
        ],
    );
    check_probe(
        &p.root,
        &[("/var/www", p.www.as_path(), false), ("/var/lib/pulp", p.pulp.as_path(), true)],
        &[("read /var/www/pub/f", "ok \"hello\"")],
    );
}

#[test]
fn read_only_mount_refuses_every_write_with_erofs() {
    let p = pulp();
    fs::create_dir_all(p.pulp.join("content/sub")).unwrap();
    fs::write(p.pulp.join("content/f"), "hello").unwrap();
    fs::create_dir_all(p.www.join("pub")).unwrap();
    std::os::unix::fs::symlink("/var/lib/pulp/content/f", p.www.join("pub/f")).unwrap();
    let mounts = [("/var/lib/pulp", p.pulp.as_path(), true), ("/var/www", p.www.as_path(), false)];
    check_probe(
        &p.root,
        &mounts,
        &[
            ("read /var/lib/pulp/content/f", "ok \"hello\""),
            ("write /var/lib/pulp/content/f bye", "err EROFS"),
            ("append /var/lib/pulp/content/f more", "err EROFS"),
            ("write /var/lib/pulp/new x", "err EROFS"),
            ("write /var/www/pub/f through-link", "err EROFS"),
            ("truncate /var/lib/pulp/content/f 0", "err EROFS"),
            ("mkdir /var/lib/pulp/d", "err EROFS"),
            ("rmdir /var/lib/pulp/content/sub", "err EROFS"),
            ("rm /var/lib/pulp/content/f", "err EROFS"),
            ("rename /var/lib/pulp/content/f /var/lib/pulp/content/g", "err EROFS"),
            ("symlink x /var/lib/pulp/l", "err EROFS"),
            ("link /var/lib/pulp/content/f /var/lib/pulp/content/h", "err EROFS"),
            ("mkdir /var/lib/pulp/content", "err EEXIST"),
            ("write /var/www/ok yes", "ok"),
        ],
    );
    assert_eq!(fs::read_to_string(p.pulp.join("content/f")).unwrap(), "hello");
    assert!(p.pulp.join("content/sub").is_dir());
}

#[test]
fn cross_mount_rename_and_link_are_exdev_and_mount_points_are_busy() {
    let p = pulp();
    let mounts = [("/var/lib/pulp", p.pulp.as_path(), false), ("/var/www", p.www.as_path(), false)];
    check_probe(
        &p.root,
        &mounts,
        &[
            ("write /var/www/a x", "ok"),
            ("rename /var/www/a /var/lib/pulp/a", "err EXDEV"),
            ("link /var/www/a /var/lib/pulp/a", "err EXDEV"),
            ("rename /var/www/a /var/www/b", "ok"),
            ("rmdir /var/www", "err EBUSY"),
            ("rename /var/www /var/www2", "err EBUSY"),
            ("rmdir /var/lib", "err ENOTEMPTY"),
            // Linux's read(2) of a directory; wasmtime-wasi answers EBADF here.
            ("read /var/www", "err EISDIR"),
        ],
    );
    assert!(p.www.join("b").exists());
}

#[test]
fn symlink_loops_are_eloop() {
    let p = pulp();
    check_probe(
        &p.root,
        &[("/data", p.pulp.as_path(), false)],
        &[
            ("symlink self /data/self", "ok"),
            ("read /data/self", "err ELOOP"),
            ("symlink /data/b /data/a", "ok"),
            ("symlink ../data/a /data/b", "ok"),
            ("read /data/a", "err ELOOP"),
            ("write /data/a/x y", "err ELOOP"),
            ("rm /data/a", "ok"),
            ("readlink /data/b", "ok \"../data/a\""),
        ],
    );
}

#[test]
fn nested_mounts_shadow_like_linux() {
    let p = pulp();
    fs::create_dir_all(p.pulp.join("b")).unwrap();
    fs::write(p.pulp.join("b/hidden"), "under the mount").unwrap();
    fs::write(p.pulp.join("top"), "a's file").unwrap();
    let mounts = [("/a", p.pulp.as_path(), false), ("/a/b", p.www.as_path(), false)];
    check_probe(
        &p.root,
        &mounts,
        &[
            ("ls /a", "ok b/ top"),
            ("ls /a/b", "ok"),
            ("read /a/b/hidden", "err ENOENT"),
            ("write /a/b/new inner", "ok"),
            ("read /a/b/../top", "ok \"a's file\""),
            ("samedev /a /a/b", "ok false"),
        ],
    );
    assert_eq!(fs::read_to_string(p.www.join("new")).unwrap(), "inner");
    assert!(!p.pulp.join("b/new").exists());
}

#[test]
fn rootfs_and_volume_writes_land_in_their_own_host_directories() {
    let p = pulp();
    let lines = probe(
        &["write /etc/motd hi", "write /var/www/index.html page"],
        &p.root,
        &[("/var/www", p.www.as_path(), false)],
    );
    assert!(lines.iter().all(|l| l.ends_with("=> ok")), "{lines:?}");
    assert_eq!(fs::read_to_string(p.root.join("etc/motd")).unwrap(), "hi");
    assert_eq!(fs::read_to_string(p.www.join("index.html")).unwrap(), "page");
}

#[test]
fn std_fs_guest_passes_in_a_volume_and_in_the_rootfs() {
    let p = pulp();
    for dir in ["/data", "/"] {
        let (out, exit) = common::run(porthole_guests::STDFS, &[dir], &p.root, &[("/data", p.pulp.as_path(), false)]);
        assert_eq!((out.trim(), exit), ("stdfs ok", porthole_runtime::Exit::Code(0)), "in {dir}");
    }
}

#[test]
fn a_trailing_slash_never_creates_a_file_or_link() {
    let p = pulp();
    std::fs::write(p.pulp.join("f"), "x").unwrap();
    check_probe(
        &p.root,
        &[("/data", p.pulp.as_path(), false)],
        &[
            ("write /data/nf/ x", "err EISDIR"),
            ("rename /data/f /data/zz/", "err ENOTDIR"),
            ("link /data/f /data/hl/", "err ENOENT"),
            ("symlink f /data/sl/", "err ENOENT"),
            ("mkdir /data/d/", "ok"),
            ("rename /data/d/ /data/e/", "ok"),
            ("ls /data", "ok e/ f"),
        ],
    );
}
