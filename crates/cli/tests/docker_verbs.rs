//! End to end with the docker CLI: the verbs beyond the lifecycle (`system df`, `rename`,
//! `image prune`, `top`, `diff`, the network verbs) and the refusal, by name, of those Porthole lacks.
//!
//! Skipped (with a note) where no `docker` CLI is installed, but never under `CI`.

mod common;
use common::{Daemon, docker_available};

/// Verbs Porthole lacks answer with the command's name, never a bare `page not found`.
#[test]
fn unsupported_verbs_are_refused_by_name() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    d.ok(&["create", "--name", "cc", "busybox", "true"]);
    for (args, command) in [
        (&["export", "cc"][..], "docker export"),
        (&["update", "--cpus", "1", "cc"], "docker update"),
        (&["swarm", "init"], "docker swarm init"),
        (&["plugin", "ls"], "docker plugin ls"),
    ] {
        let (_, stderr) = d.fails(args);
        assert!(
            stderr.contains(&format!("Error response from daemon: {command} is not supported by Porthole")),
            "docker {args:?}: {stderr}"
        );
    }
    // `docker load` of nothing (an empty stdin) says what the archive lacks.
    let mut load = d.command(&["load"]);
    let out = load.stdin(std::process::Stdio::piped()).output().unwrap();
    assert!(
        common::text(&out.stderr).contains(
            "the archive is neither an OCI image layout (index.json) nor a Docker image archive (manifest.json)"
        ),
        "{}",
        common::text(&out.stderr)
    );
    // Unknown operations under Docker's API name the request itself.
    let odd = common::http_request(&d.addr, "POST", "/v1.49/containers/c/frobnicate", &["Content-Length: 0"]).unwrap();
    assert_eq!(odd.status, 501);
    assert_eq!(common::text(&odd.body), r#"{"message":"POST /containers/c/frobnicate is not supported by Porthole"}"#);
}

/// `docker diff` lists what a container changed over its image, in Docker's order and letters:
/// a parent directory before what changed in it, a removal as `D`, the files written at create
/// (`/etc/hostname`, `/etc/hosts`) never.
#[test]
fn diff_lists_the_containers_changes() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    d.ok(&["create", "--name", "fresh", "busybox", "true"]);
    assert_eq!(d.ok(&["diff", "fresh"]), "");
    let script = "echo more >> /etc/passwd && rm /etc/group && rmdir /home && touch /root/.profile \
                  && mkdir /tmp/new && echo hi > /tmp/new/file";
    d.ok(&["run", "--name", "changer", "busybox", "sh", "-c", script]);
    assert_eq!(
        d.ok(&["diff", "changer"]),
        "C /etc\nD /etc/group\nC /etc/passwd\nD /home\nC /root\nA /root/.profile\nC /tmp\nA /tmp/new\nA /tmp/new/file\n"
    );
    let (_, missing) = d.fails(&["diff", "nosuch"]);
    assert!(missing.contains("No such container: nosuch"), "{missing}");
}

/// Docker's default networks are listed as records that say they give no connectivity.
#[test]
fn networks_are_records_of_the_defaults() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    let ls = d.ok(&["network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}"]);
    assert_eq!(ls, "bridge bridge local\nhost host local\nnone null local\n");
    assert_eq!(d.ok(&["network", "ls", "-q", "--filter", "name=none"]).trim(), "c91b590418c7");
    let note = d.ok(&["network", "inspect", "--format", "{{index .Labels \"io.porthole.note\"}}", "bridge"]);
    assert_eq!(note.trim(), NOTE);
    let (_, missing) = d.fails(&["network", "inspect", "nosuch"]);
    assert!(missing.contains("network nosuch not found"), "{missing}");
    let (_, removed) = d.fails(&["network", "rm", "bridge"]);
    assert!(removed.contains("bridge is a pre-defined network and cannot be removed"), "{removed}");
}

const NOTE: &str = "Porthole guests have no network: this network gives no connectivity";

/// `network create/ls/inspect/connect/disconnect/rm/prune` and `run --network`: records only,
/// with Docker's checks and texts, and each says it gives no connectivity.
#[test]
fn network_verbs_keep_records() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    let id = d.ok(&["network", "create", "--label", "team=a", "backend"]).trim().to_string();
    assert_eq!(id.len(), 64, "{id}");
    let (_, taken) = d.fails(&["network", "create", "backend"]);
    assert!(taken.contains("network with name backend already exists"), "{taken}");
    let (_, overlay) = d.fails(&["network", "create", "-d", "overlay", "swarmy"]);
    assert!(overlay.contains("network driver overlay is not supported by Porthole"), "{overlay}");
    let custom = d.ok(&["network", "ls", "--filter", "type=custom", "--format", "{{.Name}} {{.Driver}}"]);
    assert_eq!(custom, "backend bridge\n");
    let shown = d.ok(&["network", "inspect", "--format", "{{.Name}} {{.Labels}} {{.Options}}", &id[..12]]);
    assert_eq!(shown.trim(), "backend map[team:a] map[]");
    // `docker network inspect` prints the note the engine adds.
    assert!(d.ok(&["network", "inspect", "backend"]).contains(&format!("\"PortholeNote\": \"{NOTE}\"")));

    // `run --network NAME`: the CLI prints the create warning; inspect shows the network.
    let run = d.docker(&["run", "--network", "backend", "--name", "on-net", "busybox", "echo", "ran"]);
    assert!(run.status.success(), "{}", common::text(&run.stderr));
    assert_eq!(common::text(&run.stdout), "ran\n");
    assert!(common::text(&run.stderr).contains(NOTE), "{}", common::text(&run.stderr));
    let mode = d.ok(&["inspect", "--format", "{{.HostConfig.NetworkMode}}", "on-net"]);
    assert_eq!(mode.trim(), "backend");
    let networks = d.ok(&[
        "inspect",
        "--format",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.NetworkID}} {{end}}",
        "on-net",
    ]);
    assert_eq!(networks.trim(), format!("backend={id}"));
    let (_, unknown) = d.fails(&["run", "--network", "nosuch", "busybox", "true"]);
    assert!(unknown.contains("network nosuch not found"), "{unknown}");
    assert!(!unknown.contains("Unable to find image"), "{unknown}");

    // connect (with an alias) and disconnect a second container.
    d.ok(&["create", "--name", "joiner", "busybox", "true"]);
    d.ok(&["network", "connect", "--alias", "db", "backend", "joiner"]);
    let aliases = d.ok(&["inspect", "--format", "{{json .NetworkSettings.Networks.backend.Aliases}}", "joiner"]);
    assert!(aliases.starts_with("[\"db\","), "{aliases}");
    let members = d.ok(&["network", "inspect", "--format", "{{range .Containers}}{{.Name}} {{end}}", "backend"]);
    let mut members: Vec<&str> = members.split_whitespace().collect();
    members.sort();
    assert_eq!(members, ["joiner", "on-net"]);
    let (_, again) = d.fails(&["network", "connect", "backend", "joiner"]);
    assert!(again.contains("endpoint with name joiner already exists in network backend"), "{again}");
    d.ok(&["network", "disconnect", "backend", "joiner"]);
    let (_, gone) = d.fails(&["network", "disconnect", "backend", "joiner"]);
    assert!(gone.contains("container joiner is not connected to network backend"), "{gone}");

    // rm is refused while a container is on it; prune leaves it; removing the container frees it.
    let (_, busy) = d.fails(&["network", "rm", "backend"]);
    assert!(
        busy.contains(&format!("error while removing network: network backend id {id} has active endpoints")),
        "{busy}"
    );
    d.ok(&["network", "create", "spare"]);
    let pruned = d.ok(&["network", "prune", "-f"]);
    assert!(pruned.contains("spare") && !pruned.contains("backend"), "{pruned}");
    d.ok(&["rm", "on-net"]);
    assert_eq!(d.ok(&["network", "rm", "backend"]).trim(), "backend");
    let (_, missing) = d.fails(&["network", "inspect", "backend"]);
    assert!(missing.contains("network backend not found"), "{missing}");
}

/// Polls `docker top` until `cmd` shows (a detached exec registers as its guest starts).
fn top_until(d: &Daemon, container: &str, cmd: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let top = d.ok(&["top", container]);
        if top.contains(cmd) || std::time::Instant::now() > deadline {
            return top;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// `docker top` lists the main guest and the exec sessions running beside it.
#[test]
fn top_shows_the_main_guest_and_execs() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    d.ok(&["run", "-d", "--name", "topped", "busybox", "sleep", "60"]);
    d.ok(&["exec", "-d", "topped", "sleep", "45"]);
    let top = top_until(&d, "topped", "sleep 45");
    let rows: Vec<Vec<&str>> = top.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows[0], ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"], "{top}");
    assert_eq!(rows.len(), 3, "{top}");
    assert_eq!((rows[1][1], &rows[1][7..]), ("1", &["sleep", "60"][..]), "{top}");
    assert_eq!((rows[2][1], &rows[2][7..]), ("2", &["sleep", "45"][..]), "{top}");
    let (_, ps) = d.fails(&["top", "topped", "aux"]);
    assert!(ps.contains("docker top with ps options (aux) is not supported by Porthole"), "{ps}");
    d.ok(&["kill", "topped"]);
    let (_, stopped) = d.fails(&["top", "topped"]);
    assert!(stopped.contains("is not running"), "{stopped}");
}

/// `docker rename`: the new name finds the container, the old one no longer does, a taken
/// name is Docker's conflict.
#[test]
fn rename_moves_the_name() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    let id = d.ok(&["create", "--name", "before", "busybox", "true"]);
    d.ok(&["create", "--name", "taken", "busybox", "true"]);
    d.ok(&["rename", "before", "after"]);
    assert_eq!(d.ok(&["inspect", "--format", "{{.Name}} {{.Id}}", "after"]), format!("/after {}", id));
    let (_, gone) = d.fails(&["inspect", "before"]);
    assert!(gone.contains("No such object: before"), "{gone}");
    let (_, conflict) = d.fails(&["rename", "after", "taken"]);
    let taken_id = d.ok(&["inspect", "--format", "{{.Id}}", "taken"]);
    assert!(
        conflict.contains(&format!(
            "Conflict. The container name \"/taken\" is already in use by container \"{}\"",
            taken_id.trim()
        )),
        "{conflict}"
    );
    let (_, same) = d.fails(&["rename", "after", "after"]);
    assert!(same.contains("Renaming a container with the same name as its current name"), "{same}");
    let (_, bad) = d.fails(&["rename", "after", "no good"]);
    assert!(bad.contains("Invalid container name (no good)"), "{bad}");
    // The name survives a restart of the controller.
    let (_, root) = d.stop();
    let d = Daemon::start_on(root);
    assert_eq!(d.ok(&["ps", "-a", "--filter", "name=after", "--format", "{{.Names}}"]), "after\n");
}

/// `docker image prune` removes untagged images; `-a` every image no container uses, but
/// never the built-in base image.
#[test]
fn image_prune_removes_dangling_then_unused() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    let context = tempfile::tempdir().unwrap();
    let dockerfile = context.path().join("Dockerfile");
    let build = |content: &str, tag: &str| {
        std::fs::write(&dockerfile, content).unwrap();
        d.ok(&["build", "-q", "-t", tag, context.path().to_str().unwrap()]).trim().to_string()
    };
    let old = build("FROM busybox\nRUN echo one > /f\n", "app:1");
    // Retagging app:1 leaves the old image dangling.
    let new = build("FROM busybox\nRUN echo two > /f\n", "app:1");
    let used = build("FROM busybox\nRUN echo three > /f\n", "used:1");
    d.ok(&["create", "--name", "user", "used:1", "true"]);
    assert_ne!(old, new);
    let pruned = d.ok(&["image", "prune", "-f"]);
    assert!(pruned.contains(&format!("deleted: {old}")), "{pruned}");
    assert!(!pruned.contains(&new), "{pruned}");
    assert!(pruned.contains("Total reclaimed space:"), "{pruned}");
    let images = d.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(images.lines().count(), 3, "{images}");
    let all = d.ok(&["image", "prune", "-a", "-f"]);
    assert!(all.contains("untagged: app:1") && all.contains(&format!("deleted: {new}")), "{all}");
    let mut left: Vec<String> =
        d.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]).lines().map(String::from).collect();
    left.sort();
    assert_eq!(left, ["busybox:latest", "used:1"]);
    assert!(!d.ok(&["image", "prune", "-a", "-f"]).contains("deleted"));
    let _ = used;

    // --filter until= and label=/label!=, as Docker's.
    build("FROM busybox\nLABEL keep=no\n", "drop:1");
    build("FROM busybox\nLABEL keep=yes\n", "keep:1");
    let young = d.ok(&["image", "prune", "-a", "-f", "--filter", "until=1h"]);
    assert!(!young.contains("untagged"), "nothing is an hour old: {young}");
    let labelled = d.ok(&["image", "prune", "-a", "-f", "--filter", "label=keep=no"]);
    assert!(labelled.contains("untagged: drop:1") && !labelled.contains("keep:1"), "{labelled}");
    let unlabelled = d.ok(&["image", "prune", "-a", "-f", "--filter", "label!=keep"]);
    assert!(!unlabelled.contains("keep:1"), "{unlabelled}");
    let (_, err) = d.fails(&["image", "prune", "-a", "-f", "--filter", "until=yesterday"]);
    assert!(err.contains("failed to parse value as time or duration: \"yesterday\""), "{err}");
    let (_, err) = d.fails(&["image", "prune", "-f", "--filter", "reference=x"]);
    assert!(err.contains("invalid filter 'reference'"), "{err}");
    d.actions_until(&["--filter", "type=image", "--filter", "event=prune"], |a| a.lines().count() >= 5);
}

/// `docker system df`: sizes of images, containers and volumes, and what is reclaimable.
#[test]
fn system_df_counts_what_is_used() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    d.ok(&["volume", "create", "kept"]);
    d.ok(&["volume", "create", "loose"]);
    d.ok(&["run", "--name", "writer", "-v", "kept:/data", "busybox", "sh", "-c", "echo 1234567 > /data/f"]);
    d.ok(&["run", "--rm", "-v", "loose:/data", "busybox", "sh", "-c", "echo 123 > /data/f"]);
    let df = d.ok(&["system", "df", "--format", "{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}"]);
    let rows: Vec<Vec<&str>> = df.lines().map(|l| l.split('|').collect()).collect();
    assert_eq!(rows[0][..3], ["Images", "1", "1"], "{df}");
    assert!(rows[0][4].starts_with("0B"), "the base image is in use: {df}");
    assert_eq!(rows[1][..3], ["Containers", "1", "0"], "{df}");
    assert_eq!(rows[1][3], rows[1][4].split(' ').next().unwrap(), "a stopped container is reclaimable: {df}");
    assert_eq!(rows[2], ["Local Volumes", "2", "1", "12B", "4B (33%)"], "{df}");
    let verbose = d.ok(&["system", "df", "-v"]);
    assert!(verbose.contains("kept") && verbose.contains("loose") && verbose.contains("writer"), "{verbose}");
}

/// Every endpoint the docker 28 CLI (and the SDKs docker-compose uses) calls answers something
/// other than `page not found`: it works, fails about its input, or is refused by name.
#[test]
fn no_docker_route_is_page_not_found() {
    let d = Daemon::start();
    let routes = [
        "GET /_ping",
        "GET /version",
        "GET /info",
        "GET /events?since=0&until=1",
        "GET /system/df",
        "POST /auth",
        "GET /containers/json",
        "POST /containers/create",
        "GET /containers/nosuch/json",
        "GET /containers/nosuch/top",
        "GET /containers/nosuch/logs",
        "GET /containers/nosuch/changes",
        "GET /containers/nosuch/export",
        "GET /containers/nosuch/stats",
        "POST /containers/nosuch/resize",
        "POST /containers/nosuch/start",
        "POST /containers/nosuch/stop",
        "POST /containers/nosuch/restart",
        "POST /containers/nosuch/kill",
        "POST /containers/nosuch/update",
        "POST /containers/nosuch/rename?name=x",
        "POST /containers/nosuch/pause",
        "POST /containers/nosuch/unpause",
        "POST /containers/nosuch/attach",
        "POST /containers/nosuch/wait",
        "DELETE /containers/nosuch",
        "GET /containers/nosuch/archive?path=/",
        "PUT /containers/nosuch/archive?path=/",
        "POST /containers/prune",
        "POST /containers/nosuch/exec",
        "POST /exec/nosuch/start",
        "POST /exec/nosuch/resize",
        "GET /exec/nosuch/json",
        "POST /commit?container=nosuch",
        "GET /images/json",
        "POST /build/prune",
        "POST /images/create?fromImage=nosuch",
        "POST /images/create?fromSrc=-",
        "GET /images/nosuch/json",
        "GET /images/nosuch/history",
        "POST /images/nosuch/push",
        "POST /images/nosuch/tag?repo=x",
        "DELETE /images/nosuch",
        "GET /images/search?term=x",
        "GET /images/get?names=busybox",
        "GET /images/busybox/get",
        "POST /images/load",
        "POST /images/prune",
        "GET /distribution/busybox/json",
        "GET /networks",
        "GET /networks/bridge",
        "POST /networks/create",
        "DELETE /networks/bridge",
        "POST /networks/bridge/connect",
        "POST /networks/bridge/disconnect",
        "POST /networks/prune",
        "GET /volumes",
        "GET /volumes/nosuch",
        "DELETE /volumes/nosuch",
        "PUT /volumes/nosuch",
        "POST /volumes/prune",
        "GET /swarm",
        "POST /swarm/init",
        "POST /swarm/join",
        "POST /swarm/leave",
        "POST /swarm/update",
        "GET /swarm/unlockkey",
        "POST /swarm/unlock",
        "GET /nodes",
        "GET /nodes/n",
        "DELETE /nodes/n",
        "POST /nodes/n/update",
        "GET /services",
        "POST /services/create",
        "GET /services/s",
        "DELETE /services/s",
        "POST /services/s/update",
        "GET /services/s/logs",
        "GET /tasks",
        "GET /tasks/t",
        "GET /tasks/t/logs",
        "GET /secrets",
        "POST /secrets/create",
        "GET /secrets/s",
        "DELETE /secrets/s",
        "POST /secrets/s/update",
        "GET /configs",
        "POST /configs/create",
        "GET /configs/c",
        "DELETE /configs/c",
        "POST /configs/c/update",
        "GET /plugins",
        "GET /plugins/privileges",
        "POST /plugins/pull",
        "POST /plugins/create",
        "GET /plugins/p/json",
        "DELETE /plugins/p",
        "POST /plugins/p/enable",
        "POST /plugins/p/disable",
        "POST /plugins/p/upgrade",
        "POST /plugins/p/push",
        "POST /plugins/p/set",
        "POST /session",
        "POST /grpc",
    ];
    for route in routes {
        let (method, path) = route.split_once(' ').unwrap();
        let answer = common::http_request(&d.addr, method, &format!("/v1.49{path}"), &["Content-Length: 0"]).unwrap();
        let body = common::text(&answer.body);
        assert!(!body.contains("page not found"), "{route}: {} {body}", answer.status);
        assert!(answer.status != 405, "{route}: {} {body}", answer.status);
    }
}

/// Docker's units (`units.HumanSize`: 1000-based) as MB.
fn megabytes(human: &str) -> f64 {
    let (number, unit) = human.split_at(human.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(human.len()));
    let scale = match unit {
        "B" => 1e-6,
        "kB" => 1e-3,
        "MB" => 1.0,
        "GB" => 1e3,
        _ => panic!("unit of {human}"),
    };
    number.parse::<f64>().unwrap_or_else(|_| panic!("{human}")) * scale
}

/// `docker ps -s` shows the bytes of each container's own layer, which grow with what is put
/// in, and with the image's under it.
#[test]
fn ps_size_measures_the_container_tree() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    d.ok(&["create", "--name", "small", "busybox", "true"]);
    d.ok(&["create", "--name", "grown", "busybox", "true"]);
    let fill = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(fill.path(), vec![7u8; 2_000_000]).unwrap();
    d.ok(&["cp", fill.path().to_str().unwrap(), "grown:/fill"]);
    let sizes = d.ok(&["ps", "-a", "-s", "--format", "{{.Names}}|{{.Size}}"]);
    // `97B (virtual 2MB)`: the container's own layer, then with the image's under it, in MB.
    let size_of = |name: &str| -> (f64, f64) {
        let line = sizes.lines().find(|l| l.starts_with(&format!("{name}|"))).unwrap_or_else(|| panic!("{sizes}"));
        let (own, virt) = line[name.len() + 1..].split_once(" (virtual ").unwrap_or_else(|| panic!("{sizes}"));
        (megabytes(own), megabytes(virt.trim_end_matches(')')))
    };
    let (small, grown) = (size_of("small"), size_of("grown"));
    assert!(small.0 < 0.1, "a new container's layer holds only its /etc files: {sizes}");
    assert!(small.1 > 0.5, "the virtual size counts the image: {sizes}");
    assert!((1.9..2.1).contains(&(grown.0 - small.0)), "the 2 MB the guest wrote: {sizes}");
    assert!((1.9..2.1).contains(&(grown.1 - small.1)), "and in the virtual size: {sizes}");
}
