//! `docker push`, `docker pull`, `docker login` and the pull `docker run` makes, through the
//! real docker CLI and controller, against a real registry (Debian's `docker-registry` on a
//! loopback port): an image pushed from one Porthole root is pulled into a fresh one and runs.

mod common;
#[path = "../../registry/tests/support/local_registry.rs"]
mod local_registry;

use common::pulp::build;
use common::{Daemon, http_get};
use local_registry::{PASSWORD, USER, start_registry, start_registry_with_login};

/// The `sha256:…` after `prefix` in `text`.
fn digest_after<'a>(text: &'a str, prefix: &str) -> &'a str {
    let at = text.find(prefix).unwrap_or_else(|| panic!("no {prefix:?} in:\n{text}")) + prefix.len();
    &text[at..at + 71]
}

#[test]
fn an_image_pushed_from_one_root_is_pulled_into_another_and_runs() {
    if !common::docker_available() {
        return;
    }
    let Some(registry) = start_registry() else { return };
    let name = format!("127.0.0.1:{}/pulp-apache", registry.port);
    let tagged = format!("{name}:1");

    let first = Daemon::start();
    build(&first, "pulp-base", "base");
    build(&first, "pulp-apache", "apache");
    first.ok(&["tag", "pulp-apache", &tagged]);
    let out = first.ok(&["push", &tagged]);
    assert!(out.contains(&format!("The push refers to repository [{name}]")), "{out}");
    assert!(out.contains(": Pushed"), "{out}");
    let pushed = digest_after(&out, "1: digest: ").to_string();
    let again = first.ok(&["push", &tagged]);
    assert!(again.contains(": Layer already exists") && !again.contains(": Pushed"), "{again}");
    assert_eq!(digest_after(&again, "1: digest: "), pushed, "the same image is the same manifest");
    let (_, err) = first.fails(&["push", &format!("{name}:absent")]);
    assert!(err.contains(&format!("An image does not exist locally with the tag: {name}:absent")), "{err}");

    // A fresh root: the pull, then the same pull again.
    let second = Daemon::start();
    let out = second.ok(&["pull", &tagged]);
    assert!(out.contains(&format!("1: Pulling from {name}")), "{out}");
    assert!(out.contains(": Pull complete"), "{out}");
    assert_eq!(digest_after(&out, "Digest: "), pushed, "{out}");
    assert!(out.contains(&format!("Status: Downloaded newer image for {tagged}")), "{out}");
    let out = second.ok(&["pull", &tagged]);
    assert!(out.contains(&format!("Status: Image is up to date for {tagged}")), "{out}");
    let config = |d: &Daemon| {
        d.ok(&["image", "inspect", "--format", "{{json .Config.Cmd}} {{json .Config.ExposedPorts}}", &tagged])
    };
    assert_eq!(config(&second), config(&first));

    let (_, err) = second.fails(&["pull", "--platform", "linux/amd64", &tagged]);
    assert!(
        err.contains("--platform linux/amd64 (Porthole runs wasi/wasm images) is not supported by Porthole"),
        "{err}"
    );

    // The built-in base image is no registry's: a pull of it finds it here.
    let out = second.ok(&["pull", "busybox"]);
    assert!(out.contains("Status: Image is up to date for busybox:latest"), "{out}");

    // It runs: the pulled web server serves a bind-mounted document root.
    let www = tempfile::tempdir().unwrap();
    std::fs::write(www.path().join("hello.txt"), "pulled and served\n").unwrap();
    let bind = format!("{}:/var/www:ro", www.path().display());
    second.ok(&["run", "-d", "--name", "web", "-v", &bind, "-p", "127.0.0.1::80", &tagged]);
    let addr = second.ok(&["port", "web", "80"]).lines().next().expect("a published port").to_string();
    let answer = http_get(&addr, "/hello.txt");
    assert_eq!((answer.status, common::text(&answer.body)), (200, "pulled and served\n".to_string()));
    second.ok(&["rm", "-f", "web"]);

    // `docker run` of a tag the registry lacks: the CLI's pull, and the registry's answer.
    let (code, err) = second.fails(&["run", "--rm", &format!("{name}:nope")]);
    assert_eq!(code, Some(125), "{err}");
    assert!(err.contains(&format!("Unable to find image '{name}:nope' locally")), "{err}");
    assert!(err.contains(&format!("manifest for {name}:nope not found: manifest unknown: manifest unknown")), "{err}");

    // `docker login` asks the registry (this one takes anyone).
    let out = second.ok(&["login", "-u", "someone", "-p", "secret", &format!("127.0.0.1:{}", registry.port)]);
    assert!(out.contains("Login Succeeded"), "{out}");
}

/// `docker login` is checked against the registry, and the credentials the CLI then keeps
/// reach it with each push and pull (`X-Registry-Auth`).
#[test]
fn docker_login_credentials_go_with_push_and_pull() {
    if !common::docker_available() {
        return;
    }
    let Some(registry) = start_registry_with_login() else { return };
    let server = format!("127.0.0.1:{}", registry.port);
    let image = format!("{server}/private/busybox:1");
    let d = Daemon::start();
    d.ok(&["tag", "busybox", &image]);
    let (_, err) = d.fails(&["push", &image]);
    assert!(err.contains("unauthorized: authentication required"), "{err}");
    let (_, err) = d.fails(&["login", "-u", USER, "-p", "wrong", &server]);
    assert!(
        err.contains(&format!("login attempt to http://{server}/v2/ failed with status: 401 Unauthorized")),
        "{err}"
    );
    let out = d.ok(&["login", "-u", USER, "-p", PASSWORD, &server]);
    assert!(out.contains("Login Succeeded"), "{out}");
    let out = d.ok(&["push", &image]);
    assert!(out.contains("1: digest: sha256:"), "{out}");
    d.ok(&["rmi", &image]);
    let out = d.ok(&["pull", &image]);
    assert!(out.contains(&format!("Status: Downloaded newer image for {image}")), "{out}");
    assert_eq!(d.ok(&["run", "--rm", &image, "echo", "pulled with a login"]), "pulled with a login\n");
}
