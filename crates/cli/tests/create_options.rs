//! Create options that Docker honours and Porthole used to ignore: `--hostname`, `-w` naming a
//! missing directory, and `--volumes-from` naming a missing container (refused without the
//! CLI first trying to pull the image).

mod common;

use common::Daemon;

#[test]
fn hostname_workdir_and_a_missing_volumes_from() {
    if !common::docker_available() {
        return;
    }
    let d = Daemon::start();
    let out = d.ok(&[
        "run",
        "--rm",
        "--hostname",
        "pulp-web",
        "busybox",
        "sh",
        "-c",
        "echo $HOSTNAME; cat /etc/hostname; grep pulp-web /etc/hosts",
    ]);
    assert_eq!(out, "pulp-web\npulp-web\n127.0.0.1\tpulp-web\n");
    d.ok(&["create", "--name", "named", "--hostname", "pulp-web", "busybox", "true"]);
    assert_eq!(d.ok(&["inspect", "--format", "{{.Config.Hostname}}", "named"]), "pulp-web\n");
    d.ok(&["create", "--name", "plain", "busybox", "true"]);
    let id = d.ok(&["inspect", "--format", "{{.Id}}", "plain"]);
    assert_eq!(d.ok(&["inspect", "--format", "{{.Config.Hostname}}", "plain"]).trim(), &id[..12]);
    let (_, err) = d.fails(&["create", "--hostname", "bad name", "busybox", "true"]);
    assert!(err.contains("invalid hostname format: bad name"), "{err}");

    // -w /missing: created, and the program starts there.
    let out = d.ok(&["run", "--rm", "-w", "/srv/missing/deep", "busybox", "sh", "-c", "pwd; ls -d /srv/missing/deep"]);
    assert_eq!(out, "/srv/missing/deep\n/srv/missing/deep\n");

    let (code, err) = d.fails(&["run", "--rm", "--volumes-from", "nosuch", "busybox", "true"]);
    assert_eq!(code, Some(125), "{err}");
    assert!(err.contains("No such container: nosuch"), "{err}");
    assert!(!err.contains("Unable to find image"), "no pull attempt: {err}");
}
