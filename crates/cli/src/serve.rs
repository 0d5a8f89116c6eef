//! `porthole serve`: decide who may connect (refusing a reachable address without a token),
//! lock the root (one controller per root, 0700), open the engine, bind the TCP and unix
//! listeners, announce readiness, serve until SIGINT/SIGTERM, then stop running guests.

use std::fs::File;
use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use porthole_api::{Access, ServeOptions, Token};
use porthole_engine::{Engine, EngineConfig, PublishScope};

use crate::ServeArgs;

/// `$XDG_DATA_HOME/porthole`, else `~/.local/share/porthole`.
fn default_root() -> anyhow::Result<PathBuf> {
    if let Some(data) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(data).join("porthole"));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .context("neither XDG_DATA_HOME nor HOME is set; pass --root")?;
    Ok(PathBuf::from(home).join(".local/share/porthole"))
}

/// Holds `<root>/porthole.lock` for the life of the process: two controllers on one root
/// would corrupt each other's records.
fn lock_root(root: &Path) -> anyhow::Result<File> {
    let path = root.join("porthole.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(file),
        Err(rustix::io::Errno::WOULDBLOCK) => {
            bail!("another porthole serve is already running on {} (it holds {})", root.display(), path.display())
        }
        Err(e) => Err(e).with_context(|| format!("locking {}", path.display())),
    }
}

/// Binds the unix socket readable and writable by its owner only.
fn bind_unix(path: &Path) -> anyhow::Result<tokio::net::UnixListener> {
    // A socket left by a crash; the lock proves nobody serves it.
    let _ = std::fs::remove_file(path);
    let old = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o177));
    let bound = tokio::net::UnixListener::bind(path);
    rustix::process::umask(old);
    let listener = bound.with_context(|| format!("binding {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("chmod {}", path.display()))?;
    Ok(listener)
}

/// Who may use the TCP listener: this user on loopback, and whoever has the token. An address
/// other machines can reach needs both `--allow-remote` and a token.
fn access(args: &ServeArgs) -> anyhow::Result<Access> {
    let token = match &args.token_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            Some(Token::new(text.trim()).with_context(|| format!("the token in {}", path.display()))?)
        }
        None => None,
    };
    let remote_allowed = args.allow_remote && token.is_some();
    if !args.listen.ip().is_loopback() && !remote_allowed {
        bail!(
            "refusing to listen on {}, which other machines can reach: anyone reaching it could run guests and \
             read every file this user can. Pass --allow-remote --token-file FILE to serve clients that send \
             the token (see README), or listen on 127.0.0.1",
            args.listen
        );
    }
    Ok(Access { token, ..Access::own_user() })
}

/// What runs once the controller serves (`porthole demo` sets up its containers): given the
/// engine, the API's TCP address and the root. An error ends the controller, as Ctrl-C would.
pub type OnReady = Box<dyn FnOnce(Engine, SocketAddr, &Path) -> anyhow::Result<()> + Send>;

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    run_with(args, None)
}

/// `porthole serve`, then `on_ready` beside the server.
pub fn run_with(args: ServeArgs, on_ready: Option<OnReady>) -> anyhow::Result<()> {
    let access = access(&args)?;
    let root = match args.root {
        Some(r) => r,
        None => default_root()?,
    };
    // Private from the start (the engine also tightens an existing root).
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&root)
        .with_context(|| format!("creating {}", root.display()))?;
    let root = root.canonicalize().with_context(|| format!("resolving {}", root.display()))?;
    let _lock = lock_root(&root)?;
    let publish_scope = if args.publish_remote { PublishScope::Any } else { PublishScope::Loopback };
    let (engine, _recovery) = Engine::open(EngineConfig {
        root: root.clone(),
        module_cache: args.module_cache,
        fd_budget: None,
        publish_scope,
        insecure_registries: args.insecure_registries,
    })
    .context("opening the engine")?;
    for warning in engine.warnings() {
        eprintln!("porthole: warning: {warning}");
    }
    let options = ServeOptions { access, header_timeout: Duration::from_secs(args.header_timeout.max(1)) };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    runtime.block_on(serve(engine, &root, args.listen, args.allow_actions, options, on_ready))
}

async fn serve(
    engine: Engine,
    root: &Path,
    listen: SocketAddr,
    allow_actions: bool,
    options: ServeOptions,
    on_ready: Option<OnReady>,
) -> anyhow::Result<()> {
    let tcp = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
    let addr = tcp.local_addr()?;
    let socket = root.join("porthole.sock");
    let unix = bind_unix(&socket)?;
    let api = porthole_api::Api::new(engine.clone()).allow_actions(allow_actions);
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "Porthole listening on http://{addr} and unix://{}", socket.display())?;
        writeln!(out, "ready")?;
        out.flush()?;
    }
    // An `on_ready` that fails stops the controller; without one, the channel closes at once and
    // only a signal does.
    let (failed, on_ready_failed) = tokio::sync::oneshot::channel::<anyhow::Error>();
    if let Some(f) = on_ready {
        let (engine, root) = (engine.clone(), root.to_path_buf());
        tokio::task::spawn_blocking(move || {
            if let Err(e) = f(engine, addr, &root) {
                let _ = failed.send(e);
            }
        });
    }
    let failure = std::sync::Arc::new(std::sync::Mutex::new(None));
    let failure_seen = failure.clone();
    let stopping = engine.clone();
    let shutdown = async move {
        tokio::select! {
            _ = wait_for_signal() => {}
            Ok(e) = on_ready_failed => *failure_seen.lock().unwrap() = Some(e),
        }
        eprintln!("porthole: shutting down: stopping running containers");
        let _ = tokio::task::spawn_blocking(move || stop_all(&stopping)).await;
    };
    porthole_api::serve(&api, tcp, Some(unix), options, shutdown).await.context("serving")?;
    let _ = std::fs::remove_file(&socket);
    match failure.lock().unwrap().take() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
        (Ok(mut int), Ok(mut term)) => {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Stops every running guest; the engine records each exit as it happens.
fn stop_all(engine: &Engine) {
    for info in engine.list(false) {
        if let Err(e) = engine.stop(info.record.id.as_str(), None) {
            eprintln!("porthole: stopping {}: {e}", info.record.name.as_str());
        }
    }
}
