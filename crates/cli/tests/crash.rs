//! The controller killed (SIGKILL) at random points of create/start/rm loops driven through
//! the docker CLI, then started again on the same root: the next open must recover a store in
//! which no acknowledged volume data is lost, no half container is visible, every record is
//! readable (nothing quarantined), and `docker ps -a` / `volume ls` agree with what is on disk.
//!
//! The kill points come from a seed, printed first: `PORTHOLE_CRASH_SEED=<seed>` replays a
//! failure (the same kill delays and the same mix of operations; the process's own timing still
//! varies). `PORTHOLE_CRASH_ITERATIONS` sets how many kills (6 by default, which CI runs).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Daemon, docker_available, text};

/// splitmix64: a small deterministic generator, so a seed replays the same choices.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// What the controller acknowledged before it was killed (what it answered with success).
#[derive(Default)]
struct Acked {
    /// Named volume → the text a guest wrote into it (`/data/v`), and the run that wrote it ended.
    volume_data: BTreeMap<String, String>,
    /// Containers created and not (acknowledged as) removed.
    containers: BTreeSet<String>,
    /// Containers whose `docker rm` succeeded.
    removed: BTreeSet<String>,
    /// Failures while the controller was alive: bugs, not the crash.
    failures: Vec<String>,
}

/// One workload thread: volumes written by `run --rm`, containers created, started, waited
/// for and (half of them) removed with `-v`, and plain `run --rm busybox true`, until `killed`.
fn workload(d: &Daemon, mut rng: Rng, tag: &str, killed: &AtomicBool, acked: &Mutex<Acked>) {
    let run = |args: &[&str]| -> Option<String> {
        let out = d.docker(args);
        if out.status.success() {
            return Some(text(&out.stdout));
        }
        if !killed.load(Ordering::SeqCst) {
            let why = format!("docker {args:?}: {}{}", text(&out.stdout), text(&out.stderr));
            acked.lock().unwrap().failures.push(why);
        }
        None
    };
    for k in 0.. {
        if killed.load(Ordering::SeqCst) {
            return;
        }
        let name = format!("{tag}-{k}");
        match rng.below(8) {
            0..=2 => {
                let volume = format!("vol-{name}");
                let script = format!("echo {name} > /data/v");
                if run(&["volume", "create", &volume]).is_some()
                    && run(&["run", "--rm", "-v", &format!("{volume}:/data"), "busybox", "sh", "-c", &script]).is_some()
                {
                    acked.lock().unwrap().volume_data.insert(volume, format!("{name}\n"));
                }
            }
            3..=5 => {
                let container = format!("c-{name}");
                let script = format!("echo {name} > /anon/f");
                if run(&["create", "--name", &container, "-v", "/anon", "busybox", "sh", "-c", &script]).is_none() {
                    continue;
                }
                acked.lock().unwrap().containers.insert(container.clone());
                if run(&["start", &container]).is_none() || run(&["wait", &container]).is_none() {
                    continue;
                }
                if rng.below(2) == 0 && run(&["rm", "-v", &container]).is_some() {
                    let mut a = acked.lock().unwrap();
                    a.containers.remove(&container);
                    a.removed.insert(container);
                }
            }
            _ => {
                run(&["run", "--rm", "busybox", "true"]);
            }
        }
    }
}

/// Entries of a store folder (`containers`, `volumes`), hidden ones aside.
fn entries(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect()
}

fn lines(s: &str) -> BTreeSet<String> {
    s.lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
}

/// Everything the restarted controller must show, given what was acknowledged before the kill.
/// Leaves no container behind (each is started, which proves its files whole, then removed).
fn check(d: &Daemon, acked: &mut Acked, context: &str) {
    let root = d.root.path();
    assert!(
        !root.join("quarantine").exists(),
        "{context}: recovery quarantined {:?}",
        entries(&root.join("quarantine"))
    );
    let warnings = d.ok(&["info", "--format", "{{json .Warnings}}"]);
    assert!(!warnings.contains("unreadable"), "{context}: docker info warns {warnings}");

    // `ps -a` and the containers on disk are the same set: nothing half made is visible, and
    // nothing on disk is hidden.
    let listed = lines(&d.ok(&["ps", "-a", "--no-trunc", "--format", "{{.ID}}"]));
    assert_eq!(listed, entries(&root.join("containers")), "{context}: ps -a against containers/");
    let names = lines(&d.ok(&["ps", "-a", "--format", "{{.Names}}"]));
    for c in &acked.containers {
        assert!(names.contains(c), "{context}: acknowledged container {c} is gone (listed: {names:?})");
    }
    for c in &acked.removed {
        assert!(!names.contains(c), "{context}: removed container {c} is back");
    }

    // `volume ls` and the volumes on disk are the same set; every container's volumes exist.
    let volumes = lines(&d.ok(&["volume", "ls", "-q"]));
    assert_eq!(volumes, entries(&root.join("volumes")), "{context}: volume ls against volumes/");
    for id in &listed {
        let mounted = d.ok(&["inspect", "--format", "{{range .Mounts}}{{.Name}} {{end}}", id]);
        for v in mounted.split_whitespace() {
            assert!(volumes.contains(v), "{context}: container {id} mounts volume {v}, which volume ls lacks");
        }
        let status = d.ok(&["inspect", "--format", "{{.State.Status}}", id]);
        assert!(["created", "exited"].contains(&status.trim()), "{context}: {id} is {status} after a restart");
    }

    // No acknowledged write into a volume is lost, from this round or an earlier one.
    for (volume, data) in &acked.volume_data {
        assert!(volumes.contains(volume), "{context}: volume {volume} is gone");
        let found = std::fs::read_to_string(root.join("volumes").join(volume).join("_data/v"));
        assert_eq!(found.ok().as_deref(), Some(data.as_str()), "{context}: volume {volume}'s data");
    }

    // Every container that survived runs (its rootfs is whole), then goes, with its volumes.
    for id in &listed {
        let out = d.docker(&["start", "-a", id]);
        assert!(out.status.success(), "{context}: start -a {id}: {}{}", text(&out.stdout), text(&out.stderr));
        let out = d.docker(&["rm", "-v", id]);
        // A `--rm` container removes itself after its run.
        assert!(out.status.success() || text(&out.stderr).contains("No such container"), "{context}: rm {id}");
    }
    acked.containers.clear();
    acked.removed.clear();

    // The trash a crash left is emptied in the background after the open.
    let deadline = Instant::now() + Duration::from_secs(60);
    while root.join("trash").exists() && !entries(&root.join("trash")).is_empty() {
        assert!(Instant::now() < deadline, "{context}: the trash was never emptied");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn killed_at_random_points_the_store_recovers() {
    if !docker_available() {
        return;
    }
    let seed: u64 = match std::env::var("PORTHOLE_CRASH_SEED") {
        Ok(s) => s.parse().expect("PORTHOLE_CRASH_SEED is a number"),
        Err(_) => std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64,
    };
    let iterations: u64 = std::env::var("PORTHOLE_CRASH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(6);
    eprintln!("crash test: seed {seed} (PORTHOLE_CRASH_SEED={seed} replays it), {iterations} iterations");
    let mut rng = Rng(seed);
    let mut acked = Acked::default();
    let mut root = tempfile::tempdir().unwrap();
    for i in 0..iterations {
        let context = format!("seed {seed}, iteration {i}");
        let d = Daemon::start_on(root);
        check(&d, &mut acked, &format!("{context}, at start"));
        let killed = AtomicBool::new(false);
        let shared = Mutex::new(std::mem::take(&mut acked));
        let delay = Duration::from_millis(100 + rng.below(2400));
        let threads: Vec<Rng> = (0..3).map(|_| Rng(rng.next_u64())).collect();
        std::thread::scope(|s| {
            for (t, thread_rng) in threads.into_iter().enumerate() {
                let (d, killed, shared) = (&d, &killed, &shared);
                s.spawn(move || workload(d, thread_rng, &format!("i{i}t{t}"), killed, shared));
            }
            std::thread::sleep(delay);
            killed.store(true, Ordering::SeqCst);
            // The threads' calls in flight fail once the controller is gone; they are not
            // acknowledged, so nothing is expected of them.
            let pid = rustix::process::Pid::from_child(&d.child);
            rustix::process::kill_process(pid, rustix::process::Signal::KILL).unwrap();
        });
        root = d.kill();
        acked = shared.into_inner().unwrap();
        assert!(acked.failures.is_empty(), "{context}: failed before the kill:\n{}", acked.failures.join("\n"));
        eprintln!(
            "iteration {i}: killed after {delay:?}; {} volumes with data, {} containers acknowledged",
            acked.volume_data.len(),
            acked.containers.len()
        );
    }
    let d = Daemon::start_on(root);
    check(&d, &mut acked, &format!("seed {seed}, after the last kill"));
}
