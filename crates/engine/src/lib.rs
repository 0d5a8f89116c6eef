//! Porthole's engine: the façade the API and CLI call. It owns the store (on disk), the
//! runtime (guests) and the in-memory world (records of containers, volumes and images), and
//! publishes events. It knows nothing of HTTP.
//!
//! Concurrency: one mutex guards the world and every change to the store's records, so
//! concurrent creates and removes can never lose a volume reference (references are the
//! containers' mount lists, read and changed under the lock). Guests run on their own threads
//! and take the lock only to record how they ended.

mod archive;
mod build;
mod changes;
mod commit;
mod containers;
mod error;
mod files;
mod graph;
mod guestfs;
mod health;
mod image_prune;
mod image_remove;
mod images;
pub mod lessons;
mod logs;
mod networks;
mod oci;
mod pause;
mod ports;
mod preview;
mod processes;
mod quotas;
mod registry;
mod rename;
mod run;
mod sizes;
mod stats;
mod step_text;
mod usage;
mod volumes;
mod walks;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use porthole_core::event::{Event, EventType};
use porthole_core::names::{Id, Lookup, lookup};
use porthole_runtime::FdBudget;
use porthole_runtime::{Runtime, RuntimeConfig};
use porthole_store::{ContainerRecord, ImageRecord, NetworkRecord, Recovery, Store, VolumeRecord};
use tokio::sync::broadcast;

pub use archive::{ArchiveSource, PathStat};
pub use build::{BuildOptions, BuildOutput, CancelToken};
pub use changes::{Change, ChangeKind};
pub use commit::CommitOptions;
pub use containers::{ContainerInfo, CreateOptions, RemoveOptions};
pub use error::{EngineError, ErrorKind, Result};
pub use files::{EntryKind, FileEntry, FileView, Listing, VIEW_LIMIT};
pub use image_prune::{ImagePrune, PruneFilter};
pub use image_remove::ImageRemove;
pub use images::HistoryItem;
pub use lessons::http_status_of;
pub use logs::{LogLine, LogOptions, LogReader, LogStream};
pub use networks::{Attachment, NO_CONNECTIVITY, NetworkCreate, NetworkInfo, NetworkRequest};
pub use oci::{ArchiveError, SavedArchive};
pub use porthole_core::mounts::MountRequests;
pub use porthole_core::ports::PublishScope;
pub use porthole_registry::{Credentials, Progress, Reference, ReferenceError};
/// The streams of a `docker exec` guest ([`ExecOptions::stdio`]), as the runtime takes them.
pub use porthole_runtime::{Input, Stdio, Tty};
pub use ports::PublishedPort;
pub use processes::Process;
pub use run::{Attach, ExecOptions, Logs, WaitCondition};
pub use stats::Stats;
pub use usage::{ContainerUsage, DiskUsage, ImageUsage};
pub use volumes::{VolumeFilters, VolumeInfo};
pub use walks::{WalkBreak, WalkRecord, WalkStep};

use error::IoContext;
use run::Running;

/// Where the engine keeps its state.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    pub root: PathBuf,
    /// Where compiled guests are cached; `None` means `<root>/module-cache`. Tests share one
    /// across temporary roots so each guest is compiled once.
    pub module_cache: Option<PathBuf>,
    /// How many descriptors all guests together may hold; `None` is the guests' part of the
    /// process's `RLIMIT_NOFILE` (see `porthole_runtime::guest_share_of`). Tests set it small.
    pub fd_budget: Option<usize>,
    /// Where published ports may be bound: loopback only unless the operator allowed more.
    pub publish_scope: porthole_core::ports::PublishScope,
    /// Registries spoken to over plain HTTP besides loopback ones (`--insecure-registry`).
    pub insecure_registries: Vec<String>,
}

/// A container as the engine holds it: its record and, while it runs, its handle.
struct Container {
    record: ContainerRecord,
    running: Option<Running>,
    /// Counts exits, so `wait` for the next exit can tell one happened.
    exits: u64,
    /// Its log files and live output, for `logs`, attach and `logs -f`.
    log: Arc<logs::LogSink>,
    /// What waiters watch (`docker wait`, `run`): published on every start, exit and removal.
    phase: tokio::sync::watch::Sender<run::Phase>,
    /// `docker exec` guests running in it, by serial: they end when the container's main
    /// guest does, as processes end with their PID namespace.
    execs: BTreeMap<u64, processes::ExecSession>,
    next_exec: u64,
    /// A start is preparing the guest outside the lock; another start leaves it alone.
    starting: bool,
    /// Its health while a `HEALTHCHECK` watches it (since its last start).
    health: Option<porthole_core::health::Health>,
}

impl Container {
    fn new(record: ContainerRecord, store: &Store) -> Self {
        let phase = tokio::sync::watch::channel(run::Phase::default()).0;
        let log = logs::LogSink::new(store.log_path(&record.id), &record.host.log);
        let c = Self {
            record,
            running: None,
            exits: 0,
            log,
            phase,
            execs: BTreeMap::new(),
            next_exec: 0,
            starting: false,
            health: None,
        };
        c.publish(false);
        c
    }

    /// Tells waiters where the container is now (`removed`: it is about to leave the world).
    fn publish(&self, removed: bool) {
        let phase = run::Phase {
            running: self.record.state.status.is_running(),
            exits: self.exits,
            exit_code: self.record.state.exit_code,
            removed,
        };
        self.phase.send_replace(phase);
    }
}

#[derive(Default)]
struct World {
    containers: BTreeMap<Id, Container>,
    volumes: BTreeMap<String, VolumeRecord>,
    images: BTreeMap<String, ImageRecord>,
    tags: BTreeMap<String, String>,
    /// The created networks (the default ones are fixed: see `networks`).
    networks: BTreeMap<Id, NetworkRecord>,
    /// Exit codes of containers already removed (`--rm`), for a `wait` that outlives them.
    removed_exit_codes: BTreeMap<Id, i32>,
    /// Containers being created: their files are being made outside the lock, and their
    /// name and volumes are already theirs.
    creating: BTreeMap<Id, Reservation>,
    /// Volumes a quarantined (unreadable) container record names: `volume prune` skips them
    /// and `volume rm` refuses them as in use, since that container may still be restored.
    /// Found at open: removing the quarantined record takes effect at the next start.
    held_by_quarantine: std::collections::BTreeSet<String>,
    /// Images running builds stand on (their stages' and `COPY --from`'s), with how many
    /// holds each: not removed or pruned meanwhile, so no step's lowers vanish under it.
    held_by_builds: BTreeMap<String, usize>,
}

/// What a container being created holds before its record exists.
struct Reservation {
    name: porthole_core::names::ContainerName,
    volumes: Vec<String>,
}

impl World {
    /// Finds a container by name, id or unique id prefix.
    fn container_id(&self, reference: &str) -> Result<Id> {
        let items = self.containers.iter().map(|(id, c)| (c.record.name.as_str(), id, id));
        match lookup(items, reference) {
            Lookup::Found(id) => Ok(id.clone()),
            Lookup::NotFound => Err(EngineError::NoSuchContainer(reference.to_string())),
            Lookup::Ambiguous => Err(EngineError::Ambiguous(reference.to_string())),
        }
    }

    fn container(&self, reference: &str) -> Result<&Container> {
        let id = self.container_id(reference)?;
        Ok(&self.containers[&id])
    }

    /// Ids of the containers whose mounts use volume `name` (those being created too).
    fn volume_users(&self, name: &str) -> Vec<Id> {
        let existing = self
            .containers
            .iter()
            .filter(|(_, c)| c.record.mounts.iter().any(|m| m.volume() == Some(name)))
            .map(|(id, _)| id.clone());
        let creating =
            self.creating.iter().filter(|(_, r)| r.volumes.iter().any(|v| v == name)).map(|(id, _)| id.clone());
        existing.chain(creating).collect()
    }
}

struct Inner {
    store: Store,
    runtime: Runtime,
    world: Mutex<World>,
    /// Signalled whenever a container's state changes (waiters re-check their condition).
    changed: Condvar,
    events: broadcast::Sender<Event>,
    /// Walk events, apart from the rest: a web server makes one per request, and the threads
    /// that follow `events` (the event history, the last writers) would be woken for each.
    walk_events: broadcast::Sender<Event>,
    programs: run::ProgramCache,
    /// The descriptors guests may hold, shared fairly between them.
    fd_budget: FdBudget,
    /// Disk quotas held by running guests.
    quotas: quotas::Quotas,
    /// Volume sizes, kept current by file events.
    sizes: sizes::VolumeSizes,
    /// Each container's recent path walks, for the dashboard.
    walks: walks::WalkLogs,
    /// What an operator should look at, found at open (`docker info`'s `Warnings`).
    warnings: Vec<String>,
    publish_scope: porthole_core::ports::PublishScope,
    /// The distribution client `pull`/`push`/`login` use.
    registry: porthole_registry::Registry,
}

/// The engine; cheap to clone (all clones share one state).
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl Engine {
    /// Opens the state root (recovering from a crash), loads it, and makes sure the base
    /// image `busybox` exists.
    pub fn open(config: EngineConfig) -> Result<(Engine, Recovery)> {
        porthole_store::create_private_dir(&config.root).context(|| format!("creating {}", config.root.display()))?;
        let (store, recovery) = Store::open(&config.root).context(|| format!("opening {}", config.root.display()))?;
        let runtime = Runtime::new(RuntimeConfig {
            module_cache: Some(config.module_cache.clone().unwrap_or_else(|| store.module_cache_dir())),
        })?;
        let mut world = World::default();
        for mut record in store.containers().context(|| "reading containers".into())? {
            // A record from before networks was on `bridge`, as every container then.
            if record.host.networks.is_empty() && record.host.network_mode.is_empty() {
                record.host.networks = networks::default_attachment();
            }
            world.containers.insert(record.id.clone(), Container::new(record, &store));
        }
        for v in store.volumes().context(|| "reading volumes".into())? {
            world.volumes.insert(v.name.clone(), v);
        }
        for img in store.images().context(|| "reading images".into())? {
            world.images.insert(img.id.clone(), img);
        }
        for n in store.networks().context(|| "reading networks".into())? {
            world.networks.insert(n.id.clone(), n);
        }
        world.tags = store.tags().context(|| "reading image tags".into())?;
        world.held_by_quarantine = store
            .quarantine_holds(world.volumes.keys().map(String::as_str))
            .context(|| "reading the quarantine".into())?
            .into_iter()
            .collect();
        let warnings = open_warnings(&store, &recovery).context(|| "reading the quarantine".into())?;
        let (events, _) = broadcast::channel(4096);
        let (walk_events, _) = broadcast::channel(4096);
        let engine = Engine {
            inner: Arc::new(Inner {
                store,
                runtime,
                world: Mutex::new(world),
                changed: Condvar::new(),
                events,
                walk_events,
                programs: run::ProgramCache::default(),
                fd_budget: config.fd_budget.map_or_else(FdBudget::from_rlimit, FdBudget::new),
                quotas: quotas::Quotas::default(),
                sizes: sizes::VolumeSizes::default(),
                walks: walks::WalkLogs::default(),
                warnings,
                publish_scope: config.publish_scope,
                registry: porthole_registry::Registry::new(&config.insecure_registries)?,
            }),
        };
        engine.ensure_base_image()?;
        Ok((engine, recovery))
    }

    /// The descriptor budget guests share (for `docker info` and tests).
    pub fn fd_budget(&self) -> &FdBudget {
        &self.inner.fd_budget
    }

    pub fn root(&self) -> &Path {
        self.inner.store.root()
    }

    /// Every event from now on: container, volume and image changes, and guest file writes;
    /// not walks (see [`Engine::subscribe_walks`]).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// The `walk` events from now on: each path walk a container's guest made that is kept
    /// (see `walks`).
    pub fn subscribe_walks(&self) -> broadcast::Receiver<Event> {
        self.inner.walk_events.subscribe()
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.inner.world.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn emit(&self, event: Event) {
        let to = if event.kind == EventType::Walk { &self.inner.walk_events } else { &self.inner.events };
        // No subscriber is fine: events are for whoever listens.
        let _ = to.send(event);
    }

    fn event(&self, kind: EventType, action: &str, actor: &str) -> Event {
        Event::new(kind, action, actor, porthole_store::now_nanos())
    }

    /// Things an operator should look at: what recovery could not read, now in quarantine.
    pub fn warnings(&self) -> &[String] {
        &self.inner.warnings
    }

    /// Counts for `docker info`.
    pub fn counts(&self) -> Counts {
        let w = self.world();
        let running = w.containers.values().filter(|c| c.record.state.status.is_running()).count();
        Counts {
            containers: w.containers.len(),
            running,
            stopped: w.containers.len() - running,
            images: w.images.len(),
            volumes: w.volumes.len(),
        }
    }
}

/// This open's recovery warnings, then one for each thing left in quarantine by earlier ones
/// (it stays there, and in `docker info`, until an operator removes it).
fn open_warnings(store: &Store, recovery: &Recovery) -> std::io::Result<Vec<String>> {
    let mut warnings = recovery.warnings();
    for path in store.quarantine_entries()? {
        if !recovery.quarantined.iter().any(|q| q.to == path) {
            warnings
                .push(format!("{} is in quarantine: Porthole could not read it at an earlier start", path.display()));
        }
    }
    Ok(warnings)
}

/// Totals for `docker info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub containers: usize,
    pub running: usize,
    pub stopped: usize,
    pub images: usize,
    pub volumes: usize,
}

/// Host directories of a container's mounts, for inspect (`Source`) and the namespace.
fn mount_source(store: &Store, m: &porthole_core::mounts::MountPoint) -> PathBuf {
    match (m.volume(), m.bind_path()) {
        (Some(v), _) => store.volume_data(v),
        (None, Some(src)) => PathBuf::from(src),
        (None, None) => PathBuf::new(),
    }
}
