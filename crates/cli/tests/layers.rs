//! Builds as layers through the docker CLI (`DOCKER_BUILDKIT=0`, the legacy builder): the
//! builder's lines and cache, `docker history`, `docker images -a`, `docker commit`, and
//! `docker rmi` pruning a build's intermediate images and freeing their layers.
//!
//! Skipped (with a note) where no `docker` CLI is installed, but never under `CI`.

mod common;
use common::{Daemon, docker_available};

fn layer_count(d: &Daemon) -> usize {
    std::fs::read_dir(d.root.path().join("layers")).unwrap().count()
}

#[test]
fn build_cache_history_commit_and_rmi_through_the_cli() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    let ctx = tempfile::tempdir().unwrap();
    let dir = ctx.path().to_str().unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        "FROM busybox\nRUN echo one > /one\nCOPY two /two\nCMD [\"cat\", \"/two\"]\n",
    )
    .unwrap();
    std::fs::write(ctx.path().join("two"), "two\n").unwrap();
    let layers_before = layer_count(&d);

    let first = d.ok(&["build", "-t", "app", dir]);
    assert!(first.contains(" ---> Running in "), "{first}");
    assert!(first.contains(" ---> Removed intermediate container "), "{first}");
    assert_eq!(layer_count(&d), layers_before + 2, "RUN and COPY made a layer each, CMD none");
    let again = d.ok(&["build", "-t", "app", dir]);
    assert_eq!(again.matches(" ---> Using cache\n").count(), 3, "{again}");
    let id = |out: &str| out.lines().find_map(|l| l.strip_prefix("Successfully built ")).unwrap().to_string();
    assert_eq!(id(&again), id(&first));
    let fresh = d.ok(&["build", "--no-cache", "-t", "app", dir]);
    assert!(!fresh.contains("Using cache"), "{fresh}");

    // history: newest first, Docker's texts and sizes.
    let history = d.ok(&["history", "--no-trunc", "--format", "{{.CreatedBy}}|{{.Size}}", "app"]);
    let rows: Vec<&str> = history.lines().collect();
    assert_eq!(rows[0], r#"/bin/sh -c #(nop)  CMD ["cat" "/two"]|0B"#, "{history}");
    assert!(rows[1].starts_with("/bin/sh -c #(nop) COPY file:") && rows[1].ends_with(" in /two |4B"), "{history}");
    assert_eq!(rows[2], "/bin/sh -c echo one > /one|4B", "{history}");
    let ids = d.ok(&["history", "-q", "app"]);
    assert!(ids.lines().next().unwrap().len() == 12 && ids.contains("<missing>"), "{ids}");

    // images hides the steps' images; -a lists them as <none>.
    let plain = d.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(!plain.contains("<none>"), "{plain}");
    let all = d.ok(&["images", "-a", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(all.matches("<none>:<none>").count() >= 2, "{all}");

    // commit: the container's changes and --change, in a new image.
    d.ok(&["run", "--name", "writer", "busybox", "sh", "-c", "echo note > /note && rm /etc/group"]);
    let committed =
        d.ok(&["commit", "-m", "kept", "-a", "me", "-c", "ENV MODE=committed", "writer", "snap:1"]).trim().to_string();
    assert!(committed.starts_with("sha256:"), "{committed}");
    let out = d.ok(&["run", "--rm", "snap:1", "sh", "-c", "cat /note; test -e /etc/group || echo gone; echo $MODE"]);
    assert_eq!(out, "note\ngone\ncommitted\n");
    assert_eq!(d.ok(&["inspect", "--format", "{{.Comment}} {{.Author}}", "snap:1"]).trim(), "kept me");
    let (_, err) = d.fails(&["commit", "-c", "RUN true", "writer"]);
    assert!(err.contains("run is not a valid change command"), "{err}");

    // rmi: the tagged image and its untagged parents go, and the layers only they held.
    let layers = layer_count(&d);
    let removed = d.ok(&["rmi", "app"]);
    assert!(removed.starts_with("Untagged: app:latest\n"), "{removed}");
    assert!(removed.matches("Deleted: sha256:").count() >= 3, "{removed}");
    assert!(layer_count(&d) < layers, "{removed}");
    // The step image a child still needs cannot go by id.
    let snap_parent = d.ok(&["inspect", "--format", "{{.Parent}}", "snap:1"]).trim().to_string();
    let (_, err) = d.fails(&["rmi", "-f", &snap_parent]);
    assert!(err.contains("(cannot be forced) - image has dependent child images"), "{err}");
}
