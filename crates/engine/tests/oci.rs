//! `docker save` / `docker load` at the engine: an image saved as an OCI layout (and as the
//! archive Docker writes) and loaded into a fresh root gives containers the same files; the
//! layout is what the OCI spec says; Docker's legacy archives load; hostile archives are
//! refused and leave the store as it was.

mod common;

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use porthole_engine::{BuildOptions, CreateOptions, Engine};
use sha2::{Digest, Sha256};

fn build(engine: &Engine, base: &Path, tag: &str, dockerfile: &str, files: &[(&str, &str)]) {
    let ctx = base.join(format!("ctx-{}", tag.replace([':', '/'], "-")));
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
    for (name, text) in files {
        std::fs::create_dir_all(ctx.join(name).parent().unwrap()).unwrap();
        std::fs::write(ctx.join(name), text).unwrap();
    }
    let opts = BuildOptions { context: ctx, dockerfile: None, tags: vec![tag.into()], ..Default::default() };
    engine.build(opts, &mut |_| {}).unwrap_or_else(|e| panic!("build {tag}: {e}"));
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// What a container of `image` sees of the files the test image has.
const LOOK: &str = "cd /app && ls -l . sub && cat data.txt sub/deep.txt && readlink link abs \
                    && (test -e /bin/yes && echo yes-present || echo yes-gone) \
                    && (test -e /app/gone.txt && echo gone-present || echo gone-gone) && cat /extra.txt \
                    && ls -l /bin/suid && echo $GREETING && pwd";

fn look(engine: &Engine, image: &str) -> (i32, String) {
    let (code, out, _) =
        common::run(engine, CreateOptions { image: image.into(), cmd: common::sh(LOOK), ..Default::default() });
    (code, out)
}

/// Builds `demo:1` (files, a symlink, an absolute symlink, a hard link, modes, a file to be
/// deleted) in `root_dir`, then stacks a second layer on it through the store, as a build of
/// one layer per step would: `/extra.txt` added, `/bin/yes` and `/app/gone.txt` whited out.
fn demo_image(dir: &Path) -> String {
    let engine = common::open_engine(dir, None);
    build(
        &engine,
        dir,
        "demo:1",
        "FROM busybox\nCOPY app /app\n\
         RUN ln -s data.txt /app/link && ln -s /etc/passwd /app/abs && ln /app/data.txt /app/hard \
         && chmod 640 /app/data.txt && chmod 750 /app/sub && chmod 4755 /app/run.sh\n\
         ENV GREETING=hello\nVOLUME /data\nWORKDIR /app\nEXPOSE 8080\nLABEL team=storage\nCMD [\"sh\"]\n",
        &[
            ("app/data.txt", "the data\n"),
            ("app/sub/deep.txt", "deep\n"),
            ("app/run.sh", "#!/bin/sh\necho run\n"),
            ("app/gone.txt", "to be deleted\n"),
        ],
    );
    drop(engine);
    let (store, _) = porthole_store::Store::open(&dir.join("root")).unwrap();
    let tags = store.tags().unwrap();
    let mut img = store.image(&tags["demo:1"]).unwrap().unwrap();
    let upper = dir.join("root/upper-layer");
    std::fs::create_dir_all(upper.join("bin")).unwrap();
    std::fs::create_dir_all(upper.join("app")).unwrap();
    std::fs::write(upper.join("extra.txt"), "from the upper layer\n").unwrap();
    std::fs::write(upper.join("bin/.wh.yes"), "").unwrap();
    std::fs::write(upper.join("app/.wh.gone.txt"), "").unwrap();
    // A setuid program as the WASI host keeps one: 0755 on the host, the guest's 4755 beside it.
    let suid = upper.join("bin/suid");
    std::fs::write(&suid, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&suid, std::fs::Permissions::from_mode(0o755)).unwrap();
    rustix::fs::setxattr(&suid, "user.porthole.mode", b"4755", rustix::fs::XattrFlags::empty()).unwrap();
    let upper_id = "d".repeat(64);
    store.add_layer(&upper_id, &upper).unwrap();
    img.layers.push(upper_id);
    img.id = "e".repeat(64);
    std::fs::create_dir_all(store.image_dir(&img.id)).unwrap();
    store.save_image(&img).unwrap();
    let mut tags = tags;
    tags.insert("demo:2".into(), img.id.clone());
    store.save_tags(&tags).unwrap();
    img.id
}

#[test]
fn an_image_saved_as_a_layout_loads_into_a_fresh_root_with_the_same_files() {
    let tmp = tempfile::tempdir().unwrap();
    let a_dir = tmp.path().join("a");
    demo_image(&a_dir);
    let a = common::open_engine(&a_dir, None);
    let (code, seen_in_a) = look(&a, "demo:2");
    assert_eq!(code, 0, "{seen_in_a}");
    assert!(seen_in_a.contains("yes-gone") && seen_in_a.contains("gone-gone"), "{seen_in_a}");

    let layout = tmp.path().join("layout");
    std::fs::create_dir(&layout).unwrap();
    a.save_oci_layout(&["demo:2".into()], &layout).unwrap();

    // The layout is the spec's: oci-layout, an index naming the image, a manifest, a config
    // with the platform and the image's settings, gzip'd layers whose digests match.
    let read = |p: &str| std::fs::read(layout.join(p)).unwrap();
    let json = |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b).unwrap();
    assert_eq!(json(&read("oci-layout")), serde_json::json!({"imageLayoutVersion": "1.0.0"}));
    let index = json(&read("index.json"));
    let entry = &index["manifests"][0];
    assert_eq!(entry["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(entry["platform"], serde_json::json!({"os": "wasi", "architecture": "wasm"}));
    assert_eq!(entry["annotations"]["org.opencontainers.image.ref.name"], "2");
    assert_eq!(entry["annotations"]["io.containerd.image.name"], "docker.io/library/demo:2");
    let blob = |digest: &serde_json::Value| {
        let d = digest.as_str().unwrap().strip_prefix("sha256:").unwrap().to_string();
        let bytes = read(&format!("blobs/sha256/{d}"));
        assert_eq!(hex(&bytes), d, "a blob is named by its digest");
        bytes
    };
    let manifest = json(&blob(&entry["digest"]));
    let config = json(&blob(&manifest["config"]["digest"]));
    assert_eq!((config["os"].as_str(), config["architecture"].as_str()), (Some("wasi"), Some("wasm")));
    assert_eq!(config["config"]["WorkingDir"], "/app");
    assert_eq!(config["config"]["Volumes"], serde_json::json!({"/data": {}}));
    assert_eq!(config["config"]["ExposedPorts"], serde_json::json!({"8080/tcp": {}}));
    assert_eq!(config["config"]["Labels"], serde_json::json!({"team": "storage"}));
    let layers = manifest["layers"].as_array().unwrap();
    // The base image's layer, one per build step that wrote files, and the hand-made upper.
    let (record, _) = a.image_inspect("demo:2").unwrap();
    assert!(record.layers.len() >= 3, "{:?}", record.layers);
    assert_eq!(layers.len(), record.layers.len());
    for (layer, diff_id) in layers.iter().zip(config["rootfs"]["diff_ids"].as_array().unwrap()) {
        assert_eq!(layer["mediaType"], "application/vnd.oci.image.layer.v1.tar+gzip");
        let mut tar = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&blob(&layer["digest"])[..]), &mut tar).unwrap();
        assert_eq!(format!("sha256:{}", hex(&tar)), diff_id.as_str().unwrap());
    }

    // Into a fresh root: the same image, the same files.
    let b = common::open_engine(&tmp.path().join("b"), None);
    assert_eq!(b.load_oci_layout(&layout).unwrap(), ["Loaded image: demo:2"]);
    let (code, seen_in_b) = look(&b, "demo:2");
    assert_eq!((code, &seen_in_b), (0, &seen_in_a));
    let (loaded, tags) = b.image_inspect("demo:2").unwrap();
    assert_eq!(tags, ["demo:2"]);
    assert_eq!(loaded.id, hex(&blob(&manifest["config"]["digest"])), "the image id is its config's digest");
    assert_eq!(loaded.config, a.image_inspect("demo:2").unwrap().0.config);
    // On disk, in the loaded layer: modes, the hard link, the links verbatim.
    // The RUN step's layer: it copied data.txt and sub up to change them and made the links.
    let layer_dir = |l: &String| tmp.path().join("b/root/layers").join(l);
    let layer = loaded.layers.iter().map(layer_dir).find(|l| l.join("app/hard").exists()).expect("the RUN's layer");
    let md = |p: &str| std::fs::symlink_metadata(layer.join(p)).unwrap();
    assert_eq!(md("app/data.txt").permissions().mode() & 0o7777, 0o640);
    assert_eq!(md("app/sub").permissions().mode() & 0o7777, 0o750);
    let upper = layer_dir(loaded.layers.last().unwrap());
    assert!(seen_in_b.contains("-rwsr-xr-x"), "the setuid bit travels: {seen_in_b}");
    assert_eq!(std::fs::metadata(upper.join("bin/suid")).unwrap().permissions().mode() & 0o7777, 0o755);
    let mut kept = [0u8; 8];
    let n = rustix::fs::getxattr(upper.join("bin/suid"), "user.porthole.mode", &mut kept).unwrap();
    assert_eq!(&kept[..n], b"4755", "never set on the host file, kept beside it");
    assert_eq!(md("app/data.txt").ino(), md("app/hard").ino());
    assert_eq!(std::fs::read_link(layer.join("app/abs")).unwrap(), Path::new("/etc/passwd"));
    assert!(upper.join("bin/.wh.yes").is_file(), "whiteouts are kept as they are");

    // Loading again changes nothing and shares the layers.
    let layers = || std::fs::read_dir(tmp.path().join("b/root/layers")).unwrap().count();
    let before = layers();
    assert_eq!(b.load_oci_layout(&layout).unwrap(), ["Loaded image: demo:2"]);
    assert_eq!(layers(), before);
}

#[test]
fn the_same_image_saves_to_the_same_bytes_and_a_saved_id_loads_by_id() {
    let (tmp, engine) = common::engine();
    let id = engine.image_inspect("busybox").unwrap().0.id;
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    for dir in [&one, &two] {
        std::fs::create_dir(dir).unwrap();
        engine.save_oci_layout(std::slice::from_ref(&id), dir).unwrap();
    }
    assert_eq!(std::fs::read(one.join("index.json")).unwrap(), std::fs::read(two.join("index.json")).unwrap());
    let other = common::open_engine(&tmp.path().join("other"), None);
    let lines = other.load_oci_layout(&one).unwrap();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].starts_with("Loaded image ID: sha256:"), "{lines:?}");
    // A layout is written only into an empty directory.
    let err = engine.save_oci_layout(&["busybox".into()], &one).unwrap_err();
    assert!(err.to_string().ends_with("is not an empty directory"), "{err}");
    assert_eq!(
        engine.save_oci_layout(&["nosuch".into()], &tmp.path().join("none")).unwrap_err().to_string(),
        format!("opening {}: No such file or directory (os error 2)", tmp.path().join("none").display())
    );
}

#[test]
fn the_docker_archive_round_trips_and_holds_manifest_json() {
    let (tmp, a) = common::engine();
    build(
        &a,
        tmp.path(),
        "web:1",
        "FROM busybox\nCOPY index.html /www/\nCMD [\"cat\", \"/www/index.html\"]\n",
        &[("index.html", "<h1>hi</h1>\n")],
    );
    let mut archive = Vec::new();
    a.save_archive(&["web:1".into()]).unwrap().write_to(&mut archive).unwrap();
    let mut names: Vec<String> = tar::Archive::new(&archive[..])
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .filter(|n| !n.starts_with("blobs/sha256/") || n == "blobs/sha256/")
        .collect();
    names.sort();
    assert_eq!(names, ["blobs/", "blobs/sha256/", "index.json", "manifest.json", "oci-layout", "repositories"]);
    let b = common::open_engine(&tmp.path().join("b"), None);
    assert_eq!(b.load_archive(&archive[..]).unwrap(), ["Loaded image: web:1"]);
    let (code, out, _) = common::run(&b, CreateOptions { image: "web:1".into(), ..Default::default() });
    assert_eq!((code, out.as_str()), (0, "<h1>hi</h1>\n"));
    // The same archive gzip'd loads too.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&archive).unwrap();
    let c = common::open_engine(&tmp.path().join("c"), None);
    assert_eq!(c.load_archive(&gz.finish().unwrap()[..]).unwrap(), ["Loaded image: web:1"]);
}

/// A tar entry with exactly this name (the tar crate's own builder refuses `..` and `/`).
fn raw_entry(tar: &mut tar::Builder<Vec<u8>>, name: &str, kind: tar::EntryType, link: &str, data: &[u8]) {
    let mut h = tar::Header::new_old();
    h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
    h.set_entry_type(kind);
    h.set_mode(if kind == tar::EntryType::Directory { 0o755 } else { 0o644 });
    h.set_size(data.len() as u64);
    h.set_cksum();
    tar.append(&h, data).unwrap();
}

type Entry<'a> = (&'a str, tar::EntryType, &'a str, &'a [u8]);

/// Docker's legacy archive (`manifest.json`, `<id>.json`, `<layer>/layer.tar`) of one image
/// whose one layer has `entries`, for another platform unless `wasm`.
fn legacy_archive(tag: &str, entries: &[Entry], gzip_layer: bool, os: &str, arch: &str) -> Vec<u8> {
    let mut layer = tar::Builder::new(Vec::new());
    for (name, kind, link, data) in entries {
        raw_entry(&mut layer, name, *kind, link, data);
    }
    let layer = layer.into_inner().unwrap();
    let diff_id = format!("sha256:{}", hex(&layer));
    let layer_bytes = if gzip_layer {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&layer).unwrap();
        gz.finish().unwrap()
    } else {
        layer
    };
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": arch, "os": os, "created": "2024-05-01T10:00:00.5Z",
        "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"], "Volumes": {"/v": {}}},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "ADD rootfs.tar /"}]
    }))
    .unwrap();
    let config_name = format!("{}.json", hex(&config));
    let manifest = serde_json::to_vec(&serde_json::json!([
        {"Config": config_name, "RepoTags": [tag], "Layers": ["0001/layer.tar"]}
    ]))
    .unwrap();
    let mut outer = tar::Builder::new(Vec::new());
    for (name, data) in
        [("manifest.json", &manifest), (config_name.as_str(), &config), ("0001/layer.tar", &layer_bytes)]
    {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        outer.append_data(&mut h, name, &data[..]).unwrap();
    }
    outer.into_inner().unwrap()
}

#[test]
fn a_legacy_docker_archive_loads_and_its_linux_program_is_refused_by_name() {
    let (_tmp, engine) = common::engine();
    let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0";
    let entries: &[Entry] = &[
        ("bin/", tar::EntryType::Directory, "", b""),
        ("bin/sh", tar::EntryType::Regular, "", elf),
        ("etc/hello", tar::EntryType::Regular, "", b"hi\n"),
        ("dev/null", tar::EntryType::Char, "", b""),
    ];
    for gzip in [false, true] {
        let archive = legacy_archive("linuxapp:1", entries, gzip, "linux", "amd64");
        assert_eq!(engine.load_archive(&archive[..]).unwrap(), ["Loaded image: linuxapp:1"]);
    }
    let (img, _) = engine.image_inspect("linuxapp:1").unwrap();
    assert_eq!(img.config.cmd, Some(vec!["/bin/sh".to_string()]));
    assert_eq!(img.config.volume_paths(), ["/v"]);
    let steps: Vec<(&str, bool)> = img.history.iter().map(|h| (h.created_by.as_str(), h.empty_layer)).collect();
    assert_eq!(steps, [("ADD rootfs.tar /", false)]);
    assert_eq!(porthole_core::time::rfc3339_nanos(img.created), "2024-05-01T10:00:00.500000000Z");
    // It starts, says why on stderr and exits 126, as runc's failed execve does.
    let (code, err, _) = common::run(&engine, CreateOptions { image: "linuxapp:1".into(), ..Default::default() });
    assert_eq!(code, 126);
    assert!(
        err.contains("exec /bin/sh: exec format error: it is an ELF executable (a Linux program), not a WebAssembly module; the image was made for another platform (Porthole runs wasi/wasm images)"),
        "{err}"
    );
}

/// The store's images, tags and layers, and its transfer directories.
fn store_state(root: &Path) -> (Vec<String>, String, Vec<String>) {
    let list = |p: &Path| {
        let mut v: Vec<String> =
            std::fs::read_dir(p).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    };
    let transfers: Vec<String> = list(root).into_iter().filter(|n| n.starts_with(".transfer-")).collect();
    assert_eq!(transfers, Vec::<String>::new(), "no transfer directory is left");
    (
        list(&root.join("images")),
        std::fs::read_to_string(root.join("images/tags.json")).unwrap(),
        list(&root.join("layers")),
    )
}

#[test]
fn hostile_archives_are_refused_and_leave_the_store_as_it_was() {
    let (tmp, engine) = common::engine();
    let root = tmp.path().join("root");
    let before = store_state(&root);
    let canary = tmp.path().join("canary");
    let dir = tar::EntryType::Directory;
    let file = tar::EntryType::Regular;
    let link = tar::EntryType::Symlink;
    let cases: Vec<(&str, Vec<Entry>, &str)> = vec![
        (
            "climbs",
            vec![("ok.txt", file, "", b"fine"), ("../../canary", file, "", b"x")],
            "archive entry \"../../canary\" climbs out of its layer (..)",
        ),
        (
            "absolute",
            vec![("ok.txt", file, "", b"fine"), ("/tmp/canary", file, "", b"x")],
            "archive entry \"/tmp/canary\" has an absolute name",
        ),
        (
            "through a link",
            vec![("out", link, "/tmp", b""), ("out/canary", file, "", b"x")],
            "archive entry \"out/canary\" would be written through the symbolic link \"out\"",
        ),
        (
            "through a relative link",
            vec![("d/", dir, "", b""), ("out", link, "../../..", b""), ("out/canary", file, "", b"x")],
            "archive entry \"out/canary\" would be written through the symbolic link \"out\"",
        ),
        (
            "whiteout of ..",
            vec![("etc/", dir, "", b""), ("etc/.wh...", file, "", b"")],
            "archive entry \"etc/.wh...\" is not a whiteout of a name",
        ),
        (
            "hard link out",
            vec![("h", tar::EntryType::Link, "../../canary", b"")],
            "archive entry \"../../canary\" climbs out of its layer (..)",
        ),
    ];
    for (what, entries, message) in cases {
        let archive = legacy_archive(&format!("hostile:{}", what.replace(' ', "-")), &entries, false, "wasi", "wasm");
        let err = engine.load_archive(&archive[..]).unwrap_err().to_string();
        assert_eq!(err, message, "{what}");
        assert!(!canary.exists() && !Path::new("/tmp/canary").exists(), "{what}: nothing written outside");
        assert_eq!(store_state(&root), before, "{what}: the store is as it was");
    }
    // A layer whose content is not its diff id, and a blob that is not its digest.
    let good = legacy_archive("fine:1", &[("a", file, "", b"a")], false, "wasi", "wasm");
    let mut tampered = Vec::new();
    for entry in tar::Archive::new(&good[..]).entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        if name == "0001/layer.tar" {
            let mut layer = tar::Builder::new(Vec::new());
            raw_entry(&mut layer, "a", file, "", b"b");
            data = layer.into_inner().unwrap();
        }
        tampered.push((name, data));
    }
    let mut outer = tar::Builder::new(Vec::new());
    for (name, data) in &tampered {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        outer.append_data(&mut h, name, &data[..]).unwrap();
    }
    let err = engine.load_archive(&outer.into_inner().unwrap()[..]).unwrap_err().to_string();
    assert!(err.starts_with("layer 0 of image sha256:") && err.contains("its content is sha256:"), "{err}");
    assert_eq!(store_state(&root), before);
    let err = engine.load_archive(&b"not a tar at all"[..]).unwrap_err().to_string();
    assert!(err.starts_with("reading the archive:") || err.starts_with("the archive is neither"), "{err}");
    assert_eq!(store_state(&root), before);
}
