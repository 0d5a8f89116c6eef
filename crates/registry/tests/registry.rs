//! The client against a real registry: Debian's `docker-registry` (the CNCF distribution
//! registry), started on a free loopback port for each test and killed at its end.

#[path = "support/local_registry.rs"]
mod local_registry;

use std::io::Write;
use std::path::Path;

use local_registry::{PASSWORD, USER, free_port, start_registry, start_registry_with_login};

use porthole_registry::{Credentials, Progress, Reference, Registry, RegistryError};
use sha2::{Digest, Sha256};

fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// Writes a blob into `layout` and gives its descriptor's fields.
fn blob(layout: &Path, bytes: &[u8]) -> (String, usize) {
    let digest = digest_of(bytes);
    std::fs::write(layout.join("blobs/sha256").join(&digest[7..]), bytes).unwrap();
    (digest, bytes.len())
}

/// An OCI layout holding one wasi/wasm image tagged `tag`: a tar+gzip layer with a program
/// and a file, a real config naming the layer's diff id, and the manifest.
fn make_layout(dir: &Path, tag: &str, content: &str) {
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data) in [("hello.txt", content.as_bytes()), ("app.wasm", b"\0asm\x01\0\0\0".as_slice())] {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o755);
        header.set_cksum();
        tar.append_data(&mut header, path, data).unwrap();
    }
    let tar = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    let (layer, layer_size) = blob(dir, &gz.finish().unwrap());
    let config = serde_json::json!({
        "architecture": "wasm", "os": "wasi",
        "config": { "Entrypoint": ["/app.wasm"], "Env": ["PATH=/"] },
        "rootfs": { "type": "layers", "diff_ids": [digest_of(&tar)] },
    });
    let (config, config_size) = blob(dir, &serde_json::to_vec(&config).unwrap());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": config_size },
        "layers": [{ "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer, "size": layer_size }],
    });
    let (manifest, manifest_size) = blob(dir, &serde_json::to_vec(&manifest).unwrap());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest, "size": manifest_size,
            "annotations": { "org.opencontainers.image.ref.name": tag },
            "platform": { "os": "wasi", "architecture": "wasm" },
        }],
    });
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

/// Every blob of a layout, by file name, with its bytes.
fn blobs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.join("blobs/sha256"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    out.sort();
    out
}

fn statuses(progress: &[Progress]) -> Vec<String> {
    progress.iter().map(|p| format!("{}{}", p.id().map(|i| format!("{i}: ")).unwrap_or_default(), p.status())).collect()
}

#[test]
fn a_pushed_layout_pulls_back_byte_identical() {
    let Some(registry) = start_registry() else { return };
    let client = Registry::default();
    let source = tempfile::tempdir().unwrap();
    make_layout(source.path(), "1", "hello from the registry test\n");
    let reference = Reference::docker(&format!("127.0.0.1:{}/test/app:1", registry.port)).unwrap();

    let mut progress = Vec::new();
    let pushed = client.push(source.path(), &reference, &Credentials::default(), &mut |p| progress.push(p)).unwrap();
    let layer = porthole_registry::short(&blobs_layer(source.path()));
    let manifest = blobs(source.path()).into_iter().find(|(name, _)| format!("sha256:{name}") == pushed.digest);
    assert!(manifest.is_some(), "the pushed digest is the layout's manifest");
    assert_eq!(
        statuses(&progress),
        [
            format!("The push refers to repository [127.0.0.1:{}/test/app]", registry.port),
            format!("{layer}: Preparing"),
            format!("{layer}: Pushed"),
            format!("1: digest: {} size: {}", pushed.digest, pushed.size),
        ]
    );

    // Again: the registry has every blob.
    let mut again = Vec::new();
    client.push(source.path(), &reference, &Credentials::default(), &mut |p| again.push(p)).unwrap();
    assert_eq!(statuses(&again)[2], format!("{layer}: Layer already exists"));

    let pulled_dir = tempfile::tempdir().unwrap();
    let mut progress = Vec::new();
    let pulled =
        client.pull(&reference, &Credentials::default(), pulled_dir.path(), &mut |p| progress.push(p)).unwrap();
    assert_eq!(pulled.digest, pushed.digest);
    assert_eq!(
        statuses(&progress),
        [
            format!("1: Pulling from 127.0.0.1:{}/test/app", registry.port),
            format!("{layer}: Pulling fs layer"),
            format!("{layer}: Download complete"),
        ]
    );
    assert_eq!(blobs(pulled_dir.path()), blobs(source.path()), "blobs byte-identical");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(pulled_dir.path().join("index.json")).unwrap()).unwrap();
    let entry = &index["manifests"][0];
    assert_eq!(entry["digest"], pushed.digest.as_str());
    assert_eq!(entry["annotations"]["org.opencontainers.image.ref.name"], "1");
    assert_eq!(entry["annotations"]["io.containerd.image.name"], reference.to_string());
    assert!(pulled_dir.path().join("oci-layout").is_file());
}

/// The layer's digest of a layout made by [`make_layout`] (its one tar+gzip blob).
fn blobs_layer(dir: &Path) -> String {
    let blobs = blobs(dir);
    let gz = blobs.iter().find(|(_, b)| b.starts_with(&[0x1f, 0x8b])).expect("a gzip layer");
    format!("sha256:{}", gz.0)
}

#[test]
fn a_missing_tag_is_the_registrys_manifest_unknown() {
    let Some(registry) = start_registry() else { return };
    let source = tempfile::tempdir().unwrap();
    make_layout(source.path(), "1", "x");
    let client = Registry::default();
    let pushed_to = Reference::docker(&format!("127.0.0.1:{}/test/app:1", registry.port)).unwrap();
    client.push(source.path(), &pushed_to, &Credentials::default(), &mut |_| {}).unwrap();

    let missing = Reference::docker(&format!("127.0.0.1:{}/test/app:nope", registry.port)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = client.pull(&missing, &Credentials::default(), dir.path(), &mut |_| {}).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("manifest for 127.0.0.1:{}/test/app:nope not found: manifest unknown: manifest unknown", registry.port)
    );
    assert_eq!(err.kind(), porthole_registry::ErrorKind::NotFound);
    let unknown_repo = Reference::docker(&format!("127.0.0.1:{}/nosuch", registry.port)).unwrap();
    let err = client.pull(&unknown_repo, &Credentials::default(), dir.path(), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("not found: "), "{err}");
}

#[test]
fn a_registry_that_is_not_listening_fails_at_once_naming_it() {
    let port = free_port(); // bound and released: nothing listens there now
    let reference = Reference::docker(&format!("127.0.0.1:{port}/app")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = Registry::default().pull(&reference, &Credentials::default(), dir.path(), &mut |_| {}).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with(&format!("Get \"http://127.0.0.1:{port}/v2/\": ")), "{text}");
    assert!(text.to_lowercase().contains("connection refused"), "{text}");
    assert!(matches!(err, RegistryError::Unreachable { .. }));

    // A name no resolver knows: HTTPS (not loopback), and the lookup's failure named.
    let reference = Reference::docker("registry.invalid/app").unwrap();
    let err = Registry::default().pull(&reference, &Credentials::default(), dir.path(), &mut |_| {}).unwrap_err();
    assert!(err.to_string().starts_with("Get \"https://registry.invalid/v2/\": "), "{err}");
}

#[test]
fn login_to_an_open_registry_succeeds_and_to_a_missing_one_fails() {
    let Some(registry) = start_registry() else { return };
    let user = Credentials { username: "someone".into(), password: "secret".into() };
    Registry::default().login(&format!("127.0.0.1:{}", registry.port), &user).unwrap();
    let err = Registry::default().login(&format!("127.0.0.1:{}", free_port()), &user).unwrap_err();
    assert!(matches!(err, RegistryError::Unreachable { .. }), "{err}");
}

#[test]
fn a_registry_that_asks_for_a_login_gets_the_credentials() {
    let Some(registry) = start_registry_with_login() else { return };
    let client = Registry::default();
    let server = format!("127.0.0.1:{}", registry.port);
    let user = Credentials { username: USER.into(), password: PASSWORD.into() };
    client.login(&server, &user).unwrap();
    let wrong = Credentials { username: USER.into(), password: "wrong".into() };
    let err = client.login(&server, &wrong).unwrap_err();
    assert_eq!(err.to_string(), format!("login attempt to http://{server}/v2/ failed with status: 401 Unauthorized"));

    let source = tempfile::tempdir().unwrap();
    make_layout(source.path(), "1", "behind a login\n");
    let reference = Reference::docker(&format!("{server}/private/app:1")).unwrap();
    let err = client.push(source.path(), &reference, &Credentials::default(), &mut |_| {}).unwrap_err();
    assert_eq!(err.to_string(), "unauthorized: authentication required");
    client.push(source.path(), &reference, &user, &mut |_| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = client.pull(&reference, &Credentials::default(), dir.path(), &mut |_| {}).unwrap_err();
    assert_eq!(err.to_string(), "unauthorized: authentication required");
    let dir = tempfile::tempdir().unwrap();
    client.pull(&reference, &user, dir.path(), &mut |_| {}).unwrap();
    assert_eq!(blobs(dir.path()), blobs(source.path()));
}
