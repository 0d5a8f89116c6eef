//! What to answer for a Docker API endpoint Porthole does not implement: a 501 naming the
//! docker command that calls it (`docker export is not supported by Porthole`), so a user learns
//! what is missing rather than reading a bare `page not found`. Paths outside Docker's API keep
//! Docker's own 404.
//!
//! The table is pure data: (method, path pattern, command). A pattern segment `{}` matches one
//! path segment and `{..}` one or more (image names contain slashes).

use axum::http::{Method, Uri};

use crate::error::ApiError;

/// The first path segments of Docker's API: an unknown path under one of these is an operation
/// Porthole lacks, anything else is simply not a page.
const DOCKER_RESOURCES: &[&str] = &[
    "_ping",
    "auth",
    "build",
    "commit",
    "configs",
    "containers",
    "distribution",
    "events",
    "exec",
    "grpc",
    "images",
    "info",
    "networks",
    "nodes",
    "plugins",
    "secrets",
    "services",
    "session",
    "swarm",
    "system",
    "tasks",
    "version",
    "volumes",
];

/// Only what Porthole lacks: a wrong method on an implemented path names the request instead.
const COMMANDS: &[(&str, &str, &str)] = &[
    ("GET", "/containers/{}/export", "docker export"),
    ("POST", "/containers/{}/update", "docker update"),
    ("GET", "/containers/{}/attach/ws", "attach over a websocket"),
    ("GET", "/images/search", "docker search"),
    ("POST", "/session", "BuildKit (docker buildx)"),
    ("POST", "/grpc", "BuildKit (docker buildx)"),
    ("POST", "/build/prune", "docker builder prune"),
    ("POST", "/build/cancel", "cancelling a build"),
    ("GET", "/distribution/{..}/json", "looking up an image in a registry"),
    ("PUT", "/volumes/{}", "docker volume update"),
    ("GET", "/swarm", "docker swarm"),
    ("POST", "/swarm/init", "docker swarm init"),
    ("POST", "/swarm/join", "docker swarm join"),
    ("POST", "/swarm/leave", "docker swarm leave"),
    ("POST", "/swarm/update", "docker swarm update"),
    ("GET", "/swarm/unlockkey", "docker swarm unlock-key"),
    ("POST", "/swarm/unlock", "docker swarm unlock"),
    ("GET", "/nodes", "docker node ls"),
    ("GET", "/nodes/{}", "docker node inspect"),
    ("DELETE", "/nodes/{}", "docker node rm"),
    ("POST", "/nodes/{}/update", "docker node update"),
    ("GET", "/services", "docker service ls"),
    ("POST", "/services/create", "docker service create"),
    ("GET", "/services/{}", "docker service inspect"),
    ("DELETE", "/services/{}", "docker service rm"),
    ("POST", "/services/{}/update", "docker service update"),
    ("GET", "/services/{}/logs", "docker service logs"),
    ("GET", "/tasks", "docker service ps"),
    ("GET", "/tasks/{}", "docker inspect of a task"),
    ("GET", "/tasks/{}/logs", "docker service logs"),
    ("GET", "/secrets", "docker secret ls"),
    ("POST", "/secrets/create", "docker secret create"),
    ("GET", "/secrets/{}", "docker secret inspect"),
    ("DELETE", "/secrets/{}", "docker secret rm"),
    ("POST", "/secrets/{}/update", "docker secret update"),
    ("GET", "/configs", "docker config ls"),
    ("POST", "/configs/create", "docker config create"),
    ("GET", "/configs/{}", "docker config inspect"),
    ("DELETE", "/configs/{}", "docker config rm"),
    ("POST", "/configs/{}/update", "docker config update"),
    ("GET", "/plugins", "docker plugin ls"),
    ("GET", "/plugins/privileges", "docker plugin install"),
    ("POST", "/plugins/pull", "docker plugin install"),
    ("POST", "/plugins/create", "docker plugin create"),
    ("GET", "/plugins/{..}/json", "docker plugin inspect"),
    ("DELETE", "/plugins/{..}", "docker plugin rm"),
    ("POST", "/plugins/{..}/enable", "docker plugin enable"),
    ("POST", "/plugins/{..}/disable", "docker plugin disable"),
    ("POST", "/plugins/{..}/upgrade", "docker plugin upgrade"),
    ("POST", "/plugins/{..}/push", "docker plugin push"),
    ("POST", "/plugins/{..}/set", "docker plugin set"),
];

/// The docker command behind `method path`, or `METHOD /path` where no command is known;
/// `None` for a path outside Docker's API.
pub fn operation(method: &Method, path: &str) -> Option<String> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    if !segments.first().is_some_and(|first| DOCKER_RESOURCES.contains(first)) {
        return None;
    }
    let command = COMMANDS.iter().find(|(m, pattern, _)| {
        *m == method.as_str() && matches(&pattern.split('/').skip(1).collect::<Vec<_>>(), &segments)
    });
    Some(match command {
        Some((_, _, command)) => command.to_string(),
        None => format!("{method} {path}"),
    })
}

fn matches(pattern: &[&str], path: &[&str]) -> bool {
    match (pattern.split_first(), path.split_first()) {
        (None, None) => true,
        (Some((&"{..}", rest)), Some((_, more))) => matches(rest, more) || matches(pattern, more),
        (Some((&"{}", rest)), Some((_, more))) => matches(rest, more),
        (Some((fixed, rest)), Some((segment, more))) => fixed == segment && matches(rest, more),
        _ => false,
    }
}

/// The error for `method uri` nobody routes: 501 naming the operation, or Docker's 404.
pub fn refuse(method: &Method, uri: &Uri) -> ApiError {
    match operation(method, uri.path()) {
        Some(operation) => ApiError::NotImplemented(operation),
        None => ApiError::PageNotFound,
    }
}

/// The router's fallback (no such path) and method fallback (no such method on a path).
pub async fn fallback(method: Method, uri: Uri) -> ApiError {
    refuse(&method, &uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_is_named() {
        let table = [
            ("GET", "/containers/c/export", "docker export"),
            ("POST", "/containers/c/archive", "POST /containers/c/archive"),
            ("GET", "/images/search", "docker search"),
            ("POST", "/plugins/vieux/sshfs:latest/push", "docker plugin push"),
            ("PUT", "/networks/n", "PUT /networks/n"),
            ("POST", "/swarm/init", "docker swarm init"),
            ("GET", "/plugins/vieux/sshfs:latest/json", "docker plugin inspect"),
            ("DELETE", "/plugins/vieux/sshfs", "docker plugin rm"),
            ("POST", "/containers/c/frobnicate", "POST /containers/c/frobnicate"),
            ("GET", "/containers/c/top/extra", "GET /containers/c/top/extra"),
        ];
        for (method, path, expect) in table {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            assert_eq!(operation(&method, path).as_deref(), Some(expect), "{method} {path}");
        }
        assert_eq!(operation(&Method::GET, "/nothing/here"), None);
        assert_eq!(operation(&Method::GET, "/"), None);
    }

    #[test]
    fn the_refusal_is_a_501_in_docker_words() {
        let e = refuse(&Method::GET, &"/containers/c/export?x=1".parse().unwrap());
        assert_eq!(e.status(), axum::http::StatusCode::NOT_IMPLEMENTED);
        assert_eq!(e.to_string(), "docker export is not supported by Porthole");
        assert_eq!(refuse(&Method::GET, &"/favicon.ico".parse().unwrap()).to_string(), "page not found");
    }
}
