//! Who wrote each file last, from the engine's file events: host path → (container name,
//! time). The dashboard marks listings with it. Bounded: old entries go first.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use porthole_core::event::EventType;
use porthole_engine::Engine;
use tokio::sync::broadcast::error::RecvError;

/// The most files remembered; a guest writing more makes the oldest be forgotten.
const KEEP: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Writer {
    pub container: String,
    pub container_id: String,
    pub time_nano: i64,
}

/// Mount table of a container as the recorder needs it: (guest mount point, host directory).
type Mounts = Vec<(String, PathBuf)>;

#[derive(Default)]
pub struct Writers {
    by_host_path: Mutex<HashMap<PathBuf, Writer>>,
}

impl Writers {
    /// Starts recording on a thread of its own; it ends with the engine.
    pub fn record(engine: &Engine) -> Arc<Self> {
        let writers = Arc::new(Writers::default());
        let mut rx = engine.subscribe();
        let (w, engine) = (writers.clone(), engine.clone());
        let spawned = std::thread::Builder::new().name("file-writers".into()).spawn(move || {
            let mut tables: HashMap<String, (String, Mounts)> = HashMap::new();
            loop {
                match rx.blocking_recv() {
                    Ok(e) if e.kind == EventType::File => {
                        let Some(path) = e.attributes.get("path") else { continue };
                        if !tables.contains_key(&e.actor_id) {
                            let Ok(info) = engine.inspect(&e.actor_id) else { continue };
                            let mounts = info
                                .record
                                .mounts
                                .iter()
                                .map(|m| m.destination.to_string())
                                .zip(info.sources.iter().cloned());
                            let mut mounts: Mounts = mounts.collect();
                            mounts.push(("/".into(), info.rootfs.clone()));
                            tables.insert(e.actor_id.clone(), (info.record.name.to_string(), mounts));
                        }
                        let (name, mounts) = &tables[&e.actor_id];
                        if let Some(host) = host_path(mounts, path) {
                            let writer = Writer {
                                container: name.clone(),
                                container_id: e.actor_id.clone(),
                                time_nano: e.time_nano,
                            };
                            w.insert(host, writer);
                        }
                    }
                    // A container's mounts never change, but a removed one's id is gone for good.
                    Ok(e) if e.kind == EventType::Container && e.action == "destroy" => {
                        tables.remove(&e.actor_id);
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                }
            }
        });
        if let Err(e) = spawned {
            tracing::warn!("last-writer tracking disabled: {e}");
        }
        writers
    }

    fn insert(&self, host: PathBuf, writer: Writer) {
        let mut map = self.by_host_path.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= KEEP {
            let mut times: Vec<i64> = map.values().map(|w| w.time_nano).collect();
            times.sort_unstable();
            let cutoff = times[times.len() / 2];
            map.retain(|_, w| w.time_nano > cutoff);
        }
        map.insert(host, writer);
    }

    pub fn get(&self, host: &Path) -> Option<Writer> {
        self.by_host_path.lock().unwrap_or_else(|p| p.into_inner()).get(host).cloned()
    }
}

/// The host path of guest `path` under the longest mount point that holds it.
fn host_path(mounts: &Mounts, path: &str) -> Option<PathBuf> {
    let (dst, src) = mounts
        .iter()
        .filter(|(d, _)| d == "/" || path == d || path.strip_prefix(d.as_str()).is_some_and(|r| r.starts_with('/')))
        .max_by_key(|(d, _)| d.len())?;
    let rest = if dst == "/" { path } else { &path[dst.len()..] };
    Some(rest.split('/').filter(|c| !c.is_empty()).fold(src.clone(), |p, c| p.join(c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_mount_wins() {
        let mounts: Mounts = vec![
            ("/var/lib".into(), "/v1".into()),
            ("/var/lib/pulp".into(), "/v2".into()),
            ("/".into(), "/rootfs".into()),
        ];
        assert_eq!(host_path(&mounts, "/var/lib/pulp/new.txt"), Some("/v2/new.txt".into()));
        assert_eq!(host_path(&mounts, "/var/lib/pulpx"), Some("/v1/pulpx".into()));
        assert_eq!(host_path(&mounts, "/etc/hosts"), Some("/rootfs/etc/hosts".into()));
    }
}
