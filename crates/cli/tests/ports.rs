//! Published ports through the docker CLI: `-p` binds the host address and hands the listener
//! to the guest, `docker port`/`ps`/`inspect` show it as Docker does, a taken port is refused in
//! Docker's words, and stopping the container releases it.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

use common::Daemon;

/// An image whose command is the `netecho` guest: it accepts one connection on the listener it
/// was handed, answers one line in upper case and exits.
fn build_netecho(d: &Daemon) {
    d.build_guest_image("netecho", porthole_guests::NETECHO, "netecho", "EXPOSE 7/tcp\nCMD [\"netecho\"]\n");
}

fn echo(addr: &str, line: &str) -> String {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.write_all(format!("{line}\n").as_bytes()).unwrap();
    let mut answer = String::new();
    BufReader::new(&conn).read_line(&mut answer).unwrap();
    answer
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn a_published_port_reaches_the_guest_and_is_shown_as_docker_shows_it() {
    if !common::docker_available() {
        return;
    }
    let d = Daemon::start();
    build_netecho(&d);
    let port = free_port();
    d.ok(&["run", "-d", "--name", "echo", "-p", &format!("{port}:7"), "netecho"]);

    assert_eq!(d.ok(&["port", "echo"]), format!("7/tcp -> 127.0.0.1:{port}\n"));
    assert_eq!(d.ok(&["ps", "--format", "{{.Ports}}"]), format!("127.0.0.1:{port}->7/tcp\n"));
    let ports = d.ok(&["inspect", "--format", "{{json .NetworkSettings.Ports}}", "echo"]);
    assert_eq!(ports.trim(), format!(r#"{{"7/tcp":[{{"HostIp":"127.0.0.1","HostPort":"{port}"}}]}}"#));
    let bindings = d.ok(&["inspect", "--format", "{{json .HostConfig.PortBindings}}", "echo"]);
    assert_eq!(bindings.trim(), format!(r#"{{"7/tcp":[{{"HostIp":"","HostPort":"{port}"}}]}}"#));

    assert_eq!(echo(&format!("127.0.0.1:{port}"), "hello"), "HELLO\n");
    assert_eq!(d.ok(&["wait", "echo"]), "0\n");
    assert_eq!(d.ok(&["logs", "echo"]), "served hello\n");
    // Exited: the port is released and no longer shown.
    assert_eq!(d.ok(&["port", "echo"]), "");
    TcpListener::bind(("127.0.0.1", port)).expect("the port is free again");
}

#[test]
fn stop_releases_the_port_and_a_taken_port_is_already_allocated() {
    if !common::docker_available() {
        return;
    }
    let d = Daemon::start();
    build_netecho(&d);
    let port = free_port();
    let spec = format!("127.0.0.1:{port}:7");
    d.ok(&["run", "-d", "--name", "first", "-p", &spec, "netecho"]);
    let (code, err) = d.fails(&["run", "-d", "--name", "second", "-p", &spec, "netecho"]);
    assert_eq!(code, Some(125), "{err}");
    let endpoint = "driver failed programming external connectivity on endpoint second (";
    let allocated = format!("): Bind for 127.0.0.1:{port} failed: port is already allocated");
    assert!(err.contains(endpoint) && err.contains(&allocated), "{err}");

    d.ok(&["stop", "-t", "1", "first"]);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "the port is closed after stop");
    // The same port for another container once the first stopped.
    d.ok(&["start", "second"]);
    assert_eq!(echo(&format!("127.0.0.1:{port}"), "again"), "AGAIN\n");
}

#[test]
fn publish_all_uses_exposed_ports_and_refusals_name_the_problem() {
    if !common::docker_available() {
        return;
    }
    let d = Daemon::start();
    build_netecho(&d);
    d.ok(&["run", "-d", "--name", "all", "-P", "netecho"]);
    let shown = d.ok(&["port", "all", "7"]);
    let addr = shown.trim().to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{shown}");
    assert_eq!(echo(&addr, "any"), "ANY\n");
    let published = d.ok(&["inspect", "--format", "{{.HostConfig.PublishAllPorts}}", "all"]);
    assert_eq!(published, "true\n");

    // Exposed but not published: listed by its number alone, like Docker's ps.
    d.ok(&["run", "-d", "--name", "quiet", "netecho", "sleep", "30"]);
    assert_eq!(d.ok(&["ps", "--filter", "name=quiet", "--format", "{{.Ports}}"]), "7/tcp\n");
    d.ok(&["rm", "-f", "quiet"]);

    let (_, err) = d.fails(&["run", "--rm", "-p", "5353:53/udp", "netecho"]);
    assert!(err.contains("publishing 53/udp is not supported: a guest can only accept TCP connections"), "{err}");
    let (_, err) = d.fails(&["create", "-p", "0.0.0.0:8080:7", "netecho"]);
    assert!(err.contains("publishing on 0.0.0.0 is not allowed"), "{err}");
    assert!(err.contains("porthole serve --publish-remote"), "{err}");
}
