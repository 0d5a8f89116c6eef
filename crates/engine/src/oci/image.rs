//! *Pure*: an image record as an OCI image config and back, image names as the index
//! annotates them, and Docker's `manifest.json` / `repositories` entries. No I/O.

use std::collections::BTreeMap;

use oci_spec::image::{
    Arch, ConfigBuilder, HistoryBuilder, ImageConfiguration, ImageConfigurationBuilder, Os, RootFsBuilder,
};
use porthole_core::config::{Empty, ImageConfig};
use porthole_store::{HistoryEntry, ImageRecord};

use super::ArchiveError;

/// The platform of every image Porthole makes: WASI programs, as runwasi's shims and
/// `docker buildx --platform wasi/wasm` name it.
pub(crate) const OS: &str = "wasi";
pub(crate) const ARCHITECTURE: &str = "wasm";

/// The annotation containerd and Docker 25+ read for an image's full name.
pub(crate) const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// `busybox:latest` → `docker.io/library/busybox:latest`, `me/app:1` → `docker.io/me/app:1`;
/// a name whose first part is a host (has a `.` or `:`, or is `localhost`) is kept.
pub(crate) fn full_name(tag: &str) -> String {
    let first = tag.split('/').next().unwrap_or_default();
    let has_host = tag.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    match (has_host, tag.contains('/')) {
        (true, _) => tag.to_string(),
        (false, true) => format!("docker.io/{tag}"),
        (false, false) => format!("docker.io/library/{tag}"),
    }
}

/// The name Porthole keeps locally for a full name (the docker CLI's familiar form).
pub(crate) fn local_name(full: &str) -> String {
    full.strip_prefix("docker.io/library/").or_else(|| full.strip_prefix("docker.io/")).unwrap_or(full).to_string()
}

/// The tag of `name:tag` (what `org.opencontainers.image.ref.name` holds).
pub(crate) fn tag_of(tag: &str) -> &str {
    let last = tag.rsplit('/').next().unwrap_or(tag);
    last.rsplit_once(':').map(|(_, t)| t).unwrap_or("latest")
}

/// The local name an index entry's annotations give its image, if any: containerd's full
/// name, else a ref name that is a whole reference (a bare tag names no repository).
pub(crate) fn annotated_name(annotations: Option<&std::collections::HashMap<String, String>>) -> Option<String> {
    let a = annotations?;
    if let Some(full) = a.get(CONTAINERD_NAME).filter(|n| !n.is_empty()) {
        return Some(local_name(full));
    }
    a.get(oci_spec::image::ANNOTATION_REF_NAME)
        .filter(|r| r.contains(':') || r.contains('/'))
        .filter(|r| !r.contains('@'))
        .map(|r| local_name(r))
}

/// The OCI image config of `record` whose layers have the diff ids `diff_ids`. Docker's
/// extensions OCI has no field for (`Healthcheck`, `Shell`) are added to `config` under
/// Docker's names, as Docker writes them. Serialized with sorted keys, so one image always
/// gives the same bytes (and the same digest).
pub(crate) fn config_json(record: &ImageRecord, diff_ids: &[String]) -> Vec<u8> {
    let c = &record.config;
    let keys = |m: &Option<BTreeMap<String, Empty>>| m.as_ref().map(|m| m.keys().cloned().collect::<Vec<_>>());
    let mut config = ConfigBuilder::default().env(c.env.clone());
    if !c.user.is_empty() {
        config = config.user(c.user.clone());
    }
    if !c.working_dir.is_empty() {
        config = config.working_dir(c.working_dir.clone());
    }
    if let Some(e) = &c.entrypoint {
        config = config.entrypoint(e.clone());
    }
    if let Some(cmd) = &c.cmd {
        config = config.cmd(cmd.clone());
    }
    if let Some(v) = keys(&c.volumes) {
        config = config.volumes(v);
    }
    if let Some(p) = keys(&c.exposed_ports) {
        config = config.exposed_ports(p);
    }
    if let Some(l) = &c.labels {
        config = config.labels(l.clone().into_iter().collect::<std::collections::HashMap<_, _>>());
    }
    let created = porthole_core::time::rfc3339_nanos(record.created);
    let image = ImageConfigurationBuilder::default()
        .created(created.clone())
        .architecture(Arch::Wasm)
        .os(Os::Other(OS.into()))
        .config(config.build().expect("every field has a default"))
        .rootfs(RootFsBuilder::default().diff_ids(diff_ids.to_vec()).build().expect("rootfs"))
        .history(history(record, diff_ids.len()))
        .build()
        .expect("every field has a default");
    let mut value = serde_json::to_value(&image).expect("an image config serializes");
    let extra = value["config"].as_object_mut().expect("config is an object");
    if let Some(h) = &c.healthcheck {
        extra.insert("Healthcheck".into(), serde_json::to_value(h).expect("healthcheck serializes"));
    }
    if let Some(s) = &c.shell {
        extra.insert("Shell".into(), serde_json::to_value(s).expect("shell serializes"));
    }
    // `serde_json::Value` keeps objects in a `BTreeMap`: keys come out sorted.
    serde_json::to_vec(&value).expect("json")
}

/// The image's history as OCI keeps it: the entries not `empty_layer` are the layers, in
/// order. A record from before per-step history (a flattened build's lines, all
/// `empty_layer`) gets one entry per layer added, so that pairing holds.
fn history(record: &ImageRecord, layers: usize) -> Vec<oci_spec::image::History> {
    let mut entries = record.history.clone();
    let made = entries.iter().filter(|e| !e.empty_layer).count();
    for n in made..layers {
        entries.push(HistoryEntry {
            created: record.created,
            created_by: format!("layer {}", n + 1),
            ..HistoryEntry::default()
        });
    }
    entries
        .into_iter()
        .map(|e| {
            let mut h = HistoryBuilder::default()
                .created(porthole_core::time::rfc3339_nanos(e.created))
                .created_by(e.created_by)
                .empty_layer(e.empty_layer);
            if !e.comment.is_empty() {
                h = h.comment(e.comment);
            }
            if !e.author.is_empty() {
                h = h.author(e.author);
            }
            h.build().expect("history")
        })
        .collect()
}

/// What a loaded image config gives Porthole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LoadedConfig {
    pub config: ImageConfig,
    pub created: i64,
    pub history: Vec<HistoryEntry>,
    pub diff_ids: Vec<String>,
    /// `os/architecture`, as the config names it.
    pub platform: String,
}

/// Reads an image config (OCI's, or Docker's, which is the same document with more fields).
pub(crate) fn read_config(bytes: &[u8]) -> Result<LoadedConfig, ArchiveError> {
    let bad = |e: &dyn std::fmt::Display| ArchiveError::Json { what: "the image config", error: e.to_string() };
    let image: ImageConfiguration = serde_json::from_slice(bytes).map_err(|e| bad(&e))?;
    let raw: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| bad(&e))?;
    let mut config = ImageConfig::default();
    if let Some(c) = image.config() {
        let set = |v: &Option<Vec<String>>| v.as_ref().map(|v| v.iter().map(|k| (k.clone(), Empty {})).collect());
        config.user = c.user().clone().unwrap_or_default();
        config.env = c.env().clone().unwrap_or_default();
        config.entrypoint = c.entrypoint().clone();
        config.cmd = c.cmd().clone();
        config.working_dir = c.working_dir().clone().unwrap_or_default();
        config.volumes = set(c.volumes());
        config.exposed_ports = set(c.exposed_ports());
        config.labels = c.labels().as_ref().map(|l| l.clone().into_iter().collect());
        let docker = &raw["config"];
        if !docker["Healthcheck"].is_null() {
            config.healthcheck = Some(serde_json::from_value(docker["Healthcheck"].clone()).map_err(|e| bad(&e))?);
        }
        if !docker["Shell"].is_null() {
            config.shell = Some(serde_json::from_value(docker["Shell"].clone()).map_err(|e| bad(&e))?);
        }
    }
    let history = image
        .history()
        .iter()
        .flatten()
        .map(|h| HistoryEntry {
            created: h.created().as_deref().map(parse_time).unwrap_or(0),
            created_by: h.created_by().clone().unwrap_or_default(),
            comment: h.comment().clone().unwrap_or_default(),
            author: h.author().clone().unwrap_or_default(),
            empty_layer: h.empty_layer().unwrap_or(false),
        })
        .collect();
    Ok(LoadedConfig {
        config,
        created: image.created().as_deref().map(parse_time).unwrap_or(0),
        history,
        diff_ids: image.rootfs().diff_ids().clone(),
        platform: format!("{}/{}", image.os(), image.architecture()),
    })
}

/// An RFC 3339 time in epoch nanoseconds (0 when it cannot be read: the time is informative).
fn parse_time(value: &str) -> i64 {
    let (main, frac) = match value.split_once('.') {
        Some((main, rest)) => (format!("{main}Z"), rest.trim_end_matches('Z')),
        None => (value.to_string(), ""),
    };
    let frac: i64 = format!("{frac:0<9}").get(..9).and_then(|f| f.parse().ok()).unwrap_or(0);
    porthole_core::time::docker_timestamp(&main, 0).map(|t| t + frac).unwrap_or(0)
}

/// One image of Docker's `manifest.json` (Docker's archive format; Docker 25+ writes it beside
/// the OCI layout, naming the layout's blobs).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DockerManifest {
    pub config: String,
    #[serde(default)]
    pub repo_tags: Option<Vec<String>>,
    pub layers: Vec<String>,
}

/// Docker's `repositories` file: repository → tag → image id (hex).
pub(crate) fn repositories(tags: &[(String, String)]) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (tag, id) in tags {
        let repo = tag.rsplit_once(':').filter(|(_, t)| !t.contains('/')).map(|(r, _)| r).unwrap_or(tag);
        out.entry(repo.to_string()).or_default().insert(tag_of(tag).to_string(), id.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use porthole_core::health::Healthcheck;

    #[test]
    fn names_as_docker_normalizes_them() {
        assert_eq!(full_name("busybox:latest"), "docker.io/library/busybox:latest");
        assert_eq!(full_name("markllama/pulp-content:latest"), "docker.io/markllama/pulp-content:latest");
        assert_eq!(full_name("localhost:5000/app:1"), "localhost:5000/app:1");
        assert_eq!(full_name("registry.example/a/b:2"), "registry.example/a/b:2");
        assert_eq!(local_name("docker.io/library/busybox:latest"), "busybox:latest");
        assert_eq!(local_name("docker.io/me/app:1"), "me/app:1");
        assert_eq!(tag_of("localhost:5000/app:1"), "1");
        assert_eq!(tag_of("localhost:5000/app"), "latest");
        let a = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(annotated_name(Some(&a(&[(CONTAINERD_NAME, "docker.io/library/web:1")]))), Some("web:1".into()));
        assert_eq!(annotated_name(Some(&a(&[("org.opencontainers.image.ref.name", "latest")]))), None);
        assert_eq!(
            annotated_name(Some(&a(&[("org.opencontainers.image.ref.name", "localhost/app:2")]))),
            Some("localhost/app:2".into())
        );
        assert_eq!(annotated_name(None), None);
    }

    #[test]
    fn a_config_survives_the_round_trip() {
        let config = ImageConfig {
            user: "1000".into(),
            env: vec!["PATH=/bin".into(), "A=1".into()],
            cmd: Some(vec!["-p".into(), "80".into()]),
            entrypoint: Some(vec!["/bin/httpd".into()]),
            working_dir: "/srv".into(),
            volumes: Some([("/var/www".to_string(), Empty {}), ("/data".to_string(), Empty {})].into()),
            labels: Some([("a".to_string(), "b".to_string())].into()),
            exposed_ports: Some([("80/tcp".to_string(), Empty {})].into()),
            shell: Some(vec!["/bin/sh".into(), "-ec".into()]),
            healthcheck: Some(Healthcheck { test: vec!["CMD".into(), "true".into()], ..Default::default() }),
            hostname: String::new(),
        };
        let record = ImageRecord {
            id: "ab".repeat(32),
            created: 1_764_500_000_123_456_789,
            config: config.clone(),
            parent: String::new(),
            size: 0,
            history: [("FROM busybox", true), ("COPY . /srv", false), ("RUN ln -s a b", false), ("CMD [\"x\"]", true)]
                .map(|(step, empty_layer)| HistoryEntry {
                    created: 1_764_500_000_000_000_000,
                    created_by: step.into(),
                    comment: "c".into(),
                    author: "a".into(),
                    empty_layer,
                })
                .to_vec(),
            layers: vec!["l1".into(), "l2".into()],
        };
        let diff_ids = vec![format!("sha256:{}", "1".repeat(64)), format!("sha256:{}", "2".repeat(64))];
        let bytes = config_json(&record, &diff_ids);
        assert_eq!(bytes, config_json(&record, &diff_ids), "the same image gives the same bytes");
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!((json["os"].as_str(), json["architecture"].as_str()), (Some("wasi"), Some("wasm")));
        assert_eq!(json["config"]["Volumes"]["/data"], serde_json::json!({}));
        let empty: Vec<bool> =
            json["history"].as_array().unwrap().iter().map(|h| h["empty_layer"].as_bool().unwrap_or(false)).collect();
        assert_eq!(empty, [true, false, false, true]);
        let back = read_config(&bytes).unwrap();
        assert_eq!(back.config, config);
        assert_eq!(back.created, record.created);
        assert_eq!(back.history, record.history);
        assert_eq!(back.diff_ids, diff_ids);
        assert_eq!(back.platform, "wasi/wasm");
    }

    #[test]
    fn a_broken_config_is_named() {
        assert_eq!(
            read_config(b"{\"architecture\": 5}").unwrap_err().to_string(),
            "reading the image config: invalid type: integer `5`, expected a string at line 1 column 18"
        );
    }

    #[test]
    fn repositories_group_tags_by_repository() {
        let r = repositories(&[
            ("web:1".into(), "aa".into()),
            ("web:2".into(), "bb".into()),
            ("localhost:5000/x:3".into(), "cc".into()),
        ]);
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"localhost:5000/x":{"3":"cc"},"web":{"1":"aa","2":"bb"}}"#);
    }
}
