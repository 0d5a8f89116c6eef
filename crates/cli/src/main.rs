//! The `porthole` binary. `porthole serve` runs the controller: one engine over a state root,
//! the Docker-compatible API on loopback TCP and on a unix socket in the root.

mod controller;
mod demo;
mod kube;
mod lesson;
mod serve;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "porthole", version, about = "Containers as WebAssembly guests, driven by the stock docker CLI")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the Docker Engine API (point DOCKER_HOST at it).
    Serve(ServeArgs),
    /// Serve, with the Pulp mirror of `examples/pulp` running in it: a worker syncing a sample
    /// repository into shared volumes and a web server publishing them on `--web`.
    Demo(DemoArgs),
    /// Classroom lessons: list them, play one against a running controller, check a lesson
    /// file, reset what a lesson created.
    Lesson {
        #[command(subcommand)]
        command: lesson::LessonCommand,
    },
    /// Pods: a Pod manifest for containers (generate), run a manifest's pods (play), remove
    /// them (down), as `podman kube` does.
    Kube {
        #[command(subcommand)]
        command: kube::KubeCommand,
    },
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// The host address the web server's port 80 is published on (`-p`).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub web: SocketAddr,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// State directory (volumes, containers, images); default: the per-user data directory.
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// TCP address to listen on. Only a loopback address, served to this user only, unless
    /// `--allow-remote` and `--token-file` are given.
    #[arg(long, default_value = "127.0.0.1:2375")]
    pub listen: SocketAddr,
    /// Allow a `--listen` address other machines can reach; requires `--token-file`.
    #[arg(long, requires = "token_file")]
    pub allow_remote: bool,
    /// A file holding a token (at least 16 printable characters): requests carrying
    /// `Authorization: Bearer <token>` are served over TCP whoever and wherever they come from.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Let `docker run -p` publish container ports on any host address (`-p 8080:80` then binds
    /// every address, as Docker does); without this, ports are published on loopback only.
    #[arg(long)]
    pub publish_remote: bool,
    /// Let the dashboard stop and remove containers and prune volumes (it is read-only
    /// without this).
    #[arg(long)]
    pub allow_actions: bool,
    /// A registry to pull from and push to over plain HTTP (`HOST[:PORT]` or a CIDR range),
    /// as the Docker daemon's flag; loopback registries always are. Repeatable.
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registries: Vec<String>,
    /// Where compiled guests are cached (default: inside the root); tests share one.
    #[arg(long, hide = true)]
    pub module_cache: Option<PathBuf>,
    /// Seconds a connection may take to send a request header (also the idle limit between
    /// requests); tests shorten it.
    #[arg(long, hide = true, default_value_t = porthole_api::ServeOptions::DEFAULT_HEADER_TIMEOUT.as_secs())]
    pub header_timeout: u64,
}

fn main() -> anyhow::Result<std::process::ExitCode> {
    match Cli::parse().command {
        Command::Serve(args) => serve::run(args).map(|()| std::process::ExitCode::SUCCESS),
        Command::Demo(args) => demo::run(args).map(|()| std::process::ExitCode::SUCCESS),
        Command::Lesson { command } => lesson::run(command),
        Command::Kube { command } => kube::run(command).map(|()| std::process::ExitCode::SUCCESS),
    }
}
