//! Copy-on-write containers on disk: a container's own directory holds only what it writes, so
//! creating many containers of a large image costs next to nothing, and a create costs the same
//! for a small image as for a large one; `docker diff` reads that layer.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Instant;

use porthole_engine::{BuildOptions, CreateOptions, Engine, WaitCondition};

/// Bytes on disk (allocated blocks) of everything under `dir`, links not followed.
fn disk_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let md = std::fs::symlink_metadata(e.path()).unwrap();
        total += md.blocks() * 512;
        if md.is_dir() {
            total += disk_bytes(&e.path());
        }
    }
    total
}

fn build(engine: &Engine, base: &Path, tag: &str, dockerfile: &str) {
    let ctx = base.join(format!("ctx-{tag}"));
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
    let opts = BuildOptions { context: ctx, dockerfile: None, tags: vec![tag.into()], ..Default::default() };
    engine.build(opts, &mut |_| {}).unwrap_or_else(|e| panic!("build {tag}: {e}"));
}

/// What one `create` took, printed for a reader comparing images (never asserted).
fn create_timed(engine: &Engine, image: &str) -> std::time::Duration {
    let start = Instant::now();
    engine.create(CreateOptions { image: image.into(), ..Default::default() }).unwrap();
    start.elapsed()
}

#[test]
fn containers_of_an_image_share_its_files() {
    let (tmp, engine) = common::engine();
    // About 16 MiB of data (27 copies of the toolbox) and a thousand small files: what a whole copy per container would cost.
    build(
        &engine,
        tmp.path(),
        "large",
        "FROM busybox\nRUN for i in $(seq 1 27); do cat /bin/busybox >> /blob; done \
         && mkdir /many && for i in $(seq 1 1000); do echo $i > /many/f$i; done\n",
    );
    let size = engine.image_inspect("large").unwrap().0.size;
    assert!(size > 16 << 20, "the image holds only {size} bytes");
    let containers = tmp.path().join("root/containers");
    let before = disk_bytes(&containers);
    const N: u64 = 20;
    for _ in 0..N {
        engine.create(CreateOptions { image: "large".into(), ..Default::default() }).unwrap();
    }
    let per_container = (disk_bytes(&containers) - before) / N;
    println!("each container of a 16 MiB image (and 1000 files) adds {per_container} bytes on disk");
    assert!(per_container < 64 * 1024, "a container took {per_container} bytes of its own");

    let small = create_timed(&engine, "busybox");
    let large = create_timed(&engine, "large");
    println!("create: busybox {small:?}, the larger image {large:?}");
}

/// `docker diff` of a directory removed and made again: as moby reads an opaque directory, it
/// is deleted (the container's layer hides the image's whole) and what it now holds is added.
#[test]
fn a_directory_made_again_shows_deleted_then_its_new_contents() {
    let (_tmp, engine) = common::engine();
    let opts = CreateOptions {
        image: "busybox".into(),
        cmd: common::sh("rm -r /var && mkdir /var && touch /var/x"),
        ..Default::default()
    };
    let id = engine.create(opts).unwrap();
    engine.start(id.as_str()).unwrap();
    assert_eq!(engine.wait(id.as_str(), WaitCondition::NotRunning).unwrap(), 0);
    let changes = engine.changes(id.as_str()).unwrap();
    let shown: Vec<String> = changes.iter().map(|c| format!("{:?} {}", c.kind, c.path)).collect();
    assert_eq!(shown, ["Deleted /var", "Added /var/x"]);
}
