//! Scripts as programs, as the kernel runs them for Docker: a command naming a file that starts
//! with `#!` runs the interpreter named there with the script's path — as `CMD`, from `PATH`,
//! in `docker exec` and in a build's `RUN`. A missing interpreter is 127, a file that is
//! neither a module nor a script 126.

mod common;

use porthole_engine::{BuildOptions, CreateOptions, ExecOptions};

fn build(e: &porthole_engine::Engine, tag: &str, dockerfile: &str, files: &[(&str, &str)]) -> String {
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(ctx.path().join("Dockerfile"), dockerfile).unwrap();
    for (name, text) in files {
        std::fs::write(ctx.path().join(name), text).unwrap();
    }
    let mut log = String::new();
    let opts = BuildOptions { context: ctx.path().to_path_buf(), tags: vec![tag.into()], ..Default::default() };
    e.build(opts, &mut |s| log.push_str(s)).unwrap_or_else(|err| panic!("{err}\n{log}"));
    log
}

#[test]
fn a_script_runs_under_its_interpreter() {
    let (_tmp, e) = common::engine();
    let script = "#!/bin/sh -e\necho \"started $0 with $1\"\n";
    let log = build(
        &e,
        "scripted",
        "FROM busybox\nCOPY start.sh /app/start.sh\nCOPY start.sh /usr/local/bin/greet\nRUN /app/start.sh at-build\nCMD [\"/app/start.sh\", \"x\"]\n",
        &[("start.sh", script)],
    );
    assert!(log.contains("started /app/start.sh with at-build"), "{log}");

    let (code, out, _) = common::run(&e, CreateOptions { image: "scripted".into(), ..Default::default() });
    assert_eq!((code, out.as_str()), (0, "started /app/start.sh with x\n"));

    // Found in PATH, and in docker exec.
    let (code, out, _) = common::run(
        &e,
        CreateOptions { image: "scripted".into(), cmd: Some(vec!["greet".into(), "y".into()]), ..Default::default() },
    );
    assert_eq!((code, out.as_str()), (0, "started /usr/local/bin/greet with y\n"));
    let sleeper = e
        .create(CreateOptions { image: "scripted".into(), cmd: common::sh("sleep 30"), ..Default::default() })
        .unwrap();
    e.start(sleeper.as_str()).unwrap();
    let out = common::Captured::default();
    let stdio = porthole_engine::Stdio { stdout: Box::new(out.clone()), ..Default::default() };
    let code = e
        .exec(
            sleeper.as_str(),
            ExecOptions { cmd: vec!["/app/start.sh".into(), "z".into()], stdio, ..Default::default() },
        )
        .unwrap();
    assert_eq!((code, out.text().as_str()), (0, "started /app/start.sh with z\n"));
    e.kill(sleeper.as_str(), None).unwrap();
}

#[test]
fn a_missing_interpreter_or_a_file_that_is_neither_fails_as_docker_does() {
    let (_tmp, e) = common::engine();
    build(
        &e,
        "broken",
        "FROM busybox\nCOPY py.sh /app/py.sh\nCOPY notes.txt /app/notes\n",
        &[("py.sh", "#!/usr/bin/python3\nprint(1)\n"), ("notes.txt", "just text\n")],
    );
    let id = e
        .create(CreateOptions { image: "broken".into(), cmd: Some(vec!["/app/py.sh".into()]), ..Default::default() })
        .unwrap();
    let err = e.start(id.as_str()).unwrap_err().to_string();
    assert!(err.contains("exec /app/py.sh: its interpreter /usr/bin/python3: no such file or directory"), "{err}");
    assert_eq!(e.inspect(id.as_str()).unwrap().record.state.exit_code, 127);

    let (code, out, _) = common::run(
        &e,
        CreateOptions { image: "broken".into(), cmd: Some(vec!["/app/notes".into()]), ..Default::default() },
    );
    assert_eq!(code, 126, "{out}");
    assert!(out.contains("exec format error"), "{out}");
}
