//! `docker stats`: memory in use against the limit, CPU, block I/O as the guests' file reads
//! and writes, and the guest count, with `--no-stream` and streaming.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::Daemon;

#[test]
fn stats_show_what_the_guests_use() {
    if !common::docker_available() {
        return;
    }
    let d = Daemon::start();
    let busy = "i=0; while :; do i=$((i+1)); echo $i > /tmp/n; done";
    d.ok(&["run", "-d", "--name", "busy", "--memory", "64m", "busybox", "sh", "-c", busy]);
    d.ok(&["run", "-d", "--name", "idle", "busybox", "sleep", "60"]);
    let format = "{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.BlockIO}}|{{.PIDs}}";
    let out = d.ok(&["stats", "--no-stream", "--format", format]);
    let line = |name: &str| {
        out.lines().find(|l| l.starts_with(&format!("{name}|"))).unwrap_or_else(|| panic!("{out}")).to_string()
    };
    let busy_line: Vec<String> = line("busy").split('|').map(String::from).collect();
    let cpu: f64 = busy_line[1].trim_end_matches('%').parse().unwrap();
    assert!(cpu > 10.0, "a spinning guest shows CPU: {out}");
    assert!(busy_line[2].ends_with(" / 64MiB") && !busy_line[2].starts_with("0B"), "{out}");
    let (_, written) = busy_line[3].split_once(" / ").unwrap();
    assert_ne!(written, "0B", "its writes count as block I/O: {out}");
    assert_eq!(busy_line[4], "1");
    let idle: Vec<String> = line("idle").split('|').map(String::from).collect();
    let idle_cpu: f64 = idle[1].trim_end_matches('%').parse().unwrap();
    assert!(idle_cpu < 5.0, "a sleeping guest uses no CPU: {out}");
    assert!(idle[2].ends_with(" / 512MiB"), "without --memory, the default cap: {out}");

    // Streaming: a sample a second until the client goes away.
    let mut child =
        d.command(&["stats", "--format", "{{.Name}} {{.PIDs}}", "idle"]).stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let shown = lines.by_ref().map_while(Result::ok).find(|l| l.contains("idle 1"));
    assert!(shown.is_some(), "the stream shows the container");
    child.kill().unwrap();
    child.wait().unwrap();
    d.ok(&["rm", "-f", "busy", "idle"]);
}
