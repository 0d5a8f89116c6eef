//! Porthole's own read-only endpoints behind the dashboard, under `/porthole/`: the mount
//! graph, the event stream, file listings and views, container logs and path walks, and the
//! classroom lessons with their checks. Nothing here changes state.

mod coalesce;
mod events;
mod files;
mod graph;
mod lessons;
mod logs;
mod preview;
mod walks;
pub mod writers;

use axum::Router;
use axum::routing::{get, post};

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/porthole/graph", get(graph::graph))
        .route("/porthole/graph.svg", get(graph::svg))
        .route("/porthole/events", get(events::events))
        .route("/porthole/volumes/{name}/files", get(files::volume_files))
        .route("/porthole/volumes/{name}/file", get(files::volume_file))
        .route("/porthole/containers/{id}/files", get(files::container_files))
        .route("/porthole/containers/{id}/logs", get(logs::logs))
        .route("/porthole/containers/{id}/walks", get(walks::walks))
        .route("/porthole/containers/{id}/rm-preview", get(preview::rm))
        .route("/porthole/volumes/prune-preview", get(preview::prune))
        .route("/porthole/lessons", get(lessons::list))
        .route("/porthole/lessons/check", post(lessons::check))
        .route("/porthole/lessons/{name}", get(lessons::get))
        .route("/porthole/lessons/{name}/steps/{n}/check", get(lessons::step_check))
}
