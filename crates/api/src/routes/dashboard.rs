//! The dashboard: the page at `/` (an askama template from `web/templates`), its script and
//! style (from `web/static`, compiled into the binary so it works offline with no build step),
//! and `/container/{id}`, `/volume/{name}`: the page focused on one node, or a friendly 404.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use crate::error::blocking;
use crate::extract::Params;

const SCRIPT: &str = include_str!("../../../../web/static/dashboard.js");
const STYLE: &str = include_str!("../../../../web/static/dashboard.css");
const LESSONS: &str = include_str!("../../../../web/static/lessons.js");

#[derive(Template)]
#[template(path = "index.html")]
struct Index {
    presenter: bool,
    /// Offer mutating actions (`--allow-actions`).
    actions: bool,
    /// The graph node to select first (`container:<id>`, `volume:<name>`), or empty.
    focus: String,
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFound {
    what: &'static str,
    name: String,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/static/dashboard.js", get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }))
        .route("/static/dashboard.css", get(|| async { asset("text/css; charset=utf-8", STYLE) }))
        .route("/static/lessons.js", get(|| async { asset("text/javascript; charset=utf-8", LESSONS) }))
        .route("/container/{id}", get(container))
        .route("/volume/{name}", get(volume))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

fn render(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("rendering the page: {e}")).into_response(),
    }
}

fn page(s: &AppState, params: &Params, focus: String) -> Response {
    let presenter = matches!(params.get("presenter"), Some("1" | "true"));
    render(StatusCode::OK, &Index { presenter, actions: s.allow_actions, focus })
}

async fn index(State(s): State<AppState>, params: Params) -> Response {
    page(&s, &params, String::new())
}

async fn container(State(s): State<AppState>, Path(id): Path<String>, params: Params) -> Response {
    let (engine, reference) = (s.engine.clone(), id.clone());
    match blocking(move || engine.inspect(&reference)).await {
        Ok(info) => page(&s, &params, porthole_core::graph::container_key(info.record.id.as_str())),
        Err(_) => render(StatusCode::NOT_FOUND, &NotFound { what: "container", name: id }),
    }
}

async fn volume(State(s): State<AppState>, Path(name): Path<String>, params: Params) -> Response {
    // Existence only: the page fetches the rest through /porthole/*.
    let (engine, reference) = (s.engine.clone(), name.clone());
    match blocking(move || engine.volume_inspect(&reference)).await {
        Ok(_) => page(&s, &params, porthole_core::graph::volume_key(&name)),
        _ => render(StatusCode::NOT_FOUND, &NotFound { what: "volume", name }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_what_they_are_given() {
        let html = NotFound { what: "volume", name: "<script>x</script>".into() }.render().unwrap();
        assert!(html.contains("No such volume: <code>&#60;script&#62;x&#60;/script&#62;</code>"), "{html}");
        let html = Index { presenter: true, actions: false, focus: "volume:\"a\"".into() }.render().unwrap();
        assert!(
            html.contains(r#"<body class="presenter" data-focus="volume:&#34;a&#34;" data-actions="false">"#),
            "{html}"
        );
    }
}
