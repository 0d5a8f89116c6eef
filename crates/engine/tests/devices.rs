//! Every container's `/dev`, as Docker gives it: the devices through the shell and the
//! userland, what `ls -l` shows, that nothing is created or removed there, that a user's mount
//! at `/dev` replaces it, and that `/proc/mounts` lists it.

mod common;

use common::{engine, run, sh};
use porthole_engine::{BuildOptions, CreateOptions, ExecOptions, MountRequests, Stdio};

fn busybox(script: &str) -> CreateOptions {
    CreateOptions { image: "busybox".into(), cmd: sh(script), ..Default::default() }
}

#[test]
fn devices_read_and_write_as_on_linux() {
    let (_tmp, e) = engine();
    let script = "echo x > /dev/null; echo null=$?; \
                  head -c 5 /dev/zero | od -An -tx1; \
                  head -c 16 /dev/urandom | wc -c; head -c 16 /dev/random | wc -c; \
                  /bin/head /dev/null; echo head=$?; \
                  /bin/head -c 3 /dev/zero | /bin/od -An -tx1; \
                  echo y > /dev/full; echo full=$?; \
                  echo to-stdout > /dev/stdout; echo from-stdin | /bin/head -c 4 /dev/stdin; echo; \
                  echo to-stderr | /bin/tee /dev/stderr > /dev/null";
    let (code, out, _) = run(&e, busybox(script));
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(lines[0], "null=0", "{out}");
    assert_eq!(lines[1], "00 00 00 00 00", "{out}");
    assert_eq!(&lines[2..4], ["16", "16"], "{out}");
    assert_eq!(lines[4], "head=0", "{out}");
    assert_eq!(lines[5], "00 00 00", "{out}");
    assert!(out.contains("No space left on device"), "{out}");
    assert!(out.contains("full=1"), "{out}");
    assert!(out.contains("to-stdout\n"), "{out}");
    assert!(out.contains("\nfrom\n"), "{out}");
    assert!(out.contains("to-stderr\n"), "{out}");
}

#[test]
fn dev_lists_character_devices_and_refuses_changes() {
    let (_tmp, e) = engine();
    let script = "ls -l /dev; touch /dev/new; echo touch=$?; rm /dev/null; echo rm=$?; \
                  mv /dev/zero /dev/z; echo mv=$?; head -c 1 /dev/tty; echo tty=$?; grep ' /dev ' /proc/mounts";
    let (code, out, _) = run(&e, busybox(script));
    assert_eq!(code, 0, "{out}");
    for name in ["null", "zero", "full", "random", "urandom", "tty", "stdin", "stdout", "stderr"] {
        let line = out.lines().find(|l| l.ends_with(&format!(" {name}"))).unwrap_or_else(|| panic!("{name}: {out}"));
        assert!(line.starts_with('c'), "{line}");
    }
    assert!(out.contains("Read-only file system"), "{out}");
    for refused in ["touch=1", "rm=1", "mv=1"] {
        assert!(out.contains(refused), "{refused}: {out}");
    }
    // Without -t there is no terminal: ENXIO, as for a process without a controlling one.
    assert!(out.contains("No such device or address"), "{out}");
    assert!(out.contains("tmpfs /dev tmpfs ro,nosuid,mode=755 0 0"), "{out}");
}

#[test]
fn dev_shm_is_a_writable_directory() {
    let (_tmp, e) = engine();
    let (code, out, _) = run(&e, busybox("echo kept > /dev/shm/f && cat /dev/shm/f && ls /dev | grep -c shm"));
    assert_eq!((code, out.as_str()), (0, "kept\n1\n"), "{out}");
}

#[test]
fn a_mount_at_dev_replaces_the_devices() {
    let (tmp, e) = engine();
    let host = tmp.path().join("mydev");
    std::fs::create_dir(&host).unwrap();
    std::fs::write(host.join("mine"), "from the host\n").unwrap();
    let opts = CreateOptions {
        mounts: MountRequests { binds: vec![format!("{}:/dev", host.display())], ..Default::default() },
        ..busybox("ls /dev; /bin/cat /dev/mine; head -c 1 /dev/zero; echo zero=$?")
    };
    let (code, out, _) = run(&e, opts);
    assert_eq!(code, 0, "{out}");
    // /dev/shm is still mounted over it, as Docker mounts it over a user's /dev.
    assert!(out.starts_with("mine\nshm\nfrom the host\n"), "{out}");
    assert!(out.contains("zero=1"), "{out}");
}

#[test]
fn run_steps_and_execs_have_dev_too() {
    let (_tmp, e) = engine();
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        "FROM busybox\nRUN head -c 3 /dev/urandom | wc -c > /n && echo drop > /dev/null\n",
    )
    .unwrap();
    let mut log = String::new();
    let opts = BuildOptions { context: ctx.path().to_path_buf(), tags: vec!["dev".into()], ..Default::default() };
    e.build(opts, &mut |s| log.push_str(s)).unwrap_or_else(|err| panic!("{err}\n{log}"));
    let (code, out, _) = run(&e, CreateOptions { image: "dev".into(), cmd: sh("cat /n"), ..Default::default() });
    assert_eq!((code, out.trim()), (0, "3"), "{out}");

    let id = e.create(busybox("sleep 3600")).unwrap().to_string();
    e.start(&id).unwrap();
    let stdout = common::Captured::default();
    let stdio = Stdio { stdout: Box::new(stdout.clone()), ..Default::default() };
    let cmd = ["head", "-c", "2", "/dev/zero"].map(String::from).to_vec();
    let code = e.exec(&id, ExecOptions { cmd, stdio, ..Default::default() }).unwrap();
    assert_eq!((code, stdout.bytes()), (0, vec![0, 0]));
    let _ = e.kill(&id, None);
}
