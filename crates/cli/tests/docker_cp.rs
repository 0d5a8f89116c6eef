//! End to end: `docker cp` both ways through the archive endpoints, and archives that try to
//! write outside the container's tree (`../` entries, links out, absolute links, hard links).
//!
//! Skipped (with a note) where no `docker` CLI is installed, but never under `CI`.

use std::io::{Read, Write};
use std::path::Path;

mod common;
use common::{Daemon, docker_available, text};

/// `PUT /containers/{id}/archive?path=` with `archive`; gives the status line and body.
fn put_archive(d: &Daemon, container: &str, path: &str, archive: &[u8]) -> (u16, String) {
    let mut conn = std::net::TcpStream::connect(&d.addr).unwrap();
    let head = format!(
        "PUT /v1.49/containers/{container}/archive?path={path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-tar\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        d.addr,
        archive.len()
    );
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(archive).unwrap();
    let mut raw = String::new();
    conn.read_to_string(&mut raw).unwrap();
    let status = raw.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// A tar of `(name, kind)` entries, written as a hostile client would (no name checks).
enum Entry<'a> {
    File(&'a str, &'a str),
    Symlink(&'a str, &'a str),
    HardLink(&'a str, &'a str),
}

fn tar_of(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in entries {
        let mut header = tar::Header::new_old();
        let (name, kind, body, link) = match entry {
            Entry::File(name, body) => (name, tar::EntryType::Regular, body.as_bytes(), None),
            Entry::Symlink(name, target) => (name, tar::EntryType::Symlink, &b""[..], Some(target)),
            Entry::HardLink(name, target) => (name, tar::EntryType::Link, &b""[..], Some(target)),
        };
        // Set byte by byte: the tar crate's setters refuse `..`, which is the point here.
        header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(link) = link {
            header.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        header.set_entry_type(kind);
        header.set_mode(0o644);
        header.set_size(body.len() as u64);
        header.set_cksum();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(body);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

#[test]
fn cp_copies_both_ways_through_mounts() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    d.ok(&["volume", "create", "--opt", "size=1m", "small"]);
    d.ok(&[
        "run",
        "-d",
        "--name",
        "cpc",
        "-v",
        "data:/data",
        "-v",
        "ro:/ro:ro",
        "-v",
        "small:/small",
        "busybox",
        "sleep",
        "300",
    ]);
    let local = tempfile::tempdir().unwrap();
    let tree = local.path().join("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    std::fs::write(tree.join("a.txt"), "hello\n").unwrap();
    let old_time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    std::fs::File::options().write(true).open(tree.join("a.txt")).unwrap().set_modified(old_time).unwrap();
    std::fs::write(tree.join("sub/b.txt"), "deep\n").unwrap();
    std::os::unix::fs::symlink("a.txt", tree.join("link")).unwrap();
    // Larger than any request-body limit.
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(tree.join("big"), &big).unwrap();

    // In: into a volume, seen by the guest.
    d.ok(&["cp", tree.to_str().unwrap(), "cpc:/data/"]);
    assert_eq!(d.ok(&["exec", "cpc", "cat", "/data/tree/sub/b.txt"]), "deep\n");
    assert_eq!(d.ok(&["exec", "cpc", "cat", "/data/tree/link"]), "hello\n");
    assert_eq!(d.ok(&["exec", "cpc", "wc", "-c", "/data/tree/big"]).split_whitespace().next(), Some("3000000"));
    // A file to a new name in the rootfs.
    d.ok(&["cp", tree.join("a.txt").to_str().unwrap(), "cpc:/tmp/renamed.txt"]);
    assert_eq!(d.ok(&["exec", "cpc", "cat", "/tmp/renamed.txt"]), "hello\n");

    // Out: the tree back, link kept as a link, bytes identical.
    let back = local.path().join("back");
    d.ok(&["cp", "cpc:/data/tree", back.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(back.join("sub/b.txt")).unwrap(), "deep\n");
    assert_eq!(std::fs::read_link(back.join("link")).unwrap(), Path::new("a.txt"));
    assert!(std::fs::read(back.join("big")).unwrap() == big);
    assert_eq!(std::fs::metadata(back.join("a.txt")).unwrap().modified().unwrap(), old_time, "times survive both ways");
    // What the guest wrote, from the image's own file.
    d.ok(&["exec", "cpc", "sh", "-c", "echo guest-made > /tmp/made"]);
    d.ok(&["cp", "cpc:/tmp/made", local.path().join("made").to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(local.path().join("made")).unwrap(), "guest-made\n");

    let (_, missing) = d.fails(&["cp", "cpc:/nope", local.path().to_str().unwrap()]);
    assert!(missing.contains("Could not find the file /nope in container cpc"), "{missing}");
    let (_, read_only) = d.fails(&["cp", tree.join("a.txt").to_str().unwrap(), "cpc:/ro/"]);
    assert!(read_only.contains("mounted volume is marked read-only"), "{read_only}");
    // A volume's size holds for copies as for the guest's own writes.
    let (_, full) = d.fails(&["cp", tree.join("big").to_str().unwrap(), "cpc:/small/"]);
    assert!(full.contains("extracting big: No space left on device"), "{full}");
    d.ok(&["cp", tree.join("a.txt").to_str().unwrap(), "cpc:/small/"]);
    assert_eq!(d.ok(&["exec", "cpc", "cat", "/small/a.txt"]), "hello\n");
    // A file where a directory is: refused, the directory kept.
    std::fs::write(local.path().join("sub"), "file\n").unwrap();
    let (_, clash) = d.fails(&["cp", local.path().join("sub").to_str().unwrap(), "cpc:/data/tree/"]);
    assert!(clash.contains("cannot overwrite directory \"/data/tree/sub\" with non-directory \"sub\""), "{clash}");
    assert_eq!(d.ok(&["exec", "cpc", "cat", "/data/tree/sub/b.txt"]), "deep\n");
    // A stopped container is copied from too.
    d.ok(&["kill", "cpc"]);
    d.ok(&["cp", "cpc:/tmp/renamed.txt", local.path().join("after-stop").to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(local.path().join("after-stop")).unwrap(), "hello\n");
}

#[test]
fn archives_cannot_write_outside_the_container() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    d.ok(&["run", "-d", "--name", "target", "-v", "vol:/data", "busybox", "sleep", "300"]);
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("canary"), "canary").unwrap();
    let outside_path = outside.path().to_str().unwrap().to_string();
    let marker = format!("porthole-cp-escape-{}", std::process::id());

    // `..` entries are refused before anything is written, as Docker's untar refuses them.
    for name in ["../escaped", "a/../../escaped", "../../../../../../../../../../tmp/escaped"] {
        let (status, body) = put_archive(&d, "target", "/data", &tar_of(&[Entry::File(name, "x")]));
        assert_eq!(status, 400, "{name}: {body}");
        assert!(body.contains(&format!(r#"\"{name}\" is outside of \"/data\""#)), "{name}: {body}");
    }
    let (status, body) =
        put_archive(&d, "target", "/data", &tar_of(&[Entry::HardLink("hard", "../../../../etc/passwd")]));
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("is outside of"), "{body}");

    // Links that point out are followed inside the container's tree, never the host's.
    let up = "../../../../../../../../../..";
    let entries = [
        Entry::Symlink("up", up),
        Entry::File(&format!("up/{marker}"), "relative"),
        Entry::Symlink("abs", &outside_path),
        Entry::File("abs/canary", "overwritten"),
        Entry::File("abs/new", "new"),
    ];
    let (status, body) = put_archive(&d, "target", "/data", &tar_of(&entries));
    assert_eq!(status, 200, "{body}");
    assert_eq!(d.ok(&["exec", "target", "cat", &format!("/{marker}")]), "relative");
    assert_eq!(d.ok(&["exec", "target", "cat", &format!("{outside_path}/canary")]), "overwritten");
    assert_eq!(std::fs::read_to_string(outside.path().join("canary")).unwrap(), "canary");
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1, "nothing new beside the canary");
    for dir in d.root.path().ancestors() {
        assert!(!dir.join(&marker).exists(), "{} escaped to {}", marker, dir.display());
    }
    assert!(text(&d.docker(&["exec", "target", "ls", "/data"]).stdout).contains("abs"));
}
