//! What `kube generate` needs of a container, asked of the controller as `docker inspect`
//! asks: the container, its image (to leave out what the image says anyway) and its volumes
//! (anonymous or named).

use anyhow::Context;
use porthole_kube::{ContainerFacts, ImageDefaults, MountFact, MountOrigin, PortFact};
use serde_json::Value;

use super::encode;
use crate::controller::Host;

/// Docker's label on anonymous volumes.
const ANONYMOUS: &str = "com.docker.volume.anonymous";

pub fn gather(host: &Host, container: &str) -> anyhow::Result<ContainerFacts> {
    let c: Value = host
        .find(&format!("/containers/{}/json", encode(container)))?
        .with_context(|| format!("No such container: {container}"))?;
    let image: Value = host.get(&format!("/images/{}/json", encode(c["Image"].as_str().unwrap_or_default())))?;
    let i = &image["Config"];
    let mut mounts = Vec::new();
    for m in c["Mounts"].as_array().into_iter().flatten() {
        let origin = match m["Type"].as_str() {
            Some("volume") => {
                let name = m["Name"].as_str().unwrap_or_default().to_string();
                let v: Value = host.get(&format!("/volumes/{}", encode(&name)))?;
                if v["Labels"].get(ANONYMOUS).is_some() {
                    MountOrigin::Anonymous(name)
                } else {
                    MountOrigin::Named(name)
                }
            }
            Some("bind") => MountOrigin::Bind(m["Source"].as_str().unwrap_or_default().to_string()),
            _ => MountOrigin::Tmpfs,
        };
        mounts.push(MountFact {
            origin,
            destination: m["Destination"].as_str().unwrap_or_default().to_string(),
            read_only: m["RW"] == Value::Bool(false),
        });
    }
    Ok(ContainerFacts {
        name: c["Name"].as_str().unwrap_or(container).trim_start_matches('/').to_string(),
        image: c["Config"]["Image"].as_str().unwrap_or_default().to_string(),
        image_defaults: ImageDefaults {
            entrypoint: strings(&i["Entrypoint"]),
            cmd: strings(&i["Cmd"]),
            env: strings(&i["Env"]),
            working_dir: i["WorkingDir"].as_str().unwrap_or_default().to_string(),
        },
        entrypoint: strings(&c["Config"]["Entrypoint"]),
        cmd: strings(&c["Config"]["Cmd"]),
        env: strings(&c["Config"]["Env"]),
        working_dir: c["Config"]["WorkingDir"].as_str().unwrap_or_default().to_string(),
        mounts,
        ports: ports(&c),
    })
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_string)).collect()
}

/// `HostConfig.PortBindings` (published), then `Config.ExposedPorts` not published (exposed
/// only, or on a port picked at start with `-P`).
fn ports(c: &Value) -> Vec<PortFact> {
    let mut out = Vec::new();
    let split = |key: &str| {
        let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
        port.parse::<u16>().ok().map(|p| (p, proto.to_string()))
    };
    let bindings = c["HostConfig"]["PortBindings"].as_object();
    for (key, list) in bindings.into_iter().flatten() {
        let Some((container_port, protocol)) = split(key) else { continue };
        for b in list.as_array().into_iter().flatten() {
            let host_port = b["HostPort"].as_str().and_then(|p| p.parse::<u16>().ok()).filter(|p| *p != 0);
            out.push(PortFact {
                container_port,
                protocol: protocol.clone(),
                host_ip: b["HostIp"].as_str().filter(|ip| !ip.is_empty()).map(str::to_string),
                host_port,
                random_host_port: host_port.is_none(),
            });
        }
    }
    let publish_all = c["HostConfig"]["PublishAllPorts"] == Value::Bool(true);
    for key in c["Config"]["ExposedPorts"].as_object().into_iter().flat_map(|m| m.keys()) {
        let Some((container_port, protocol)) = split(key) else { continue };
        if !out.iter().any(|p| p.container_port == container_port && p.protocol == protocol) {
            out.push(PortFact {
                container_port,
                protocol,
                host_ip: None,
                host_port: None,
                random_host_port: publish_all,
            });
        }
    }
    out
}
