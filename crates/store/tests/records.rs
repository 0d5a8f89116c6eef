//! Record files across versions: a store written by the previous Porthole opens with every
//! field it had, today's records keep all of `HostConfig` (with `--mount`), and a record from a
//! newer Porthole is quarantined, not misread.

use std::collections::BTreeMap;
use std::fs;

use porthole_core::guest_path::GuestPath;
use porthole_core::mounts::{MountPoint, MountRequest, MountType};
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
            storage_size: Some(10 << 20),
            // The old format predates log options: the defaults.
            log: Default::default(),
        }
    );
    let m = &c.mounts[0];
    assert_eq!((m.kind, m.destination.as_str(), m.volume.as_deref()), (MountType::Volume, "/shared", Some("shared")));
    assert!(m.rw && m.named && m.copy_data);
    assert_eq!((c.state.status, c.state.exit_code, c.restart_count), (Status::Exited, 3, 2));

    // Saved again, it is today's format and reads back the same.
    store.save_container(c).unwrap();
    let text = fs::read_to_string(store.container_dir(&c.id).join("config.json")).unwrap();
    assert!(text.contains("\"version\": 1"), "{text}");
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
            storage_size: Some(1 << 20),
            log: porthole_core::log_config::LogConfig::parse(
                "json-file",
                &BTreeMap::from([("max-size".into(), "1m".into()), ("max-file".into(), "2".into())]),
            )
            .unwrap(),
        },
        mounts: vec![MountPoint {
            kind: MountType::Bind,
            destination: GuestPath::new("/srv").unwrap(),
            volume: None,
            source: Some("/srv".into()),
            rw: true,
            mode: String::new(),
            propagation: "rshared".into(),
            copy_data: false,
            create_source: true,
            named: false,
            volume_labels: BTreeMap::new(),
            inherited_from: Some("base".into()),
        }],
        state: Default::default(),
        restart_count: 0,
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
    assert!(r.quarantined[0].reason.contains("record version 99 is newer than this Porthole reads (1)"), "{r:?}");
    assert_eq!(fs::read_to_string(r.quarantined[0].to.join("config.json")).unwrap(), newer);
    assert!(store.containers().unwrap().is_empty());
}
