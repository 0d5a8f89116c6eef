//! The classroom lessons end to end: each shipped lesson played with `porthole lesson run
//! --auto` against a real `porthole serve` on a fresh root (the docker CLI running its
//! commands, the controller checking its state), a broken variant failing with its reason, a
//! step out of order naming the missing precondition, a malformed file named by line and
//! field, and a reset that removes the lesson's things and nothing else.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{Daemon, http_get, text};

fn porthole(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_porthole"));
    c.args(args).env("RUST_BACKTRACE", "0").env_remove("DOCKER_HOST");
    c
}

/// `porthole lesson ACTION LESSON --host … --workdir …` against `d`, with d's docker config.
fn lesson(d: &Daemon, action: &str, lesson: &str, workdir: &Path, extra: &[&str]) -> Output {
    porthole(&["lesson", action, lesson, "--host", &d.addr, "--workdir", workdir.to_str().unwrap()])
        .args(extra)
        .env("DOCKER_CONFIG", d.docker_config.path())
        .output()
        .unwrap()
}

fn shipped_lesson_passes(name: &str) {
    if !common::docker_available() {
        return;
    }
    let d = Daemon::start();
    let work = tempfile::tempdir().unwrap();
    let out = lesson(&d, "run", name, work.path(), &["--auto"]);
    let printed = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "lesson {name} failed ({}):\n{printed}", out.status);
    assert!(printed.contains("Every check of the"), "{printed}");
    assert!(!printed.contains("FAILED"), "{printed}");
}

#[test]
fn post_2014() {
    shipped_lesson_passes("post-2014");
}

#[test]
fn volume_defaults() {
    shipped_lesson_passes("volume-defaults");
}

#[test]
fn named_and_bind() {
    shipped_lesson_passes("named-and-bind");
}

#[test]
fn volumes_from() {
    shipped_lesson_passes("volumes-from");
}

#[test]
fn lifecycle() {
    shipped_lesson_passes("lifecycle");
}

#[test]
fn pulp_mirror() {
    shipped_lesson_passes("pulp-mirror");
}

fn shipped_text(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../lessons").join(format!("{name}.toml")))
        .unwrap()
}

/// A check the state does not satisfy fails the run, with the check and the reason; a step
/// played first whose precondition is missing says which one.
#[test]
fn a_broken_lesson_fails_with_its_reason_and_out_of_order_steps_name_the_precondition() {
    if !common::docker_available() {
        return;
    }
    let d = Daemon::start();
    let work = tempfile::tempdir().unwrap();
    let original = shipped_text("post-2014");
    let broken = original.replace(r#"contains = "mirrored""#, r#"contains = "not in the file""#);
    assert_ne!(broken, original);
    let file = work.path().join("broken.toml");
    std::fs::write(&file, broken).unwrap();
    let out = lesson(&d, "run", file.to_str().unwrap(), &work.path().join("w"), &["--auto"]);
    let printed = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{printed}{}", text(&out.stderr));
    assert!(
        printed.contains(
            "FAILED: /var/lib/pulp/content/f in container volume-demo contains \"not in the file\": \
             /var/lib/pulp/content/f in container volume-demo does not contain \"not in the file\" (it starts \"mirrored\\n\")"
        ),
        "{printed}"
    );
    assert!(printed.contains("The lesson stopped at step 2/4."), "{printed}");

    // A container with the www volume only: the link in it leads out of what it has, and the
    // reason says where.
    let www = d.ok(&[
        "inspect",
        "--format",
        "{{range .Mounts}}{{if eq .Destination \"/var/www\"}}{{.Name}}{{end}}{{end}}",
        "volume-demo",
    ]);
    d.ok(&["create", "--name", "lonely", "-v", &format!("{}:/var/www", www.trim()), "busybox", "true"]);
    let file = work.path().join("lonely.toml");
    std::fs::write(
        &file,
        "title = \"t\"\ngoal = \"g\"\n[[steps]]\nnarration = \"n\"\nchecks = [{ file_resolves = { container = \"lonely\", path = \"/var/www/pub/f\" } }]\n",
    )
    .unwrap();
    let out = lesson(&d, "run", file.to_str().unwrap(), &work.path().join("w"), &["--auto"]);
    let printed = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert!(
        printed.contains(
            "FAILED: /var/www/pub/f resolves to a file in container lonely: /var/www/pub/f in container lonely: \
             it follows the link /var/www/pub/f to /var/lib/pulp/content/f, and /var/lib does not exist in this container"
        ),
        "{printed}"
    );
    d.ok(&["rm", "lonely"]);

    // The post's last step alone, on a root where volume-demo was removed.
    d.ok(&["rm", "-v", "volume-demo"]);
    let last = original.rfind("[[steps]]").unwrap();
    let alone = format!("title = \"t\"\ngoal = \"g\"\n{}", &original[last..]);
    let file = work.path().join("alone.toml");
    std::fs::write(&file, alone).unwrap();
    let out = lesson(&d, "run", file.to_str().unwrap(), &work.path().join("w"), &["--auto"]);
    let printed = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert!(
        printed.contains("Step 1 needs: container volume-demo exists — there is no container volume-demo."),
        "{printed}"
    );
    // Nothing of the step ran.
    assert!(!printed.contains("$ docker run"), "{printed}");
}

#[test]
fn lesson_check_names_the_line_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "title = \"t\"\ngoal = \"g\"\n\n[[steps]]\nnarration = \"n\"\nchecks = [\n  { volume_exists = \"v\" },\n  { mounts = { container = \"c\", destination = \"relative\" } },\n]\n",
    )
    .unwrap();
    let out = porthole(&["lesson", "check", file.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("{}: line 8, field `destination`: invalid path \"relative\": must be absolute\n", file.display())
    );
    let good = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../lessons/lifecycle.toml");
    let out = porthole(&["lesson", "check", good.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = porthole(&["lesson", "list"]).output().unwrap();
    assert!(text(&out.stdout).starts_with("post-2014 "), "{}", text(&out.stdout));
}

/// Reset removes the containers, volumes and images the lesson's commands name, and leaves a
/// container, a named volume and an image tag made by hand alone.
#[test]
fn reset_removes_only_what_the_lesson_created() {
    if !common::docker_available() {
        return;
    }
    let d = Daemon::start();
    d.ok(&["create", "--name", "bystander", "-v", "keepme:/data", "busybox", "true"]);
    d.ok(&["tag", "busybox", "keep/img"]);
    let dir = tempfile::tempdir().unwrap();
    // Its commands write no files, so reset finds no work directory to remove.
    let work = dir.path().join("w");
    let out = lesson(&d, "run", "volumes-from", &work, &["--auto"]);
    assert!(out.status.success(), "{}", text(&out.stdout));

    // What a dashboard panel asks: the lessons, one lesson's steps, a step's check now.
    let list: serde_json::Value = serde_json::from_slice(&http_get(&d.addr, "/porthole/lessons").body).unwrap();
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["post-2014", "volume-defaults", "named-and-bind", "volumes-from", "lifecycle", "pulp-mirror"]);
    let one: serde_json::Value =
        serde_json::from_slice(&http_get(&d.addr, "/porthole/lessons/volumes-from").body).unwrap();
    assert_eq!(one["lesson"]["steps"][0]["focus"], "container:vf-data", "{one}");
    assert_eq!(one["creates"]["volumes"], serde_json::json!(["vf-config"]), "{one}");
    assert_eq!(http_get(&d.addr, "/porthole/lessons/no-such-lesson").status, 404);
    let a = http_get(&d.addr, "/porthole/lessons/volumes-from/steps/4/check");
    assert_eq!(a.status, 200);
    let outcome: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    assert_eq!(outcome["passed"], true, "{outcome}");
    let a = http_get(&d.addr, "/porthole/lessons/volumes-from/steps/5/check");
    assert_eq!(a.status, 404);
    assert!(text(&a.body).contains("lesson volumes-from has no step 5 (its steps are 1 to 4)"), "{}", text(&a.body));

    let out = lesson(&d, "reset", "volumes-from", &work, &[]);
    let printed = text(&out.stdout);
    assert!(out.status.success(), "{printed}{}", text(&out.stderr));
    assert_eq!(
        printed,
        "removed container vf-app\nremoved container vf-chain\nremoved container vf-data\nremoved container vf-reader\nremoved volume vf-config\n"
    );
    assert_eq!(d.ok(&["ps", "-a", "--format", "{{.Names}}"]), "bystander\n");
    assert_eq!(d.ok(&["volume", "ls", "-q"]), "keepme\n");
    let images = d.ok(&["images", "--format", "{{.Repository}}"]);
    assert!(images.contains("keep/img"), "{images}");
    // Now the lesson's step 1 fails again, saying why.
    let a = http_get(&d.addr, "/porthole/lessons/volumes-from/steps/1/check");
    let outcome: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    assert_eq!(outcome["checks"][0]["reason"], "there is no container vf-data", "{outcome}");
}

/// Played at a terminal's pace: Enter runs each command; at the task the runner waits, a check
/// made too early fails with its reason, and once the student has done it (here, the test with
/// the docker CLI) Enter checks again and it passes.
#[test]
fn interactively_the_runner_waits_for_the_student_and_checks_again() {
    use std::io::{BufRead, BufReader, Write};
    if !common::docker_available() {
        return;
    }
    let d = Daemon::start();
    let work = tempfile::tempdir().unwrap();
    let mut child = porthole(&["lesson", "run", "lifecycle", "--host", &d.addr, "--workdir"])
        .arg(work.path().join("w"))
        .env("DOCKER_CONFIG", d.docker_config.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines().map(Result::unwrap);
    let mut seen = String::new();
    let mut until = |what: &str, seen: &mut String| {
        for line in lines.by_ref() {
            seen.push_str(&line);
            seen.push('\n');
            if line.contains(what) {
                return;
            }
        }
        panic!("never printed {what:?}:\n{seen}");
    };
    // Steps 1 to 6 run eight commands, each on Enter.
    for _ in 0..8 {
        stdin.write_all(b"\n").unwrap();
    }
    until("Your task:", &mut seen);
    assert!(!seen.contains("FAILED"), "{seen}");
    // Too early: the task is not done.
    stdin.write_all(b"\n").unwrap();
    until("FAILED: container lc-user does not exist: container lc-user exists", &mut seen);
    d.ok(&["rm", "lc-user"]);
    d.ok(&["volume", "rm", "lc-named"]);
    stdin.write_all(b"\n").unwrap();
    until("Every check of the 7 steps passed.", &mut seen);
    drop(stdin);
    assert!(child.wait().unwrap().success(), "{seen}");
}
