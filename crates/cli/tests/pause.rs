//! `docker pause` / `unpause`: the guest stops at its next safepoint and uses no CPU, `ps` and
//! `inspect` say so, exec is refused while paused, and stop still ends a paused container.

mod common;

use std::time::{Duration, Instant};

use common::Daemon;

/// The controller's CPU time so far, in clock ticks (utime + stime of /proc/PID/stat).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn counter(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Waits (up to 30 s) until the counter file changes from `from`.
fn wait_change(path: &std::path::Path, from: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while counter(path) == from {
        assert!(Instant::now() < deadline, "the counter stayed at {from:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_paused_guest_uses_no_cpu_until_unpaused() {
    if !common::docker_available() {
        return;
    }
    let d = Daemon::start();
    let script = "i=0; while :; do i=$((i+1)); echo $i > /data/n.tmp; mv /data/n.tmp /data/n; done";
    d.ok(&["run", "-d", "--name", "busy", "-v", "counter:/data", "busybox", "sh", "-c", script]);
    let n = d.root.path().join("volumes/counter/_data/n");
    wait_change(&n, "");

    d.ok(&["pause", "busy"]);
    assert!(d.ok(&["ps", "--format", "{{.Status}}"]).contains("(Paused)"));
    assert_eq!(
        d.ok(&["inspect", "--format", "{{.State.Status}} {{.State.Paused}} {{.State.Running}}", "busy"]),
        "paused true true\n"
    );
    // Stopped at its next safepoint: the count stands still, and the controller idles.
    std::thread::sleep(Duration::from_millis(200));
    let (held, ticks) = (counter(&n), cpu_ticks(d.child.id()));
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(counter(&n), held, "the guest ran while paused");
    let used = cpu_ticks(d.child.id()) - ticks;
    assert!(used < 20, "the controller used {used} ticks of CPU in 1 s with the only guest paused");

    let (_, err) = d.fails(&["exec", "busy", "true"]);
    assert!(err.contains("is paused, unpause the container before exec"), "{err}");
    let (_, err) = d.fails(&["pause", "busy"]);
    assert!(err.contains("is already paused"), "{err}");

    d.ok(&["unpause", "busy"]);
    wait_change(&n, &held);
    let (_, err) = d.fails(&["unpause", "busy"]);
    assert!(err.contains("is not paused"), "{err}");
    let events = d.actions_until(&["--filter", "event=pause", "--filter", "event=unpause"], |a| a.contains("unpause"));
    assert_eq!(events, "pause\nunpause\n");

    // A paused container still stops.
    d.ok(&["pause", "busy"]);
    d.ok(&["stop", "-t", "1", "busy"]);
    assert_eq!(d.ok(&["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "busy"]), "exited 137\n");
    let (_, err) = d.fails(&["pause", "busy"]);
    assert!(err.contains("is not running"), "{err}");
}
