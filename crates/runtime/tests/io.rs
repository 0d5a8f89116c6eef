//! Standard streams, sockets handed in as preopens, and the mutation observer.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use porthole_runtime::{Exit, Limits};
use porthole_wasi::{Input, Mutation, MutationObserver, Stdio, StopSignal};

fn pipe() -> (std::fs::File, std::fs::File) {
    let (r, w) = rustix::pipe::pipe().unwrap();
    (std::fs::File::from(r), std::fs::File::from(w))
}

#[test]
fn stdin_from_a_pipe_reaches_the_guest() {
    let root = tempfile::tempdir().unwrap();
    let (r, mut w) = pipe();
    let out = common::Captured::default();
    let ns = common::namespace(root.path(), &[]);
    let stdio = Stdio { stdin: Input::File(r), stdout: Box::new(out.clone()), ..Stdio::default() };
    let guest = std::thread::spawn(move || {
        let host = porthole_wasi::WasiHost::builder(ns).args(["hog", "cat"]).stdio(stdio).build().unwrap();
        common::runtime().run(&common::program(porthole_guests::HOG), host, &Limits::default()).unwrap()
    });
    w.write_all(b"line one\nline two\n").unwrap();
    drop(w);
    assert_eq!(guest.join().unwrap(), Exit::Code(0));
    assert_eq!(out.text(), "line one\nline two\n");
}

#[test]
fn guest_blocked_on_stdin_stops_promptly() {
    let root = tempfile::tempdir().unwrap();
    let (r, _w) = pipe();
    let signal = StopSignal::default();
    let stopper = common::runtime().stopper_for(&signal);
    let ns = common::namespace(root.path(), &[]);
    let guest = std::thread::spawn(move || {
        let stdio = Stdio { stdin: Input::File(r), ..Stdio::default() };
        let host =
            porthole_wasi::WasiHost::builder(ns).args(["hog", "cat"]).stdio(stdio).stop_signal(signal).build().unwrap();
        let exit = common::runtime().run(&common::program(porthole_guests::HOG), host, &Limits::default()).unwrap();
        (exit, Instant::now())
    });
    std::thread::sleep(Duration::from_millis(200));
    let asked = Instant::now();
    stopper.stop();
    let (exit, ended) = guest.join().unwrap();
    assert_eq!(exit, Exit::Stopped);
    assert!(ended.duration_since(asked) < Duration::from_secs(1));
}

#[test]
fn guest_serves_a_connection_on_a_handed_in_listener() {
    let root = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let ns = common::namespace(root.path(), &[]);
    let guest = std::thread::spawn(move || {
        // fds: 0-2 stdio, 3 the root preopen, 4 the listener, which the host tells the guest
        // in LISTEN_FD (a stale value from the image's environment is replaced).
        common::run_with(
            porthole_guests::NETECHO,
            &[],
            ns,
            |b| b.env("LISTEN_FD", "9").listener(listener, "80/tcp"),
            &Limits::default(),
        )
    });
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.write_all(b"hello porthole\n").unwrap();
    let mut answer = String::new();
    BufReader::new(&conn).read_line(&mut answer).unwrap();
    assert_eq!(answer, "HELLO PORTHOLE\n");
    let (out, exit) = guest.join().unwrap();
    assert_eq!((out.as_str(), exit), ("served hello porthole\n", Exit::Code(0)));
}

/// A non-blocking socket whose peer does not read fills up; each write must report what it
/// really sent (a partial count, then EAGAIN), never an error after sending part of its bytes.
#[test]
fn nonblocking_writes_report_partial_counts_then_eagain() {
    let root = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let ns = common::namespace(root.path(), &[]);
    let guest = std::thread::spawn(move || {
        common::run_with(
            porthole_guests::NETECHO,
            &["flood"],
            ns,
            |b| b.listener(listener, "80/tcp"),
            &Limits::default(),
        )
    });
    let conn = std::net::TcpStream::connect(addr).unwrap();
    // Nothing is read until the guest has filled the socket and ended.
    let (out, exit) = guest.join().unwrap();
    assert_eq!(exit, Exit::Code(0), "{out}");
    let mut received = Vec::new();
    std::io::Read::read_to_end(&mut &conn, &mut received).unwrap();
    assert_eq!(out, format!("sent {}\n", received.len()));
    assert!(received.len() >= 64 * 1024 && received.iter().all(|b| *b == b'x'));
}

#[derive(Default)]
struct Recorder(Mutex<Vec<Mutation>>);

impl MutationObserver for Recorder {
    fn mutated(&self, m: &Mutation) {
        self.0.lock().unwrap().push(m.clone());
    }
}

#[test]
fn observer_hears_each_mutation_with_path_and_mount() {
    let root = tempfile::tempdir().unwrap();
    let vol = tempfile::tempdir().unwrap();
    let rec = Arc::new(Recorder::default());
    let ns = common::namespace(root.path(), &[("/data", vol.path(), false)]);
    let script = [
        "mkdir /data/d",
        "write /data/d/f hi",
        "read /data/d/f",
        "symlink f /data/d/l",
        "link /data/d/f /data/d/h",
        "rename /data/d/h /data/d/h2",
        "rm /data/d/h2",
        "rm /data/d/l",
        "rm /data/d/f",
        "rmdir /data/d",
        "write /tmpfile x",
    ];
    let obs = rec.clone();
    let (_, exit) = common::run_with(porthole_guests::PROBE, &script, ns, |b| b.observer(obs), &Limits::default());
    assert_eq!(exit, Exit::Code(0));
    let seen: Vec<String> = rec
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|m| {
            let from = m.from.as_deref().map(|f| format!(" from {f}")).unwrap_or_default();
            format!("{:?} {} in {}{from}", m.kind, m.path, m.mount_point)
        })
        .collect();
    assert_eq!(
        seen,
        [
            "Mkdir /data/d in /data",
            "Create /data/d/f in /data",
            "Write /data/d/f in /data",
            "Symlink /data/d/l in /data",
            "Link /data/d/h in /data from /data/d/f",
            "Rename /data/d/h2 in /data from /data/d/h",
            "Unlink /data/d/h2 in /data",
            "Unlink /data/d/l in /data",
            "Unlink /data/d/f in /data",
            "Rmdir /data/d in /data",
            "Create /tmpfile in /",
            "Write /tmpfile in /",
        ]
    );
}
