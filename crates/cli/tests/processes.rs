//! Processes through the docker CLI: a guest that spawns children (the `spawner` test guest)
//! in a container — `docker top` lists them, `docker stop` and `kill` end them, `--pids-limit`
//! is shown by inspect and enforced, `docker kill -s` delivers the signal, and on a TTY Ctrl-C
//! interrupts the foreground child while Ctrl-D ends only the process reading.

mod common;

use common::Daemon;
use common::terminal::Terminal;

/// An image with the `spawner` guest at `/bin/spawner`, running `spawner family` (a child
/// that sleeps, waited for) unless told otherwise.
fn build_spawner(d: &Daemon) {
    d.build_guest_image("spawner", porthole_guests::SPAWNER, "spawner", "CMD [\"spawner\", \"family\"]\n");
}

/// `docker top`'s PID, PPID and CMD columns once the container has `n` processes.
fn top_when(d: &Daemon, name: &str, n: usize) -> Vec<String> {
    loop {
        let rows: Vec<String> = d
            .ok(&["top", name])
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                format!("{} {} {}", f[1], f[2], f[7..].join(" "))
            })
            .collect();
        if rows.len() >= n {
            return rows;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn top_lists_children_and_stop_ends_them_all() {
    if !common::docker_available() {
        return;
    }
    let d = Daemon::start();
    build_spawner(&d);
    d.ok(&["run", "-d", "--name", "fam", "spawner"]);
    assert_eq!(top_when(&d, "fam", 2), ["1 0 spawner family", "2 1 spawner sleep"]);
    // The toolbox's ps reads the same table (its own exec is the third process).
    let ps: Vec<String> = d
        .ok(&["exec", "fam", "ps"])
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            format!("{} {}", f[0], f[3..].join(" "))
        })
        .collect();
    assert_eq!(ps, ["PID COMMAND", "1 spawner family", "2 spawner sleep", "3 ps"]);
    let stats = d.ok(&["stats", "--no-stream", "--format", "{{.PIDs}}", "fam"]);
    assert_eq!(stats.trim(), "2");
    // TERM ends pid 1, which does not catch it (143), and every other process with it.
    d.ok(&["stop", "fam"]);
    assert_eq!(d.ok(&["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "fam"]), "exited 143\n");
    assert_eq!(d.ok(&["logs", "fam"]), "child 2\n");

    d.ok(&["start", "fam"]);
    top_when(&d, "fam", 2);
    d.ok(&["kill", "-s", "INT", "fam"]);
    assert_eq!(d.ok(&["wait", "fam"]), "130\n");
    d.ok(&["start", "fam"]);
    let (_, err) = d.fails(&["kill", "-s", "NOPE", "fam"]);
    assert!(err.contains("Invalid signal: NOPE"), "{err}");
    let (_, err) = d.fails(&["kill", "-s", "USR1", "fam"]);
    assert!(err.contains("signal USR1 is not supported by Porthole"), "{err}");
    d.ok(&["kill", "fam"]);
    assert_eq!(d.ok(&["wait", "fam"]), "137\n");
}

#[test]
fn the_pids_limit_is_shown_and_enforced() {
    if !common::docker_available() {
        return;
    }
    let d = Daemon::start();
    build_spawner(&d);
    // Three places: pid 1 and two children; the third spawn is refused with EAGAIN (6).
    let out = d.ok(&["run", "--name", "limited", "--pids-limit", "3", "spawner", "spawner", "limit"]);
    assert_eq!(out, "spawned 2 then 6\n");
    assert_eq!(d.ok(&["inspect", "--format", "{{.HostConfig.PidsLimit}}", "limited"]), "3\n");
    d.ok(&["create", "--name", "unlimited", "spawner"]);
    assert_eq!(d.ok(&["inspect", "--format", "{{.HostConfig.PidsLimit}}", "unlimited"]), "<nil>\n");
}

#[test]
fn ctrl_c_interrupts_the_foreground_child_and_ctrl_d_ends_only_the_reader() {
    if !common::docker_available() {
        return;
    }
    let d = Daemon::start();
    build_spawner(&d);
    let mut t = Terminal::spawn(d.command(&["run", "-it", "--rm", "spawner", "spawner", "tty"]));
    t.expect("sleeping 2");
    t.type_keys("\x03");
    t.expect("child 130");
    t.expect("counting");
    t.type_keys("abc\r");
    t.type_keys("\x04");
    t.expect("counted 4");
    t.expect("reader 0");
    t.type_keys("still here\r");
    t.expect("main read still here");
    let (status, screen) = t.finish();
    assert!(status.success(), "{status}: {screen}");
}
