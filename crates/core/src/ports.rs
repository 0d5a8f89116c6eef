//! Published ports (`-p`, `-P`, `EXPOSE`): which host addresses a container's ports are bound
//! to, decided from its `HostConfig.PortBindings`, its exposed ports and `PublishAllPorts`.
//! Pure: the engine binds the listeners this plan names and hands them to the guest.
//!
//! A guest has no network stack of its own, so a published port is the only way in: the
//! controller binds the host address and the guest accepts on it (`sock_accept`). Only TCP is
//! possible (WASI preview 1 has no UDP), and an unpublished port is reachable by no one.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

/// A container-side port, Docker's `80/tcp` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ContainerPort(pub u16);

impl ContainerPort {
    /// `80`, `80/tcp`; `80/udp` and `80/sctp` are refused by name (no UDP in WASI preview 1).
    pub fn parse(key: &str) -> Result<Self, PortError> {
        let (number, proto) = key.split_once('/').unwrap_or((key, "tcp"));
        match proto {
            "tcp" => {}
            "udp" | "sctp" => return Err(PortError::Protocol(key.to_string())),
            _ => return Err(PortError::InvalidProto(proto.to_string())),
        }
        match number.parse::<u16>() {
            Ok(n) if n > 0 => Ok(ContainerPort(n)),
            _ => Err(PortError::InvalidPort(number.to_string())),
        }
    }
}

impl fmt::Display for ContainerPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/tcp", self.0)
    }
}

/// Which host ports a binding may take: one, a range (`8000-8010:80`), or any free one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostPorts {
    Any,
    Range(u16, u16),
}

impl HostPorts {
    fn parse(text: &str) -> Result<Self, PortError> {
        let bad = || PortError::InvalidPort(text.to_string());
        if text.is_empty() || text == "0" {
            return Ok(HostPorts::Any);
        }
        let (lo, hi) = text.split_once('-').unwrap_or((text, text));
        let lo: u16 = lo.parse().map_err(|_| bad())?;
        let hi: u16 = hi.parse().map_err(|_| bad())?;
        if lo == 0 || hi < lo {
            return Err(bad());
        }
        Ok(HostPorts::Range(lo, hi))
    }

    /// The ports to try, in order; `[0]` asks the kernel for any free port.
    pub fn candidates(self) -> Vec<u16> {
        match self {
            HostPorts::Any => vec![0],
            HostPorts::Range(lo, hi) => (lo..=hi).collect(),
        }
    }
}

/// One host address to bind for one container port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    pub container: ContainerPort,
    pub host_ip: IpAddr,
    pub host_ports: HostPorts,
}

/// Where the controller may bind: loopback only unless the operator allowed more at
/// `porthole serve --publish-remote`, because a published guest is reachable by whoever can
/// reach that address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PublishScope {
    #[default]
    Loopback,
    Any,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    #[error("invalid port specification: \"{0}\"")]
    InvalidPort(String),
    #[error("invalid proto: {0}")]
    InvalidProto(String),
    #[error("publishing {0} is not supported: a guest can only accept TCP connections")]
    Protocol(String),
    #[error("invalid IP address: {0}")]
    InvalidIp(String),
    #[error(
        "publishing on {0} is not allowed: this controller publishes ports on loopback only (start it with `porthole serve --publish-remote` to allow other addresses)"
    )]
    NotLoopback(IpAddr),
}

/// The bindings of a container: the explicit ones (`-p`, as `HostConfig.PortBindings` with
/// `"ip:port"` texts, an empty IP meaning the default address), then, with `publish_all`
/// (`-P`), every exposed port not bound explicitly, on any free host port. An empty host IP
/// binds loopback, or every address when the scope allows it, as Docker binds `0.0.0.0`.
pub fn plan(
    bindings: &BTreeMap<String, Vec<String>>,
    exposed: &[String],
    publish_all: bool,
    scope: PublishScope,
) -> Result<Vec<Publish>, PortError> {
    let default_ip = match scope {
        PublishScope::Loopback => IpAddr::V4(Ipv4Addr::LOCALHOST),
        PublishScope::Any => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    };
    let mut out = Vec::new();
    for (key, hosts) in bindings {
        let container = ContainerPort::parse(key)?;
        // `-p 80` with no host part arrives as one binding with an empty host port.
        let hosts: Vec<&str> = if hosts.is_empty() { vec![""] } else { hosts.iter().map(String::as_str).collect() };
        for host in hosts {
            let (ip, port) = split_host(host);
            let host_ip = match ip {
                "" => default_ip,
                ip => ip.parse::<IpAddr>().map_err(|_| PortError::InvalidIp(ip.to_string()))?,
            };
            if scope == PublishScope::Loopback && !host_ip.is_loopback() {
                return Err(PortError::NotLoopback(host_ip));
            }
            out.push(Publish { container, host_ip, host_ports: HostPorts::parse(port)? });
        }
    }
    if publish_all {
        let mut ports: Vec<ContainerPort> =
            exposed.iter().map(|p| ContainerPort::parse(p)).collect::<Result<_, _>>()?;
        ports.sort();
        ports.dedup();
        for container in ports {
            if !out.iter().any(|p| p.container == container) {
                out.push(Publish { container, host_ip: default_ip, host_ports: HostPorts::Any });
            }
        }
    }
    Ok(out)
}

/// `127.0.0.1:8080` → (`127.0.0.1`, `8080`); `[::1]:8080` → (`::1`, `8080`); `8080` → ("", `8080`).
fn split_host(text: &str) -> (&str, &str) {
    match text.rsplit_once(':') {
        Some((ip, port)) => (ip.trim_start_matches('[').trim_end_matches(']'), port),
        None => ("", text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bindings(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect())).collect()
    }

    fn render(plan: &[Publish]) -> Vec<String> {
        plan.iter().map(|p| format!("{} {} {:?}", p.container, p.host_ip, p.host_ports)).collect()
    }

    #[test]
    fn explicit_bindings_default_to_loopback() {
        let b = bindings(&[("80/tcp", &["8080"]), ("443/tcp", &["127.0.0.1:8443", "[::1]:8443"])]);
        let plan = plan(&b, &[], false, PublishScope::Loopback).unwrap();
        assert_eq!(
            render(&plan),
            [
                "443/tcp 127.0.0.1 Range(8443, 8443)",
                "443/tcp ::1 Range(8443, 8443)",
                "80/tcp 127.0.0.1 Range(8080, 8080)",
            ]
        );
    }

    #[test]
    fn an_empty_host_port_or_range_is_any_or_each_in_turn() {
        let b = bindings(&[("80", &[""]), ("81/tcp", &[]), ("82/tcp", &["9000-9002"])]);
        let plan = plan(&b, &[], false, PublishScope::Loopback).unwrap();
        assert_eq!(plan[0].host_ports, HostPorts::Any);
        assert_eq!(plan[1].host_ports, HostPorts::Any);
        assert_eq!(plan[2].host_ports.candidates(), [9000, 9001, 9002]);
    }

    #[test]
    fn publish_all_adds_exposed_ports_not_bound_explicitly() {
        let b = bindings(&[("80/tcp", &["8080"])]);
        let exposed = ["80/tcp".to_string(), "9000".to_string(), "9000/tcp".to_string()];
        let plan = plan(&b, &exposed, true, PublishScope::Any).unwrap();
        assert_eq!(render(&plan), ["80/tcp 0.0.0.0 Range(8080, 8080)", "9000/tcp 0.0.0.0 Any"]);
        assert!(super::plan(&b, &exposed, false, PublishScope::Any).unwrap().len() == 1);
    }

    #[test]
    fn refusals_name_the_problem() {
        let cases: &[(&str, &str, &str)] = &[
            ("53/udp", "53", "publishing 53/udp is not supported: a guest can only accept TCP connections"),
            ("80/foo", "8080", "invalid proto: foo"),
            ("http", "8080", "invalid port specification: \"http\""),
            ("80", "x", "invalid port specification: \"x\""),
            ("80", "9-3", "invalid port specification: \"9-3\""),
            ("80", "1.2.3:8080", "invalid IP address: 1.2.3"),
            (
                "80",
                "0.0.0.0:8080",
                "publishing on 0.0.0.0 is not allowed: this controller publishes ports on loopback only (start it with `porthole serve --publish-remote` to allow other addresses)",
            ),
        ];
        for (key, host, want) in cases {
            let b = bindings(&[(key, &[host])]);
            let err = plan(&b, &[], false, PublishScope::Loopback).unwrap_err();
            assert_eq!(err.to_string(), *want, "{key} {host}");
        }
        assert!(plan(&bindings(&[("80", &["0.0.0.0:8080"])]), &[], false, PublishScope::Any).is_ok());
    }
}
