//! Images: `docker images` rows and `docker image inspect`.

use std::collections::BTreeMap;

use porthole_core::config::ImageConfig;
use porthole_store::ImageRecord;
use serde::Serialize;

use super::time;

fn digest(id: &str) -> String {
    if id.is_empty() { String::new() } else { format!("sha256:{id}") }
}

/// One row of `GET /images/json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageSummary {
    pub id: String,
    pub parent_id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub created: i64,
    pub size: u64,
    pub shared_size: i64,
    pub labels: BTreeMap<String, String>,
    pub containers: i64,
}

impl From<(ImageRecord, Vec<String>)> for ImageSummary {
    fn from((img, tags): (ImageRecord, Vec<String>)) -> Self {
        ImageSummary {
            id: digest(&img.id),
            parent_id: digest(&img.parent),
            repo_tags: tags,
            repo_digests: Vec::new(),
            created: img.created / 1_000_000_000,
            size: img.size,
            shared_size: -1,
            labels: img.config.labels.clone().unwrap_or_default(),
            containers: -1,
        }
    }
}

/// `GET /images/{name}/json`
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageInspect {
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub parent: String,
    pub comment: String,
    pub author: String,
    pub created: String,
    pub config: ImageConfig,
    pub architecture: &'static str,
    pub os: &'static str,
    pub size: u64,
    #[serde(rename = "RootFS")]
    pub root_fs: RootFs,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RootFs {
    #[serde(rename = "Type")]
    pub kind: &'static str,
    pub layers: Vec<String>,
}

impl From<(ImageRecord, Vec<String>)> for ImageInspect {
    fn from((img, tags): (ImageRecord, Vec<String>)) -> Self {
        ImageInspect {
            id: digest(&img.id),
            repo_tags: tags,
            repo_digests: Vec::new(),
            parent: digest(&img.parent),
            // `docker commit -m`: the last step's comment.
            comment: img.history.last().map(|h| h.comment.clone()).unwrap_or_default(),
            author: img.history.last().map(|h| h.author.clone()).unwrap_or_default(),
            created: time(img.created),
            config: img.config,
            // Guests are WebAssembly programs for WASI preview 1, whatever the host is.
            architecture: "wasm32",
            os: "wasip1",
            size: img.size,
            root_fs: RootFs { kind: "layers", layers: Vec::new() },
        }
    }
}

/// One row of `GET /images/{name}/history`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryResponseItem {
    /// `sha256:…`, or `<missing>` past the image's known parents.
    pub id: String,
    /// Unix seconds.
    pub created: i64,
    pub created_by: String,
    pub tags: Option<Vec<String>>,
    pub size: u64,
    pub comment: String,
}

impl From<porthole_engine::HistoryItem> for HistoryResponseItem {
    fn from(h: porthole_engine::HistoryItem) -> Self {
        HistoryResponseItem {
            id: h.id.map_or_else(|| "<missing>".to_string(), |id| digest(&id)),
            created: h.created / 1_000_000_000,
            created_by: h.created_by,
            // moby sends `null` for an image without tags.
            tags: (!h.tags.is_empty()).then_some(h.tags),
            size: h.size,
            comment: h.comment,
        }
    }
}

/// One entry of `DELETE /images/{name}`: `{"Untagged": …}` or `{"Deleted": …}`.
#[derive(Debug, Serialize)]
pub struct DeleteItem {
    #[serde(rename = "Untagged", skip_serializing_if = "Option::is_none")]
    pub untagged: Option<String>,
    #[serde(rename = "Deleted", skip_serializing_if = "Option::is_none")]
    pub deleted: Option<String>,
}

impl DeleteItem {
    /// From the engine's `Untagged: x` / `Deleted: y` report lines.
    pub fn from_line(line: &str) -> Option<Self> {
        let (what, value) = line.split_once(": ")?;
        let value = Some(value.to_string());
        match what {
            "Untagged" => Some(DeleteItem { untagged: value, deleted: None }),
            "Deleted" => Some(DeleteItem { untagged: None, deleted: value }),
            _ => None,
        }
    }
}

/// `POST /images/prune`
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImagePruneReport {
    pub images_deleted: Vec<DeleteItem>,
    pub space_reclaimed: u64,
}
