//! Image content and build contexts are untrusted: their symlinks must never steer the engine's
//! own file operations onto the host. Each route of issue 8 is tried against a directory of
//! canaries outside the store (files and directories with known contents and old times), and
//! afterwards no canary may have been written, created in, or — where the file system records
//! reads (relatime, and the canaries' access times older than their modification times) — read.
//! Where the guest can see the path, it sees what resolving it in guest space gives.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use porthole_core::mounts::MountRequests;
use porthole_engine::{BuildOptions, CreateOptions, Engine, LogOptions, WaitCondition};

const ATIME: u64 = 1_000_000;
const MTIME: u64 = 2_000_000;

struct Env {
    tmp: tempfile::TempDir,
    engine: Engine,
    /// The canaries' directory, outside the store.
    t: PathBuf,
    /// Does this file system update access times on reads (so reads can be caught)?
    reads_visible: bool,
}

/// Files and directories under T, with their contents (`None` for a directory).
const CANARIES: &[(&str, Option<&str>)] = &[
    ("victim.txt", Some("victim")),
    ("hosts-victim", Some("hosts victim")),
    ("etcdir", None),
    ("target", None),
    ("target/victim.txt", Some("target victim")),
    ("canary", None),
    ("canary/secret.txt", Some("secret")),
    ("canary/dir", None),
    ("canary/dir/inner.txt", Some("inner secret")),
    ("Dockerfile", Some("FROM busybox\nRUN echo outside-dockerfile\n")),
];

fn set_old_times(p: &Path) {
    let times = fs::FileTimes::new()
        .set_accessed(UNIX_EPOCH + Duration::from_secs(ATIME))
        .set_modified(UNIX_EPOCH + Duration::from_secs(MTIME));
    fs::File::open(p).unwrap().set_times(times).unwrap();
}

/// Old times on every canary; deepest first, so a directory's come after its entries'.
fn reset_times(t: &Path) {
    for (p, _) in CANARIES.iter().rev() {
        set_old_times(&t.join(p));
    }
    set_old_times(t);
}

fn engine() -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let engine = common::open_engine(tmp.path(), None);
    let t = tmp.path().join("outside");
    fs::create_dir(&t).unwrap();
    for (p, content) in CANARIES {
        match content {
            Some(c) => fs::write(t.join(p), c).unwrap(),
            None => fs::create_dir(t.join(p)).unwrap(),
        }
    }
    reset_times(&t);
    let probe = tmp.path().join("probe");
    fs::write(&probe, "x").unwrap();
    set_old_times(&probe);
    fs::read(&probe).unwrap();
    let reads_visible = fs::metadata(&probe).unwrap().atime() != ATIME as i64;
    Env { tmp, engine, t, reads_visible }
}

impl Env {
    fn t(&self, rel: &str) -> String {
        self.t.join(rel).display().to_string()
    }

    /// Every canary as it was made: same times (so neither written nor read), same contents,
    /// and no directory with an entry more or less.
    fn assert_canaries_untouched(&self, route: &str) {
        let mut paths: Vec<PathBuf> = CANARIES.iter().map(|(p, _)| self.t.join(p)).collect();
        paths.push(self.t.clone());
        // Times first: the checks below read the canaries.
        for p in &paths {
            let md = fs::symlink_metadata(p).unwrap_or_else(|e| panic!("{route}: {} is gone: {e}", p.display()));
            assert_eq!(md.mtime(), MTIME as i64, "{route}: {} was modified", p.display());
            if self.reads_visible {
                assert_eq!(md.atime(), ATIME as i64, "{route}: {} was read", p.display());
            }
        }
        for (p, content) in CANARIES {
            let path = self.t.join(p);
            match content {
                Some(c) => assert_eq!(fs::read_to_string(&path).unwrap(), *c, "{route}: {p} changed"),
                None => assert!(fs::symlink_metadata(&path).unwrap().is_dir(), "{route}: {p} replaced"),
            }
        }
        let expected: BTreeSet<PathBuf> = paths.iter().cloned().collect();
        let mut found = BTreeSet::new();
        walk(&self.t, &mut found);
        found.insert(self.t.clone());
        assert_eq!(found, expected, "{route}: entries appeared in or vanished from T");
        // These checks read the canaries: make them look unread again for the next one.
        reset_times(&self.t);
    }

    fn context(&self, name: &str, dockerfile: &str, files: &[(&str, &str)]) -> PathBuf {
        let ctx = self.tmp.path().join(format!("ctx-{name}"));
        fs::create_dir_all(&ctx).unwrap();
        fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
        for (p, content) in files {
            let path = ctx.join(p);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, content).unwrap();
        }
        ctx
    }

    fn build_in(&self, ctx: PathBuf, tag: &str) -> Result<String, String> {
        let mut log = String::new();
        self.engine
            .build(
                BuildOptions { context: ctx, dockerfile: None, tags: vec![tag.into()], ..Default::default() },
                &mut |s| log.push_str(s),
            )
            .map(|o| o.image_id)
            .map_err(|e| format!("{e}\n{log}"))
    }

    fn build(&self, tag: &str, dockerfile: &str, files: &[(&str, &str)]) -> String {
        let ctx = self.context(tag, dockerfile, files);
        self.build_in(ctx, tag).unwrap_or_else(|e| panic!("build {tag} failed: {e}"))
    }

    /// `docker run IMAGE sh -c SCRIPT`: exit code and output.
    fn sh(&self, image: &str, script: &str) -> (i32, String) {
        let id = self
            .engine
            .create(CreateOptions {
                image: image.into(),
                cmd: Some(vec!["sh".into(), "-c".into(), script.into()]),
                ..Default::default()
            })
            .unwrap();
        self.engine.start(id.as_str()).unwrap();
        let code = self.engine.wait(id.as_str(), WaitCondition::NotRunning).unwrap();
        let lines = self.engine.logs(id.as_str(), LogOptions::default()).unwrap().past;
        (code, lines.map(|l| l.unwrap().log).collect())
    }

    /// `docker run --rm IMAGE true`.
    fn run_rm(&self, image: &str) {
        let opts = CreateOptions {
            image: image.into(),
            cmd: Some(vec!["true".into()]),
            auto_remove: true,
            ..Default::default()
        };
        let id = self.engine.create(opts).unwrap();
        self.engine.start(id.as_str()).unwrap();
        // The container may be gone before `wait` looks it up; either way it has ended.
        let _ = self.engine.wait(id.as_str(), WaitCondition::Removed);
    }
}

fn walk(dir: &Path, out: &mut BTreeSet<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        out.insert(p.clone());
        if fs::symlink_metadata(&p).unwrap().is_dir() {
            walk(&p, out);
        }
    }
}

#[test]
fn image_links_at_etc_hostname_and_hosts_stay_in_the_rootfs() {
    let e = engine();
    e.build(
        "etc-files",
        &format!(
            "FROM busybox\nRUN ln -sf {} /etc/hostname && ln -sf {} /etc/hosts\n",
            e.t("victim.txt"),
            e.t("hosts-victim")
        ),
        &[],
    );
    e.run_rm("etc-files");
    e.assert_canaries_untouched("links at /etc/hostname and /etc/hosts, run --rm");

    // The guest resolves the same links inside its rootfs, where nothing is at their target.
    let (code, out) = e.sh("etc-files", "cat /etc/hostname >/dev/null 2>&1; echo rc=$?");
    assert_eq!((code, out.trim_end().ends_with("rc=1")), (0, true), "{out}");
    e.assert_canaries_untouched("links at /etc/hostname and /etc/hosts, the guest reading them");
}

#[test]
fn an_image_etc_linked_out_gets_its_files_inside_the_rootfs() {
    let e = engine();
    e.build("etc-out", &format!("FROM busybox\nRUN rm -rf /etc && ln -s {} /etc\n", e.t("etcdir")), &[]);
    let id = e.engine.create(CreateOptions { image: "etc-out".into(), ..Default::default() }).unwrap();
    e.assert_canaries_untouched("/etc -> T/etcdir, create");
    // The guest follows /etc to the same path inside its rootfs and finds its hostname there.
    let rootfs = e.engine.inspect(id.as_str()).unwrap().rootfs;
    let inside = rootfs.join(e.t("etcdir").trim_start_matches('/'));
    assert_eq!(fs::read_to_string(inside.join("hostname")).unwrap(), format!("{}\n", &id.as_str()[..12]));
    let (code, out) = e.sh("etc-out", "cat /etc/hostname; grep -c localhost /etc/hosts");
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!((lines[0].len(), lines[1]), (12, "2"), "{out}");
    e.assert_canaries_untouched("/etc -> T/etcdir, run");
}

/// The issue's `/etc -> /etc` writes the host's `/etc/hosts` when links are followed on the
/// host — as this test would do if that came back. So the loop goes through a second link whose
/// name the host lacks: the guest-space walk is the same (`/etc` loops), and a regression fails
/// here without touching the host's `/etc` (the route out of the rootfs is covered by T/etcdir).
#[test]
fn an_image_etc_that_loops_still_creates_and_runs() {
    let e = engine();
    let other = e.tmp.path().join("etc-twin-missing-on-the-host");
    e.build(
        "etc-loop",
        &format!(
            "FROM busybox\nRUN mkdir -p {p} && ln -s /etc {o} && rm -rf /etc && ln -s {o} /etc\n",
            p = e.tmp.path().display(),
            o = other.display()
        ),
        &[],
    );
    let id = e.engine.create(CreateOptions { image: "etc-loop".into(), ..Default::default() }).unwrap();
    assert!(fs::symlink_metadata(&other).is_err(), "a host path was made");
    // For the guest /etc is a loop: it cannot read hosts there, and it still runs.
    // The link is the image's: it stays in the image's layer, under the container's own.
    let image_layer = e.engine.inspect(id.as_str()).unwrap().lowers.remove(0);
    assert_eq!(fs::read_link(image_layer.join("etc")).unwrap(), other);
    let (code, out) = e.sh("etc-loop", "cat /etc/hosts >/dev/null 2>&1; echo rc=$?");
    assert_eq!((code, out.as_str()), (0, "rc=1\n"));
    e.assert_canaries_untouched("/etc in a loop");
}

#[test]
fn copy_add_and_workdir_through_image_links_stay_in_the_stage() {
    let e = engine();
    let dockerfile = format!(
        "FROM busybox\n\
         RUN ln -s {target} /out && ln -s {target}/victim.txt /final\n\
         COPY payload /out/victim.txt\n\
         ADD payload /out/added.txt\n\
         COPY payload /out/\n\
         COPY payload /final\n\
         COPY tree /out/tree\n\
         WORKDIR /out/made\n",
        target = e.t("target")
    );
    e.build("copies", &dockerfile, &[("payload", "payload\n"), ("tree/f", "tree\n")]);
    e.assert_canaries_untouched("COPY/ADD/WORKDIR through /out -> T/target");
    let (code, out) = e.sh("copies", "cd /out/made && pwd && cat /out/victim.txt /out/added.txt /out/payload /final");
    assert_eq!((code, out.as_str()), (0, "/out/made\npayload\npayload\npayload\npayload\n"));
    let (code, out) = e.sh("copies", "cat /out/tree/f; ls /out");
    assert_eq!((code, out.as_str()), (0, "tree\nadded.txt\nmade\npayload\ntree\nvictim.txt\n"));
    e.assert_canaries_untouched("reading the copies");
}

#[test]
fn volume_paths_through_image_links_neither_copy_up_nor_create_host_files() {
    let e = engine();
    let dockerfile = format!(
        "FROM busybox\nRUN ln -s {canary} /a && ln -s {target} /t\nVOLUME /a/dir /t/x\nRUN ls -A /a/dir /t/x\n",
        canary = e.t("canary"),
        target = e.t("target")
    );
    e.build("vols", &dockerfile, &[]);
    e.assert_canaries_untouched("VOLUME through links, build");
    let id = e.engine.create(CreateOptions { image: "vols".into(), ..Default::default() }).unwrap();
    e.assert_canaries_untouched("VOLUME through links, create");
    let info = e.engine.inspect(id.as_str()).unwrap();
    for (m, source) in info.record.mounts.iter().zip(&info.sources) {
        assert_eq!(fs::read_dir(source).unwrap().count(), 0, "{}: copy-up read the host", m.destination);
    }
    let (code, out) = e.sh("vols", "ls -A /a/dir /t/x; echo seen > /a/dir/f; cat /a/dir/f");
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("inner"), "{out}");
    assert!(out.ends_with("seen\n"), "{out}");
    e.assert_canaries_untouched("VOLUME through links, run");
}

#[test]
fn build_context_links_resolve_inside_the_context() {
    let e = engine();
    let ctx = e.context("ctx-links", "FROM busybox\n", &[("sub/f", "inside\n")]);
    symlink(e.t("canary"), ctx.join("link")).unwrap();
    symlink("../../../../../../../../etc", ctx.join("rel")).unwrap();
    symlink(e.t("canary/secret.txt"), ctx.join("secret")).unwrap();
    symlink("/sub", ctx.join("inlink")).unwrap();
    let not_found = |src: &str| {
        format!(
            "COPY failed: file not found in build context or excluded by .dockerignore: stat {src}: file does not exist"
        )
    };
    for (src, dest) in [("link/secret.txt", "/stolen"), ("rel/passwd", "/p"), ("secret", "/s"), ("link", "/d")] {
        fs::write(ctx.join("Dockerfile"), format!("FROM busybox\nCOPY {src} {dest}\n")).unwrap();
        let err = e.build_in(ctx.clone(), "stolen").unwrap_err();
        assert_eq!(err.lines().next().unwrap(), not_found(src), "COPY {src}");
    }
    e.assert_canaries_untouched("context links");
    // A link that stays in the context is followed there, an absolute target from its root.
    fs::write(ctx.join("Dockerfile"), "FROM busybox\nCOPY inlink/f /f\nCOPY inlink /g/\n").unwrap();
    e.build_in(ctx.clone(), "inside").unwrap();
    let (code, out) = e.sh("inside", "cat /f /g/f");
    assert_eq!((code, out.as_str()), (0, "inside\ninside\n"));
    // The Dockerfile itself is found the same way.
    fs::remove_file(ctx.join("Dockerfile")).unwrap();
    symlink(e.t("Dockerfile"), ctx.join("Dockerfile")).unwrap();
    let err = e.build_in(ctx, "outside-dockerfile").unwrap_err();
    assert_eq!(err.lines().next().unwrap(), "Cannot locate specified Dockerfile: Dockerfile");
    e.assert_canaries_untouched("context links and Dockerfile");
}

#[test]
fn copy_refuses_dotdot_out_of_the_context() {
    let e = engine();
    let ctx = e.context("dotdot", "FROM busybox\nCOPY ../outside/victim.txt /v\n", &[]);
    let err = e.build_in(ctx, "dotdot").unwrap_err();
    assert_eq!(err.lines().next().unwrap(), "forbidden path outside the build context: ../outside/victim.txt");
    e.assert_canaries_untouched("COPY ../");
}

#[test]
fn mount_points_of_create_through_image_links_stay_in_the_rootfs() {
    // `docker run -v /t/y` on an image whose /t leads to T: the mount point is made inside the
    // rootfs, and the guest's writes land in the volume.
    let e = engine();
    e.build("mp", &format!("FROM busybox\nRUN ln -s {} /t\n", e.t("target")), &[]);
    let id = e
        .engine
        .create(CreateOptions {
            image: "mp".into(),
            cmd: Some(vec!["sh".into(), "-c".into(), "echo v > /t/y/f && cat /t/y/f".into()]),
            mounts: MountRequests { volumes: vec!["/t/y".into()], ..Default::default() },
            ..Default::default()
        })
        .unwrap();
    e.assert_canaries_untouched("-v /t/y, create");
    e.engine.start(id.as_str()).unwrap();
    assert_eq!(e.engine.wait(id.as_str(), WaitCondition::NotRunning).unwrap(), 0);
    let info = e.engine.inspect(id.as_str()).unwrap();
    assert!(info.sources[0].join("f").exists(), "the write landed in the volume");
    e.assert_canaries_untouched("-v /t/y, run");
}

/// An image layer is untrusted too: a `.wh.` name in it (here links out to T, as a whiteout, an
/// opaque marker and a plain name) is only ever looked at, never followed, shown or copied up,
/// while the guest reads, lists, writes, removes and recreates around it; `docker diff` reads
/// the container's own layer without looking at them either. The RUN step's layer is made
/// through the overlay, so what it names `.wh.` is that layer's whiteouts, as in an OCI layer:
/// the base image's `/etc/passwd` is hidden, and its whole `/etc` behind the opaque marker.
#[test]
fn whiteout_names_in_an_image_layer_are_never_followed_or_shown() {
    let e = engine();
    let dockerfile = format!(
        "FROM busybox\n\
         RUN ln -s {victim} /etc/.wh.passwd && ln -s {canary} /etc/.wh..wh..opq \
         && mkdir /srv && echo image > /srv/f && ln -s {canary} /srv/.wh.f && ln -s {victim} /.wh.srv\n",
        victim = e.t("victim.txt"),
        canary = e.t("canary"),
    );
    e.build("whiteouts", &dockerfile, &[]);
    e.assert_canaries_untouched("whiteout names, build");
    let script = "cat /etc/passwd | head -1; ls -A /etc /srv; cat /srv/f; \
                  echo more >> /etc/passwd; rm /srv/f; echo new > /srv/f; cat /srv/f; \
                  rm -r /etc && mkdir /etc && echo again > /etc/passwd; ls -A /etc; ls -A / | grep -c wh";
    let (code, out) = e.sh("whiteouts", script);
    assert_eq!(
        out, "cat: /etc/passwd: No such file or directory\n/etc:\nhostname\nhosts\n\n/srv:\nf\nimage\nnew\npasswd\n0\n",
        "exit {code}"
    );
    e.assert_canaries_untouched("whiteout names, the guest working around them");
    let id = e.engine.create(CreateOptions { image: "whiteouts".into(), ..Default::default() }).unwrap();
    e.engine.start(id.as_str()).unwrap();
    e.engine.wait(id.as_str(), WaitCondition::NotRunning).unwrap();
    e.engine.changes(id.as_str()).unwrap();
    e.assert_canaries_untouched("whiteout names, docker diff");
}

/// Writing through an image's link out of the tree copies up the file the link leads to in
/// guest space (the image's own copy at T's path), never the host's: a write, a metadata
/// change, a rename and a removal each land in the container's layer.
#[test]
fn copy_up_through_an_image_link_out_of_the_tree_stays_in_the_layer() {
    let e = engine();
    let canary = e.t("canary");
    let dockerfile = format!(
        "FROM busybox\n\
         RUN mkdir -p {canary}/dir && echo image > {canary}/secret.txt && echo image > {canary}/dir/inner.txt \
         && ln -s {canary} /abs && ln -s ../../../../../../../../../..{canary} /rel\n"
    );
    e.build("copyup", &dockerfile, &[]);
    e.assert_canaries_untouched("links out of the tree, build");
    let script = "echo more >> /abs/secret.txt && chmod 600 /rel/dir/inner.txt && mv /rel/dir /abs/moved \
                  && rm /abs/moved/inner.txt && touch /abs/new && cat /rel/secret.txt && ls -A /abs /abs/moved";
    let (code, out) = e.sh("copyup", script);
    assert_eq!((code, out.as_str()), (0, "image\nmore\n/abs:\nmoved\nnew\nsecret.txt\n\n/abs/moved:\n"));
    e.assert_canaries_untouched("links out of the tree, copy-up");
}
