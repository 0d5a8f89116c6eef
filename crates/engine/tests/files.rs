//! The dashboard's read-only file browsing through the engine, on real directories: listings
//! with guest and host paths, symlinks reported and never followed (not even to read a file
//! outside the volume), devices and FIFOs refused, reads capped, `..` kept inside, a
//! container's view with its mount points, and the graph built from the same world.
use std::fs;
mod common;

use std::os::unix::fs::symlink;
use std::path::Path;

use porthole_core::mounts::MountRequests;
use porthole_engine::{CreateOptions, Engine, EntryKind, ErrorKind, VIEW_LIMIT};

fn engine(tmp: &Path) -> Engine {
    common::open_engine(tmp, None)
}

fn create(engine: &Engine, name: &str, binds: &[&str]) -> String {
    let mounts = MountRequests { binds: binds.iter().map(|b| b.to_string()).collect(), ..Default::default() };
    let opts = CreateOptions {
        name: Some(name.into()),
        image: "busybox".into(),
        cmd: Some(vec!["true".into()]),
        mounts,
        ..Default::default()
    };
    engine.create(opts).unwrap().to_string()
}

#[test]
fn volume_listing_and_safe_views() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = engine(tmp.path());
    create(&engine, "data", &["pulp:/var/lib/pulp"]);
    let data = engine.volume_inspect("pulp").unwrap().mountpoint;
    fs::create_dir(data.join("content")).unwrap();
    fs::write(data.join("content/f.txt"), "hello").unwrap();
    fs::write(tmp.path().join("secret"), "host secret").unwrap();
    symlink(tmp.path().join("secret"), data.join("escape")).unwrap();
    symlink("../../../../secret", data.join("content/up")).unwrap();
    symlink("/var/lib/pulp/content", data.join("abs-dir")).unwrap();
    fs::write(data.join("big"), vec![b'x'; VIEW_LIMIT as usize + 10]).unwrap();
    rustix::fs::mknodat(rustix::fs::CWD, data.join("fifo"), rustix::fs::FileType::Fifo, 0o600.into(), 0).unwrap();

    let root = engine.volume_files("pulp", "/").unwrap();
    assert_eq!(root.mounted_at, vec!["data:/var/lib/pulp"]);
    let names: Vec<(&str, EntryKind)> = root.entries.iter().map(|e| (e.name.as_str(), e.kind)).collect();
    assert_eq!(
        names,
        [
            ("abs-dir", EntryKind::Symlink),
            ("big", EntryKind::File),
            ("content", EntryKind::Dir),
            ("escape", EntryKind::Symlink),
            ("fifo", EntryKind::Other)
        ]
    );
    let escape = root.entries.iter().find(|e| e.name == "escape").unwrap();
    assert_eq!(escape.link_target.as_deref(), Some(tmp.path().join("secret").to_str().unwrap()));
    assert_eq!(escape.guest_path.as_deref(), Some("/var/lib/pulp/escape"));
    assert_eq!(escape.host_path, data.join("escape"));

    let sub = engine.volume_files("pulp", "/content").unwrap();
    assert_eq!(sub.entries[0].guest_path.as_deref(), Some("/var/lib/pulp/content/f.txt"));
    assert_eq!(engine.volume_file("pulp", "/content/f.txt").unwrap().bytes, b"hello");
    // `..` is cleaned away at the root: it can never climb out of the volume.
    assert_eq!(engine.volume_file("pulp", "/../../content/f.txt").unwrap().bytes, b"hello");

    let big = engine.volume_file("pulp", "/big").unwrap();
    assert_eq!((big.bytes.len() as u64, big.truncated, big.size), (VIEW_LIMIT, true, VIEW_LIMIT + 10));
    for refused in ["/escape", "/content/up", "/fifo", "/content", "/abs-dir/f.txt"] {
        let err = engine.volume_file("pulp", refused).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid, "{refused}: {err}");
    }
    // Listing through a link is refused too: the link is the guest's, not the host's.
    assert_eq!(engine.volume_files("pulp", "/abs-dir").unwrap_err().kind(), ErrorKind::Invalid);
    assert_eq!(engine.volume_files("pulp", "/nope").unwrap_err().to_string(), "no such file or directory: /nope");
    assert_eq!(engine.volume_files("nope", "/").unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn container_view_marks_mount_points_and_graph_shows_sharing() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = engine(tmp.path());
    let data = create(&engine, "data", &["pulp:/var/lib/pulp"]);
    let opts = CreateOptions {
        name: Some("web".into()),
        image: "busybox".into(),
        cmd: Some(vec!["true".into()]),
        mounts: MountRequests { volumes_from: vec!["data:ro".into()], ..Default::default() },
        ..Default::default()
    };
    let web = engine.create(opts).unwrap().to_string();

    let lib = engine.container_files("web", "/var/lib").unwrap();
    let pulp = lib.entries.iter().find(|e| e.name == "pulp").unwrap();
    assert!(pulp.mount_point);
    assert_eq!(pulp.host_path, engine.volume_inspect("pulp").unwrap().mountpoint);
    let bin = engine.container_files("web", "/bin").unwrap();
    assert!(bin.entries.iter().any(|e| e.name == "sh"), "{:?}", bin.entries);
    assert_eq!(engine.container_files("nope", "/").unwrap_err().kind(), ErrorKind::NotFound);

    let text = engine.graph().to_string();
    assert!(text.contains(&format!("container:{data} -> volume:pulp : /var/lib/pulp rw")), "{text}");
    assert!(text.contains(&format!("container:{web} -> volume:pulp : /var/lib/pulp ro (from data)")), "{text}");
}

/// The Pulp link, seen from two containers: the web server that mounts both volumes follows it
/// into `/var/lib/pulp`; a container with only `/var/www` sees it dangle.
#[test]
fn container_listing_says_where_a_link_leads_for_that_container() {
    let tmp = tempfile::tempdir().unwrap();
    let e = engine(tmp.path());
    let both = create(&e, "both", &["pulp:/var/lib/pulp", "www:/var/www"]);
    let only_www = create(&e, "onlywww", &["www:/var/www"]);
    let pulp_dir = e.volume_inspect("pulp").unwrap().mountpoint;
    let www_dir = e.volume_inspect("www").unwrap().mountpoint;
    fs::create_dir_all(pulp_dir.join("content")).unwrap();
    fs::write(pulp_dir.join("content/f"), "mirrored").unwrap();
    symlink("/var/lib/pulp/content/f", www_dir.join("f")).unwrap();
    symlink("../lib/pulp/content", www_dir.join("content")).unwrap();

    let listing = e.container_files(&both, "/var/www").unwrap();
    let f = listing.entries.iter().find(|x| x.name == "f").unwrap();
    assert_eq!(
        (f.link_target.as_deref(), f.resolves_to.as_deref(), f.dangling),
        (Some("/var/lib/pulp/content/f"), Some("/var/lib/pulp/content/f"), false)
    );
    let dir = listing.entries.iter().find(|x| x.name == "content").unwrap();
    assert_eq!(dir.resolves_to.as_deref(), Some("/var/lib/pulp/content"));

    let listing = e.container_files(&only_www, "/var/www").unwrap();
    let f = listing.entries.iter().find(|x| x.name == "f").unwrap();
    assert_eq!((f.resolves_to.as_deref(), f.dangling), (None, true));
}
