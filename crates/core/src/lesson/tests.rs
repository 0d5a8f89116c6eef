//! Tests for `lesson`: parse errors as text (line and field), each check against a small
//! world rendered as the outcome's text, and the names a lesson's commands create.

use super::*;
use crate::graph::{ContainerSummary, GraphInput, ImageSummary, MountSummary, VolumeSummary};

const STEP: &str = "[[steps]]\nnarration = \"n\"\n";

fn parse_err(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn parse_errors_name_the_line_and_the_field() {
    let head = "title = \"t\"\ngoal = \"g\"\n";
    let cases = [
        (format!("title = \"t\"\n{STEP}"), "line 1, field `goal`: missing field `goal`"),
        (format!("{head}[[steps]]\nrun = [\"docker ps\"]\n"), "line 3, field `narration`: missing field `narration`"),
        (format!("{head}{STEP}colour = \"red\"\n"), "line 5, field `colour`: unknown field `colour`"),
        (
            format!("{head}{STEP}checks = [\n  {{ mounts = {{ container = \"a\", destination = 3 }} }},\n]\n"),
            "line 6, field `destination`: invalid type: integer `3`, expected a string",
        ),
        (
            format!("{head}{STEP}checks = [{{ mounts = {{ container = \"a\", destination = \"var/www\" }} }}]\n"),
            "line 5, field `destination`: invalid path \"var/www\": must be absolute",
        ),
        (
            format!("{head}{STEP}checks = [{{ container_flying = \"a\" }}]\n"),
            "line 5, field `container_flying`: unknown variant `container_flying`",
        ),
        (format!("{head}{STEP}focus = \"node:x\"\n"), "line 5, field `focus`: invalid focus"),
        (
            format!(
                "{head}{STEP}checks = [{{ mounts = {{ container = \"a\", destination = \"/x\", colour = 1 }} }}]\n"
            ),
            "line 5, field `colour`: unexpected keys in table: colour",
        ),
        (
            format!("{head}{STEP}files = [{{ path = \"../etc/x\", text = \"\" }}]\n"),
            "line 5, field `path`: invalid file path \"../etc/x\": must be relative",
        ),
        (
            format!("{head}{STEP}task = \"do it\"\n"),
            "line 3, field `solution`: step 1 has a task but no solution for --auto",
        ),
        (head.to_string(), "line 1, field `steps`: missing field `steps`"),
        (format!("{head}steps = []\n"), "line 1, field `steps`: a lesson needs at least one step"),
    ];
    for (text, expected) in cases {
        let got = parse_err(&text);
        assert!(got.starts_with(expected), "{text}\ngot:      {got}\nexpected: {expected}");
    }
}

#[test]
fn a_full_step_parses() {
    let text = r#"
title = "t"
goal = "g"
[[steps]]
narration = "n"
setup = ["pulp-images"]
run = ["docker run --name a busybox true"]
focus = "file:a:/var/www/x"
requires = [{ image_exists = "busybox" }]
checks = [
  "no_anonymous_volumes",
  { anonymous_volume_count = 2 },
  { mounts = { container = "a", destination = "/data/", kind = "named", volume = "v", rw = false, from = "b" } },
  { file_resolves = { container = "a", path = "/var/www/x", through_mount = "/var/lib/pulp" } },
  { http_serves = { container = "a", path = "/", status = 200 } },
]
"#;
    let lesson = parse(text).unwrap();
    let step = &lesson.steps[0];
    assert_eq!(step.focus.as_ref().unwrap().to_string(), "file:a:/var/www/x");
    let shown: Vec<String> = step.checks.iter().map(|c| c.to_string()).collect();
    assert_eq!(
        shown,
        [
            "no anonymous volume is left",
            "2 anonymous volume(s) exist",
            "container a mounts volume v at /data read-only (--volumes-from b)",
            "/var/www/x resolves to a file in container a, in the mount at /var/lib/pulp",
            "container a's published port answers GET / with 200",
        ]
    );
}

fn mount(dst: &str, volume: Option<&str>, bind: Option<&str>, rw: bool, from: Option<&str>) -> MountSummary {
    MountSummary {
        destination: dst.into(),
        volume: volume.map(Into::into),
        bind_source: bind.map(Into::into),
        rw,
        inherited_from: from.map(Into::into),
        from_image_volume: false,
    }
}

fn container(id: &str, name: &str, state: &str, mounts: Vec<MountSummary>) -> ContainerSummary {
    ContainerSummary {
        id: id.into(),
        name: name.into(),
        image_id: "img".into(),
        image: "busybox".into(),
        state: state.into(),
        command: "sh".into(),
        created: 0,
        mounts,
        ports: vec![],
        networks: vec![],
        pod: None,
    }
}

fn volume(name: &str, anonymous: bool) -> VolumeSummary {
    VolumeSummary { name: name.into(), anonymous, created: 0, size: 0, files: 0, host_path: String::new() }
}

/// The data-container arrangement: `data` holds an anonymous volume at /var/www and the named
/// `content` at /var/lib/pulp; `web` takes both read-only with `--volumes-from data:ro`;
/// `lonely` has only the www volume and a bind.
fn world() -> Snapshot {
    let anon = "a".repeat(64);
    let www = mount("/var/www", Some(&anon), None, true, None);
    let content = mount("/var/lib/pulp", Some("content"), None, true, None);
    Snapshot {
        world: GraphInput {
            images: vec![ImageSummary {
                id: "img".into(),
                tags: vec!["busybox:latest".into()],
                volumes: vec![],
                created: 0,
            }],
            containers: vec![
                container("d1", "data", "exited", vec![www.clone(), content.clone()]),
                container(
                    "w1",
                    "web",
                    "running",
                    vec![
                        MountSummary { rw: false, inherited_from: Some("d1".into()), ..www.clone() },
                        MountSummary { rw: false, inherited_from: Some("d1".into()), ..content },
                    ],
                ),
                container("l1", "lonely", "running", vec![www, mount("/srv", None, Some("/home/t/site"), false, None)]),
            ],
            volumes: vec![volume(&anon, true), volume("content", false)],
        },
        files: vec![
            FileFact {
                container: "web".into(),
                path: GuestPath::new("/var/www/x").unwrap(),
                outcome: FileOutcome::File {
                    to: GuestPath::new("/var/lib/pulp/content/1").unwrap(),
                    mount: GuestPath::new("/var/lib/pulp").unwrap(),
                    content: "hello, world\n".into(),
                },
            },
            FileFact {
                container: "lonely".into(),
                path: GuestPath::new("/var/www/x").unwrap(),
                outcome: FileOutcome::Broken { why: "ENOENT: /var/lib/pulp is missing".into() },
            },
        ],
        http: vec![
            HttpFact { container: "web".into(), path: "/x".into(), outcome: Ok(200) },
            HttpFact { container: "lonely".into(), path: "/x".into(), outcome: Ok(404) },
        ],
    }
}

/// Each check of a lesson snippet, evaluated against [`world`]: `ok` or the reason.
fn outcomes(checks: &str) -> String {
    let text = format!("title = \"t\"\ngoal = \"g\"\n{STEP}checks = [\n{checks}]\n");
    let lesson = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let snap = world();
    lesson.steps[0]
        .checks
        .iter()
        .map(|c| match evaluate(c, &snap) {
            Ok(()) => format!("ok: {c}\n"),
            Err(r) => format!("no: {r}\n"),
        })
        .collect()
}

#[test]
fn checks_against_a_world() {
    let got = outcomes(
        r#"
{ container_exists = "data" }, { container_exists = "nope" }, { container_absent = "web" },
{ container_running = "web" }, { container_running = "data" }, { container_stopped = "data" },
{ image_exists = "busybox" }, { image_exists = "pulp-base" },
{ volume_exists = "content" }, { volume_absent = "content" }, { volume_exists = "gone" },
{ mounts = { container = "web", destination = "/var/lib/pulp", volume = "content", rw = false, from = "data" } },
{ mounts = { container = "web", destination = "/var/www", kind = "anonymous" } },
{ mounts = { container = "web", destination = "/var/www", rw = true } },
{ mounts = { container = "data", destination = "/var/lib/pulp", kind = "anonymous" } },
{ mounts = { container = "lonely", destination = "/srv", kind = "bind", bind_ends_with = "site", rw = false } },
{ mounts = { container = "lonely", destination = "/var/lib/pulp" } },
{ mounts = { container = "lonely", destination = "/var/www", from = "data" } },
{ no_mount = { container = "lonely", destination = "/var/lib/pulp" } },
{ no_mount = { container = "web", destination = "/var/www" } },
{ volumes_shared = { a = "web", b = "data", destination = "/var/www" } },
{ volumes_shared = { a = "web", b = "lonely", destination = "/var/lib/pulp" } },
{ anonymous_volume_count = 1 }, "no_anonymous_volumes",
{ file_content = { container = "web", path = "/var/www/x", contains = "hello" } },
{ file_content = { container = "web", path = "/var/www/x", contains = "bye" } },
{ file_resolves = { container = "web", path = "/var/www/x", through_mount = "/var/lib/pulp" } },
{ file_resolves = { container = "web", path = "/var/www/x", through_mount = "/var/www" } },
{ file_resolves = { container = "lonely", path = "/var/www/x" } },
{ file_dangles = { container = "lonely", path = "/var/www/x" } },
{ file_dangles = { container = "web", path = "/var/www/x" } },
{ file_resolves = { container = "web", path = "/etc/other" } },
{ http_serves = { container = "web", path = "/x", status = 200 } },
{ http_serves = { container = "lonely", path = "/x", status = 200 } },
"#,
    );
    let expected = "\
ok: container data exists
no: there is no container nope
no: container web exists
ok: container web is running
no: container data is exited
ok: container data exists and is not running
ok: image busybox exists
no: there is no image pulp-base
ok: volume content exists
no: volume content exists
no: there is no volume gone
ok: container web mounts volume content at /var/lib/pulp read-only (--volumes-from data)
ok: container web mounts an anonymous volume at /var/www
no: container web mounts anonymous volume aaaaaaaaaaaa read-only (from data) at /var/www, not read-write
no: container data mounts volume content read-write at /var/lib/pulp, not an anonymous volume
ok: container lonely mounts a host directory …/site at /srv read-only
no: container lonely mounts nothing at /var/lib/pulp
no: container lonely mounts anonymous volume aaaaaaaaaaaa read-write at /var/www, not taken from data by --volumes-from
ok: container lonely mounts nothing at /var/lib/pulp
no: container web mounts anonymous volume aaaaaaaaaaaa read-only (from data) at /var/www, not nothing
ok: containers web and data share one volume at /var/www
no: container lonely mounts nothing at /var/lib/pulp
ok: 1 anonymous volume(s) exist
no: 1 anonymous volume(s) exist, not 0: aaaaaaaaaaaa
ok: /var/www/x in container web contains \"hello\"
no: /var/www/x in container web does not contain \"bye\" (it starts \"hello, world\\n\")
ok: /var/www/x resolves to a file in container web, in the mount at /var/lib/pulp
no: /var/www/x in container web resolves to /var/lib/pulp/content/1, in the mount at /var/lib/pulp, not through /var/www
no: /var/www/x in container lonely: ENOENT: /var/lib/pulp is missing
ok: /var/www/x leads nowhere in container lonely
no: /var/www/x in container web resolves to /var/lib/pulp/content/1: it does not dangle
no: the engine did not look up what this check needs
ok: container web's published port answers GET /x with 200
no: GET /x on container lonely's port answered 404, not 200
";
    assert_eq!(got, expected, "got:\n{got}");
}

#[test]
fn a_step_says_which_precondition_is_missing() {
    let text = format!(
        "title = \"t\"\ngoal = \"g\"\n{STEP}requires = [{{ container_exists = \"data\" }}, {{ container_exists = \"pulp-content\" }}]\nchecks = [{{ container_running = \"web\" }}]\n"
    );
    let lesson = parse(&text).unwrap();
    let outcome = StepOutcome::of(&lesson.steps[0], &world());
    assert!(!outcome.passed);
    assert_eq!(
        outcome.missing_precondition().unwrap().to_string(),
        "FAILED: container pulp-content exists: there is no container pulp-content"
    );
    assert!(outcome.checks[0].passed);
}

#[test]
fn needs_lists_files_and_ports_once() {
    let text = format!(
        "title = \"t\"\ngoal = \"g\"\n{STEP}checks = [{{ file_dangles = {{ container = \"a\", path = \"/x\" }} }}, {{ file_resolves = {{ container = \"a\", path = \"/x/\" }} }}, {{ http_serves = {{ container = \"a\", path = \"/\", status = 200 }} }}, {{ container_exists = \"a\" }}]\n"
    );
    let lesson = parse(&text).unwrap();
    let got = format!("{:?}", needs(&lesson.steps[0].checks));
    assert_eq!(got, r#"[File { container: "a", path: GuestPath("/x") }, Http { container: "a", path: "/" }]"#);
}

#[test]
fn created_names_come_from_the_commands() {
    let text = r#"
title = "t"
goal = "g"
[[steps]]
narration = "n"
setup = ["pulp-images"]
run = [
  "docker build -t mine/img:1 examples/x",
  "docker run -d --name=web -v data:/data -v /anon -v {workdir}/site:/srv:ro --mount type=volume,source=cache,target=/c --mount type=bind,source=/tmp,target=/t busybox sh -c 'docker run --name inner x'",
  "docker volume create --opt size=1m sized && docker container create --name c2 busybox",
  "docker rm -v web; docker tag busybox mine/tagged",
]
[[steps]]
narration = "n"
task = "make one"
solution = ["docker run --name from-solution busybox true"]
checks = [{ container_exists = "from-solution" }]
"#;
    let c = created(&parse(text).unwrap());
    assert_eq!(c.containers.iter().collect::<Vec<_>>(), ["c2", "from-solution", "web"]);
    assert_eq!(c.volumes.iter().collect::<Vec<_>>(), ["cache", "data", "sized"]);
    assert_eq!(
        c.images.iter().collect::<Vec<_>>(),
        ["markllama/pulp-content", "mine/img:1", "mine/tagged", "pulp-apache", "pulp-base", "pulp-worker"]
    );
}
