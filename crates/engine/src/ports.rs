//! Binding a container's published ports at start: the plan is `core::ports`'s; here the host
//! addresses are bound, and the listeners go to the guest, which accepts on them. Closing the
//! guest's descriptors at its end releases the ports, as Docker's proxy stops with a container.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener};

use porthole_core::ports::{ContainerPort, HostPorts, Publish};
use porthole_store::ContainerRecord;

use crate::{EngineError, Result};

/// A published port while its container runs: `inspect`'s `NetworkSettings.Ports` and
/// `docker ps`'s PORTS column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishedPort {
    pub container: ContainerPort,
    pub host: SocketAddr,
}

/// As `docker ps` prints it: `127.0.0.1:8080->80/tcp`, `[::1]:8080->80/tcp`.
impl std::fmt::Display for PublishedPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}->{}", self.host, self.container)
    }
}

/// Binds every address of `plan`; on the first failure the ones already bound are dropped
/// (released) and the error names the address in Docker's words.
pub(crate) fn bind(plan: &[Publish], record: &ContainerRecord) -> Result<Vec<(PublishedPort, TcpListener)>> {
    plan.iter()
        .map(|p| {
            let listener = bind_one(p).map_err(|reason| EngineError::Publish {
                name: record.name.to_string(),
                id: record.id.to_string(),
                reason,
            })?;
            let host = listener.local_addr().map_err(|e| EngineError::Publish {
                name: record.name.to_string(),
                id: record.id.to_string(),
                reason: e.to_string(),
            })?;
            Ok((PublishedPort { container: p.container, host }, listener))
        })
        .collect()
}

/// The first free port of the binding's candidates; "port is already allocated" when none is,
/// whoever holds it (another container, or any other program on the host).
fn bind_one(p: &Publish) -> std::result::Result<TcpListener, String> {
    for port in p.host_ports.candidates() {
        let addr = SocketAddr::new(p.host_ip, port);
        match TcpListener::bind(addr) {
            Ok(l) => return Ok(l),
            Err(e) if e.kind() == ErrorKind::AddrInUse => continue,
            Err(e) => {
                let family = if addr.is_ipv4() { "tcp4" } else { "tcp6" };
                let reason = e.to_string().to_lowercase();
                let reason = reason.split(" (os error").next().unwrap_or(&reason);
                return Err(format!("Error starting userland proxy: listen {family} {addr}: bind: {reason}"));
            }
        }
    }
    let ports = match p.host_ports {
        HostPorts::Range(lo, hi) if lo != hi => format!("{lo}-{hi}"),
        HostPorts::Range(lo, _) => lo.to_string(),
        HostPorts::Any => "0".into(),
    };
    let ip = match p.host_ip {
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    Err(format!("Bind for {ip}:{ports} failed: port is already allocated"))
}
