//! Running guests: start (namespace, program, stdio, limits), stop and kill, wait, restart,
//! exec, attach and logs.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use cap_std::{ambient_authority, fs::Dir};
use porthole_core::event::EventType;
use porthole_core::mounts::{self, MountPoint};
use porthole_core::names::Id;
use porthole_core::size::volume_size;
use porthole_core::state::{Ending, Status, exit_codes};
use porthole_runtime::{
    BoundedCache, Exit, Guest, GuestSpec, GuestTree, Input, LaunchError, Launcher, Limits, MountDesc, MountHost,
    Mutation, MutationObserver, Node, Processes, Program, Quota, RootDesc, Stdio, Stopper, Tty, Walk,
};
use porthole_store::ContainerRecord;
use tokio::sync::broadcast;

use crate::error::IoContext;
use crate::guestfs::GuestFs;
use crate::logs::{LogLine, LogOptions, LogReader, LogSink, LogStream, LogWriter};
use crate::ports::PublishedPort;
use crate::quotas::{ContainerQuotas, QuotaKey, measure_tree};
use crate::walks::{self, WalkLog, WalkRecord};
use crate::{Container, Engine, EngineError, Result, World};

/// How long `docker stop` waits after TERM before ending every process (Docker's default).
const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// The signals Porthole delivers, by the names `docker kill -s` takes.
const SIGNALS: [(&str, u32); 5] = [
    ("HUP", porthole_runtime::signal::HUP),
    ("INT", porthole_runtime::signal::INT),
    ("KILL", porthole_runtime::signal::KILL),
    ("PIPE", porthole_runtime::signal::PIPE),
    ("TERM", porthole_runtime::signal::TERM),
];

/// `docker kill -s`'s argument: a name with or without `SIG`, any case, or a number, with
/// moby's text for one that is no signal at all.
pub(crate) fn parse_signal(s: &str) -> Result<u32> {
    let name = s.to_ascii_uppercase();
    let name = name.strip_prefix("SIG").unwrap_or(&name);
    let found = match name.parse::<u32>() {
        Ok(n) => SIGNALS.iter().find(|(_, v)| *v == n).map(|(_, v)| *v).ok_or(n <= 64),
        Err(_) => SIGNALS.iter().find(|(k, _)| *k == name).map(|(_, v)| *v).ok_or(LINUX_SIGNALS.contains(&name)),
    };
    match found {
        Ok(sig) => Ok(sig),
        Err(true) => Err(EngineError::Invalid(format!(
            "signal {s} is not supported by Porthole (it delivers HUP, INT, KILL, PIPE and TERM)"
        ))),
        Err(false) => Err(EngineError::Invalid(format!("Invalid signal: {s}"))),
    }
}

/// The other Linux signal names, which Docker accepts and Porthole cannot deliver.
const LINUX_SIGNALS: [&str; 26] = [
    "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "ILL", "IO", "IOT", "POLL", "PROF", "PWR", "QUIT", "SEGV",
    "STKFLT", "STOP", "SYS", "TRAP", "TSTP", "TTIN", "TTOU", "URG", "USR1", "USR2", "WINCH",
];

fn signal_name(sig: u32) -> &'static str {
    SIGNALS.iter().find(|(_, v)| *v == sig).map_or("KILL", |(k, _)| k)
}

/// Docker's default `PATH`, used when the image sets none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A running container's handle.
pub(crate) struct Running {
    stopper: Stopper,
    /// Every process of the container: the main guest (pid 1), its execs, their children.
    pub processes: Processes,
    /// The write end of the guest's stdin pipe (`-i`).
    stdin: Option<std::fs::File>,
    /// The host addresses its published ports are bound to (the guest holds the listeners).
    pub ports: Vec<PublishedPort>,
    /// `docker pause`d: its guests wait at their next safepoint.
    pub paused: bool,
    /// What its guests (the main one and its execs) use, since this start.
    pub usage: Arc<porthole_runtime::Usage>,
}

impl Running {
    /// Ends every process of the container at once.
    pub fn stop(&self) {
        self.stopper.stop();
        self.processes.stop_all();
    }

    pub fn stopper(&self) -> &Stopper {
        &self.stopper
    }
}

/// Compiled programs by file identity, so restarting a container does not re-read and re-hash
/// its binary; bounded, as every container's rootfs holds its own copy of each file.
pub(crate) struct ProgramCache(Mutex<BoundedCache<(u64, u64, i64, u64), Program>>);

impl Default for ProgramCache {
    fn default() -> Self {
        Self(Mutex::new(BoundedCache::new(64)))
    }
}

/// A container's state as waiters see it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Phase {
    pub running: bool,
    pub exits: u64,
    pub exit_code: i32,
    pub removed: bool,
}

impl WaitCondition {
    /// Is the wait over, for a waiter that started when the container had exited `exits_then`
    /// times? A removed container ends every wait.
    fn met(self, p: &Phase, exits_then: u64) -> bool {
        p.removed
            || match self {
                WaitCondition::NotRunning => !p.running,
                WaitCondition::NextExit => p.exits > exits_then,
                WaitCondition::Removed => false,
            }
    }
}

/// What `docker wait --condition` waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitCondition {
    NotRunning,
    NextExit,
    Removed,
}

/// The streams a client attaches to: the guest's stdin (if it was created with `-i`) and its
/// output from now on.
pub struct Attach {
    pub stdin: Option<std::fs::File>,
    pub output: broadcast::Receiver<LogLine>,
    pub tty: bool,
}

/// `docker logs`: the lines written so far, read as they are iterated, and the live output
/// after them.
pub struct Logs {
    pub past: LogReader,
    pub live: broadcast::Receiver<LogLine>,
    /// Whether the container was running when the log was read (`-f` follows only then).
    pub running: bool,
}

/// `docker exec` options.
#[derive(Default)]
pub struct ExecOptions {
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub stdio: Stdio,
    /// Stop the guest after this long (a health probe's `--timeout`); `None`: no limit.
    pub timeout: Option<Duration>,
}

/// Reports a guest's file changes as engine events, tagged with the container, and tells the
/// size cache which volume changed.
struct FileEvents {
    engine: Engine,
    container: String,
    /// Mount point (as the guest sees it) → volume name, for the container's volumes.
    volumes: HashMap<String, String>,
    /// Where the container's walks are kept.
    walks: Arc<WalkLog>,
}

impl FileEvents {
    fn new(engine: &Engine, record: &ContainerRecord, tree: &GuestTree) -> Self {
        // The tree's mounts after the root are the record's, in order (then `/proc`).
        let volumes = tree
            .mount_points()
            .zip(&record.mounts)
            .filter_map(|(path, m)| Some((path.to_string(), m.volume()?.to_string())))
            .collect();
        let walks = engine.inner.walks.of(&record.id);
        Self { engine: engine.clone(), container: record.id.to_string(), volumes, walks }
    }
}

impl MutationObserver for FileEvents {
    fn mutated(&self, m: &Mutation) {
        if let Some(volume) = self.volumes.get(&m.mount_point) {
            self.engine.inner.sizes.invalidate(volume);
        }
        let mut e = self
            .engine
            .event(EventType::File, &format!("{:?}", m.kind).to_lowercase(), &self.container)
            .with("path", m.path.clone())
            .with("mount", m.mount_point.clone());
        if let Some(from) = &m.from {
            e = e.with("from", from.clone());
        }
        self.engine.emit(e);
    }

    fn wants_walks(&self) -> bool {
        true
    }

    fn walked(&self, walk: &Walk<'_>) {
        if !walks::worth_keeping(walk) {
            return;
        }
        let record = WalkRecord::new(walk, &self.volumes, porthole_store::now_nanos());
        let mut e = self.engine.event(EventType::Walk, "walk", &self.container).with("path", record.path.clone());
        if let Some(error) = &record.error {
            e = e.with("error", error.clone());
        }
        self.walks.push(record);
        self.engine.emit(e);
    }
}

fn open_dir(path: &Path) -> Result<Dir> {
    Dir::open_ambient_dir(path, ambient_authority()).context(|| format!("opening {}", path.display()))
}

/// Adds the container's `/dev` (the device nodes, over an empty directory `dev` in `state`,
/// the container's or the build's own directory) and `/dev/shm` (a writable directory `shm`
/// there) to `specs`, as every Docker container, exec and RUN step has them; a user's mount at
/// either place replaces it, as any mount replaces what it covers. Gives their `/proc/mounts`
/// lines.
pub(crate) fn device_mounts(state: &Path, specs: &mut Vec<MountDesc>) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    let taken = |specs: &[MountDesc], at: &str| specs.iter().any(|s| s.guest_path == at);
    if !taken(specs, "/dev") {
        let empty = state.join("dev");
        std::fs::create_dir_all(&empty).context(|| format!("creating {}", empty.display()))?;
        specs.push(MountDesc::devices("/dev", open_dir(&empty)?));
        lines.push("tmpfs /dev tmpfs ro,nosuid,mode=755 0 0".to_string());
    }
    if !taken(specs, "/dev/shm") {
        let shm = state.join("shm");
        std::fs::create_dir_all(&shm).context(|| format!("creating {}", shm.display()))?;
        specs.push(MountDesc::dir("/dev/shm", open_dir(&shm)?, false));
        lines.push("shm /dev/shm tmpfs rw,nosuid,nodev,noexec 0 0".to_string());
    }
    Ok(lines)
}

/// The mount of host path `host` at `guest`: a directory, or (a bind of one file, as Docker
/// allows) that file alone, reached through its resolved parent directory.
fn mount_desc(guest: String, host: &Path, readonly: bool, quota: Option<Arc<Quota>>) -> Result<MountDesc> {
    let meta = std::fs::metadata(host).context(|| format!("opening {}", host.display()))?;
    if meta.is_dir() {
        return Ok(MountDesc { quota, ..MountDesc::dir(guest, open_dir(host)?, readonly) });
    }
    // The operator named this host path; its links are the host's to resolve, once, here.
    let real = host.canonicalize().context(|| format!("resolving {}", host.display()))?;
    let (Some(parent), Some(name)) = (real.parent(), real.file_name()) else {
        return Err(EngineError::NotMountable(host.to_owned()));
    };
    let host = MountHost::File { parent: open_dir(parent)?, name: name.to_owned() };
    Ok(MountDesc { guest_path: guest, host, readonly, quota })
}

impl Engine {
    /// The disk quotas a guest of the container `reference` runs under: `--storage-opt size=`
    /// on its rootfs and each volume's `size`. The world lock is held only to read the
    /// records; measuring what the trees already hold happens after it is released.
    pub(crate) fn container_quotas(&self, reference: &str) -> Result<(Id, ContainerQuotas)> {
        let (id, image_id, layered, root_limit, volume_limits) = {
            let w = self.world();
            let c = w.container(reference)?;
            let volume_limits: Vec<(String, u64)> = c
                .record
                .mounts
                .iter()
                .filter(|m| m.rw)
                .filter_map(|m| m.volume())
                .filter_map(|v| w.volumes.get(v))
                .filter_map(|v| Some((v.name.clone(), volume_size(&v.options).ok()??.0)))
                .collect();
            let layered = !c.record.layers.is_empty();
            (c.record.id.clone(), c.record.image_id.clone(), layered, c.record.host.storage_size, volume_limits)
        };
        let store = &self.inner.store;
        let quotas = &self.inner.quotas;
        let root = match root_limit {
            Some(size) => Some(quotas.get_or_make(QuotaKey::Rootfs(id.clone()), || {
                // The image's own bytes are not the container's: only what it adds counts. A
                // layered rootfs holds only that; a rootfs of a store older than layers is a
                // whole copy of the image (whose one layer is then `layers/<image id>`).
                let image = if layered { 0 } else { measure_tree(&store.layer_dir(&image_id)).unwrap_or(0) };
                Ok(Quota::new(size.saturating_add(image), measure_tree(&store.rootfs(&id))?))
            })?),
            None => None,
        };
        let mut volumes = BTreeMap::new();
        for (name, limit) in volume_limits {
            let q = quotas.get_or_make(QuotaKey::Volume(name.clone()), || {
                Ok(Quota::new(limit, measure_tree(&store.volume_data(&name))?))
            })?;
            volumes.insert(name, q);
        }
        Ok((id, ContainerQuotas { root, volumes }))
    }

    /// The container's file tree: its rootfs, each mount at its (symlink-resolved) destination,
    /// and a read-only `/proc` with the generated `mounts`, under `quotas`.
    pub(crate) fn guest_tree(&self, record: &ContainerRecord, quotas: &ContainerQuotas) -> Result<GuestTree> {
        let store = &self.inner.store;
        let rootfs = store.rootfs(&record.id);
        // Mount destinations follow the rootfs's own symlinks, as Docker does (a `VOLUME
        // /var/www` where `/var/www` links elsewhere mounts at the link's target).
        let lowers = crate::containers::lower_dirs(store, &record.layers);
        let tree = GuestFs::layered(&rootfs, &lowers).context(|| format!("opening {}", rootfs.display()))?;
        let mut specs = Vec::new();
        let mut table = vec![format!("rootfs / rootfs {} 0 0", if record.host.read_only_rootfs { "ro" } else { "rw" })];
        for (i, m) in record.mounts.iter().enumerate() {
            let host = match m.source {
                mounts::MountSource::Tmpfs => {
                    let dir = store.container_dir(&record.id).join("tmpfs").join(i.to_string());
                    std::fs::create_dir_all(&dir).context(|| format!("creating {}", dir.display()))?;
                    dir
                }
                _ => crate::mount_source(store, m),
            };
            let resolved = tree.resolve(m.destination.as_str(), true).ok();
            let guest = resolved.as_ref().map(|r| r.path.to_string()).unwrap_or_else(|| m.destination.to_string());
            // A directory over a file (an image `VOLUME` at a file's path) or a file over a
            // directory: refused at start as runc refuses the mount, with its words.
            let under = resolved.map(|r| r.node);
            let source_is_dir = host.is_dir();
            if matches!(under, Some(Node::File)) && source_is_dir || matches!(under, Some(Node::Dir)) && !source_is_dir
            {
                return Err(EngineError::Invalid(format!(
                    "failed to create task for container: error mounting \"{}\" to rootfs at \"{}\": not a directory: \
                     Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path \
                     exists and is the expected type: unknown",
                    host.display(),
                    m.destination
                )));
            }
            table.push(format!(
                "{} {guest} {} {} 0 0",
                escape_mount_field(&host.display().to_string()),
                m.kind().as_str(),
                if m.rw { "rw" } else { "ro" }
            ));
            let quota = m.volume().and_then(|v| quotas.volumes.get(v)).cloned();
            specs.push(mount_desc(guest, &host, !m.rw, quota)?);
        }
        let proc_dir = store.container_dir(&record.id).join("proc");
        std::fs::create_dir_all(&proc_dir).context(|| "creating /proc".into())?;
        table.push("proc /proc proc ro 0 0".into());
        table.extend(device_mounts(&store.container_dir(&record.id), &mut specs)?);
        std::fs::write(proc_dir.join("mounts"), table.join("\n") + "\n").context(|| "writing /proc/mounts".into())?;
        if !specs.iter().any(|s| s.guest_path == "/proc") {
            specs.push(MountDesc::dir("/proc", open_dir(&proc_dir)?, true));
        }
        let root = RootDesc {
            dir: open_dir(&rootfs)?,
            lowers: lowers.iter().map(|l| open_dir(l)).collect::<Result<_>>()?,
            read_only: record.host.read_only_rootfs,
            quota: quotas.root.clone(),
        };
        Ok(GuestTree::new(root, specs)?)
    }

    /// Finds `argv0` as the guest would (a path, or a name searched in `PATH`) and loads it.
    /// What `argv` runs, as the kernel's `execve` would decide: `argv[0]` found (in `PATH`
    /// unless it has a `/`), then either a module, or a script whose `#!` line names its
    /// interpreter (a module in the container); the argv the guest gets comes with it.
    pub(crate) fn launch(
        &self,
        tree: &GuestTree,
        argv: &[String],
        env: &[String],
    ) -> std::result::Result<(Program, Vec<String>), (i32, String)> {
        self.launch_program(tree, argv.first().map(String::as_str).unwrap_or_default(), argv, env)
    }

    /// [`Engine::launch`] of `argv0` (a path, or a name to find in `PATH`) with `argv` as
    /// given (`argv[0]` may differ from the program, as `execvp` allows).
    fn launch_program(
        &self,
        tree: &GuestTree,
        argv0: &str,
        argv: &[String],
        env: &[String],
    ) -> std::result::Result<(Program, Vec<String>), (i32, String)> {
        let candidates: Vec<String> = if argv0.contains('/') {
            vec![argv0.to_string()]
        } else {
            let path = env.iter().find_map(|e| e.strip_prefix("PATH=")).unwrap_or(DEFAULT_PATH);
            path.split(':').filter(|d| !d.is_empty()).map(|d| format!("{}/{argv0}", d.trim_end_matches('/'))).collect()
        };
        let found = candidates.iter().find_map(|p| tree.open_file(p).ok().map(|f| (p, f)));
        let Some((path, mut file)) = found else {
            let msg = if argv0.contains('/') {
                format!("exec: \"{argv0}\": stat {argv0}: no such file or directory")
            } else {
                format!("exec: \"{argv0}\": executable file not found in $PATH")
            };
            return Err((exit_codes::NOT_FOUND, msg));
        };
        let mut head = Vec::with_capacity(256);
        std::io::Read::read_to_end(&mut std::io::Read::take(&mut file, 256), &mut head)
            .map_err(|e| (exit_codes::NOT_EXECUTABLE, e.to_string()))?;
        let Some((interpreter, arg)) = porthole_core::config::shebang(&head) else {
            return Ok((self.program(file, argv0)?, argv.to_vec()));
        };
        // As Linux: the interpreter is a path (no PATH search), itself not a script.
        let interp = tree.open_file(&interpreter).map_err(|_| {
            (exit_codes::NOT_FOUND, format!("exec {path}: its interpreter {interpreter}: no such file or directory"))
        })?;
        let program = self.program(interp, &interpreter)?;
        let argv = std::iter::once(interpreter)
            .chain(arg)
            .chain(std::iter::once(path.clone()))
            .chain(argv.iter().skip(1).cloned())
            .collect();
        Ok((program, argv))
    }

    /// The module in `file` (compiled once per file identity).
    fn program(&self, file: std::fs::File, argv0: &str) -> std::result::Result<Program, (i32, String)> {
        use std::io::Seek;
        use std::os::unix::fs::MetadataExt;
        let mut file = file;
        file.rewind().map_err(|e| (exit_codes::NOT_EXECUTABLE, e.to_string()))?;
        let md = file.metadata().map_err(|e| (exit_codes::NOT_EXECUTABLE, e.to_string()))?;
        let key = (md.dev(), md.ino(), md.mtime_nsec() + md.mtime() * 1_000_000_000, md.size());
        if let Some(p) = self.inner.programs.0.lock().unwrap().get(&key) {
            return Ok(p);
        }
        let mut bytes = Vec::with_capacity(md.size() as usize);
        std::io::Read::read_to_end(&mut { file }, &mut bytes)
            .map_err(|e| (exit_codes::NOT_EXECUTABLE, e.to_string()))?;
        let program =
            self.inner.runtime.load(&bytes).map_err(|e| match porthole_core::config::native_executable(&bytes) {
                // An image loaded from another platform (`docker load` takes any): say so.
                Some(format) => (
                    exit_codes::NOT_EXECUTABLE,
                    format!(
                        "exec {argv0}: exec format error: it is {format}, not a WebAssembly module; \
                         the image was made for another platform (Porthole runs {}/{} images)",
                        crate::oci::OS,
                        crate::oci::ARCHITECTURE
                    ),
                ),
                None => (exit_codes::NOT_EXECUTABLE, format!("exec {argv0}: exec format error: {e}")),
            })?;
        self.inner.programs.0.lock().unwrap().insert(key, program.clone());
        Ok(program)
    }

    /// `docker start`: a running container is left alone, as Docker does.
    /// `docker start`. Under the world lock only to decide and to commit: the namespace, the
    /// program (perhaps a compile) and the streams are made between, with the container
    /// marked as starting so that a second start leaves it alone.
    pub fn start(&self, reference: &str) -> Result<()> {
        let (id, quotas) = self.container_quotas(reference)?;
        let (id, record, sink) = {
            let mut w = self.world();
            // By id: the name may have been taken by another container while the lock was free.
            let id = w.container_id(id.as_str())?;
            let c = w.containers.get_mut(&id).unwrap();
            if c.starting || !c.record.state.status.can_start(c.record.name.as_str())? {
                return Ok(());
            }
            c.starting = true;
            (id, c.record.clone(), c.log.clone())
        };
        let prepared = self.prepare_start(&record, &quotas, sink);
        let mut w = self.world();
        match w.containers.get_mut(&id) {
            Some(c) => c.starting = false,
            None => return Err(EngineError::NoSuchContainer(id.to_string())),
        }
        let Prepared { guest, processes, program, stdin_writer, stopper, mut refusal_out, ports, usage } =
            match prepared {
                Ok(p) => p,
                Err((code, e)) => return Err(self.start_failed(&mut w, &id, code, e)),
            };
        let limits = Limits::with_memory(record.host.memory_bytes);

        let c = w.containers.get_mut(&id).unwrap();
        c.record.state.status = Status::Running;
        c.record.state.started_at = porthole_store::now_nanos();
        c.record.state.exit_code = 0;
        c.record.state.oom_killed = false;
        c.record.state.error.clear();
        c.running = Some(Running { stopper, processes, stdin: stdin_writer, ports, paused: false, usage });
        self.inner.store.save_container(&c.record).context(|| "saving container state".into())?;
        c.publish(false);
        c.health = record.config.healthcheck.as_ref().and_then(|h| h.probe_argv()).map(|_| Default::default());
        if let Some(check) = record.config.healthcheck.clone().filter(|h| h.probe_argv().is_some()) {
            crate::health::watch(self.clone(), id.clone(), c.exits, check);
        }
        for (m, volume) in record.mounts.iter().filter_map(|m| Some((m, m.volume()?))) {
            self.emit(
                self.event(EventType::Volume, "mount", volume)
                    .with("container", id.as_str())
                    .with("destination", m.destination.as_str())
                    .with("read/write", m.rw.to_string())
                    .with("driver", "local"),
            );
        }
        self.emit(
            self.event(EventType::Container, "start", id.as_str())
                .with("name", record.name.as_str())
                .with("image", &record.image),
        );
        self.inner.changed.notify_all();
        drop(w);

        let engine = self.clone();
        std::thread::Builder::new()
            .name(format!("guest-{}", id.short()))
            .spawn(move || {
                let result = match &program {
                    Ok(program) => engine.inner.runtime.run(program, guest, &limits),
                    Err(refusal) => {
                        let _ = std::io::Write::write_all(&mut refusal_out, format!("{refusal}\n").as_bytes());
                        Ok(Exit::Code(exit_codes::NOT_EXECUTABLE))
                    }
                };
                let (ending, error) = match result {
                    Ok(Exit::Code(c)) => (Ending::Exited(c), String::new()),
                    Ok(Exit::Stopped) => (Ending::Killed, String::new()),
                    Ok(Exit::Signaled(sig)) => (Ending::Signaled(sig as i32), String::new()),
                    Ok(Exit::OutOfMemory) => (Ending::OutOfMemory, String::new()),
                    Ok(Exit::Trap(t)) => (Ending::Trapped, t),
                    Err(e) => (Ending::Trapped, e.to_string()),
                };
                let mut w = engine.world();
                engine.record_exit(&mut w, &id, ending.exit_code(), ending == Ending::OutOfMemory, &error);
            })
            .context(|| "starting the guest thread".into())?;
        Ok(())
    }

    /// What `start` makes without the lock: the namespace, the program, the log and streams,
    /// the guest's host state. An error carries the exit code the container gets.
    fn prepare_start(
        &self,
        record: &ContainerRecord,
        quotas: &ContainerQuotas,
        sink: Arc<LogSink>,
    ) -> std::result::Result<Prepared, (i32, EngineError)> {
        let failed = |e: EngineError| (exit_codes::ENGINE_ERROR, e);
        let tree = self.guest_tree(record, quotas).map_err(failed)?;
        let env = guest_env(record, &tree);
        let argv: Vec<String> = std::iter::once(record.path.clone()).chain(record.args.iter().cloned()).collect();
        let (program, argv) = match self.launch(&tree, &argv, &env) {
            Ok((p, argv)) => (Ok(p), argv),
            // Found but not runnable (not a module, an import Porthole lacks, no `_start`): as
            // with runc, whose execve fails after the container started, the reason goes to the
            // container's stderr and it exits 126.
            Err((code, msg)) if code == exit_codes::NOT_EXECUTABLE => (Err(msg), argv),
            Err((code, msg)) => {
                return Err((
                    code,
                    EngineError::Invalid(format!("failed to create task for container: {msg}: unknown")),
                ));
            }
        };
        // With a TTY, Docker merges stderr into stdout.
        let stderr_stream = if record.tty { LogStream::Stdout } else { LogStream::Stderr };
        let (stdin, stdin_writer) = if record.open_stdin {
            let (r, wr) = rustix::pipe::pipe()
                .map_err(std::io::Error::from)
                .context(|| "creating the stdin pipe".into())
                .map_err(failed)?;
            let r = std::fs::File::from(r);
            // The terminal's line discipline runs on the guest's side (it echoes to the
            // container's output, as a pty does): the pipe carries keys as typed.
            let input = if record.tty {
                Input::Tty(Tty::new(r, Box::new(LogWriter { sink: sink.clone(), stream: LogStream::Stdout })))
            } else {
                Input::File(r)
            };
            (input, Some(std::fs::File::from(wr)))
        } else {
            (Input::Null, None)
        };
        let refusal_out = LogWriter { sink: sink.clone(), stream: stderr_stream };
        let stdio = Stdio {
            stdin,
            stdout: Box::new(LogWriter { sink: sink.clone(), stream: LogStream::Stdout }),
            stderr: Box::new(LogWriter { sink, stream: stderr_stream }),
            tty: record.tty,
        };
        let plan = porthole_core::ports::plan(
            &record.host.port_bindings,
            &record.config.exposed_port_keys(),
            record.host.publish_all_ports,
            self.inner.publish_scope,
        )
        .map_err(|e| failed(e.into()))?;
        let bound = crate::ports::bind(&plan, record).map_err(failed)?;
        let ports = bound.iter().map(|(p, _)| *p).collect();
        let stopper = self.inner.runtime.stopper();
        let usage = Arc::new(porthole_runtime::Usage::default());
        let events = Arc::new(FileEvents::new(self, record, &tree));
        let limits = Limits::with_memory(record.host.memory_bytes);
        let processes = self.process_table(&limits, Some(usage.clone()), record.host.pids_limit);
        let guest = GuestSpec {
            processes: Some(processes.clone()),
            args: argv,
            env,
            stdio,
            listeners: bound.into_iter().map(|(p, l)| (l, p.container.to_string())).collect(),
            observer: Some(events),
            stopper: Some(stopper.clone()),
            fd_budget: Some(self.inner.fd_budget.clone()),
            usage: Some(usage.clone()),
            workdir: porthole_core::guest_path::GuestPath::new(&record.config.working_dir),
            ..GuestSpec::new(tree)
        }
        .prepare()
        .map_err(|e| failed(EngineError::PrepareGuest(e)))?;
        Ok(Prepared { guest, processes, program, stdin_writer, stopper, refusal_out, ports, usage })
    }
}

/// What the process tables of the engine's guests start a program with (`proc_spawn`): the
/// engine's own `execve`, [`Engine::launch`]. Holds the engine weakly: a table lives inside
/// the engine's world, and must not keep the engine alive.
pub(crate) struct EngineLauncher(std::sync::Weak<crate::Inner>);

impl Launcher for EngineLauncher {
    fn launch(
        &self,
        tree: &GuestTree,
        program: &str,
        argv: &[String],
        env: &[String],
    ) -> std::result::Result<(Program, Vec<String>), LaunchError> {
        let inner = self.0.upgrade().ok_or_else(|| LaunchError::NotFound("the controller is shutting down".into()))?;
        Engine { inner }.launch_program(tree, program, argv, env).map_err(|(code, msg)| {
            if code == exit_codes::NOT_FOUND { LaunchError::NotFound(msg) } else { LaunchError::NotExecutable(msg) }
        })
    }
}

impl Engine {
    /// A new process table for a container (or a build step) under `limits`.
    pub(crate) fn process_table(
        &self,
        limits: &Limits,
        usage: Option<Arc<porthole_runtime::Usage>>,
        pids_limit: Option<u64>,
    ) -> Processes {
        let launcher = Arc::new(EngineLauncher(Arc::downgrade(&self.inner)));
        let pids = pids_limit.map(|p| usize::try_from(p).unwrap_or(usize::MAX));
        Processes::new(&self.inner.runtime, launcher, limits.clone(), usage, pids)
    }
}

/// A guest ready to run, made by `prepare_start`.
struct Prepared {
    guest: Guest,
    processes: Processes,
    /// The program, or why it cannot run (told on the container's stderr; exit 126).
    program: std::result::Result<Program, String>,
    stdin_writer: Option<std::fs::File>,
    stopper: Stopper,
    refusal_out: LogWriter,
    ports: Vec<PublishedPort>,
    usage: Arc<porthole_runtime::Usage>,
}

impl Engine {
    /// A start that failed before the guest ran: the container exits with `code` and the error,
    /// and one made with `--rm` is removed, as Docker does (the CLI waits for that removal).
    fn start_failed(&self, w: &mut World, id: &Id, code: i32, error: EngineError) -> EngineError {
        self.record_exit(w, id, code, false, &error.to_string());
        error
    }

    /// Marks a container exited with `code`, saves it (or removes it, made with `--rm`, as
    /// Docker does: the CLI waits for that removal) and wakes waiters.
    fn record_exit(&self, w: &mut World, id: &Id, code: i32, oom: bool, error: &str) {
        let Some(c) = w.containers.get_mut(id) else { return };
        // Its main process ended: every other process ends with it, as in a PID namespace.
        if let Some(r) = c.running.take() {
            r.stop();
        }
        for exec in c.execs.values() {
            exec.stopper.stop();
        }
        c.log.close();
        c.exits += 1;
        c.record.state.status = Status::Exited;
        c.record.state.exit_code = code;
        c.record.state.oom_killed = oom;
        c.record.state.error = error.to_string();
        c.record.state.finished_at = porthole_store::now_nanos();
        // A `--rm` container's exit is not written: it is removed below under the same lock
        // hold, so the write would be deleted at once. If the controller dies in between, the
        // record on disk still says running and recovery marks it exited (255), as it does for
        // any guest the controller's end takes; if the removal fails, the exit is saved then.
        let auto_remove = c.record.host.auto_remove;
        if !auto_remove {
            let _ = self.inner.store.save_container(&c.record);
        }
        c.publish(false);
        let name = c.record.name.to_string();
        let image = c.record.image.clone();
        let mounts: Vec<MountPoint> = c.record.mounts.clone();
        if oom {
            self.emit(self.event(EventType::Container, "oom", id.as_str()).with("name", name.clone()));
        }
        self.emit(
            self.event(EventType::Container, "die", id.as_str())
                .with("name", name)
                .with("image", image)
                .with("exitCode", code.to_string()),
        );
        for volume in mounts.iter().filter_map(MountPoint::volume) {
            self.emit(
                self.event(EventType::Volume, "unmount", volume).with("container", id.as_str()).with("driver", "local"),
            );
        }
        if auto_remove
            && self.remove_locked(w, id, true).is_err()
            && let Some(c) = w.containers.get(id)
        {
            let _ = self.inner.store.save_container(&c.record);
        }
        self.inner.changed.notify_all();
    }

    /// `docker stop`: TERM to the main process, then, if the container still runs after
    /// `timeout` (Docker's 10 s by default), every process is ended (as SIGKILL). A main
    /// process that does not catch TERM ends at once with 143: unlike a kernel, Porthole does
    /// not shield pid 1 from signals it has no handler for.
    pub fn stop(&self, reference: &str, timeout: Option<Duration>) -> Result<()> {
        let w = self.world();
        let id = w.container_id(reference)?;
        let Some(running) = &w.containers[&id].running else { return Ok(()) };
        let stopped = |c: Option<&Container>| c.is_none_or(|c| c.running.is_none());
        if !running.paused {
            running.processes.signal(1, porthole_runtime::signal::TERM);
            let w = self.wait_locked_for(w, &id, timeout.unwrap_or(DEFAULT_STOP_TIMEOUT), stopped);
            if let Some(running) = &w.containers.get(&id).and_then(|c| c.running.as_ref()) {
                running.stop();
            }
            drop(self.wait_locked(w, &id, stopped));
            return Ok(());
        }
        running.stop();
        drop(self.wait_locked(w, &id, stopped));
        Ok(())
    }

    /// `docker kill [-s SIGNAL]`: KILL (the default) ends every process; another signal goes
    /// to the main process, which ends unless it catches it.
    pub fn kill(&self, reference: &str, signal: Option<&str>) -> Result<()> {
        let sig = match signal.filter(|s| !s.is_empty()) {
            Some(s) => parse_signal(s)?,
            None => porthole_runtime::signal::KILL,
        };
        let w = self.world();
        let c = w.container(reference)?;
        c.record.state.status.can_kill(c.record.name.as_str())?;
        let id = c.record.id.clone();
        self.emit(self.event(EventType::Container, "kill", id.as_str()).with("signal", signal_name(sig)));
        if sig != porthole_runtime::signal::KILL {
            if let Some(r) = &c.running {
                r.processes.signal(1, sig);
            }
            return Ok(());
        }
        let Some(running) = &c.running else { return Ok(()) };
        running.stop();
        drop(self.wait_locked(w, &id, |c| c.is_none_or(|c| c.running.is_none())));
        Ok(())
    }

    /// `docker restart`: the same container, mounts and volumes (no copy-up again).
    pub fn restart(&self, reference: &str) -> Result<()> {
        self.stop(reference, None)?;
        {
            let mut w = self.world();
            let id = w.container_id(reference)?;
            w.containers.get_mut(&id).unwrap().record.restart_count += 1;
        }
        self.start(reference)
    }

    /// Blocks until `cond` holds; returns the exit code.
    pub fn wait(&self, reference: &str, cond: WaitCondition) -> Result<i32> {
        let w = self.world();
        let id = w.container_id(reference)?;
        let exits = w.containers[&id].exits;
        let w = match cond {
            WaitCondition::NotRunning => {
                self.wait_locked(w, &id, |c| c.is_none_or(|c| !c.record.state.status.is_running()))
            }
            WaitCondition::NextExit => self.wait_locked(w, &id, |c| c.is_none_or(|c| c.exits > exits)),
            WaitCondition::Removed => self.wait_locked(w, &id, |c| c.is_none()),
        };
        // A container removed by --rm reports the code it exited with.
        Ok(w.containers
            .get(&id)
            .map(|c| c.record.state.exit_code)
            .or_else(|| w.removed_exit_codes.get(&id).copied())
            .unwrap_or(0))
    }

    /// `docker wait` without holding a thread: the container is looked up now (so one that
    /// `--rm` removes a moment later still reports its exit code), and the returned future
    /// resolves with the exit code when `cond` is met. Dropping it (the client went away)
    /// leaves nothing behind.
    pub fn wait_async(
        &self,
        reference: &str,
        cond: WaitCondition,
    ) -> Result<impl std::future::Future<Output = i32> + Send + use<>> {
        let w = self.world();
        let c = w.container(reference)?;
        let mut rx = c.phase.subscribe();
        let exits_then = c.exits;
        drop(w);
        Ok(async move {
            let met = rx.wait_for(|p| cond.met(p, exits_then)).await.map(|p| p.exit_code);
            // Err: the container left without a last word; its last known code stands.
            met.unwrap_or_else(|_| rx.borrow().exit_code)
        })
    }

    /// [`Engine::wait_locked`] for at most `limit`; the lock is held again either way.
    fn wait_locked_for<'a>(
        &'a self,
        mut w: MutexGuard<'a, World>,
        id: &Id,
        limit: Duration,
        done: impl Fn(Option<&Container>) -> bool,
    ) -> MutexGuard<'a, World> {
        let deadline = std::time::Instant::now() + limit;
        while !done(w.containers.get(id)) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            w = self.inner.changed.wait_timeout(w, left).unwrap_or_else(|p| p.into_inner()).0;
        }
        w
    }

    pub(crate) fn wait_locked<'a>(
        &'a self,
        mut w: MutexGuard<'a, World>,
        id: &Id,
        done: impl Fn(Option<&Container>) -> bool,
    ) -> MutexGuard<'a, World> {
        while !done(w.containers.get(id)) {
            w = self.inner.changed.wait(w).unwrap_or_else(|p| p.into_inner());
        }
        w
    }

    /// The streams of a container for `docker attach` / `run` without `-d`.
    pub fn attach(&self, reference: &str) -> Result<Attach> {
        let w = self.world();
        let c = w.container(reference)?;
        let stdin = match &c.running {
            Some(r) => r.stdin.as_ref().and_then(|f| f.try_clone().ok()),
            None => None,
        };
        Ok(Attach { stdin, output: c.log.subscribe(), tty: c.record.tty })
    }

    /// Closes the guest's stdin for good (the engine's own copy of the pipe's write end), so
    /// it reads end-of-file once attached clients close theirs: Docker's `StdinOnce`.
    pub fn close_stdin(&self, reference: &str) -> Result<()> {
        let mut w = self.world();
        let id = w.container_id(reference)?;
        if let Some(running) = w.containers.get_mut(&id).and_then(|c| c.running.as_mut()) {
            running.stdin = None;
        }
        Ok(())
    }

    /// Output subscription only, for attaching before start (`docker run`).
    pub fn output(&self, reference: &str) -> Result<broadcast::Receiver<LogLine>> {
        Ok(self.world().container(reference)?.log.subscribe())
    }

    /// What the container wrote so far (all of it or its tail, read as the reader is
    /// iterated), and a subscription for what follows, neither losing nor repeating a line.
    pub fn logs(&self, reference: &str, opts: LogOptions) -> Result<Logs> {
        let (sink, running) = {
            let w = self.world();
            let c = w.container(reference)?;
            (c.log.clone(), c.record.state.status.is_running())
        };
        let (past, live) = sink.snapshot(opts).context(|| "reading the log".into())?;
        Ok(Logs { past, live, running })
    }

    /// `docker exec`: another guest in the running container, with the same mounts; blocks
    /// until it ends and returns its exit code.
    pub fn exec(&self, reference: &str, opts: ExecOptions) -> Result<i32> {
        let (id, quotas) = self.container_quotas(reference)?;
        let stopper = self.inner.runtime.stopper();
        let (record, tree, serial, usage) = {
            let mut w = self.world();
            let c = w.container(id.as_str())?;
            c.record.state.status.can_kill(c.record.id.as_str())?;
            if c.running.as_ref().is_some_and(|r| r.paused) {
                return Err(porthole_core::state::StateError::Paused(c.record.id.to_string()).into());
            }
            let (record, tree) = (c.record.clone(), self.guest_tree(&c.record, &quotas)?);
            let usage = c.running.as_ref().map(|r| (r.usage.clone(), r.processes.clone()));
            // Registered while the lock proves the container runs, so its end reaches this guest.
            let c = w.containers.get_mut(&record.id).expect("looked up above");
            c.next_exec += 1;
            let session = crate::processes::ExecSession { stopper: stopper.clone() };
            c.execs.insert(c.next_exec, session);
            (record, tree, c.next_exec, usage)
        };
        let timer = opts.timeout.map(|limit| {
            let stopper = stopper.clone();
            let (done, finished) = std::sync::mpsc::channel::<()>();
            std::thread::spawn(move || {
                if finished.recv_timeout(limit) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                    stopper.stop();
                }
            });
            done
        });
        let (usage, processes) = usage.unzip();
        let result = self.run_exec(&record, tree, stopper, usage, processes, opts);
        drop(timer);
        if let Some(c) = self.world().containers.get_mut(&record.id) {
            c.execs.remove(&serial);
        }
        result
    }

    fn run_exec(
        &self,
        record: &ContainerRecord,
        tree: GuestTree,
        stopper: Stopper,
        usage: Option<Arc<porthole_runtime::Usage>>,
        processes: Option<Processes>,
        opts: ExecOptions,
    ) -> Result<i32> {
        let mut env = guest_env(record, &tree);
        env = porthole_core::config::merge_env(&env, &opts.env);
        if let Some(wd) = &opts.workdir {
            env = porthole_core::config::merge_env(&env, &[format!("PWD={wd}")]);
        }
        let (program, argv) = self
            .launch(&tree, &opts.cmd, &env)
            .map_err(|(_, msg)| EngineError::Invalid(format!("OCI runtime exec failed: {msg}: unknown")))?;
        let events = Arc::new(FileEvents::new(self, record, &tree));
        let guest = GuestSpec {
            args: argv,
            env,
            stdio: opts.stdio,
            observer: Some(events),
            stopper: Some(stopper),
            fd_budget: Some(self.inner.fd_budget.clone()),
            usage,
            processes,
            // `exec -w`, else the container's working directory, as Docker's exec.
            workdir: porthole_core::guest_path::GuestPath::new(
                opts.workdir.as_deref().unwrap_or(&record.config.working_dir),
            ),
            ..GuestSpec::new(tree)
        }
        .prepare()
        .map_err(EngineError::PrepareGuest)?;
        let exit = self
            .inner
            .runtime
            // The container's memory cap applies to what runs in it, as a cgroup's would.
            .run(&program, guest, &Limits::with_memory(record.host.memory_bytes))?;
        Ok(exit.status())
    }
}

/// The guest's environment: the container's, plus `HOSTNAME`, `HOME` when unset (as runc
/// sets them) and `PWD` (the working directory, as a shell would export it; the program's libc
/// is handed the directory itself through `GuestSpec::workdir`).
fn guest_env(record: &ContainerRecord, tree: &GuestTree) -> Vec<String> {
    let mut extra = vec![format!("HOSTNAME={}", crate::containers::hostname(&record.config, &record.id))];
    if !record.config.env.iter().any(|e| e.starts_with("HOME=")) {
        extra.push(format!("HOME={}", porthole_core::config::root_home(&read_passwd(tree))));
    }
    if !record.config.working_dir.is_empty() {
        extra.push(format!("PWD={}", record.config.working_dir));
    }
    let mut env = porthole_core::config::merge_env(&extra, &record.config.env);
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.push(format!("PATH={DEFAULT_PATH}"));
    }
    env
}

/// The container's `/etc/passwd`, read as the guest would see it (through its namespace),
/// at most 64 KiB of it; empty if there is none.
fn read_passwd(tree: &GuestTree) -> String {
    use std::io::Read;
    let mut text = String::new();
    if let Ok(f) = tree.open_file("/etc/passwd") {
        let _ = f.take(64 << 10).read_to_string(&mut text);
    }
    text
}

/// `/proc/mounts` escapes blanks in fields as octal, like the kernel.
fn escape_mount_field(s: &str) -> String {
    s.replace('\\', "\\134").replace(' ', "\\040").replace('\t', "\\011").replace('\n', "\\012")
}
