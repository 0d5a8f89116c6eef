//! The routes of the Docker API subset, one module per resource. Paths are Docker's without
//! the version prefix (stripped before routing).

pub mod archive;
pub mod attach;
pub mod build;
pub mod containers;
pub mod dashboard;
pub mod events;
pub mod exec;
pub mod images;
pub mod logs;
pub mod networks;
pub mod porthole;
pub mod registry;
pub mod stats;
pub mod system;
pub mod volumes;

use std::sync::Arc;

use axum::Router;
use axum::routing::{delete, get, post};
use porthole_engine::Engine;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    pub execs: Arc<exec::Execs>,
    pub history: Arc<events::History>,
    /// Who last wrote each file, for the dashboard's listings.
    pub writers: Arc<porthole::writers::Writers>,
    /// The dashboard shows mutating actions (`porthole serve --allow-actions`).
    pub allow_actions: bool,
}

impl AppState {
    pub fn new(engine: Engine) -> Self {
        let history = events::History::record(&engine);
        AppState {
            engine: engine.clone(),
            execs: Arc::default(),
            history,
            writers: porthole::writers::Writers::record(&engine),
            allow_actions: false,
        }
    }
}

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/_ping", get(system::ping).head(system::ping))
        .route("/version", get(system::version))
        .route("/info", get(system::info))
        .route("/system/df", get(system::df))
        .route("/events", get(events::events))
        .route("/containers/json", get(containers::list))
        .route("/containers/create", post(containers::create))
        .route("/containers/prune", post(containers::prune))
        .route("/containers/{id}/json", get(containers::inspect))
        .route("/containers/{id}", delete(containers::remove))
        .route("/containers/{id}/start", post(containers::start))
        .route("/containers/{id}/stop", post(containers::stop))
        .route("/containers/{id}/kill", post(containers::kill))
        .route("/containers/{id}/pause", post(containers::pause))
        .route("/containers/{id}/stats", get(stats::stats))
        .route("/containers/{id}/unpause", post(containers::unpause))
        .route("/containers/{id}/restart", post(containers::restart))
        .route("/containers/{id}/wait", post(containers::wait))
        .route("/containers/{id}/resize", post(containers::resize))
        .route("/containers/{id}/rename", post(containers::rename))
        .route("/containers/{id}/top", get(containers::top))
        .route("/containers/{id}/changes", get(containers::changes))
        .route("/containers/{id}/archive", get(archive::get).head(archive::stat).put(archive::put))
        .route("/containers/{id}/attach", post(attach::attach))
        .route("/containers/{id}/logs", get(logs::logs))
        .route("/containers/{id}/exec", post(exec::create))
        .route("/exec/{id}/start", post(exec::start))
        .route("/exec/{id}/resize", post(exec::resize))
        .route("/exec/{id}/json", get(exec::inspect))
        .route("/images/json", get(images::list))
        .route("/images/create", post(registry::pull))
        .route("/images/prune", post(images::prune))
        .route("/images/get", get(images::save))
        .route("/images/load", post(images::load).layer(axum::extract::DefaultBodyLimit::disable()))
        // Image names contain slashes (`markllama/pulp-content`), so the rest of the path is
        // split by hand: `NAME/json`, `NAME/history`, `NAME/get`, `NAME/tag`, `NAME/push`, `NAME`.
        .route("/images/{*rest}", get(images::get).post(images::post).delete(images::remove))
        .route("/auth", post(registry::auth))
        .route("/commit", post(containers::commit))
        .route("/build", post(build::build).layer(axum::extract::DefaultBodyLimit::disable()))
        .route("/networks", get(networks::list))
        .route("/networks/create", post(networks::create))
        .route("/networks/prune", post(networks::prune))
        .route("/networks/{id}", get(networks::inspect).delete(networks::remove))
        .route("/networks/{id}/connect", post(networks::connect))
        .route("/networks/{id}/disconnect", post(networks::disconnect))
        .route("/volumes", get(volumes::list))
        .route("/volumes/create", post(volumes::create))
        .route("/volumes/prune", post(volumes::prune))
        .route("/volumes/{name}", get(volumes::inspect).delete(volumes::remove))
        .merge(porthole::routes())
        .merge(dashboard::routes())
        .fallback(crate::unsupported::fallback)
        .method_not_allowed_fallback(crate::unsupported::fallback)
        .with_state(state)
}
