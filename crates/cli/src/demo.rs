//! `porthole demo`: the controller, plus the 2014 Pulp arrangement running in it — the images
//! of `examples/pulp/` built, a data container holding the two volumes, the mirroring worker
//! and the web server taking them with `--volumes-from`, the web server's port published — and
//! the URLs to look at. Each step is the engine call the docker command it prints would make,
//! so a reader can do the same by hand. What exists already (images, containers) is reused,
//! so a second run starts where the first stopped.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use porthole_engine::{BuildOptions, CreateOptions, Engine, MountRequests};

use crate::serve::{self, OnReady};
use crate::{DemoArgs, ServeArgs};

/// The data container; the worker and the web server take its volumes.
const DATA: &str = "pulp-content";
const WORKER: &str = "pulp-worker";
const WEB: &str = "pulp-apache";
/// The sample repository, served by the web server under `/pub/tools/`.
const REPO: &str = "tools";

/// A file of a build context: its name and bytes.
pub(crate) type ContextFile = (&'static str, &'static [u8]);

/// The images, in build order: tag, Dockerfile, and the other files of its context.
pub(crate) fn images() -> Vec<(&'static str, &'static str, Vec<ContextFile>)> {
    vec![
        (
            "pulp-base",
            include_str!("../../../examples/pulp/base/Dockerfile"),
            vec![("pulp-worker.wasm", porthole_guests::PULP_WORKER_WASM), ("httpd.wasm", porthole_guests::HTTPD_WASM)],
        ),
        ("markllama/pulp-content", include_str!("../../../examples/pulp/content/Dockerfile"), vec![]),
        ("pulp-worker", include_str!("../../../examples/pulp/worker/Dockerfile"), vec![]),
        ("pulp-apache", include_str!("../../../examples/pulp/apache/Dockerfile"), vec![]),
    ]
}

/// `examples/pulp/upstream/tools`, the repository the worker mirrors.
pub(crate) const UPSTREAM: &[ContextFile] = &[
    ("MANIFEST", include_bytes!("../../../examples/pulp/upstream/tools/MANIFEST")),
    ("README.txt", include_bytes!("../../../examples/pulp/upstream/tools/README.txt")),
    ("hello/hello-1.0.txt", include_bytes!("../../../examples/pulp/upstream/tools/hello/hello-1.0.txt")),
    ("hello/hello-1.1.txt", include_bytes!("../../../examples/pulp/upstream/tools/hello/hello-1.1.txt")),
];

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let web = args.web;
    let serve_args = ServeArgs { allow_actions: true, ..args.serve };
    let on_ready: OnReady = Box::new(move |engine, api, root| set_up(&engine, api, root, web));
    serve::run_with(serve_args, Some(on_ready))
}

fn set_up(engine: &Engine, api: SocketAddr, root: &Path, web: SocketAddr) -> anyhow::Result<()> {
    for (tag, dockerfile, files) in images() {
        build(engine, tag, dockerfile, &files)?;
    }
    let upstream = write_upstream(root)?;
    if engine.inspect(DATA).is_err() {
        step(&format!("docker create --name {DATA} markllama/pulp-content true"));
        engine.create(CreateOptions {
            name: Some(DATA.into()),
            image: "markllama/pulp-content".into(),
            cmd: Some(vec!["true".into()]),
            ..Default::default()
        })?;
    }
    let upstream_bind = format!("{}:/srv/upstream:ro", upstream.display());
    run_detached(
        engine,
        &format!("docker run -d --name {WORKER} --volumes-from {DATA} -v {upstream_bind} {WORKER}"),
        CreateOptions {
            name: Some(WORKER.into()),
            image: WORKER.into(),
            mounts: MountRequests {
                binds: vec![upstream_bind.clone()],
                volumes_from: vec![DATA.into()],
                ..Default::default()
            },
            ..Default::default()
        },
    )?;
    run_detached(
        engine,
        &format!("docker run -d --name {WEB} --volumes-from {DATA} -p {web}:80 {WEB}"),
        CreateOptions {
            name: Some(WEB.into()),
            image: WEB.into(),
            mounts: MountRequests { volumes_from: vec![DATA.into()], ..Default::default() },
            port_bindings: [("80/tcp".to_string(), vec![web.to_string()])].into(),
            ..Default::default()
        },
    )?;
    let served = engine.inspect(WEB)?.ports.first().map(|p| p.host).context("the web server has no published port")?;
    let file = format!("/pub/{REPO}/hello/hello-1.0.txt");
    wait_until_served(served, &file)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "\nThe Pulp mirror runs in Porthole:")?;
    writeln!(out, "  dashboard:       http://{api}/")?;
    writeln!(out, "  a mirrored file: http://{served}{file}")?;
    writeln!(out, "  the repository:  {} (edit it; the worker syncs every 10 s)", upstream.display())?;
    writeln!(out, "  your shell:      export DOCKER_HOST=tcp://{api} DOCKER_BUILDKIT=0")?;
    writeln!(out, "Press Ctrl-C to stop Porthole (the containers and volumes are kept).")?;
    out.flush()?;
    Ok(())
}

/// Prints the docker command a step stands for, in bold on a terminal.
fn step(command: &str) {
    if std::io::stdout().is_terminal() {
        println!("\x1b[1m$ {command}\x1b[0m");
    } else {
        println!("$ {command}");
    }
}

/// Builds `tag` from a context of its Dockerfile and files, unless the image exists.
fn build(engine: &Engine, tag: &str, dockerfile: &str, files: &[ContextFile]) -> anyhow::Result<()> {
    if engine.images().iter().any(|(_, tags)| tags.iter().any(|t| t == &format!("{tag}:latest"))) {
        println!("(image {tag} exists)");
        return Ok(());
    }
    step(&format!("docker build -t {tag} examples/pulp/{}", tag.rsplit(['/', '-']).next().unwrap_or(tag)));
    let context = tempfile::tempdir().context("making a build context")?;
    std::fs::write(context.path().join("Dockerfile"), dockerfile)?;
    for (name, bytes) in files {
        std::fs::write(context.path().join(name), bytes)?;
    }
    let opts = BuildOptions {
        context: context.path().to_path_buf(),
        dockerfile: None,
        tags: vec![tag.into()],
        ..Default::default()
    };
    engine.build(opts, &mut |line| print!("{line}")).with_context(|| format!("building {tag}"))?;
    Ok(())
}

/// `<root>/demo/upstream/tools`, written from the sample once; later edits are the user's.
fn write_upstream(root: &Path) -> anyhow::Result<PathBuf> {
    let upstream = root.join("demo").join("upstream");
    let repo = upstream.join(REPO);
    if !repo.exists() {
        for (path, bytes) in UPSTREAM {
            let file = repo.join(path);
            std::fs::create_dir_all(file.parent().unwrap())?;
            std::fs::write(&file, bytes).with_context(|| format!("writing {}", file.display()))?;
        }
    }
    Ok(upstream)
}

/// Creates the container unless it exists, and starts it unless it runs.
fn run_detached(engine: &Engine, command: &str, opts: CreateOptions) -> anyhow::Result<()> {
    let name = opts.name.clone().unwrap_or_default();
    match engine.inspect(&name) {
        Ok(info) if info.record.state.status.is_running() => return Ok(()),
        Ok(_) => step(&format!("docker start {name}")),
        Err(_) => {
            step(command);
            engine.create(opts)?;
        }
    }
    engine.start(&name).with_context(|| format!("starting {name}"))?;
    Ok(())
}

/// Waits for the worker's first sync to reach the web server: the file answers 200.
fn wait_until_served(addr: SocketAddr, path: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if porthole_engine::http_status_of(addr, path).is_ok_and(|s| s == 200) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("http://{addr}{path} was not served within 60 s; see `docker logs {WORKER}` and `docker logs {WEB}`");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
