//! `porthole kube`: Pod manifests, as `podman kube` has them. A client of the controller's
//! Docker API (`controller.rs`), like `porthole lesson`: `generate` asks for the containers'
//! facts and prints what `porthole_kube::generate` makes of them; `play` and `down` carry out
//! `porthole_kube::plan` with the same calls the docker CLI would make.

mod facts;
mod play;

use std::path::PathBuf;

use anyhow::Context;

use crate::controller::Host;

#[derive(Debug, clap::Subcommand)]
pub enum KubeCommand {
    /// Print one Pod manifest (YAML) for the given containers, with a PersistentVolumeClaim
    /// for each named volume they use.
    Generate(GenerateArgs),
    /// Create and start the pods of a manifest: their containers, emptyDir volumes (removed
    /// with the pod) and claims (named volumes).
    Play(FileArgs),
    /// Remove the pods of a manifest: their containers and emptyDir volumes; claims are kept
    /// unless --force.
    Down(DownArgs),
}

#[derive(Debug, clap::Args)]
pub struct Controller {
    /// The controller: `tcp://ADDR`, `unix:///PATH` or `ADDR` (default: DOCKER_HOST, else
    /// 127.0.0.1:2375).
    #[arg(long)]
    pub host: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Containers, by name or id.
    #[arg(required = true)]
    pub containers: Vec<String>,
    /// The pod's name (default: the first container's name with `-pod`).
    #[arg(long)]
    pub name: Option<String>,
    /// The cluster's RuntimeClass for WebAssembly (`runtimeClassName`).
    #[arg(long, default_value = porthole_kube::DEFAULT_RUNTIME_CLASS)]
    pub runtime_class: String,
    #[command(flatten)]
    pub controller: Controller,
}

#[derive(Debug, clap::Args)]
pub struct FileArgs {
    /// The manifest (`-` for standard input).
    pub file: PathBuf,
    #[command(flatten)]
    pub controller: Controller,
}

#[derive(Debug, clap::Args)]
pub struct DownArgs {
    #[command(flatten)]
    pub file: FileArgs,
    /// Remove the volumes of the manifest's claims too (as `podman kube down --force`).
    #[arg(long)]
    pub force: bool,
}

pub fn run(command: KubeCommand) -> anyhow::Result<()> {
    match command {
        KubeCommand::Generate(args) => {
            let host = Host::new(args.controller.host.as_deref())?;
            let facts = args.containers.iter().map(|c| facts::gather(&host, c)).collect::<anyhow::Result<Vec<_>>>()?;
            let opts = porthole_kube::GenerateOptions {
                pod_name: args.name,
                runtime_class: args.runtime_class,
                ..Default::default()
            };
            let generated = porthole_kube::generate(&facts, &opts);
            for w in &generated.warnings {
                eprintln!("WARNING: {w}");
            }
            print!("{}", generated.to_yaml()?);
            Ok(())
        }
        KubeCommand::Play(args) => {
            let (host, plan) = load(&args)?;
            play::play(&host, &plan)
        }
        KubeCommand::Down(args) => {
            let (host, plan) = load(&args.file)?;
            play::down(&host, &plan, args.force)
        }
    }
}

fn load(args: &FileArgs) -> anyhow::Result<(Host, porthole_kube::PlayPlan)> {
    let text = if args.file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading the manifest from standard input")?
    } else {
        std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file.display()))?
    };
    let plan = porthole_kube::plan(&text).with_context(|| format!("{}", args.file.display()))?;
    Ok((Host::new(args.controller.host.as_deref())?, plan))
}

/// A path segment or query value as a URL carries it.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `?filters=` selecting what carries `label=value`.
fn label_filter(label: &str, value: &str) -> String {
    encode(&serde_json::json!({ "label": [format!("{label}={value}")] }).to_string())
}
