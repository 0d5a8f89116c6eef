//! End to end with the docker CLI: WORKDIR, `docker run -w` and `docker exec -w` are the working
//! directory of a Rust std guest (`guests/test-guests` `cwd`) and of a C guest built with
//! Debian's wasi-libc (`guests/c/cwd.c`), not only of the toolbox shell.
//!
//! Skipped (with a note) where no `docker` CLI is installed, but never under `CI`.

mod common;
use common::{Daemon, docker_available};

#[test]
fn workdir_run_w_and_exec_w_are_every_guests_working_directory() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    let ctx = tempfile::tempdir().unwrap();
    let cmds = porthole_guests::cwd_context(
        ctx.path(),
        "RUN mkdir -p /app/sub && echo app > /app/here.txt && echo sub > /app/sub/here.txt\nWORKDIR /app\n",
    );
    d.ok(&["build", "-q", "-t", "cwd", ctx.path().to_str().unwrap()]);
    d.ok(&["run", "-d", "--name", "idle", "cwd", "sleep", "60"]);
    for cmd in cmds {
        assert_eq!(d.ok(&["run", "--rm", "cwd", cmd]), "cwd=/app here.txt=app\n", "{cmd}");
        assert_eq!(d.ok(&["run", "--rm", "-w", "/app/sub", "cwd", cmd]), "cwd=/app/sub here.txt=sub\n", "{cmd}");
        assert_eq!(d.ok(&["exec", "idle", cmd]), "cwd=/app here.txt=app\n", "{cmd}");
        assert_eq!(d.ok(&["exec", "-w", "/app/sub", "idle", cmd]), "cwd=/app/sub here.txt=sub\n", "{cmd}");
    }
    d.ok(&["rm", "-f", "idle"]);
}
