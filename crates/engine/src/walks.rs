//! The recent path walks of each container, for the dashboard: which path a guest asked for,
//! the links it went through, the mount (and volume) each step landed in, and where a broken
//! walk stopped. The WASI host reports every open and stat; only these are kept, because they
//! are the story of a request and not the noise of a shell:
//! - a regular file opened for reading (what a web server or `cat` serves),
//! - an open that failed (`ENOENT` through a dangling link, `EROFS`, …), and
//! - a stat that failed after following a link (a server's 404 for a dangling link).
//!
//! Directory opens (listings, `cd`) and successful opens for writing (already reported as
//! file events) are dropped. Each container keeps the last [`KEEP`] in a ring, held apart
//! from the world lock (guests add to it on their own threads).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use porthole_core::guest_path::GuestPath;
use porthole_core::names::Id;
use porthole_runtime::{Node, Walk, WalkOp};

/// Walks kept per container; older ones are forgotten.
pub const KEEP: usize = 200;

/// One step of a walk: a symlink followed (with its target) or the path where it ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WalkStep {
    /// The symlink-free guest path reached.
    pub path: String,
    /// The mount point of the mount holding it (`/` for the container's own file system).
    pub mount: String,
    /// The volume mounted there, if the mount is one.
    pub volume: Option<String>,
    /// For a symlink, its target as stored; `None` for the end of the walk.
    pub target: Option<String>,
}

/// Where a walk broke: the last directory that existed and the name missing in it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WalkBreak {
    /// The last existing directory, as a step (its mount and volume).
    pub existing: WalkStep,
    /// The component that was not there.
    pub missing: String,
}

/// One kept walk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WalkRecord {
    /// Nanoseconds since the Unix epoch.
    pub time_nano: i64,
    /// The path the guest asked for, absolute.
    pub path: String,
    /// The links followed, then the end (absent when the walk broke before one).
    pub steps: Vec<WalkStep>,
    /// `None` when the file was opened; else the errno's name (`ENOENT`).
    pub error: Option<String>,
    /// For a walk that found a component missing: where.
    pub broke: Option<WalkBreak>,
}

/// Is this walk one the dashboard shows (see the module's comment)?
pub fn worth_keeping(walk: &Walk<'_>) -> bool {
    match (walk.op, walk.result) {
        // A failed stat matters only through a link (a dangling one): a shell's stats of
        // names that are not there (a `PATH` search) would bury everything else.
        (WalkOp::Stat, Err(_)) => !walk.links.is_empty(),
        (WalkOp::Stat, Ok(())) => false,
        (_, Err(_)) => true,
        (op, Ok(())) => op == WalkOp::Read && walk.end.is_some_and(|e| *e.node == Node::File),
    }
}

impl WalkRecord {
    /// The record of `walk`; `volumes` maps a mount point to the volume mounted there.
    pub fn new(walk: &Walk<'_>, volumes: &HashMap<String, String>, time_nano: i64) -> Self {
        let step = |path: &GuestPath, mount: &GuestPath, target: Option<&str>| WalkStep {
            path: path.to_string(),
            mount: mount.to_string(),
            volume: volumes.get(mount.as_str()).cloned(),
            target: target.map(str::to_string),
        };
        let mut steps: Vec<WalkStep> =
            walk.links.iter().map(|l| step(&l.link, &l.mount_point, Some(&l.target))).collect();
        if let Some(end) = walk.end {
            steps.push(step(end.path, end.mount_point, None));
        }
        let broke = walk
            .broke
            .map(|b| WalkBreak { existing: step(b.existing, b.mount_point, None), missing: b.missing.to_string() });
        WalkRecord { time_nano, path: walk.asked(), steps, error: walk.result.err().map(|e| e.name()), broke }
    }
}

/// One container's ring of recent walks.
#[derive(Default)]
pub struct WalkLog(Mutex<VecDeque<WalkRecord>>);

impl WalkLog {
    pub fn push(&self, record: WalkRecord) {
        let mut ring = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if ring.len() == KEEP {
            ring.pop_front();
        }
        ring.push_back(record);
    }

    /// The kept walks, oldest first.
    pub fn snapshot(&self) -> Vec<WalkRecord> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect()
    }
}

/// Every container's [`WalkLog`], by id; a container's goes when it is removed.
#[derive(Default)]
pub(crate) struct WalkLogs(Mutex<HashMap<Id, Arc<WalkLog>>>);

impl WalkLogs {
    /// The log of container `id`, made on first use.
    pub fn of(&self, id: &Id) -> Arc<WalkLog> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).entry(id.clone()).or_default().clone()
    }

    pub fn snapshot(&self, id: &Id) -> Vec<WalkRecord> {
        let log = self.0.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned();
        log.map(|l| l.snapshot()).unwrap_or_default()
    }

    pub fn remove(&self, id: &Id) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }
}
