//! What a pull or a push reports as it goes, in the steps and words of Docker's progress
//! stream (`Pulling fs layer`, `Pushed`, …). The client reports the transfer; the engine the
//! steps after it (a layer's `Pull complete`, the final `Status:`).

/// One progress message. Layers are named by their blob digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// `Pulling from NAME`, with the tag or digest as its id.
    PullingFrom {
        name: String,
        tag_or_digest: String,
    },
    PullingFsLayer(String),
    DownloadComplete(String),
    PullComplete(String),
    /// `Digest: sha256:…`, the digest of the manifest the reference named.
    Digest(String),
    /// The last line of a pull: `Status: Downloaded newer image for …` or `Status: Image is up
    /// to date for …`.
    Status(String),
    /// `The push refers to repository [NAME]`.
    PushRefersTo(String),
    Preparing(String),
    Pushed(String),
    LayerExists(String),
    /// The end of a push: `TAG: digest: sha256:… size: N`.
    PushDigest {
        tag: String,
        digest: String,
        size: usize,
    },
}

impl Progress {
    /// Docker's `status` text.
    pub fn status(&self) -> String {
        match self {
            Progress::PullingFrom { name, .. } => format!("Pulling from {name}"),
            Progress::PullingFsLayer(_) => "Pulling fs layer".into(),
            Progress::DownloadComplete(_) => "Download complete".into(),
            Progress::PullComplete(_) => "Pull complete".into(),
            Progress::Digest(d) => format!("Digest: {d}"),
            Progress::Status(s) => s.clone(),
            Progress::PushRefersTo(name) => format!("The push refers to repository [{name}]"),
            Progress::Preparing(_) => "Preparing".into(),
            Progress::Pushed(_) => "Pushed".into(),
            Progress::LayerExists(_) => "Layer already exists".into(),
            Progress::PushDigest { tag, digest, size } => format!("{tag}: digest: {digest} size: {size}"),
        }
    }

    /// Docker's `id`: a layer's short digest (12 hex digits), or the tag being pulled.
    pub fn id(&self) -> Option<String> {
        match self {
            Progress::PullingFrom { tag_or_digest, .. } => Some(tag_or_digest.clone()),
            Progress::PullingFsLayer(d)
            | Progress::DownloadComplete(d)
            | Progress::PullComplete(d)
            | Progress::Preparing(d)
            | Progress::Pushed(d)
            | Progress::LayerExists(d) => Some(short(d)),
            Progress::Digest(_) | Progress::Status(_) | Progress::PushRefersTo(_) | Progress::PushDigest { .. } => None,
        }
    }

    /// Whether Docker sends an (empty) `progressDetail` with it: layer steps do.
    pub fn is_layer_step(&self) -> bool {
        self.id().is_some() && !matches!(self, Progress::PullingFrom { .. })
    }
}

/// `sha256:0123456789abcdef…` → `0123456789ab`, as Docker names layers on screen.
pub fn short(digest: &str) -> String {
    let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
    hex.chars().take(12).collect()
}
