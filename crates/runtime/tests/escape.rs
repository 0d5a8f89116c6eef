//! The escape suite: a guest tries every way we know to read or change a host file outside its
//! mounts (`..` chains, host-planted and guest-made symlinks both absolute and relative, hard
//! links, renames, over-long paths, NUL bytes, and a symlink swapped while the guest uses it).
//! Each attempt checks the guest's answer, and after all of them the host file must be unread
//! (its content never appears in the output) and unchanged (content, mode, times), and nothing
//! may have appeared beside it.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

const SECRET: &str = "TOP-SECRET-HOST-DATA";

struct World {
    _tmp: tempfile::TempDir,
    outside: PathBuf,
    root: PathBuf,
    vol: PathBuf,
    ro: PathBuf,
}

fn world() -> World {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().to_path_buf();
    let outside = base.join("outside");
    let (root, vol, ro) = (base.join("rootfs"), base.join("vol"), base.join("ro"));
    for d in [&outside.join("dir"), &root.join("etc"), &vol.join("dirwithlink"), &ro] {
        fs::create_dir_all(d).unwrap();
    }
    fs::write(outside.join("secret.txt"), SECRET).unwrap();
    fs::write(outside.join("dir/inner.txt"), SECRET).unwrap();
    fs::write(root.join("etc/hostname"), "guest\n").unwrap();
    fs::write(vol.join("inside.txt"), "inside").unwrap();
    fs::write(ro.join("file.txt"), "read-only").unwrap();
    // Links a hostile image or another host user could plant in a volume.
    symlink(outside.join("secret.txt"), vol.join("abs")).unwrap();
    symlink("../outside/secret.txt", vol.join("rel")).unwrap();
    symlink(format!("{}{}", "../".repeat(30), outside.join("secret.txt").display()), vol.join("reldeep")).unwrap();
    symlink(outside.join("dir"), vol.join("absdir")).unwrap();
    symlink("../outside/dir", vol.join("reldir")).unwrap();
    symlink("../../outside/dir", vol.join("dirwithlink/link")).unwrap();
    World { _tmp: tmp, outside, root, vol, ro }
}

/// Every path below `dir` with its content, mode and times: what must not change.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32, i64, i64)> {
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        let md = fs::symlink_metadata(&p).unwrap();
        let content = if md.is_file() { fs::read(&p).unwrap() } else { Vec::new() };
        out.insert(p.clone(), (content, md.mode(), md.mtime(), md.mtime_nsec()));
        if md.is_dir() {
            out.extend(snapshot(&p));
        }
    }
    out
}

#[test]
fn no_attempt_reads_or_changes_a_host_file_outside_the_mounts() {
    let w = world();
    let before = snapshot(&w.outside);
    let secret_abs = w.outside.join("secret.txt").display().to_string();
    let secret_rel_to_root = secret_abs.trim_start_matches('/').to_string();
    let long_path = format!("{}x", "a/".repeat(2100));
    let long_name = "n".repeat(256);
    let deep_dotdot = format!("{}outside/secret.txt", "../".repeat(300));

    let attempts: Vec<(String, &str)> = vec![
        ("read ../../outside/secret.txt".into(), "err ENOENT"),
        ("read /../../../outside/secret.txt".into(), "err ENOENT"),
        ("read /data/../../outside/secret.txt".into(), "err ENOENT"),
        (format!("read /{secret_rel_to_root}"), "err ENOENT"),
        ("read //data//..//..//outside/secret.txt".into(), "err ENOENT"),
        ("read /data/abs".into(), "err ENOENT"),
        ("read /data/rel".into(), "err ENOENT"),
        ("read /data/reldeep".into(), "err ENOENT"),
        ("stat /data/abs".into(), "err ENOENT"),
        ("ls /data/absdir".into(), "err ENOENT"),
        ("ls /data/reldir".into(), "err ENOENT"),
        ("read /data/absdir/inner.txt".into(), "err ENOENT"),
        ("read /data/reldir/inner.txt".into(), "err ENOENT"),
        ("write /data/abs pwned".into(), "err ENOENT"),
        ("append /data/rel pwned".into(), "err ENOENT"),
        ("truncate /data/abs 0".into(), "err ENOENT"),
        ("mkdir /data/absdir/new".into(), "err ENOENT"),
        ("write /data/reldir/new pwned".into(), "err ENOENT"),
        ("write /data/../../outside/new pwned".into(), "err ENOENT"),
        (format!("symlink {secret_abs} /data/mine"), "ok"),
        ("read /data/mine".into(), "err ENOENT"),
        (format!("symlink {}{secret_rel_to_root} /data/mine2", "../".repeat(40)), "ok"),
        ("read /data/mine2".into(), "err ENOENT"),
        ("write /data/mine2 pwned".into(), "err ENOENT"),
        ("link /data/abs /data/hard".into(), "ok"),
        ("read /data/hard".into(), "err ENOENT"),
        ("link ../../outside/secret.txt /data/stolen".into(), "err ENOENT"),
        (format!("link /{secret_rel_to_root} /data/stolen2"), "err ENOENT"),
        ("rename /data/abs /data/abs2".into(), "ok"),
        ("rename /ro/file.txt /data/file.txt".into(), "err EXDEV"),
        ("rename /ro/file.txt /ro/moved.txt".into(), "err EROFS"),
        ("rm /ro/file.txt".into(), "err EROFS"),
        (format!("rawopen 3 {long_path}"), "err ENAMETOOLONG"),
        (format!("rawopen 3 {long_name}"), "err ENAMETOOLONG"),
        ("rawopen 3 etc/hostname%00../../outside/secret.txt".into(), "err EINVAL"),
        ("rawopen 4 ../../../../../../outside/secret.txt".into(), "err ENOENT"),
        (format!("rawopen 4 {deep_dotdot}"), "err ENOENT"),
        // WASI refuses an absolute path relative to a directory descriptor.
        (format!("rawopen 4 {secret_abs}"), "err ENOTCAPABLE"),
        (format!("rawsymlink {secret_abs} 4 evil"), "ok"),
        ("read /data/evil".into(), "err ENOENT"),
        ("rawsymlink ../../x%00y 4 evil2".into(), "err EINVAL"),
        ("rawopen 0 etc/hostname".into(), "err ENOTDIR"),
        ("rmrf /data/dirwithlink".into(), "ok"),
        ("ls /data/..".into(), "ok data/ etc/ ro/"),
        ("read /data/../etc/hostname".into(), "ok \"guest\\n\""),
    ];
    assert!(attempts.len() >= 30);
    let ops: Vec<&str> = attempts.iter().map(|(op, _)| op.as_str()).collect();
    let mounts = [("/data", w.vol.as_path(), false), ("/ro", w.ro.as_path(), true)];
    let lines = common::probe(&ops, &w.root, &mounts);
    for ((op, want), line) in attempts.iter().zip(&lines) {
        assert!(!line.contains(SECRET), "leaked by {op}: {line}");
        let got = line.rsplit_once(" => ").unwrap().1;
        assert_eq!(got, *want, "attempt: {op}");
    }
    assert_eq!(lines.len(), attempts.len());
    assert_eq!(snapshot(&w.outside), before, "host files outside the mounts changed");
    // The guest-made links were stored verbatim inside the volume, nowhere else.
    assert_eq!(fs::read_link(w.vol.join("mine")).unwrap(), Path::new(&secret_abs));
    assert_eq!(fs::read_to_string(w.ro.join("file.txt")).unwrap(), "read-only");
}

/// Swaps `link` between a harmless target and one pointing outside until told to stop.
fn swap_forever(link: PathBuf, targets: Vec<PathBuf>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let tmp = link.with_extension("tmp");
        let mut swaps = 0;
        while !stop.load(Ordering::Relaxed) {
            let target = &targets[swaps % targets.len()];
            let _ = fs::remove_file(&tmp);
            let _ = fs::remove_dir_all(&tmp);
            if target.as_os_str() == "DIR" {
                fs::create_dir(&tmp).unwrap();
                fs::write(tmp.join("inner.txt"), "inside").unwrap();
            } else {
                symlink(target, &tmp).unwrap();
            }
            // rename over a directory needs it gone first; over a link it is atomic.
            if fs::rename(&tmp, &link).is_err() {
                let _ = fs::remove_dir_all(&link);
                let _ = fs::remove_file(&link);
                let _ = fs::rename(&tmp, &link);
            }
            swaps += 1;
        }
        swaps
    })
}

#[test]
fn symlink_swapped_between_check_and_use_never_leads_outside() {
    let w = world();
    let before = snapshot(&w.outside);
    let stop = Arc::new(AtomicBool::new(false));
    let file_swapper = swap_forever(
        w.vol.join("swap"),
        vec![PathBuf::from("inside.txt"), w.outside.join("secret.txt"), PathBuf::from("../outside/secret.txt")],
        stop.clone(),
    );
    let dir_swapper = swap_forever(
        w.vol.join("swapdir"),
        vec![PathBuf::from("DIR"), w.outside.join("dir"), PathBuf::from("../outside/dir")],
        stop.clone(),
    );
    let lines = common::probe(
        &["readloop /data/swap 4000", "readloop /data/swapdir/inner.txt 4000"],
        &w.root,
        &[("/data", w.vol.as_path(), false)],
    );
    stop.store(true, Ordering::Relaxed);
    let swaps = file_swapper.join().unwrap() + dir_swapper.join().unwrap();
    eprintln!("{swaps} swaps; outcomes: {lines:#?}");
    assert!(swaps > 100, "the swapper barely ran ({swaps} swaps)");
    for line in &lines {
        assert!(!line.contains(SECRET), "leaked: {line}");
    }
    assert!(lines[0].contains("\"inside\""), "the harmless target was read at least once: {}", lines[0]);
    assert_eq!(snapshot(&w.outside), before);
}
