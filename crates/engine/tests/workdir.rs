//! WORKDIR, `run -w` and `exec -w` are the working directory of any guest, not only the
//! toolbox's: a Rust std program (`guests/test-guests` `cwd`) and a C program built with
//! Debian's wasi-libc (`guests/c/cwd.c`) report it and open relative paths under it.

mod common;

use porthole_engine::{BuildOptions, CreateOptions, Engine, ExecOptions};

/// An image with both guests in `/bin`, a `here.txt` in `/`, `/app` and `/app/sub`, and
/// `WORKDIR /app`; gives the commands to run (the C one only where clang is installed).
fn image(e: &Engine) -> Vec<&'static str> {
    let ctx = tempfile::tempdir().unwrap();
    let cmds = porthole_guests::cwd_context(
        ctx.path(),
        "RUN mkdir -p /app/sub && echo root > /here.txt && echo app > /app/here.txt && echo sub > /app/sub/here.txt\n\
         WORKDIR /app\n",
    );
    let mut log = String::new();
    let opts = BuildOptions { context: ctx.path().to_path_buf(), tags: vec!["cwd".into()], ..Default::default() };
    e.build(opts, &mut |s| log.push_str(s)).unwrap_or_else(|err| panic!("{err}\n{log}"));
    cmds
}

fn run(e: &Engine, cmd: &str, workdir: Option<&str>) -> String {
    let opts = CreateOptions {
        image: "cwd".into(),
        cmd: Some(vec![cmd.into()]),
        workdir: workdir.map(str::to_string),
        ..Default::default()
    };
    let (code, out, _) = common::run(e, opts);
    assert_eq!(code, 0, "{out}");
    out
}

#[test]
fn workdir_and_run_w_are_the_working_directory() {
    let (_tmp, e) = common::engine();
    for cmd in image(&e) {
        assert_eq!(run(&e, cmd, None), "cwd=/app here.txt=app\n", "{cmd}");
        assert_eq!(run(&e, cmd, Some("/app/sub")), "cwd=/app/sub here.txt=sub\n", "{cmd}");
        assert_eq!(run(&e, cmd, Some("/")), "cwd=/ here.txt=root\n", "{cmd}");
    }
}

#[test]
fn exec_w_is_the_working_directory_and_the_containers_is_the_default() {
    let (_tmp, e) = common::engine();
    let cmds = image(&e);
    let id =
        e.create(CreateOptions { image: "cwd".into(), cmd: common::sh("sleep 30"), ..Default::default() }).unwrap();
    e.start(id.as_str()).unwrap();
    for cmd in cmds {
        for (workdir, expect) in [(None, "cwd=/app here.txt=app\n"), (Some("/app/sub"), "cwd=/app/sub here.txt=sub\n")]
        {
            let out = common::Captured::default();
            let stdio = porthole_engine::Stdio { stdout: Box::new(out.clone()), ..Default::default() };
            let opts = ExecOptions {
                cmd: vec![cmd.into()],
                workdir: workdir.map(str::to_string),
                stdio,
                ..Default::default()
            };
            assert_eq!(e.exec(id.as_str(), opts).unwrap(), 0);
            assert_eq!(out.text(), expect, "{cmd} with -w {workdir:?}");
        }
    }
    e.kill(id.as_str(), None).unwrap();
}

/// A user's own programs are programs like any other: the shell starts them (in a pipeline,
/// in the directory it `cd`'d to), and so does a `RUN` line in shell form.
#[test]
fn a_users_own_guests_run_from_sh_and_from_run_in_shell_form() {
    let (_tmp, e) = common::engine();
    let cmds = image(&e);
    for cmd in &cmds {
        let script = format!("cd sub && {cmd} | tr a-z A-Z");
        let opts = CreateOptions { image: "cwd".into(), cmd: common::sh(&script), ..Default::default() };
        let (code, out, _) = common::run(&e, opts);
        assert_eq!((code, out.as_str()), (0, "CWD=/APP/SUB HERE.TXT=SUB\n"), "{script}");
    }
    let ctx = tempfile::tempdir().unwrap();
    let runs: String = cmds.iter().map(|c| format!("RUN cd sub && {c} >> /app/built.txt\n")).collect();
    std::fs::write(ctx.path().join("Dockerfile"), format!("FROM cwd\n{runs}")).unwrap();
    let mut log = String::new();
    let opts = BuildOptions { context: ctx.path().to_path_buf(), tags: vec!["built".into()], ..Default::default() };
    e.build(opts, &mut |s| log.push_str(s)).unwrap_or_else(|err| panic!("{err}\n{log}"));
    let opts = CreateOptions { image: "built".into(), cmd: common::sh("cat /app/built.txt"), ..Default::default() };
    let (code, out, _) = common::run(&e, opts);
    assert_eq!((code, out), (0, "cwd=/app/sub here.txt=sub\n".repeat(cmds.len())));
}
