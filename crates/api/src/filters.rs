//! `docker ps --filter`: which containers a filter set keeps (Docker's keys `id`, `name`,
//! `status`, `volume`, `label`, `ancestor`; values of one key are alternatives); and
//! `docker network ls --filter`.

use porthole_engine::ContainerInfo;

use crate::dto::networks::NetworkJson;
use crate::error::ApiError;
use crate::extract::Filters;

pub const CONTAINER_FILTERS: &[&str] = &["id", "name", "status", "volume", "label", "ancestor"];

/// Docker matches names as regular expressions; the anchors `^` and `$` are honoured, the
/// rest of the pattern is matched literally (which is how names are used in practice).
fn name_matches(name: &str, pattern: &str) -> bool {
    let pattern = pattern.strip_prefix('/').unwrap_or(pattern);
    match (pattern.strip_prefix('^'), pattern.strip_suffix('$')) {
        (Some(p), _) if p.ends_with('$') => name == &p[..p.len() - 1],
        (Some(p), None) => name.starts_with(p),
        (None, Some(p)) => name.ends_with(p),
        _ => name.contains(pattern),
    }
}

fn any(values: &[String], f: impl Fn(&str) -> bool) -> bool {
    values.is_empty() || values.iter().any(|v| f(v))
}

pub fn container_matches(info: &ContainerInfo, filters: &Filters) -> Result<bool, ApiError> {
    filters.only(CONTAINER_FILTERS)?;
    let r = &info.record;
    let labels = r.config.labels.clone().unwrap_or_default();
    Ok(any(filters.values("id"), |v| r.id.as_str().starts_with(v))
        && any(filters.values("name"), |v| name_matches(r.name.as_str(), v))
        && any(filters.values("status"), |v| r.state.status.as_str() == v)
        && any(filters.values("volume"), |v| {
            r.mounts.iter().any(|m| m.volume() == Some(v) || m.destination.as_str() == v)
        })
        && any(filters.values("ancestor"), |v| r.image == v || r.image_id.starts_with(v.trim_start_matches("sha256:")))
        && filters.values("label").iter().all(|f| match f.split_once('=') {
            Some((k, v)) => labels.get(k).map(String::as_str) == Some(v),
            None => labels.contains_key(f.as_str()),
        }))
}

pub const NETWORK_FILTERS: &[&str] = &["dangling", "driver", "id", "label", "name", "scope", "type"];

/// The default networks are `builtin`, created ones `custom`; `dangling` ones have no
/// container (the default networks never are, as in Docker).
pub fn network_matches(n: &NetworkJson, filters: &Filters) -> Result<bool, ApiError> {
    filters.only(NETWORK_FILTERS)?;
    let kind = if n.builtin { "builtin" } else { "custom" };
    let dangling = filters.boolean("dangling")?;
    Ok(any(filters.values("name"), |v| name_matches(&n.name, v))
        && any(filters.values("id"), |v| n.id.starts_with(v))
        && any(filters.values("driver"), |v| n.driver == v)
        && any(filters.values("scope"), |v| n.scope == v)
        && any(filters.values("type"), |v| v == kind)
        && dangling.is_none_or(|d| d == (!n.builtin && n.containers.is_empty()))
        && filters.values("label").iter().all(|f| match f.split_once('=') {
            Some((k, v)) => n.labels.get(k).map(String::as_str) == Some(v),
            None => n.labels.contains_key(f.as_str()),
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(name_matches("volume-demo", "volume"));
        assert!(name_matches("volume-demo", "^volume-demo$"));
        assert!(!name_matches("volume-demo2", "^volume-demo$"));
        assert!(name_matches("volume-demo", "/volume-demo"));
    }
}
