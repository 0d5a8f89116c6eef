//! File browsing, read-only: `GET /porthole/volumes/{name}/files?path=`,
//! `GET /porthole/containers/{id}/files?path=` (listings with guest and host paths and the
//! last writer) and `GET /porthole/volumes/{name}/file?path=` (the first 256 KiB of a file).

use axum::Json;
use axum::extract::{Path, State};
use porthole_engine::{FileEntry, FileView, Listing};

use super::super::AppState;
use super::writers::{Writer, Writers};
use crate::error::{ApiResult, blocking};
use crate::extract::Params;

#[derive(serde::Serialize)]
pub struct EntryJson {
    #[serde(flatten)]
    entry: FileEntry,
    last_writer: Option<Writer>,
}

#[derive(serde::Serialize)]
pub struct ListingJson {
    path: String,
    host_path: std::path::PathBuf,
    mounted_at: Vec<String>,
    entries: Vec<EntryJson>,
}

impl ListingJson {
    fn new(l: Listing, writers: &Writers) -> Self {
        let entries = l
            .entries
            .into_iter()
            .map(|entry| EntryJson { last_writer: writers.get(&entry.host_path), entry })
            .collect();
        ListingJson { path: l.path, host_path: l.host_path, mounted_at: l.mounted_at, entries }
    }
}

#[derive(serde::Serialize)]
pub struct FileJson {
    path: String,
    host_path: std::path::PathBuf,
    size: u64,
    truncated: bool,
    /// `text` (shown in `content`) or `binary` (not shown).
    encoding: &'static str,
    content: Option<String>,
}

impl From<FileView> for FileJson {
    fn from(f: FileView) -> Self {
        let text = String::from_utf8(f.bytes).ok().filter(|t| !t.contains('\0'));
        FileJson {
            path: f.path,
            host_path: f.host_path,
            size: f.size,
            truncated: f.truncated,
            encoding: if text.is_some() { "text" } else { "binary" },
            content: text,
        }
    }
}

fn path_param(params: &Params) -> String {
    params.get("path").unwrap_or("/").to_string()
}

pub async fn volume_files(
    State(s): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult<Json<ListingJson>> {
    let (engine, path) = (s.engine.clone(), path_param(&params));
    let listing = blocking(move || engine.volume_files(&name, &path)).await?;
    Ok(Json(ListingJson::new(listing, &s.writers)))
}

pub async fn container_files(
    State(s): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<ListingJson>> {
    let (engine, path) = (s.engine.clone(), path_param(&params));
    let listing = blocking(move || engine.container_files(&id, &path)).await?;
    Ok(Json(ListingJson::new(listing, &s.writers)))
}

pub async fn volume_file(
    State(s): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult<Json<FileJson>> {
    let (engine, path) = (s.engine.clone(), path_param(&params));
    Ok(Json(blocking(move || engine.volume_file(&name, &path)).await?.into()))
}
