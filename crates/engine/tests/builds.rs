//! Builds as layers, as Docker's legacy builder makes them: an image per step, a layer per step
//! that changes files, the build cache, `docker history`, and `rmi` freeing the layers no
//! image or container uses.

mod common;

use std::path::Path;

use porthole_engine::{BuildOptions, CreateOptions, Engine};

/// Builds `dockerfile` with the context files `files` in `<base>/ctx`; gives the image id and
/// everything the build printed.
fn build(engine: &Engine, base: &Path, tag: &str, dockerfile: &str, files: &[(&str, &str)]) -> (String, String) {
    build_with(engine, base, tag, dockerfile, files, false)
}

fn build_with(
    engine: &Engine,
    base: &Path,
    tag: &str,
    dockerfile: &str,
    files: &[(&str, &str)],
    no_cache: bool,
) -> (String, String) {
    let ctx = base.join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
    for (name, content) in files {
        std::fs::write(ctx.join(name), content).unwrap();
    }
    let mut printed = String::new();
    let opts = BuildOptions { context: ctx, tags: vec![tag.into()], no_cache, ..Default::default() };
    let out =
        engine.build(opts, &mut |t| printed.push_str(t)).unwrap_or_else(|e| panic!("build {tag}: {e}\n{printed}"));
    (out.image_id, printed)
}

fn layers(engine: &Engine, image: &str) -> Vec<String> {
    engine.image_inspect(image).unwrap().0.layers
}

fn layer_dirs(base: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(base.join("root/layers"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

const THREE_STEPS: &str =
    "FROM busybox\nRUN echo one > /one\nCOPY two /two\nENV STAGE=three\nRUN cat /one /two > /three\n";

#[test]
fn each_step_that_changes_files_is_a_layer_and_history_lists_the_steps() {
    let (tmp, engine) = common::engine();
    let base = layers(&engine, "busybox");
    let (id, printed) = build(&engine, tmp.path(), "three", THREE_STEPS, &[("two", "two\n")]);
    let mine = layers(&engine, "three");
    assert_eq!(mine.len(), base.len() + 3, "{mine:?}\n{printed}");
    assert_eq!(mine[..base.len()], base[..], "the base image's layers are the lowers");
    // Each step's layer holds only what the step wrote.
    let top = tmp.path().join("root/layers").join(&mine[base.len() + 2]);
    let names: Vec<_> = std::fs::read_dir(&top).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["three"], "{}", top.display());
    assert_eq!(std::fs::read_to_string(top.join("three")).unwrap(), "one\ntwo\n");

    // The legacy builder's lines: a container for RUN and ENV, none for COPY.
    let step_ids: Vec<&str> = printed.lines().filter_map(|l| l.strip_prefix(" ---> ")).collect();
    assert_eq!(printed.matches(" ---> Running in ").count(), 3, "{printed}");
    assert_eq!(printed.matches(" ---> Removed intermediate container ").count(), 3, "{printed}");
    assert!(step_ids.contains(&&id[..12]), "{printed}");

    let history = engine.image_history("three").unwrap();
    let created_by: Vec<&str> = history.iter().map(|h| h.created_by.as_str()).collect();
    assert_eq!(created_by[0], "/bin/sh -c cat /one /two > /three");
    assert_eq!(created_by[1], "/bin/sh -c #(nop)  ENV STAGE=three");
    assert!(
        created_by[2].starts_with("/bin/sh -c #(nop) COPY file:") && created_by[2].ends_with(" in /two "),
        "{created_by:?}"
    );
    assert_eq!(created_by[3], "/bin/sh -c echo one > /one");
    assert_eq!(created_by[4], r#"/bin/sh -c #(nop)  CMD ["sh"]"#, "the base image's steps follow");
    assert_eq!(history[0].id.as_deref(), Some(id.as_str()));
    assert_eq!(history[0].tags, ["three:latest"]);
    assert_eq!(history[1].size, 0, "ENV makes no layer");
    assert_eq!(history[0].size, 8, "the last RUN's layer holds its 8 bytes");
    // Every step is an image: the chain of parents reaches the base image.
    let busybox = engine.image_inspect("busybox").unwrap().0.id;
    assert_eq!(history[4].id.as_deref(), Some(busybox.as_str()));
    assert_eq!(history.last().unwrap().id, None, "past the base image's own parent: <missing>");

    // Intermediate images are listed only with `-a`.
    let listed = |all| engine.image_list(all).len();
    assert_eq!(listed(false), 2, "busybox and three");
    assert_eq!(listed(true), 2 + 3, "and the images of the first three steps");
    // The dashboard's graph shows only the tagged ones (and those a container uses).
    let graphed = |e: &Engine| e.graph_input().images.iter().map(|i| i.tags.join(",")).collect::<Vec<_>>();
    assert_eq!(graphed(&engine).len(), 2, "{:?}", graphed(&engine));

    // A container of the image sees every step.
    let opts =
        CreateOptions { image: "three".into(), cmd: common::sh("cat /three; echo $STAGE"), ..Default::default() };
    assert_eq!(common::run(&engine, opts).1, "one\ntwo\nthree\n");
}

#[test]
fn an_identical_build_uses_the_cache_and_a_changed_file_misses_from_its_step_on() {
    let (tmp, engine) = common::engine();
    let (first, _) = build(&engine, tmp.path(), "three", THREE_STEPS, &[("two", "two\n")]);
    let (again, printed) = build(&engine, tmp.path(), "three", THREE_STEPS, &[("two", "two\n")]);
    assert_eq!(again, first, "{printed}");
    assert_eq!(printed.matches(" ---> Using cache\n").count(), 4, "{printed}");
    assert!(!printed.contains("Running in"), "{printed}");

    // The context file changes: its COPY and every step after it run again.
    let (changed, printed) = build(&engine, tmp.path(), "three", THREE_STEPS, &[("two", "TWO\n")]);
    assert_ne!(changed, first);
    let steps: Vec<&str> = printed.split("Step ").skip(1).collect();
    assert!(steps[1].contains("Using cache"), "the RUN before the COPY is cached: {printed}");
    for later in &steps[2..] {
        assert!(!later.contains("Using cache"), "{later}");
    }
    let opts = CreateOptions { image: "three".into(), cmd: common::sh("cat /three"), ..Default::default() };
    assert_eq!(common::run(&engine, opts).1, "one\nTWO\n");

    // --no-cache runs every step.
    let (_, printed) = build_with(&engine, tmp.path(), "three", THREE_STEPS, &[("two", "TWO\n")], true);
    assert!(!printed.contains("Using cache"), "{printed}");
}

#[test]
fn a_run_that_deletes_a_lower_file_leaves_a_whiteout() {
    let (tmp, engine) = common::engine();
    let dockerfile = "FROM busybox\nRUN mkdir /data && echo keep > /data/keep && echo gone > /data/gone\n\
                      RUN rm /data/gone /etc/group\n";
    build(&engine, tmp.path(), "deleter", dockerfile, &[]);
    let top = tmp.path().join("root/layers").join(layers(&engine, "deleter").last().unwrap());
    assert!(top.join("data/.wh.gone").is_file() && top.join("etc/.wh.group").is_file());
    assert!(!top.join("data/keep").exists(), "the layer holds only the step's changes");
    let opts = CreateOptions {
        image: "deleter".into(),
        cmd: common::sh("ls /data; test -e /etc/group || echo no-group"),
        ..Default::default()
    };
    assert_eq!(common::run(&engine, opts).1, "keep\nno-group\n");
}

#[test]
fn from_a_layered_image_and_copy_from_a_stage_read_the_merged_files() {
    let (tmp, engine) = common::engine();
    let dockerfile = "FROM busybox AS first\nRUN mkdir /out && echo a > /out/a\nRUN echo b > /out/b && rm /out/a\n\
                      FROM first AS second\nRUN echo c > /out/c\n\
                      FROM busybox\nCOPY --from=second /out /copied\n";
    build(&engine, tmp.path(), "multi", dockerfile, &[]);
    let opts = CreateOptions { image: "multi".into(), cmd: common::sh("ls /copied"), ..Default::default() };
    assert_eq!(common::run(&engine, opts).1, "b\nc\n");
}

#[test]
fn rmi_frees_the_layers_no_image_uses_and_keeps_the_others() {
    let (tmp, engine) = common::engine();
    let before = layer_dirs(tmp.path());
    build(&engine, tmp.path(), "three", THREE_STEPS, &[("two", "two\n")]);
    let (_, printed) =
        build(&engine, tmp.path(), "other", "FROM busybox\nRUN echo one > /one\nRUN echo other > /o\n", &[]);
    assert!(printed.contains("Using cache"), "the first RUN is shared: {printed}");
    let three = layers(&engine, "three");
    let other = layers(&engine, "other");
    let shared = &three[..before.len() + 1];
    assert_eq!(&other[..shared.len()], shared);

    // The image of a step that has children cannot go by id.
    let middle = engine.image_inspect("other").unwrap().0.parent;
    let err = engine.remove_image(&middle, true).unwrap_err().to_string();
    assert_eq!(
        err,
        format!("conflict: unable to delete {} (cannot be forced) - image has dependent child images", &middle[..12])
    );

    let report = engine.remove_image("three", false).unwrap();
    assert_eq!(report[0], "Untagged: three:latest");
    let deleted = report.iter().filter(|l| l.starts_with("Deleted: sha256:")).count();
    assert_eq!(deleted, 3, "three and its untagged parents up to the one `other` shares: {report:?}");
    let mut left = before.clone();
    left.extend(other[before.len()..].iter().cloned());
    left.sort();
    assert_eq!(layer_dirs(tmp.path()), left, "the layers only three used are gone");

    // A container keeps its image's layers; the image is untagged only.
    engine.create(CreateOptions { image: "other".into(), ..Default::default() }).unwrap();
    let report = engine.remove_image("other", true).unwrap();
    assert_eq!(report, ["Untagged: other:latest"]);
    assert_eq!(layer_dirs(tmp.path()), left);
}

#[test]
fn commit_makes_the_containers_changes_a_layer_of_a_new_image() {
    let (tmp, engine) = common::engine();
    let script = "echo new > /new && rm /etc/group && mkdir -p /srv/a && echo x > /srv/a/x && rm /srv/a/x";
    let (code, _, id) =
        common::run(&engine, CreateOptions { image: "busybox".into(), cmd: common::sh(script), ..Default::default() });
    assert_eq!(code, 0);
    let opts = porthole_engine::CommitOptions {
        reference: Some("snap:1".into()),
        comment: "a snapshot".into(),
        author: "teacher".into(),
        changes: vec!["ENV MODE=snap".into(), "CMD [\"cat\", \"/new\"]".into()],
        pause: true,
        config: None,
    };
    let image = engine.commit(&id, opts).unwrap();
    let (img, tags) = engine.image_inspect("snap:1").unwrap();
    assert_eq!((img.id.as_str(), tags.as_slice()), (image.as_str(), &["snap:1".to_string()][..]));
    let busybox = engine.image_inspect("busybox").unwrap().0;
    assert_eq!(img.parent, busybox.id);
    assert_eq!(img.layers.len(), busybox.layers.len() + 1);
    let top = tmp.path().join("root/layers").join(img.layers.last().unwrap());
    assert!(top.join("etc/.wh.group").is_file(), "the deletion is a whiteout");
    assert!(!top.join("etc/hostname").exists() && !top.join("etc/hosts").exists(), "files of create are left out");
    let history = engine.image_history("snap:1").unwrap();
    assert_eq!(history[0].created_by, format!("sh -c {script}"));
    assert_eq!(history[0].comment, "a snapshot");
    assert!(img.config.env.contains(&"MODE=snap".to_string()));

    let (_, out, _) = common::run(&engine, CreateOptions { image: "snap:1".into(), ..Default::default() });
    assert_eq!(out, "new\n", "the CMD of --change");
    let check = "cat /new; test -e /etc/group || echo no-group; ls -A /srv/a; echo $MODE; cat /etc/hostname | wc -c";
    let (_, out, _) =
        common::run(&engine, CreateOptions { image: "snap:1".into(), cmd: common::sh(check), ..Default::default() });
    assert_eq!(out, "new\nno-group\nsnap\n13\n");

    let err = engine
        .commit(&id, porthole_engine::CommitOptions { changes: vec!["RUN true".into()], ..Default::default() })
        .unwrap_err();
    assert_eq!(err.to_string(), "run is not a valid change command");
}

/// A build's latest step image is untagged and childless until the next step commits: a
/// prune or rmi meanwhile must leave it (and its layers, the running step's lowers) alone.
#[test]
fn a_running_build_holds_the_images_it_stands_on() {
    let (tmp, engine) = common::engine();
    let ctx = tmp.path().join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    // The second step waits for a file the test puts into its writable layer.
    let wait = "RUN while [ ! -e /go ]; do sleep 0.1; done; rm /go; cat /a\n";
    std::fs::write(ctx.join("Dockerfile"), format!("FROM busybox\nRUN echo a > /a\n{wait}")).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let builder = {
        let engine = engine.clone();
        std::thread::spawn(move || {
            let opts = BuildOptions { context: ctx, tags: vec!["held".into()], ..Default::default() };
            engine.build(opts, &mut |t| drop(tx.send(t.to_string())))
        })
    };
    // Wait for the second RUN to start: the first step's image is then what it stands on.
    let mut runs = 0;
    while runs < 2 {
        runs += rx.recv().unwrap().matches("Running in").count();
    }
    let step = engine
        .image_list(true)
        .into_iter()
        .find(|(i, tags)| tags.is_empty() && i.history.last().unwrap().created_by.ends_with("echo a > /a"))
        .unwrap()
        .0;
    engine.image_prune(false, &Default::default()).unwrap();
    let err = engine.remove_image(&step.id, true).unwrap_err().to_string();
    assert!(err.ends_with("(cannot be forced) - image is being used by a running build"), "{err}");
    assert!(engine.image_inspect(&step.id).is_ok(), "the prune left it");
    let work = std::fs::read_dir(tmp.path().join("root/images"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(".build-"))
        .unwrap();
    let upper = std::fs::read_dir(&work)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("layer-"))
        .unwrap();
    std::fs::write(upper.join("go"), "").unwrap();
    let out = builder.join().unwrap().unwrap();
    let (_, printed, _) = common::run(
        &engine,
        CreateOptions { image: out.image_id.clone(), cmd: common::sh("cat /a"), ..Default::default() },
    );
    assert_eq!(printed, "a\n");
    let _ = rx.try_iter().count();
}
