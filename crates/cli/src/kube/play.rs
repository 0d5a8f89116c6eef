//! `kube play` and `kube down`: a checked `PlayPlan` carried out through the Docker API.
//! Everything that can be known before is checked before anything is made (images present,
//! names free); if a step fails after all, what this run made is removed again, so a failed
//! play leaves the controller as it found it.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use porthole_kube::{EMPTY_DIR_LABEL, MountKind, POD_LABEL, PlannedContainer, PlayPlan, VolumeKind};
use serde_json::{Value, json};

use super::{encode, label_filter};
use crate::controller::Host;

pub fn play(host: &Host, plan: &PlayPlan) -> anyhow::Result<()> {
    check(host, plan)?;
    let mut made = Made::default();
    match make(host, plan, &mut made) {
        Ok(()) => Ok(()),
        Err(e) => {
            made.undo(host);
            Err(e)
        }
    }
}

/// Refuses before anything is made: a missing image by name, a pod already there.
fn check(host: &Host, plan: &PlayPlan) -> anyhow::Result<()> {
    for pod in &plan.pods {
        for c in &pod.containers {
            if host.find::<Value>(&format!("/images/{}/json", encode(&c.image)))?.is_none() {
                bail!(
                    "pod {}: container {}: no such image: {} (Porthole runs local images: build or load it first)",
                    pod.name,
                    c.pod_container,
                    c.image
                );
            }
            if host.find::<Value>(&format!("/containers/{}/json", encode(&c.name)))?.is_some() {
                bail!("pod {}: a container named {} exists already (kube down the manifest first)", pod.name, c.name);
            }
        }
        for v in &pod.volumes {
            if let VolumeKind::EmptyDir { volume } = &v.kind
                && host.find::<Value>(&format!("/volumes/{}", encode(volume)))?.is_some()
            {
                bail!("pod {}: a volume named {volume} exists already (kube down the manifest first)", pod.name);
            }
        }
    }
    Ok(())
}

/// What this run made, to take back if a later step fails.
#[derive(Default)]
struct Made {
    volumes: Vec<String>,
    containers: Vec<String>,
}

impl Made {
    fn undo(&self, host: &Host) {
        for c in self.containers.iter().rev() {
            let _ = host.delete(&format!("/containers/{}?force=1&v=1", encode(c)));
        }
        for v in &self.volumes {
            let _ = host.delete(&format!("/volumes/{}", encode(v)));
        }
    }
}

fn make(host: &Host, plan: &PlayPlan, made: &mut Made) -> anyhow::Result<()> {
    let claims = plan.claims.iter().chain(plan.pods.iter().flat_map(|p| &p.volumes).filter_map(|v| match &v.kind {
        VolumeKind::Claim { volume, .. } => Some(volume),
        _ => None,
    }));
    for claim in claims {
        // A claim's volume may be there from an earlier play: it is kept across `down`.
        if host.find::<Value>(&format!("/volumes/{}", encode(claim)))?.is_none() {
            host.post::<Value>("/volumes/create", &json!({ "Name": claim }))?;
            made.volumes.push(claim.clone());
        }
    }
    for pod in &plan.pods {
        for v in &pod.volumes {
            if let VolumeKind::EmptyDir { volume } = &v.kind {
                let labels = json!({ POD_LABEL: pod.name, EMPTY_DIR_LABEL: v.name });
                host.post::<Value>("/volumes/create", &json!({ "Name": volume, "Labels": labels }))?;
                made.volumes.push(volume.clone());
            }
        }
        println!("Pod: {}", pod.name);
        for c in &pod.containers {
            let created: Value = host
                .post(&format!("/containers/create?name={}", encode(&c.name)), &create_body(c))
                .with_context(|| format!("creating container {}", c.name))?;
            made.containers.push(c.name.clone());
            host.post::<Value>(&format!("/containers/{}/start", encode(&c.name)), &json!({}))
                .with_context(|| format!("starting container {}", c.name))?;
            println!("  {} {}", c.name, created["Id"].as_str().unwrap_or_default());
        }
    }
    Ok(())
}

/// `POST /containers/create`, as `docker create --mount … -p … -e … -w … --label …` sends it.
fn create_body(c: &PlannedContainer) -> Value {
    let mounts: Vec<Value> = c
        .mounts
        .iter()
        .map(|m| {
            let (kind, source) = match &m.kind {
                MountKind::Volume(v) => ("volume", v),
                MountKind::Bind(p) => ("bind", p),
            };
            json!({ "Type": kind, "Source": source, "Target": m.target, "ReadOnly": m.read_only })
        })
        .collect();
    let mut exposed = BTreeMap::new();
    let mut bindings: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for p in &c.ports {
        let key = format!("{}/tcp", p.container_port);
        exposed.insert(key.clone(), json!({}));
        if let Some(host_port) = p.host_port {
            bindings.entry(key).or_default().push(json!({
                "HostIp": p.host_ip.clone().unwrap_or_default(),
                "HostPort": host_port.to_string(),
            }));
        }
    }
    json!({
        "Image": c.image,
        "Entrypoint": c.entrypoint,
        "Cmd": c.cmd,
        "Env": c.env,
        "WorkingDir": c.working_dir.clone().unwrap_or_default(),
        "Labels": c.labels,
        "ExposedPorts": exposed,
        "HostConfig": { "Mounts": mounts, "PortBindings": bindings },
    })
}

pub fn down(host: &Host, plan: &PlayPlan, force: bool) -> anyhow::Result<()> {
    for pod in &plan.pods {
        let filter = label_filter(POD_LABEL, &pod.name);
        let containers: Vec<Value> = host.get(&format!("/containers/json?all=1&filters={filter}"))?;
        for c in &containers {
            let id = c["Id"].as_str().unwrap_or_default();
            host.delete(&format!("/containers/{id}?force=1&v=1"))?;
        }
        let volumes: Value = host.get(&format!("/volumes?filters={filter}"))?;
        for v in volumes["Volumes"].as_array().into_iter().flatten() {
            if v["Labels"].get(EMPTY_DIR_LABEL).is_some() {
                host.delete(&format!("/volumes/{}", encode(v["Name"].as_str().unwrap_or_default())))?;
            }
        }
        println!(
            "Pod {} removed: {} container{}",
            pod.name,
            containers.len(),
            if containers.len() == 1 { "" } else { "s" }
        );
    }
    if force {
        let mut claims: Vec<&String> = plan.claims.iter().collect();
        claims.extend(plan.pods.iter().flat_map(|p| &p.volumes).filter_map(|v| match &v.kind {
            VolumeKind::Claim { volume, .. } => Some(volume),
            _ => None,
        }));
        claims.sort();
        claims.dedup();
        for claim in claims {
            if host.find::<Value>(&format!("/volumes/{}", encode(claim)))?.is_some() {
                host.delete(&format!("/volumes/{}", encode(claim)))?;
                println!("Volume {claim} removed");
            }
        }
    }
    Ok(())
}
