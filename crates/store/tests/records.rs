//! Record files across versions: a store written by the previous Porthole opens with every
//! field it had, today's records keep all of `HostConfig` (with `--mount`), and a record from a
//! newer Porthole is quarantined, not misread.

use std::collections::BTreeMap;
use std::fs;

use porthole_core::guest_path::GuestPath;
use porthole_core::mounts::{MountPoint, MountRequest, MountSource, MountType, VolumeRef};
use porthole_core::names::{ContainerName, Id};
use porthole_core::state::Status;
use porthole_store::{ContainerRecord, HostOptions, QuarantineKind, Store};

/// `containers/<id>/config.json` exactly as the code before record versions wrote it.
const VERSION_0: &str = include_str!("fixtures/container-v0.json");

fn write_record(store: &Store, id: &str, text: &str) {
    let dir = store.root().join("containers").join(id);
    fs::create_dir_all(dir.join("rootfs")).unwrap();
    fs::write(dir.join("config.json"), text).unwrap();
}

#[test]
fn a_container_record_of_the_previous_format_opens() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(tmp.path()).unwrap();
    let id = "ab".repeat(32);
    write_record(&store, &id, VERSION_0);
    let (store, r) = Store::open(tmp.path()).unwrap();
    assert_eq!(r.quarantined, []);
    let c = &store.containers().unwrap()[0];
    assert_eq!(c.id.as_str(), id);
    assert_eq!(c.name.as_str(), "web");
    assert_eq!(
        (c.image.as_str(), c.path.as_str(), c.args.as_slice()),
        ("pulp-content", "sh", &["-c".to_string(), "true".into()][..])
    );
    assert_eq!(c.config.working_dir, "/srv");
    assert!(c.tty && c.open_stdin);
    assert_eq!(
        c.host,
        HostOptions {
            binds: vec!["shared:/shared".into()],
            mounts: vec![],
            volumes_from: vec!["other".into()],
            auto_remove: true,
            read_only_rootfs: true,
            port_bindings: BTreeMap::from([("80/tcp".into(), vec!["8080".into()])]),
            publish_all_ports: false,
            memory_bytes: Some(64 << 20),
            // The old format predates `--pids-limit`: none.
            pids_limit: None,
            storage_size: Some(10 << 20),
            // The old format predates log options: the defaults.
            log: Default::default(),
            // ... and networks: none recorded (the engine puts it on `bridge`).
            network_mode: String::new(),
            networks: BTreeMap::new(),
        }
    );
    // Each kind of mount, from the flat shape the old format wrote.
    let mount = |destination: &str, source, rw, mode: &str, inherited_from: Option<String>| MountPoint {
        destination: GuestPath::new(destination).unwrap(),
        source,
        rw,
        mode: mode.into(),
        inherited_from,
    };
    let anonymous = "0123456789abcdef".repeat(4);
    assert_eq!(
        c.mounts,
        [
            mount(
                "/shared",
                MountSource::Volume {
                    volume: VolumeRef::Named("shared".into()),
                    labels: BTreeMap::new(),
                    copy_data: true
                },
                true,
                "z",
                None
            ),
            mount(
                "/var/cache",
                MountSource::Volume {
                    volume: VolumeRef::Anonymous(anonymous),
                    labels: BTreeMap::new(),
                    copy_data: false
                },
                false,
                "",
                Some("ef".repeat(32))
            ),
            mount(
                "/srv",
                MountSource::Bind {
                    path: "/home/pulp/srv".into(),
                    propagation: "rprivate".into(),
                    create_source: true
                },
                true,
                "",
                None
            ),
            mount("/tmp", MountSource::Tmpfs, true, "", None),
        ]
    );
    assert_eq!((c.state.status, c.state.exit_code, c.restart_count), (Status::Exited, 3, 2));

    // Saved again, it is today's format and reads back the same.
    store.save_container(c).unwrap();
    let text = fs::read_to_string(store.container_dir(&c.id).join("config.json")).unwrap();
    assert!(text.contains(&format!("\"version\": {}", porthole_store::RECORD_VERSION)), "{text}");
    assert_eq!(&store.containers().unwrap()[0], c);
}

#[test]
fn every_host_option_and_mount_request_survives_a_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(tmp.path()).unwrap();
    let id = Id::new(&"12".repeat(32)).unwrap();
    fs::create_dir_all(store.rootfs(&id)).unwrap();
    let record = ContainerRecord {
        id: id.clone(),
        name: ContainerName::new("mounted").unwrap(),
        created: 7,
        image: "busybox".into(),
        image_id: "34".repeat(32),
        config: Default::default(),
        tty: false,
        open_stdin: false,
        path: "sh".into(),
        args: vec![],
        host: HostOptions {
            binds: vec!["/host:/in:ro".into()],
            mounts: vec![
                MountRequest {
                    kind: Some(MountType::Volume),
                    source: "data".into(),
                    target: "/data".into(),
                    readonly: true,
                    nocopy: true,
                    propagation: None,
                    labels: BTreeMap::from([("team".into(), "a".into())]),
                    create_source: false,
                },
                MountRequest {
                    kind: Some(MountType::Bind),
                    source: "/srv".into(),
                    target: "/srv".into(),
                    propagation: Some("rshared".into()),
                    create_source: true,
                    ..Default::default()
                },
            ],
            volumes_from: vec!["base:ro".into()],
            auto_remove: true,
            read_only_rootfs: true,
            port_bindings: BTreeMap::from([("53/udp".into(), vec!["5353".into()])]),
            publish_all_ports: true,
            memory_bytes: Some(1 << 30),
            pids_limit: Some(100),
            storage_size: Some(1 << 20),
            log: porthole_core::log_config::LogConfig::parse(
                "json-file",
                &BTreeMap::from([("max-size".into(), "1m".into()), ("max-file".into(), "2".into())]),
            )
            .unwrap(),
            network_mode: "pulp_default".into(),
            networks: BTreeMap::from([(
                "56".repeat(32),
                porthole_store::Endpoint { aliases: vec!["web".into(), id.short().to_string()] },
            )]),
        },
        mounts: vec![
            MountPoint {
                destination: GuestPath::new("/srv").unwrap(),
                source: MountSource::Bind { path: "/srv".into(), propagation: "rshared".into(), create_source: true },
                rw: true,
                mode: String::new(),
                inherited_from: Some("base".into()),
            },
            MountPoint {
                destination: GuestPath::new("/data").unwrap(),
                source: MountSource::Volume {
                    volume: VolumeRef::Named("data".into()),
                    labels: BTreeMap::from([("team".into(), "a".into())]),
                    copy_data: false,
                },
                rw: false,
                mode: "z".into(),
                inherited_from: None,
            },
        ],
        state: Default::default(),
        restart_count: 0,
        layers: vec![],
    };
    store.save_container(&record).unwrap();
    let (store, _) = Store::open(tmp.path()).unwrap();
    assert_eq!(store.containers().unwrap(), [record]);
}

#[test]
fn a_record_from_a_newer_porthole_is_quarantined_not_misread() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(tmp.path()).unwrap();
    let id = "cd".repeat(32);
    let newer = VERSION_0.replacen('{', "{\n  \"version\": 99,", 1);
    write_record(&store, &id, &newer);
    let (store, r) = Store::open(tmp.path()).unwrap();
    assert_eq!(r.quarantined.len(), 1);
    assert_eq!(r.quarantined[0].kind, QuarantineKind::Container);
    let reads = format!("record version 99 is newer than this Porthole reads ({})", porthole_store::RECORD_VERSION);
    assert!(r.quarantined[0].reason.contains(&reads), "{r:?}");
    assert_eq!(fs::read_to_string(r.quarantined[0].to.join("config.json")).unwrap(), newer);
    assert!(store.containers().unwrap().is_empty());
}

#[test]
fn a_mount_that_cannot_be_is_quarantined_not_guessed() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(tmp.path()).unwrap();
    let id = "ef".repeat(32);
    // A bind without its host path: nothing to mount, and no default would be right.
    let broken = VERSION_0.replacen("\"source\": \"/home/pulp/srv\"", "\"source\": null", 1);
    assert_ne!(broken, VERSION_0);
    write_record(&store, &id, &broken);
    let (store, r) = Store::open(tmp.path()).unwrap();
    assert_eq!(r.quarantined.len(), 1, "{r:?}");
    assert!(r.quarantined[0].reason.contains("invalid bind source in record: \"/srv\""), "{r:?}");
    assert!(store.containers().unwrap().is_empty());
}
