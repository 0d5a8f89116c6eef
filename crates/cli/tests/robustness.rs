//! The controller under the load real clients put on it, through the stock docker CLI: many
//! `docker run --rm` at once never lose a container's exit code, and waits that their clients
//! abandoned neither pin threads nor hold up shutdown.

mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Daemon, docker_available, text};

#[test]
fn concurrent_run_rm_always_reports_the_exit_code() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    d.ok(&["run", "--rm", "busybox", "true"]);
    const BATCHES: usize = 4;
    const BATCH: usize = 25;
    let mut failures = Vec::new();
    for _ in 0..BATCHES {
        let children: Vec<Child> = (0..BATCH)
            .map(|i| {
                let code = (i % 3).to_string();
                d.command(&["run", "--rm", "busybox", "sh", "-c", &format!("exit {code}")])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for (i, child) in children.into_iter().enumerate() {
            let out = child.wait_with_output().unwrap();
            if out.status.code() != Some((i % 3) as i32) {
                failures.push(format!("run {i}: {:?} {}", out.status.code(), text(&out.stderr)));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} runs failed:\n{}", failures.len(), BATCHES * BATCH, failures.join("\n"));
    assert_eq!(d.ok(&["ps", "-aq"]), "", "--rm removed every container");
}

#[test]
fn abandoned_waits_hold_no_thread_and_do_not_delay_shutdown() {
    if !docker_available() {
        return;
    }
    let mut d = Daemon::start();
    d.ok(&["run", "-d", "--name", "sleeper", "busybox", "sleep", "1000"]);
    // 200 clients wait for a container that keeps running; half of them give up.
    let mut waiters: Vec<Child> = (0..200)
        .map(|_| d.command(&["wait", "sleeper"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap())
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    for w in waiters.iter_mut().step_by(2) {
        let _ = w.kill();
    }
    // And 100 waits for the removal of a container nobody removes (what `docker run --rm` sends
    // before it starts the container), over raw connections; half of them are dropped.
    d.ok(&["create", "--name", "never-removed", "busybox", "true"]);
    let mut removal_waits: Vec<std::net::TcpStream> = (0..100)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(&d.addr).unwrap();
            let req = "POST /containers/never-removed/wait?condition=removed HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n";
            std::io::Write::write_all(&mut s, req.as_bytes()).unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let kept = removal_waits.split_off(50);
    drop(removal_waits);
    // The controller still answers ordinary requests.
    assert_eq!(d.ok(&["run", "--rm", "busybox", "echo", "alive"]), "alive\n");
    let started = Instant::now();
    let status = d.terminate();
    eprintln!("shutdown with 150 waits pending took {:?}", started.elapsed());
    drop(kept);
    assert!(status.is_some(), "porthole serve did not exit within 10 s of SIGTERM with waits pending");
    for mut w in waiters {
        let _ = w.kill();
        let _ = w.wait();
    }
}

#[test]
fn a_build_stops_when_its_client_goes_away() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(ctx.path().join("Dockerfile"), "FROM busybox\nRUN while true; do :; done\n").unwrap();
    let mut client = d
        .command(&["build", "-t", "forever", ctx.path().to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(client.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("Running in") {
        line.clear();
        assert!(std::io::BufRead::read_line(&mut out, &mut line).unwrap() > 0, "the build never ran its step");
    }
    let images = d.root.path().join("images");
    let building = || {
        std::fs::read_dir(&images)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with(".build-"))
            .count()
    };
    assert_eq!(building(), 1, "the step runs in a build stage");
    client.kill().unwrap();
    client.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while building() > 0 {
        assert!(Instant::now() < deadline, "the RUN step kept running after its client went away");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(d.docker(&["image", "inspect", "forever"]).status.code() != Some(0), "nothing was tagged");
}
