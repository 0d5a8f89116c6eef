//! `docker build` features beyond one stage, through the docker CLI: `ARG` with defaults and
//! `--build-arg` (in `FROM` and in `RUN`'s environment), multi-stage builds with `COPY --from`
//! by stage name, index and image, `FROM <stage>`, and `SHELL`.

mod common;

use common::Daemon;

fn context(dockerfile: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    dir
}

const MULTI_STAGE: &str = r#"ARG BASE=busybox
FROM $BASE AS Builder
ARG GREETING=hello
ARG WHO
RUN mkdir /out && echo "$GREETING $WHO" > /out/greeting
FROM builder AS second
RUN echo second > /out/second
FROM busybox
SHELL ["/bin/busybox", "sh", "-c"]
COPY --from=builder /out/greeting /greeting
COPY --from=1 /out/second /second
COPY --from=busybox /bin/busybox /copied-busybox
RUN test -f /copied-busybox && cat /greeting /second
CMD cat /greeting
"#;

#[test]
fn build_args_multi_stage_and_shell() {
    if !common::docker_available() {
        return;
    }
    let d = Daemon::start();
    let ctx = context(MULTI_STAGE);
    let out = d.ok(&[
        "build",
        "--build-arg",
        "WHO=porthole",
        "--build-arg",
        "UNUSED=1",
        "-t",
        "multi",
        ctx.path().to_str().unwrap(),
    ]);
    assert!(out.contains("hello porthole\nsecond\n"), "RUN sees the ARGs and the earlier stages' files:\n{out}");
    assert!(out.contains("[Warning] One or more build-args [UNUSED] were not consumed"), "{out}");
    assert_eq!(d.ok(&["run", "--rm", "multi"]), "hello porthole\n");
    assert_eq!(
        d.ok(&["inspect", "--format", "{{json .Config.Cmd}} {{json .Config.Shell}}", "multi"]).trim(),
        r#"["/bin/busybox","sh","-c","cat /greeting"] ["/bin/busybox","sh","-c"]"#
    );

    // Without --build-arg, the defaults: WHO is empty.
    let out = d.ok(&["build", "-t", "multi2", ctx.path().to_str().unwrap()]);
    assert!(out.contains("hello \nsecond\n"), "{out}");

    // A stage or image that does not exist, and SHELL not in JSON form, say so.
    let ctx = context("FROM busybox\nCOPY --from=nowhere /a /b\n");
    let (_, err) = d.fails(&["build", ctx.path().to_str().unwrap()]);
    assert!(err.contains("invalid from flag value nowhere: no build stage and no local image by that name"), "{err}");
    let ctx = context("FROM busybox AS a\nFROM busybox\nCOPY --from=5 /a /b\n");
    let (_, err) = d.fails(&["build", ctx.path().to_str().unwrap()]);
    assert!(err.contains("invalid from flag value 5: stage index out of range"), "{err}");
    let ctx = context("FROM busybox\nSHELL /bin/sh -c\n");
    let (_, err) = d.fails(&["build", ctx.path().to_str().unwrap()]);
    assert!(err.contains("SHELL requires the arguments to be in JSON form"), "{err}");
}
