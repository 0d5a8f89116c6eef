//! Containers: create (image, name, command, mounts per Docker's rules, a writable rootfs
//! copy, copy-up), list, inspect, remove (`-f`, `-v`) and prune.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use porthole_core::config::{ImageConfig, command_line, merge_env};
use porthole_core::event::EventType;
use porthole_core::log_config::LogConfig;
use porthole_core::mounts::{MountPoint, MountRequests, MountSource, VolumeRef, resolve_mounts};
use porthole_core::names::{ContainerName, Id};
use porthole_core::names_gen::generated_name;
use porthole_core::state::Status;
use porthole_store::{ContainerRecord, HostOptions, ImageRecord, StateRecord};

use crate::error::IoContext;
use crate::guestfs::GuestFs;
use crate::volumes::copy_up;
use crate::walks::WalkRecord;
use crate::{Container, Engine, EngineError, Result, World};

/// What `docker create` asks for.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub name: Option<String>,
    pub image: String,
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    /// `--hostname`, checked (`core::names::valid_hostname`).
    pub hostname: Option<String>,
    /// `--health-cmd`, `--health-interval`, … (`--no-healthcheck`: `["NONE"]`), over the image's.
    pub healthcheck: Option<porthole_core::health::Healthcheck>,
    pub labels: BTreeMap<String, String>,
    pub tty: bool,
    pub open_stdin: bool,
    pub mounts: MountRequests,
    pub auto_remove: bool,
    pub read_only_rootfs: bool,
    pub port_bindings: BTreeMap<String, Vec<String>>,
    pub exposed_ports: Vec<String>,
    /// `-P`: publish every exposed port (the image's and `exposed_ports`) on a free host port.
    pub publish_all_ports: bool,
    pub memory_bytes: Option<u64>,
    /// `--pids-limit` (positive; otherwise the runtime's default applies).
    pub pids_limit: Option<u64>,
    /// `--storage-opt size=`: a quota in bytes on the container's writable rootfs.
    pub storage_size: Option<u64>,
    /// `--log-driver` / `--log-opt`, checked (`LogConfig::default()` when none was given).
    pub log: LogConfig,
    /// `--network` and each network's aliases.
    pub network: crate::networks::NetworkRequest,
}

/// `docker rm` options.
#[derive(Debug, Clone, Copy, Default)]
pub struct RemoveOptions {
    /// Kill a running container first.
    pub force: bool,
    /// Also remove its anonymous volumes (never named ones; in-use ones are kept silently).
    pub volumes: bool,
}

/// A container for `ps` and `inspect`: its record plus where things are on the host.
#[derive(Debug, Clone)]
pub struct ContainerInfo {
    pub record: ContainerRecord,
    pub rootfs: PathBuf,
    /// The image layers under `rootfs`, topmost first (none for a rootfs that stands alone).
    pub lowers: Vec<PathBuf>,
    pub log_path: PathBuf,
    /// Host directory of each mount, in `record.mounts` order.
    pub sources: Vec<PathBuf>,
    /// Published ports as bound, while it runs.
    pub ports: Vec<crate::PublishedPort>,
    /// Its health, when a `HEALTHCHECK` watches it.
    pub health: Option<porthole_core::health::Health>,
    /// `docker pause`d.
    pub paused: bool,
    /// The networks it is on (records only: no connectivity).
    pub networks: Vec<crate::networks::Attachment>,
}

/// The image a reference names: `name[:tag]` (default tag `latest`), a full id, or an id
/// prefix.
pub(crate) fn find_image<'a>(w: &'a World, reference: &str) -> Result<&'a ImageRecord> {
    let id = reference.strip_prefix("sha256:").unwrap_or(reference);
    if let Some(img) = w.images.get(id) {
        return Ok(img);
    }
    if let Some(img_id) = w.tags.get(&normalize_tag(reference))
        && let Some(img) = w.images.get(img_id)
    {
        return Ok(img);
    }
    let mut prefixed = w.images.values().filter(|i| id.len() >= 4 && i.id.starts_with(id));
    match (prefixed.next(), prefixed.next()) {
        (Some(img), None) => Ok(img),
        _ => Err(EngineError::NoSuchImage(normalize_tag(reference))),
    }
}

/// `busybox` → `busybox:latest`; a tag after the last `/` is kept.
pub fn normalize_tag(reference: &str) -> String {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    if last.contains(':') || reference.contains('@') { reference.to_string() } else { format!("{reference}:latest") }
}

impl Engine {
    /// `docker create`, in three phases so that no file is copied under the world lock:
    /// under it, decide and reserve (the name, the volumes, created or named, held for this
    /// container); then, unlocked, make the files (rootfs copy, copy-up, `/etc`); under it
    /// again, commit the record. On failure nothing is left behind but named volumes it
    /// created, as with Docker.
    pub fn create(&self, opts: CreateOptions) -> Result<Id> {
        let id = porthole_store::random_id();
        let (image, name, mounts, anonymous_created, networks) = {
            let mut w = self.world();
            let image = find_image(&w, &opts.image)?.clone();
            let name = self.pick_name(&w, opts.name.as_deref())?;
            let networks = w.attachments(&opts.network, &id)?;
            let plan = resolve_mounts(&opts.mounts, &image.config.volume_paths(), |reference| {
                w.container(reference).ok().map(|c| (c.record.id.to_string(), c.record.mounts.clone()))
            })?;
            if command_line(&image.config, opts.entrypoint.as_deref(), opts.cmd.as_deref()).is_empty() {
                return Err(EngineError::Invalid("no command specified".into()));
            }
            if let Some(h) = opts.hostname.as_deref().filter(|h| !porthole_core::names::valid_hostname(h)) {
                return Err(EngineError::Invalid(format!("invalid hostname format: {h}")));
            }
            // Refused now, not at start: an invalid or disallowed binding is the request's fault.
            let config = container_config(&image.config, &opts);
            porthole_core::ports::plan(
                &opts.port_bindings,
                &config.exposed_port_keys(),
                opts.publish_all_ports,
                self.inner.publish_scope,
            )?;
            let mut anonymous_created = Vec::new();
            let mounts = match self.create_volumes(&mut w, plan.mounts, &mut anonymous_created) {
                Ok(m) => m,
                Err(e) => {
                    for v in anonymous_created {
                        let _ = self.remove_volume_locked(&mut w, &v);
                    }
                    return Err(e);
                }
            };
            let volumes = mounts.iter().filter_map(|m| m.volume().map(str::to_string)).collect();
            w.creating.insert(id.clone(), crate::Reservation { name: name.clone(), volumes });
            (image, name, mounts, anonymous_created, networks)
        };
        let config = container_config(&image.config, &opts);
        let materialized = self.materialize(&id, &image, mounts, &config);
        let mut w = self.world();
        w.creating.remove(&id);
        let mounts = match materialized {
            Ok(m) => m,
            Err(e) => {
                for v in anonymous_created {
                    let _ = self.remove_volume_locked(&mut w, &v);
                }
                drop(w);
                let _ = std::fs::remove_dir_all(self.inner.store.container_dir(&id));
                return Err(e);
            }
        };
        let argv = command_line(&image.config, opts.entrypoint.as_deref(), opts.cmd.as_deref());
        let record = ContainerRecord {
            id: id.clone(),
            name,
            created: porthole_store::now_nanos(),
            image: opts.image.clone(),
            image_id: image.id.clone(),
            config,
            tty: opts.tty,
            open_stdin: opts.open_stdin,
            path: argv[0].clone(),
            args: argv[1..].to_vec(),
            host: HostOptions {
                binds: opts.mounts.binds.clone(),
                mounts: opts.mounts.mounts.clone(),
                volumes_from: opts.mounts.volumes_from.clone(),
                auto_remove: opts.auto_remove,
                read_only_rootfs: opts.read_only_rootfs,
                port_bindings: opts.port_bindings.clone(),
                publish_all_ports: opts.publish_all_ports,
                memory_bytes: opts.memory_bytes,
                pids_limit: opts.pids_limit,
                storage_size: opts.storage_size,
                log: opts.log.clone(),
                network_mode: opts.network.mode.clone(),
                networks,
            },
            mounts,
            state: StateRecord::default(),
            restart_count: 0,
            layers: image.layers.clone(),
        };
        // The record is written last: its presence is what makes the container exist.
        self.inner.store.save_container(&record).context(|| format!("saving container {id}"))?;
        let event = self
            .event(EventType::Container, "create", id.as_str())
            .with("name", record.name.as_str())
            .with("image", &record.image);
        w.containers.insert(id.clone(), Container::new(record, &self.inner.store));
        self.emit(event);
        Ok(id)
    }

    fn pick_name(&self, w: &World, requested: Option<&str>) -> Result<ContainerName> {
        // A name is taken by a container or by one being created.
        let holder = |name: &ContainerName| w.name_holder(name);
        if let Some(n) = requested.filter(|n| !n.is_empty()) {
            let name = ContainerName::new(n)?;
            if let Some(id) = holder(&name) {
                return Err(EngineError::NameInUse { name: name.to_string(), id: id.to_string() });
            }
            return Ok(name);
        }
        loop {
            let mut r = [0u8; 8];
            getrandom::fill(&mut r).map_err(EngineError::Random)?;
            let candidate = generated_name(
                u32::from_le_bytes(r[..4].try_into().unwrap()),
                u32::from_le_bytes(r[4..].try_into().unwrap()),
            );
            let candidate = ContainerName::new(&candidate)?;
            if holder(&candidate).is_none() {
                return Ok(candidate);
            }
        }
    }

    /// The plan's volumes, under the world lock: each new one created (named ones found or
    /// made), and named in its mount point.
    fn create_volumes(
        &self,
        w: &mut World,
        plan: Vec<MountPoint>,
        anonymous_created: &mut Vec<String>,
    ) -> Result<Vec<MountPoint>> {
        let mut mounts = Vec::with_capacity(plan.len());
        for mut m in plan {
            if let (MountSource::Volume { volume, labels, .. }, None) = (&mut m.source, &m.inherited_from) {
                let name = self.create_volume_locked(w, volume.name(), labels.clone(), BTreeMap::new())?;
                if *volume == VolumeRef::New {
                    anonymous_created.push(name.clone());
                    *volume = VolumeRef::Anonymous(name);
                }
            }
            mounts.push(m);
        }
        Ok(mounts)
    }

    /// Makes the plan real, without the world lock (the container's name and volumes are
    /// reserved): the rootfs copy, copy-up into its new volumes, bind sources, mount-point
    /// directories, `/etc/hostname` and `/etc/hosts`.
    fn materialize(
        &self,
        id: &Id,
        image: &ImageRecord,
        plan: Vec<MountPoint>,
        config: &ImageConfig,
    ) -> Result<Vec<MountPoint>> {
        let store = &self.inner.store;
        // The rootfs is only the container's own upper layer, empty: the image's layers are
        // shared, so a create costs the same for any image and no disk until a guest writes.
        let rootfs = store.rootfs(id);
        std::fs::create_dir_all(&rootfs).context(|| format!("creating {}", rootfs.display()))?;
        let tree = GuestFs::layered(&rootfs, &lower_dirs(store, &image.layers))
            .context(|| format!("opening {}", rootfs.display()))?;
        let mut mounts = Vec::with_capacity(plan.len());
        for m in plan {
            match &m.source {
                MountSource::Volume { volume, copy_data, .. } if m.inherited_from.is_none() => {
                    let name = volume.name().expect("created by create_volumes");
                    if *copy_data {
                        // Whether a running guest holds the volume decides how the copy lands.
                        let live = {
                            let w = self.world();
                            w.volume_users(name)
                                .iter()
                                .any(|id| w.containers.get(id).is_some_and(|c| c.running.is_some()))
                        };
                        copy_up(&tree, m.destination.as_str(), &store.volume_dir(name), live)
                            .context(|| format!("copying {} into volume {name}", m.destination))?;
                        self.inner.sizes.invalidate(name);
                    }
                }
                MountSource::Bind { path, create_source, .. } => {
                    let src = Path::new(path);
                    if !src.exists() {
                        if !create_source {
                            return Err(EngineError::Invalid(format!(
                                "invalid mount config for type \"bind\": bind source path does not exist: {}",
                                src.display()
                            )));
                        }
                        std::fs::create_dir_all(src).context(|| format!("creating bind source {}", src.display()))?;
                    }
                }
                _ => {}
            }
            // Like runc, make the mount point exist in the rootfs so listings show it (an empty
            // file for a bind of one file); where the image's links make that impossible (a
            // loop, a file on the way) the namespace still shows the mount point.
            let dest = m.destination.as_str();
            let file_bind = m.bind_path().is_some_and(|s| Path::new(s).is_file());
            if file_bind {
                let parent = dest.rsplit_once('/').map(|(p, _)| p).filter(|p| !p.is_empty()).unwrap_or("/");
                let missing = tree.resolve(dest, true).is_ok_and(|r| r.node == porthole_runtime::Node::Missing);
                if tree.create_dir_all(parent).is_ok() && missing {
                    let _ = tree.write_file(dest, b"");
                }
            } else {
                let _ = tree.create_dir_all(dest);
            }
            mounts.push(m);
        }
        write_etc(&tree, &hostname(config, id)).context(|| "writing /etc/hostname and /etc/hosts".into())?;
        // `-w /missing`: Docker creates the working directory (where the guest would see it).
        if !config.working_dir.is_empty() {
            tree.create_dir_all(&config.working_dir)
                .context(|| format!("creating the working directory {}", config.working_dir))?;
        }
        Ok(mounts)
    }

    /// `docker ps [-a]`
    pub fn list(&self, all: bool) -> Vec<ContainerInfo> {
        let w = self.world();
        let mut out: Vec<ContainerInfo> = w
            .containers
            .values()
            .filter(|c| all || c.record.state.status.is_running())
            .map(|c| self.info(&w, c))
            .collect();
        out.sort_by_key(|c| std::cmp::Reverse(c.record.created));
        out
    }

    pub fn inspect(&self, reference: &str) -> Result<ContainerInfo> {
        let w = self.world();
        Ok(self.info(&w, w.container(reference)?))
    }

    /// The container's recent path walks, oldest first (see `walks.rs` for which are kept).
    pub fn walks(&self, reference: &str) -> Result<Vec<WalkRecord>> {
        let id = self.world().container(reference)?.record.id.clone();
        Ok(self.inner.walks.snapshot(&id))
    }

    fn info(&self, w: &World, c: &Container) -> ContainerInfo {
        let store = &self.inner.store;
        let record = &c.record;
        ContainerInfo {
            networks: w.attachments_of(record),
            ports: c.running.as_ref().map(|r| r.ports.clone()).unwrap_or_default(),
            health: c.health.clone(),
            paused: c.running.as_ref().is_some_and(|r| r.paused),
            rootfs: store.rootfs(&record.id),
            lowers: lower_dirs(store, &record.layers),
            log_path: store.log_path(&record.id),
            sources: record.mounts.iter().map(|m| crate::mount_source(store, m)).collect(),
            record: record.clone(),
        }
    }

    /// `docker rm [-f] [-v]`
    pub fn remove(&self, reference: &str, opts: RemoveOptions) -> Result<()> {
        let mut w = self.world();
        let id = w.container_id(reference)?;
        let c = &w.containers[&id];
        c.record.state.status.can_remove(opts.force, c.record.name.as_str())?;
        if let Some(running) = &c.running {
            running.stop();
            w = self.wait_locked(w, &id, |c| c.map(|c| !c.record.state.status.is_running()).unwrap_or(true));
        }
        self.remove_locked(&mut w, &id, opts.volumes)
    }

    pub(crate) fn remove_locked(&self, w: &mut World, id: &Id, with_volumes: bool) -> Result<()> {
        let Some(c) = w.containers.get(id) else { return Ok(()) };
        let mounts = c.record.mounts.clone();
        let name = c.record.name.to_string();
        let code = c.record.state.exit_code;
        self.inner.store.remove_container(id).context(|| format!("removing container {id}"))?;
        if let Some(c) = w.containers.remove(id) {
            c.publish(true);
        }
        self.inner.walks.remove(id);
        w.removed_exit_codes.insert(id.clone(), code);
        self.emit(self.event(EventType::Container, "destroy", id.as_str()).with("name", name));
        if with_volumes {
            for v in crate::preview::anonymous_volumes(&mounts) {
                // Docker keeps a volume another container still holds, without error.
                let _ = self.remove_volume_locked(w, v);
            }
        }
        self.inner.changed.notify_all();
        Ok(())
    }

    /// `docker container prune`: removes every container that is not running.
    pub fn container_prune(&self) -> Result<Vec<String>> {
        let mut w = self.world();
        let stopped: Vec<Id> = w
            .containers
            .iter()
            .filter(|(_, c)| c.running.is_none() && c.record.state.status != Status::Running)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &stopped {
            self.remove_locked(&mut w, id, false)?;
        }
        Ok(stopped.iter().map(|id| id.to_string()).collect())
    }
}

/// The container's `Config`: the image's, with the request's overrides.
fn container_config(image: &ImageConfig, opts: &CreateOptions) -> ImageConfig {
    let mut config = image.clone();
    config.env = merge_env(&image.env, &opts.env);
    if let Some(cmd) = &opts.cmd {
        config.cmd = Some(cmd.clone());
    }
    if let Some(e) = &opts.entrypoint {
        config.entrypoint = Some(e.clone());
        if opts.cmd.is_none() {
            config.cmd = None;
        }
    }
    if let Some(h) = &opts.healthcheck {
        config.healthcheck = Some(h.over(&image.healthcheck.clone().unwrap_or_default()));
    }
    // An image's own Hostname is not inherited: each container gets its own name.
    config.hostname = opts.hostname.clone().unwrap_or_default();
    if let Some(wd) = opts.workdir.as_ref().filter(|w| !w.is_empty()) {
        config.working_dir = wd.clone();
    }
    if !opts.labels.is_empty() {
        config.labels.get_or_insert_with(BTreeMap::new).extend(opts.labels.clone());
    }
    let extra: Vec<String> = opts.mounts.volumes.clone();
    if !extra.is_empty() {
        let volumes = config.volumes.get_or_insert_with(BTreeMap::new);
        for v in extra {
            volumes.insert(v, Default::default());
        }
    }
    for p in &opts.exposed_ports {
        config.exposed_ports.get_or_insert_with(BTreeMap::new).insert(p.clone(), Default::default());
    }
    config
}

/// The container's host name: `--hostname`, else its short id, as Docker names it.
pub(crate) fn hostname(config: &ImageConfig, id: &Id) -> String {
    if config.hostname.is_empty() { id.short().to_string() } else { config.hostname.clone() }
}

/// The directories of `layers` (bottom first, as records keep them) as a layered root takes
/// them: topmost first.
pub(crate) fn lower_dirs(store: &porthole_store::Store, layers: &[String]) -> Vec<PathBuf> {
    layers.iter().rev().map(|l| store.layer_dir(l)).collect()
}

/// `/etc/hostname` (`--hostname`, else the short id, as Docker sets it) and `/etc/hosts`, written where the guest
/// would find them. Docker bind-mounts these files at start; where the image's links leave no
/// such place (`/etc` a link loop or a file, a link into a missing directory) the guest cannot
/// read them at that path either, so they are skipped rather than failing the create.
fn write_etc(rootfs: &GuestFs, hostname: &str) -> std::io::Result<()> {
    let hosts = format!("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\t{hostname}\n");
    let files = [("/etc/hostname", format!("{hostname}\n")), ("/etc/hosts", hosts)];
    if let Err(e) = rootfs.create_dir_all("/etc") {
        return if unreachable_in_guest(&e) { Ok(()) } else { Err(e) };
    }
    for (path, contents) in files {
        match rootfs.write_file(path, contents.as_bytes()) {
            Err(e) if !unreachable_in_guest(&e) => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// Errors of the walk itself: the path leads nowhere for the guest.
fn unreachable_in_guest(e: &std::io::Error) -> bool {
    use rustix::io::Errno;
    e.kind() == std::io::ErrorKind::NotFound
        || [Errno::LOOP, Errno::NOTDIR, Errno::ISDIR].iter().any(|c| e.raw_os_error() == Some(c.raw_os_error()))
}
