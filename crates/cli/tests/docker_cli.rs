//! End to end: the real `porthole serve` on a temporary root, driven by the stock `docker`
//! CLI (`DOCKER_HOST=tcp://127.0.0.1:PORT`, legacy builder), including the Pulp walkthrough
//! from the product brief typed into an interactive shell through a pseudo-terminal.
//!
//! Skipped (with a note) where no `docker` CLI is installed.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::terminal::Terminal;
use common::{Daemon, docker_available, text};

const PULP_DOCKERFILE: &str = include_str!("../../../examples/pulp/content/Dockerfile");

fn build_pulp(d: &Daemon) {
    let context = tempfile::tempdir().unwrap();
    std::fs::write(context.path().join("Dockerfile"), PULP_DOCKERFILE).unwrap();
    let out = d.ok(&["build", "-t", "markllama/pulp-content", context.path().to_str().unwrap()]);
    assert!(out.contains("Step 1/3 : FROM busybox"), "{out}");
    assert!(out.contains("Successfully tagged markllama/pulp-content:latest"), "{out}");
}

#[test]
fn pulp_walkthrough() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    build_pulp(&d);
    assert!(d.ok(&["images"]).contains("markllama/pulp-content"));

    // docker run -it --name volume-demo markllama/pulp-content /bin/sh
    let mut t =
        Terminal::spawn(d.command(&["run", "-it", "--name", "volume-demo", "markllama/pulp-content", "/bin/sh"]));
    t.expect("/ # ");
    t.type_keys("mount\r");
    t.expect("/var/lib/pulp type volume (rw)");
    t.expect("/ # ");
    t.type_keys("find /var/www\r");
    t.expect("/var/www/pub/f");
    t.expect("/ # ");
    t.type_keys("cat /var/www/pub/f\r");
    t.expect("mirrored");
    t.expect("/ # ");
    t.type_keys("echo from-demo > /var/lib/pulp/shared\r");
    t.expect("/ # ");
    t.type_keys("exit\r");
    let (status, screen) = t.finish();
    assert!(status.success(), "{status}: {screen}");
    assert!(screen.contains("on /var/www type volume (rw)"), "{screen}");

    assert_eq!(
        d.ok(&["inspect", "--format", "{{.Config.Volumes}}", "volume-demo"]).trim(),
        "map[/var/lib/pulp:{} /var/www:{}]"
    );
    let mounts: serde_json::Value =
        serde_json::from_str(&d.ok(&["inspect", "--format", "{{json .Mounts}}", "volume-demo"])).unwrap();
    let mounts = mounts.as_array().unwrap();
    assert_eq!(mounts.len(), 2);
    for m in mounts {
        assert_eq!(m["Type"], "volume");
        assert_eq!(m["Driver"], "local");
        assert_eq!(m["RW"], true);
        assert_eq!(m["Mode"], "");
        let name = m["Name"].as_str().unwrap();
        assert_eq!(name.len(), 64, "anonymous volume names are 64 hex digits: {m}");
        let source = m["Source"].as_str().unwrap();
        assert_eq!(Path::new(source), d.root.path().canonicalize().unwrap().join("volumes").join(name).join("_data"));
        assert!(Path::new(source).is_dir());
    }
    let dests: Vec<&str> = mounts.iter().map(|m| m["Destination"].as_str().unwrap()).collect();
    assert!(dests.contains(&"/var/lib/pulp") && dests.contains(&"/var/www"), "{dests:?}");
    // The post's own command: Docker 1.x's `Volumes`, destination → host directory.
    let source = |dest: &str| mounts.iter().find(|m| m["Destination"] == dest).unwrap()["Source"].as_str().unwrap();
    assert_eq!(
        d.ok(&["inspect", "--format", "{{.Volumes}}", "volume-demo"]).trim(),
        format!("map[/var/lib/pulp:{} /var/www:{}]", source("/var/lib/pulp"), source("/var/www"))
    );
    assert_eq!(
        d.ok(&["inspect", "--format", "{{.VolumesRW}}", "volume-demo"]).trim(),
        "map[/var/lib/pulp:true /var/www:true]"
    );

    // docker run --name volumes-from-demo --volumes-from volume-demo …: the same volumes.
    let out = d.ok(&[
        "run",
        "--name",
        "volumes-from-demo",
        "--volumes-from",
        "volume-demo",
        "markllama/pulp-content",
        "sh",
        "-c",
        "cat /var/lib/pulp/shared; cat /var/www/pub/f",
    ]);
    assert_eq!(out, "from-demo\nmirrored\n");
    let (code, err) =
        d.fails(&["run", "--rm", "--volumes-from", "volume-demo:ro", "busybox", "sh", "-c", "echo x > /var/www/x"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("Read-only file system"), "{err}");

    let holders = d.ok(&[
        "ps",
        "-a",
        "--filter",
        &format!("volume={}", mounts[0]["Name"].as_str().unwrap()),
        "--format",
        "{{.Names}}",
    ]);
    assert_eq!(holders.lines().count(), 2, "both containers hold the volume: {holders}");

    // A volume in use cannot be removed.
    let volume = mounts[0]["Name"].as_str().unwrap();
    let (code, err) = d.fails(&["volume", "rm", volume]);
    assert_eq!(code, Some(1));
    assert!(err.contains("volume is in use"), "{err}");

    // rm -v removes anonymous volumes unless another container still holds them.
    d.ok(&["rm", "-v", "volumes-from-demo"]);
    d.ok(&["rm", "-v", "volume-demo"]);
    assert_eq!(d.ok(&["volume", "ls", "-q"]), "", "rm -v of the last holder removes the anonymous volumes");

    // volume prune: unused anonymous volumes only, named ones with --all.
    d.ok(&["volume", "create", "--label", "lesson=1", "keep"]);
    d.ok(&["create", "--name", "anon", "-v", "/data", "busybox"]);
    d.ok(&["rm", "anon"]);
    let listed = d.ok(&["volume", "ls", "-q"]);
    assert_eq!(listed.lines().count(), 2, "{listed}");
    let pruned = d.ok(&["volume", "prune", "-f"]);
    assert!(pruned.contains("Deleted Volumes:") && pruned.contains("Total reclaimed space"), "{pruned}");
    assert_eq!(d.ok(&["volume", "ls", "-q"]), "keep\n");
    let (_, err) = d.fails(&["volume", "ls", "-f", "dangling=invalid"]);
    assert!(err.contains("invalid filter 'dangling=invalid'"), "{err}");
    let (_, err) = d.fails(&["volume", "ls", "-f", "colour=blue"]);
    assert!(err.contains("invalid filter 'colour'"), "{err}");
    let inspect: serde_json::Value = serde_json::from_str(&d.ok(&["volume", "inspect", "keep"])).unwrap();
    assert_eq!(inspect[0]["Driver"], "local");
    assert_eq!(inspect[0]["Scope"], "local");
    assert_eq!(inspect[0]["Labels"]["lesson"], "1");
    d.ok(&["volume", "prune", "-a", "-f"]);
    assert_eq!(d.ok(&["volume", "ls", "-q"]), "");
}

/// What the store holds, as the CLI lists it.
fn inventory(d: &Daemon) -> String {
    ["images", "ps", "volume"]
        .iter()
        .map(|what| match *what {
            "images" => d.ok(&["images", "-q", "--no-trunc"]),
            "ps" => d.ok(&["ps", "-aq", "--no-trunc"]),
            _ => d.ok(&["volume", "ls", "-q"]),
        })
        .collect()
}

/// `docker run` of a missing image pulls it as the docker CLI does (it asks `/images/create`
/// itself); a registry that is not there fails the run at once, naming it, and changes nothing.
#[test]
fn a_missing_image_is_pulled_and_an_absent_registry_named() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    let before = inventory(&d);
    let (code, err) = d.fails(&["run", "-v", "/data", "127.0.0.1:1/nosuchimage"]);
    assert_eq!(code, Some(125), "{err}");
    assert!(err.contains("Unable to find image '127.0.0.1:1/nosuchimage:latest' locally"), "{err}");
    assert!(err.contains("Get \"http://127.0.0.1:1/v2/\": "), "{err}");
    let (_, err) = d.fails(&["pull", "127.0.0.1:1/nosuchimage"]);
    assert!(err.contains("Error response from daemon: Get \"http://127.0.0.1:1/v2/\": "), "{err}");
    let (code, err) = d.fails(&["create", "markllama/pulp-content"]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(inventory(&d), before, "a failed run changes nothing");
}

#[test]
fn run_reports_exit_codes_and_engine_errors() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    let out = d.docker(&["run", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(text(&out.stdout), "out\n");
    assert_eq!(text(&out.stderr), "err\n");
    assert_eq!(d.ok(&["run", "--rm", "busybox", "echo", "hello"]), "hello\n");
    let (code, err) = d.fails(&["run", "--privileged", "busybox", "true"]);
    assert_eq!(code, Some(125));
    assert!(err.contains("docker: Error response from daemon: --privileged is not supported by Porthole"), "{err}");
    let (code, err) = d.fails(&["run", "--name", "bad", "-v", "/a:/b:zz", "busybox", "true"]);
    assert_eq!(code, Some(125));
    assert!(err.contains("invalid mode: zz"), "{err}");

    // A user's own module, bind-mounted as a single file: one Porthole cannot run exits 126
    // naming why; a missing one 127.
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("missiles.wasm");
    std::fs::write(
        &module,
        r#"(module (import "env" "launch_missiles" (func)) (memory (export "memory") 1) (func (export "_start")))"#,
    )
    .unwrap();
    let bind = format!("{}:/missiles.wasm:ro", module.display());
    let out = d.docker(&["run", "--rm", "-v", &bind, "busybox", "/missiles.wasm"]);
    assert_eq!(out.status.code(), Some(126), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("launch_missiles"), "{}", text(&out.stderr));
    let (code, err) = d.fails(&["run", "--rm", "busybox", "/no/such.wasm"]);
    assert_eq!(code, Some(127), "{err}");

    // stdin through -i, closed when the client's input ends.
    let mut child = d
        .command(&["run", "-i", "--rm", "busybox", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"piped\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(text(&out.stdout), "piped\n");

    // Lifecycle of a long-running container: logs, exec, stop, start -a, rm.
    let id =
        d.ok(&["run", "-d", "--name", "ticker", "busybox", "sh", "-c", "echo started; while true; do sleep 1; done"]);
    assert_eq!(id.trim().len(), 64);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !d.ok(&["logs", "ticker"]).contains("started") {
        assert!(Instant::now() < deadline, "no output from the container");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(d.ok(&["ps", "--filter", "name=ticker", "--format", "{{.Status}}"]).starts_with("Up "));
    assert_eq!(d.ok(&["exec", "ticker", "cat", "/etc/hostname"]).trim(), &id.trim()[..12]);
    assert_eq!(d.docker(&["exec", "ticker", "sh", "-c", "exit 4"]).status.code(), Some(4));

    let mut t = Terminal::spawn(d.command(&["exec", "-it", "ticker", "sh"]));
    t.expect("/ # ");
    t.type_keys("echo in-ex\x7f\x7fexec\r");
    t.expect("in-exec\r\n");
    t.expect("/ # ");
    t.type_keys("\x04");
    let (status, screen) = t.finish();
    assert!(status.success(), "{status}: {screen}");

    // An interactive session's exit code is docker's.
    let mut t = Terminal::spawn(d.command(&["run", "-it", "--rm", "busybox", "sh"]));
    t.expect("/ # ");
    t.type_keys("exit 5\r");
    let (status, screen) = t.finish();
    assert_eq!(status.code(), Some(5), "{screen}");

    d.ok(&["kill", "ticker"]);
    assert_eq!(d.ok(&["wait", "ticker"]).trim(), "137");
    d.ok(&["restart", "ticker"]);
    assert_eq!(d.ok(&["inspect", "--format", "{{.State.Running}} {{.RestartCount}}", "ticker"]).trim(), "true 1");
    // TERM ends the shell, which does not trap it: 128 + 15.
    d.ok(&["stop", "ticker"]);
    assert_eq!(d.ok(&["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "ticker"]).trim(), "exited 143");
    assert!(d.ok(&["ps", "-a", "--filter", "status=exited", "--format", "{{.Names}}"]).contains("ticker"));
    d.ok(&["rm", "ticker"]);
    let (_, err) = d.fails(&["inspect", "ticker"]);
    assert!(err.contains("No such object: ticker") || err.contains("No such container: ticker"), "{err}");
}

#[test]
fn logs_rotate_at_max_size_and_tail_reads_the_end() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    let script = "i=0; while [ $i -lt 3000 ]; do echo line-$i; i=$((i+1)); done";
    let run = ["run", "-d", "--name", "chatty", "--log-opt", "max-size=50k", "--log-opt", "max-file=2"];
    d.ok(&[&run[..], &["busybox", "sh", "-c", script]].concat());
    assert_eq!(d.ok(&["wait", "chatty"]).trim(), "0");
    assert_eq!(d.ok(&["logs", "--tail", "3", "chatty"]), "line-2997\nline-2998\nline-2999\n");
    assert_eq!(
        d.ok(&["inspect", "-f", "{{json .HostConfig.LogConfig}}", "chatty"]).trim(),
        r#"{"Type":"json-file","Config":{"max-file":"2","max-size":"50k"}}"#
    );
    // Two files of about 50 kB on disk; `logs` gives what they hold, oldest first, to the end.
    let log_path = d.ok(&["inspect", "-f", "{{.LogPath}}", "chatty"]);
    let dir = Path::new(log_path.trim()).parent().unwrap().to_path_buf();
    let sizes: Vec<u64> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().starts_with("container.log"))
        .map(|e| e.metadata().unwrap().len())
        .collect();
    assert_eq!(sizes.len(), 2, "{sizes:?}");
    assert!(sizes.iter().all(|s| *s <= 50_000 + 200), "{sizes:?}");
    let all = d.ok(&["logs", "chatty"]);
    let first: usize = all.lines().next().unwrap().strip_prefix("line-").unwrap().parse().unwrap();
    assert!(first > 0);
    assert_eq!(all, (first..3000).map(|i| format!("line-{i}\n")).collect::<String>());

    // The default: 10m and 5 files, shown as dockerd shows its merged log-opts.
    d.ok(&["create", "--name", "quiet", "busybox", "true"]);
    assert_eq!(
        d.ok(&["inspect", "-f", "{{json .HostConfig.LogConfig}}", "quiet"]).trim(),
        r#"{"Type":"json-file","Config":{"max-file":"5","max-size":"10m"}}"#
    );

    // --tail with -f: the last lines so far, then what follows, nothing twice.
    d.ok(&["run", "-d", "--name", "slow", "busybox", "sh", "-c", "echo a; echo b; echo c; sleep 2; echo d"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !d.ok(&["logs", "slow"]).contains('c') {
        assert!(Instant::now() < deadline, "no output from the container");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(d.ok(&["logs", "-f", "--tail", "2", "slow"]), "b\nc\nd\n");

    // --since and --until by the times --timestamps shows: since is inclusive, until too.
    d.ok(&["run", "--name", "abc", "busybox", "sh", "-c", "echo a; echo b; echo c"]);
    let stamped = d.ok(&["logs", "--timestamps", "abc"]);
    let times: Vec<&str> = stamped.lines().map(|l| l.split_once(' ').unwrap().0).collect();
    assert_eq!(times.len(), 3, "{stamped}");
    assert_eq!(d.ok(&["logs", "--since", times[1], "abc"]), "b\nc\n");
    assert_eq!(d.ok(&["logs", "--until", times[1], "abc"]), "a\nb\n");
    assert_eq!(d.ok(&["logs", "--since", times[1], "--until", times[1], "abc"]), "b\n");

    // Refused with Docker's texts, naming the option.
    for (opt, message) in [
        (&["--log-opt", "foo=1"][..], "unknown log opt 'foo' for json-file log driver"),
        (&["--log-opt", "max-size=lots"][..], "invalid size: 'lots'"),
        (&["--log-opt", "max-file=0"][..], "max-file cannot be less than 1"),
        (&["--log-driver", "syslog"][..], "--log-driver syslog is not supported by Porthole"),
        (&["--log-driver", "nope"][..], "logger: no log driver named 'nope' is registered"),
    ] {
        let (code, err) = d.fails(&[&["run", "--rm"][..], opt, &["busybox", "true"]].concat());
        assert_eq!(code, Some(125), "{opt:?}: {err}");
        assert!(err.contains(message), "{opt:?}: {err}");
    }
}

#[test]
fn refuses_foreign_hosts_and_cross_site_requests() {
    let d = Daemon::start();
    let ping = d.http(&format!("GET /_ping HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", d.addr));
    assert!(ping.starts_with("HTTP/1.1 200"), "{ping}");
    assert!(ping.to_ascii_lowercase().contains("api-version: 1.49"), "{ping}");
    let rebound = d.http("GET /containers/json HTTP/1.1\r\nHost: attacker.example:2375\r\nConnection: close\r\n\r\n");
    assert!(rebound.starts_with("HTTP/1.1 403"), "{rebound}");
    let cross = d.http(&format!(
        "POST /v1.49/volumes/create HTTP/1.1\r\nHost: {}\r\nOrigin: http://attacker.example\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}",
        d.addr
    ));
    assert!(cross.starts_with("HTTP/1.1 403"), "{cross}");
    let fetch = d.http("POST /containers/prune HTTP/1.1\r\nHost: localhost\r\nSec-Fetch-Site: cross-site\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    assert!(fetch.starts_with("HTTP/1.1 403"), "{fetch}");
    let unknown = d.http(&format!("GET /v1.49/nothing/here HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", d.addr));
    assert!(unknown.starts_with("HTTP/1.1 404") && unknown.contains(r#"{"message":"page not found"}"#), "{unknown}");
    let malformed = d.http(&format!(
        "POST /containers/create HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 4\r\nConnection: close\r\n\r\n{{bad",
        d.addr
    ));
    assert!(malformed.starts_with("HTTP/1.1 400") && malformed.contains("invalid JSON"), "{malformed}");
}

#[test]
fn one_controller_per_root() {
    let d = Daemon::start();
    let out = Command::new(env!("CARGO_BIN_EXE_porthole"))
        .args(["serve", "--listen", "127.0.0.1:0", "--root"])
        .arg(d.root.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("another porthole serve is already running"), "{}", text(&out.stderr));
}

#[test]
fn version_info_events_and_the_unix_socket() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    let root = d.root.path().canonicalize().unwrap();
    let version = d.ok(&["version", "--format", "{{.Server.APIVersion}} {{.Server.Os}}"]);
    assert_eq!(version.trim(), "1.49 linux");
    let info = d.ok(&["info", "--format", "{{.Name}}|{{.OperatingSystem}}|{{.Driver}}|{{.DockerRootDir}}|{{.Images}}"]);
    assert_eq!(info.trim(), format!("porthole|Porthole (WASI)|porthole|{}|1", root.display()));

    let start = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    // `cat` reads a file, so the engine also publishes a walk event, which is not Docker's.
    d.ok(&["run", "--name", "evented", "-v", "named:/data", "busybox", "cat", "/etc/hostname"]);
    d.ok(&["rm", "evented"]);
    // `--until 0s` is sent in whole seconds, as to Docker: let this second pass.
    std::thread::sleep(Duration::from_millis(1100));
    let events = d.ok(&[
        "events",
        "--since",
        &start.to_string(),
        "--until",
        "0s",
        "--format",
        "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}",
    ]);
    for expected in [
        "volume create",
        "container create evented",
        "container start evented",
        "container die evented",
        "container destroy evented",
    ] {
        assert!(events.contains(expected), "{expected:?} missing from:\n{events}");
    }
    assert!(!events.contains("walk"), "{events}");
    let json = d.ok(&[
        "events",
        "--since",
        &start.to_string(),
        "--until",
        "0s",
        "--filter",
        "type=container",
        "--format",
        "{{json .}}",
    ]);
    let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(
        (first["Type"].as_str(), first["Action"].as_str(), first["scope"].as_str()),
        (Some("container"), Some("create"), Some("local"))
    );
    assert!(first["timeNano"].as_i64().unwrap() > 0);

    // The unix socket answers the CLI too, and only its owner may connect.
    let socket = root.join("porthole.sock");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777, 0o600);
    let out =
        d.command(&["volume", "ls", "-q"]).env("DOCKER_HOST", format!("unix://{}", socket.display())).output().unwrap();
    assert_eq!(text(&out.stdout), "named\n", "{}", text(&out.stderr));
}

#[test]
fn shutdown_stops_guests_and_keeps_state() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    d.ok(&[
        "run",
        "-d",
        "--name",
        "sleeper",
        "-v",
        "kept:/data",
        "busybox",
        "sh",
        "-c",
        "echo > /data/mark; while true; do sleep 1; done",
    ]);
    assert!(d.ok(&["inspect", "--format", "{{.State.Running}}", "sleeper"]).starts_with("true"));
    let (status, root) = d.stop();
    assert!(status.is_some_and(|s| s.success()), "porthole serve ended with {status:?}");
    assert!(!root.path().join("porthole.sock").exists(), "the socket is removed at shutdown");

    let d = Daemon::start_on(root);
    // Stopped as `docker stop` does: TERM, which the shell does not trap (128 + 15).
    assert_eq!(d.ok(&["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "sleeper"]).trim(), "exited 143");
    assert_eq!(d.ok(&["volume", "ls", "-q"]), "kept\n");
    d.ok(&["start", "sleeper"]);
    assert!(d.ok(&["ps", "--format", "{{.Names}}"]).contains("sleeper"));
}

/// The controller's peak resident memory (`VmHWM`), in MiB.
fn peak_rss_mib(d: &Daemon) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", d.child.id())).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() / 1024
}

/// A 50 MB log (as one written before rotation existed), read whole and by its tail: the
/// controller streams it, so its peak RSS stays small (it took 11.8 GB for a 7.8 GB log
/// before). Prints the times (`--nocapture`); asserts sizes only.
#[test]
fn a_large_log_is_streamed_not_loaded() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    d.ok(&["create", "--name", "big", "busybox", "true"]);
    let log_path = d.ok(&["inspect", "-f", "{{.LogPath}}", "big"]);
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(log_path.trim()).unwrap());
        let mut written = 0;
        let mut i = 0u64;
        while written < 50_000_000 {
            let line = format!(
                "{{\"stream\":\"stdout\",\"log\":\"line-{i} of a chatty container\\n\",\"time\":\"2026-11-30T16:00:00.000000000Z\"}}\n"
            );
            f.write_all(line.as_bytes()).unwrap();
            written += line.len();
            i += 1;
        }
    }
    println!("controller peak RSS before reading: {} MiB", peak_rss_mib(&d));
    let start = Instant::now();
    let tail = d.ok(&["logs", "--tail", "10", "big"]);
    println!("logs --tail 10: {:?}, {} lines", start.elapsed(), tail.lines().count());
    let start = Instant::now();
    let out = d.command(&["logs", "big"]).stdout(Stdio::null()).status().unwrap();
    println!("logs (all, to /dev/null): {:?}, {out}", start.elapsed());
    let start = Instant::now();
    let mut s = std::net::TcpStream::connect(&d.addr).unwrap();
    s.write_all(format!("GET /porthole/containers/big/logs HTTP/1.1\r\nHost: {}\r\n\r\n", d.addr).as_bytes()).unwrap();
    let mut first = [0u8; 1];
    s.read_exact(&mut first).unwrap();
    println!("dashboard log stream, first byte: {:?}", start.elapsed());
    let peak = peak_rss_mib(&d);
    println!("controller peak RSS after reading: {peak} MiB");
    assert_eq!(tail.lines().count(), 10);
    assert!(peak < 128, "the controller's peak RSS reached {peak} MiB reading a 50 MB log");
}

/// `docker inspect` shows the same HostConfig after the controller restarts, `--mount`s
/// included; and `RUN []` fails the build with Docker's message instead of ending the stream.
#[test]
fn host_config_survives_a_restart_and_run_without_a_command_is_refused() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    d.ok(&[
        "create",
        "--name",
        "configured",
        "--mount",
        "type=volume,source=data,target=/data,readonly,volume-label=team=a",
        "-v",
        "kept:/kept",
        "--read-only",
        "--rm",
        "-m",
        "64m",
        "-p",
        "8080:80",
        "busybox",
        "true",
    ]);
    let before = d.ok(&["inspect", "--format", "{{json .HostConfig}}", "configured"]);
    assert!(before.contains("\"Target\":\"/data\""), "{before}");
    let (_, root) = d.stop();
    let d = Daemon::start_on(root);
    assert_eq!(d.ok(&["inspect", "--format", "{{json .HostConfig}}", "configured"]), before);

    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(ctx.path().join("Dockerfile"), "FROM busybox\nRUN []\n").unwrap();
    let (_, stderr) = d.fails(&["build", ctx.path().to_str().unwrap()]);
    assert!(stderr.contains("Dockerfile parse error line 2: RUN requires at least one argument"), "{stderr}");
}

#[test]
fn interactive_shell_edits_lines_keeps_history_and_survives_ctrl_c() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    let mut t = Terminal::spawn(d.command(&["run", "-it", "--rm", "busybox", "sh"]));
    t.expect("/ # ");
    t.type_keys("echo first\r");
    t.expect("first\r\n");
    // Up brings the line back; End and more text edit it; a left arrow inserts before.
    t.type_keys("\x1b[A\x1b[F again\r");
    t.expect("first again\r\n");
    t.type_keys("echo b\x1b[Da\r");
    t.expect("ab\r\n");
    // Ctrl-C ends the foreground program with 130, and the shell goes on.
    t.type_keys("echo started; sleep 60; echo not-reached\r");
    t.expect("started\r\n");
    t.type_keys("\x03");
    t.expect("/ # ");
    t.type_keys("echo status=$?\r");
    t.expect("status=130");
    // Ctrl-C also stops a loop of the shell's own.
    t.type_keys("echo looping; while :; do :; done\r");
    t.expect("looping\r\n");
    t.type_keys("\x03");
    t.expect("/ # ");
    // Ctrl-D ends cat's input, not the session; a pipeline and a program from PATH run.
    t.type_keys("cat > /tmp/f\r");
    t.type_keys("typed line\r\x04");
    t.expect("/ # ");
    t.type_keys("cat /tmp/f | tr a-z A-Z\r");
    t.expect("TYPED LINE");
    // Ctrl-D on an empty line ends the session.
    t.expect("/ # ");
    t.type_keys("\x04");
    let (status, screen) = t.finish();
    assert!(status.success(), "{status}: {screen}");
    assert!(!screen.contains("\nnot-reached\r\n"), "the command after the interrupted one ran: {screen}");
}
