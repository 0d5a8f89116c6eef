//! What `kube generate` needs to know about a container, in plain data: gathered by the CLI
//! from the controller (`docker inspect` of the container, its image and its volumes).

/// The image's own settings, so the manifest states only what the container changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageDefaults {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// `KEY=VALUE` as Docker keeps them.
    pub env: Vec<String>,
    pub working_dir: String,
}

/// One container as the controller has it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerFacts {
    pub name: String,
    /// The image reference it was created from (`pulp-apache`).
    pub image: String,
    pub image_defaults: ImageDefaults,
    /// The effective entrypoint and command (`.Config.Entrypoint`, `.Config.Cmd`).
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// `KEY=VALUE`, image defaults included, as `.Config.Env` has them.
    pub env: Vec<String>,
    pub working_dir: String,
    pub mounts: Vec<MountFact>,
    pub ports: Vec<PortFact>,
}

/// One mount of a container (`.Mounts[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountFact {
    pub origin: MountOrigin,
    pub destination: String,
    pub read_only: bool,
}

/// What is mounted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum MountOrigin {
    /// An anonymous volume, by its (generated) name.
    Anonymous(String),
    Named(String),
    /// A host directory.
    Bind(String),
    Tmpfs,
}

/// One published or exposed port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortFact {
    pub container_port: u16,
    /// `tcp` (the only protocol Porthole publishes).
    pub protocol: String,
    pub host_ip: Option<String>,
    /// `None` when exposed only, or published on a host port Docker picks.
    pub host_port: Option<u16>,
    /// Published on a port picked at start: a manifest cannot say so.
    pub random_host_port: bool,
}
