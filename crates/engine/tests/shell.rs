//! The toolbox shell on Porthole's process interface, end to end in a container: programs
//! (the applets too) run as processes, pipelines run at once over host pipes, `&` and `wait`,
//! `kill`, `$(…)` with pipelines, exec redirections, and the errors for a missing program or
//! one that is not a module. Cases after mrsh's test/pipeline.sh and test/async.sh
//! (emersion/mrsh, MIT) and the issue that asked for them; the pure parts are table-tested
//! natively in guests/toolbox/src/sh/tests.rs.

mod common;

use std::time::{Duration, Instant};

use porthole_engine::{CreateOptions, ExecOptions};

/// `docker run --rm busybox sh -c SCRIPT`: the exit code and the output.
fn sh(e: &porthole_engine::Engine, script: &str) -> (i32, String) {
    let (code, out, _) =
        common::run(e, CreateOptions { image: "busybox".into(), cmd: common::sh(script), ..Default::default() });
    (code, out)
}

#[test]
fn pipelines_run_at_once_through_pipes() {
    let (_tmp, e) = common::engine();
    let cases: &[(&str, (i32, &str))] = &[
        // mrsh test/pipeline.sh
        ("echo 'a b c d' | tr b B | tr c C", (0, "a B C d\n")),
        ("! false; echo $?", (0, "0\n")),
        ("(echo 'a b'; echo 'c d') | tr c C", (0, "a b\nC d\n")),
        ("{ echo 'a b'; echo 'c d'; } | tr c C", (0, "a b\nC d\n")),
        // An endless producer ends when its reader does (SIGPIPE), with no size limit.
        ("yes | head -3", (0, "y\ny\ny\n")),
        ("i=0; while [ $i -lt 20000 ]; do echo \"Line $i\"; i=$((i+1)); done | tail -1", (0, "Line 19999\n")),
        ("seq 1 200000 | wc -l", (0, "200000\n")),
        ("false | true; echo $?; true | false; echo $?", (0, "0\n1\n")),
        ("set -o pipefail; false | true; echo $?; (exit 3) | false | true; echo $?", (0, "1\n1\n")),
        ("echo hi | while read x; do echo \"got $x\"; done", (0, "got hi\n")),
        ("f() { echo from-f; }; f | cat", (0, "from-f\n")),
        ("x=unexported; echo $x | cat; echo \"$x\" | tr a-z A-Z", (0, "unexported\nUNEXPORTED\n")),
    ];
    for (script, want) in cases {
        assert_eq!(sh(&e, script), (want.0, want.1.to_string()), "{script}");
    }
}

#[test]
fn command_substitution_runs_any_pipeline() {
    let (_tmp, e) = common::engine();
    let cases: &[(&str, &str)] = &[
        ("b=$(echo hello | tr h j); echo \"$b\"", "jello\n"),
        ("echo \"$(ls / | grep -c '^bin$')\"", "1\n"),
        ("x=$(seq 1 100000 | tail -1); echo $x", "100000\n"),
        ("echo `echo a | tr a b`", "b\n"),
        ("v=$(cat <<EOF\nhere $((1+1))\nEOF\n); echo \"$v\"", "here 2\n"),
    ];
    for (script, want) in cases {
        assert_eq!(sh(&e, script), (0, want.to_string()), "{script}");
    }
}

#[test]
fn background_jobs_wait_and_kill() {
    let (_tmp, e) = common::engine();
    let cases: &[(&str, &str)] = &[
        // mrsh test/async.sh
        ("(wait); echo a & wait $!", "a\n"),
        (
            "echo a & p1=$!; echo a & wait $p1; s1=$?; wait $!; s2=$?; echo Job 1 exited with status $s1; echo Job 2 exited with status $s2",
            "",
        ),
        ("sleep 100 & pid=$!; kill -KILL $pid; wait $pid; echo $? SIG$(kill -l $?)", "137 SIGKILL\n"),
        ("sleep 100 & kill %1; wait %1; echo $?", "143\n"),
        ("(exit 3) & wait $!; echo $?", "3\n"),
        ("sleep 100 & jobs; kill %1", "[1]+  Running                 sleep 100\n"),
        ("/bin/kill -s TERM 99999; echo $?", "kill: can't kill pid 99999: No such process\n1\n"),
    ];
    for (script, want) in cases {
        let (code, out) = sh(&e, script);
        if want.is_empty() {
            assert!(out.contains("Job 1 exited with status 0\nJob 2 exited with status 0\n"), "{script}: {out}");
        } else {
            assert_eq!((code, out.as_str()), (0, *want), "{script}");
        }
    }
}

#[test]
fn programs_errors_and_redirections() {
    let (_tmp, e) = common::engine();
    let cases: &[(&str, (i32, &str))] = &[
        ("nosuch arg", (127, "sh: nosuch: not found\n")),
        (
            "printf 'MZ\\000\\001' > /tmp/x.bin; chmod +x /tmp/x.bin; /tmp/x.bin",
            (126, "sh: /tmp/x.bin: Exec format error\n"),
        ),
        ("printf 'echo from-script $1\\n' > /tmp/s; chmod +x /tmp/s; /tmp/s arg", (0, "from-script arg\n")),
        ("cd /tmp && pwd && /bin/pwd", (0, "/tmp\n/tmp\n")),
        ("X=exported; export X; Y=local; env | grep -E '^(X|Y)='", (0, "X=exported\n")),
        ("A=only-here env | grep ^A=", (0, "A=only-here\n")),
        ("exec 3>/tmp/f; echo to-three >&3; exec 3>&-; cat /tmp/f", (0, "to-three\n")),
        ("exec >/tmp/log; echo hidden; ls /tmp/log >&2", (0, "/tmp/log\n")),
        ("ls /nope 2>&1 | grep -c 'No such'", (0, "1\n")),
        // /dev/null for programs, in the foreground and behind `&`: their writes succeed.
        ("seq 1 100000 >/dev/null 2>&1 && echo quiet; seq 1 100000 >/dev/null & wait $!; echo $?", (0, "quiet\n0\n")),
        ("cat <<EOF | wc -c\n0123456789\nEOF", (0, "11\n")),
        ("trap 'echo trapped' TERM; kill -TERM $$; echo after", (0, "trapped\nafter\n")),
        ("trap 'echo bye' EXIT; exit 4", (4, "bye\n")),
    ];
    for (script, (code, want)) in cases {
        let (got_code, out) = sh(&e, script);
        assert_eq!(got_code, *code, "{script}: {out}");
        if !want.is_empty() {
            assert_eq!(out, *want, "{script}");
        }
    }
}

/// Waits until container `id` has written `needle` (a pipeline that must print before it ends).
fn wait_for_output(e: &porthole_engine::Engine, id: &str, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !common::output(e, id).contains(needle) {
        assert!(Instant::now() < deadline, "no {needle:?} yet; the container wrote:\n{}", common::output(e, id));
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn tail_f_into_grep_prints_each_line_as_it_arrives() {
    let (_tmp, e) = common::engine();
    let script = "touch /tmp/log; tail -f /tmp/log | grep x";
    let id =
        e.create(CreateOptions { image: "busybox".into(), cmd: common::sh(script), ..Default::default() }).unwrap();
    e.start(id.as_str()).unwrap();
    for line in ["ax", "no", "bx"] {
        let append = vec!["sh".into(), "-c".into(), format!("echo {line} >> /tmp/log")];
        assert_eq!(e.exec(id.as_str(), ExecOptions { cmd: append, ..Default::default() }).unwrap(), 0);
        // Each match is out while the pipeline still runs: nothing waits for the end.
        if line.contains('x') {
            wait_for_output(&e, id.as_str(), &format!("{line}\n"));
        }
    }
    e.kill(id.as_str(), None).unwrap();
    assert_eq!(common::output(&e, id.as_str()), "ax\nbx\n");
}

/// A fork bomb meets the container's process limit (`--pids-limit`, else the default): the
/// shell says why it cannot start another process and the script ends; the controller and
/// the container's other processes are unharmed.
#[test]
fn a_fork_bomb_is_stopped_by_the_process_limit() {
    let (_tmp, e) = common::engine();
    let opts = CreateOptions {
        image: "busybox".into(),
        cmd: common::sh("while :; do sleep 30 & done"),
        pids_limit: Some(8),
        ..Default::default()
    };
    let (code, out, _) = common::run(&e, opts);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("sh: can't fork: the container's process limit is reached"), "{out}");
    // The engine goes on running containers.
    let (code, out, _) =
        common::run(&e, CreateOptions { image: "busybox".into(), cmd: common::sh("echo fine"), ..Default::default() });
    assert_eq!((code, out.as_str()), (0, "fine\n"));
}
