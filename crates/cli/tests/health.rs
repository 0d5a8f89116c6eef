//! `HEALTHCHECK` and `docker run --health-*`: probes run in the container by their schedule,
//! `docker ps` and `inspect` show the health as Docker does, and events announce changes.

mod common;

use std::time::{Duration, Instant};

use common::Daemon;

/// Waits (polling, up to a minute) for the container's health status to become `want`.
fn wait_health(d: &Daemon, name: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = d.ok(&["inspect", "--format", "{{.State.Health.Status}}", name]);
        if now.trim() == want {
            return;
        }
        assert!(Instant::now() < deadline, "{name} stayed {now:?}, never {want}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn health_checks_run_by_their_schedule() {
    if !common::docker_available() {
        return;
    }
    let d = Daemon::start();
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        "FROM busybox\nHEALTHCHECK --interval=1s --retries=2 CMD test -f /tmp/ok && echo fine\n",
    )
    .unwrap();
    d.ok(&["build", "-q", "-t", "checked", ctx.path().to_str().unwrap()]);
    let check = d.ok(&["inspect", "--format", "{{json .Config.Healthcheck}}", "checked"]);
    assert_eq!(
        check.trim(),
        r#"{"Test":["CMD-SHELL","test -f /tmp/ok && echo fine"],"Interval":1000000000,"Retries":2}"#
    );

    d.ok(&["run", "-d", "--name", "web", "checked", "sleep", "120"]);
    assert!(d.ok(&["ps", "--format", "{{.Status}}"]).contains("(health: starting)"));
    wait_health(&d, "web", "unhealthy");
    assert!(d.ok(&["ps", "--format", "{{.Status}}"]).contains("(unhealthy)"));
    d.ok(&["exec", "web", "touch", "/tmp/ok"]);
    wait_health(&d, "web", "healthy");
    let log = d.ok(&["inspect", "--format", "{{json .State.Health}}", "web"]);
    let health: serde_json::Value = serde_json::from_str(&log).unwrap();
    assert_eq!(health["FailingStreak"], 0);
    let entries = health["Log"].as_array().unwrap();
    assert!(entries.len() <= 5, "{health}");
    let newest = entries.last().unwrap();
    assert_eq!((newest["ExitCode"].as_i64(), newest["Output"].as_str()), (Some(0), Some("fine\n")));
    d.actions_until(&["--filter", "container=web"], |a| {
        a.contains("health_status: unhealthy") && a.contains("health_status: healthy")
    });

    // Options on the command line: a timeout, and --no-healthcheck.
    d.ok(&[
        "run",
        "-d",
        "--name",
        "slow",
        "--health-cmd",
        "sleep 30",
        "--health-interval",
        "1s",
        "--health-timeout",
        "1s",
        "--health-retries",
        "1",
        "busybox",
        "sleep",
        "120",
    ]);
    wait_health(&d, "slow", "unhealthy");
    let output = d.ok(&[
        "inspect",
        "--format",
        "{{(index .State.Health.Log 0).Output}} {{(index .State.Health.Log 0).ExitCode}}",
        "slow",
    ]);
    assert_eq!(output.trim(), "Health check exceeded timeout (1s) -1");
    d.ok(&["run", "-d", "--name", "unchecked", "--no-healthcheck", "checked", "sleep", "120"]);
    assert_eq!(d.ok(&["inspect", "--format", "{{json .State.Health}}", "unchecked"]).trim(), "null");
    d.ok(&["rm", "-f", "web", "slow", "unchecked"]);
}
