//! Porthole's own read-only endpoints behind the dashboard, through the real binary after
//! real docker CLI commands: the graph (JSON and SVG), file listings with the last writer, the
//! file view refusing links out of the volume, previews, the page and its friendly 404, the
//! log stream starting from the tail, and a container's path walks.

mod common;

use std::time::{Duration, Instant};

use common::{Daemon, docker_available};

fn get(d: &Daemon, path: &str) -> String {
    d.http(&format!("GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", d.addr))
}

#[test]
fn graph_files_previews_and_pages() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    d.ok(&[
        "run",
        "--name",
        "data",
        "-v",
        "pulp:/var/lib/pulp",
        "busybox",
        "sh",
        "-c",
        "echo hi > /var/lib/pulp/a.txt",
    ]);
    d.ok(&["create", "--name", "web", "--volumes-from", "data:ro", "busybox", "true"]);
    let data_dir = d.root.path().join("volumes/pulp/_data");
    std::os::unix::fs::symlink("/etc/passwd", data_dir.join("link")).unwrap();

    let graph = get(&d, "/porthole/graph");
    assert!(graph.starts_with("HTTP/1.1 200"), "{graph}");
    assert!(
        graph.contains(r#""key":"volume:pulp""#) && graph.contains(r#""label":"/var/lib/pulp ro (from data)""#),
        "{graph}"
    );
    let svg = get(&d, "/porthole/graph.svg");
    assert!(svg.contains("image/svg+xml") && svg.contains(r#"data-key="volume:pulp""#), "{svg}");

    // The writer is recorded from the event stream, a moment after the write.
    let deadline = Instant::now() + Duration::from_secs(5);
    let files = loop {
        let files = get(&d, "/porthole/volumes/pulp/files?path=/");
        if files.contains(r#""last_writer":{"container":"data""#) || Instant::now() > deadline {
            break files;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(files.contains(r#""name":"a.txt""#) && files.contains(r#""guest_path":"/var/lib/pulp/a.txt""#), "{files}");
    assert!(files.contains(r#""last_writer":{"container":"data""#), "{files}");
    assert!(files.contains(r#""link_target":"/etc/passwd""#), "{files}");

    let view = get(&d, "/porthole/volumes/pulp/file?path=/a.txt");
    assert!(view.contains(r#""content":"hi\n""#), "{view}");
    let link = get(&d, "/porthole/volumes/pulp/file?path=/link");
    assert!(link.starts_with("HTTP/1.1 400") && !link.contains("root:"), "{link}");
    let web = get(&d, "/porthole/containers/web/files?path=/var/lib");
    assert!(web.contains(r#""name":"pulp""#) && web.contains(r#""mount_point":true"#), "{web}");

    let prune = get(&d, "/porthole/volumes/prune-preview?all=1");
    assert!(prune.contains(r#""volumes":[]"#), "pulp is in use: {prune}");
    let rm = get(&d, "/porthole/containers/data/rm-preview");
    assert!(rm.contains(r#""volumes":[]"#), "named volumes survive rm -v: {rm}");

    let page = get(&d, "/");
    assert!(page.starts_with("HTTP/1.1 200") && page.contains("/static/dashboard.js"), "{page}");
    let missing = get(&d, "/container/nope");
    assert!(
        missing.starts_with("HTTP/1.1 404") && missing.contains("No such container: <code>nope</code>"),
        "{missing}"
    );
    let missing = get(&d, "/porthole/volumes/nope/files");
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
}

/// The lines of the server-sent event stream `path`.
fn sse_lines(d: &Daemon, path: &str) -> impl Iterator<Item = String> {
    use std::io::{BufRead, BufReader, Write};
    let mut s = std::net::TcpStream::connect(&d.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", d.addr).as_bytes()).unwrap();
    BufReader::new(s).lines().map(|line| line.expect("the stream ended or stalled"))
}

/// Reads the `data:` lines of `lines` until one contains `last`; gives them all.
fn data_until(lines: impl Iterator<Item = String>, last: &str) -> Vec<String> {
    let mut data = Vec::new();
    for line in lines {
        if let Some(event) = line.strip_prefix("data: ") {
            data.push(event.to_string());
            if event.contains(last) {
                return data;
            }
        }
    }
    panic!("no event with {last}: {data:?}")
}

/// Reads the server-sent events of `path` until one contains `last`; gives the `data:` lines.
fn events_until(d: &Daemon, path: &str, last: &str) -> Vec<String> {
    data_until(sse_lines(d, path), last)
}

/// The Pulp arrangement's path walks: a web server reading through a link in one volume into
/// another, listed with each step's volume, and announced live on the event stream; the same
/// read without the content volume, listed as broken where the path leaves the container.
#[test]
fn walks_through_links_between_volumes_and_where_they_break() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    let mirror = "mkdir -p /var/lib/pulp/content /var/www/pub && echo mirrored > /var/lib/pulp/content/abc \
                  && ln -s /var/lib/pulp/content/abc /var/www/pub/f";
    d.ok(&["run", "--name", "worker", "-v", "www:/var/www", "-v", "pulp:/var/lib/pulp", "busybox", "sh", "-c", mirror]);

    // Subscribed (the `hello` is sent once the stream listens) before the web server reads.
    let mut events = sse_lines(&d, "/porthole/events");
    assert!(events.by_ref().any(|l| l == "event: hello"));
    let out = d.ok(&[
        "run",
        "--name",
        "web",
        "-v",
        "www:/var/www:ro",
        "-v",
        "pulp:/var/lib/pulp:ro",
        "busybox",
        "cat",
        "/var/www/pub/f",
    ]);
    assert_eq!(out, "mirrored\n");
    let live = data_until(events, r#""kind":"walk""#);
    assert!(live.last().unwrap().contains(r#""path":"/var/www/pub/f""#), "{live:?}");

    let walks = json(&get(&d, "/porthole/containers/web/walks"));
    assert_eq!(walks.as_array().map(Vec::len), Some(1), "{walks}");
    assert_eq!(walks[0]["path"], "/var/www/pub/f");
    assert_eq!(
        walks[0]["steps"],
        serde_json::json!([
            {"path": "/var/www/pub/f", "mount": "/var/www", "volume": "www", "target": "/var/lib/pulp/content/abc"},
            {"path": "/var/lib/pulp/content/abc", "mount": "/var/lib/pulp", "volume": "pulp", "target": null},
        ])
    );
    assert_eq!((&walks[0]["error"], &walks[0]["broke"]), (&serde_json::Value::Null, &serde_json::Value::Null));

    d.fails(&["run", "--name", "www-only", "-v", "www:/var/www:ro", "busybox", "cat", "/var/www/pub/f"]);
    let walks = json(&get(&d, "/porthole/containers/www-only/walks"));
    assert_eq!(walks[0]["error"], "ENOENT", "{walks}");
    assert_eq!(
        walks[0]["broke"],
        serde_json::json!({"existing": {"path": "/var", "mount": "/", "volume": null, "target": null}, "missing": "lib"})
    );
    let missing = get(&d, "/porthole/containers/nope/walks");
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
}

/// The JSON body of an HTTP response.
fn json(response: &str) -> serde_json::Value {
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {response}"))
}

#[test]
fn the_dashboard_log_stream_starts_with_the_last_500_lines() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    let script = "i=0; while [ $i -lt 600 ]; do echo line-$i; i=$((i+1)); done";
    d.ok(&["run", "--name", "chatty", "busybox", "sh", "-c", script]);
    let events = events_until(&d, "/porthole/containers/chatty/logs", "line-599");
    assert_eq!(events.len(), 500);
    assert!(events[0].contains(r#""log":"line-100\n""#), "{}", events[0]);
}

/// A stray file where the store keeps directories: the controller starts anyway, moves it to
/// quarantine, and `docker info` lists it under `Warnings`.
#[test]
fn info_warns_of_what_recovery_quarantined() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("volumes")).unwrap();
    std::fs::write(root.path().join("volumes/stray.txt"), "not a volume").unwrap();
    let d = Daemon::start_on(root);
    let response = get(&d, "/info");
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    let body = body.find('{').map(|i| &body[i..body.rfind('}').unwrap() + 1]).unwrap_or(body);
    let info: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {response}"));
    let warnings = info["Warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].as_str().unwrap().starts_with("stray file stray.txt moved to "), "{warnings:?}");
    let quarantined: Vec<_> = std::fs::read_dir(d.root.path().join("quarantine")).unwrap().collect();
    assert_eq!(quarantined.len(), 1);
}
