//! Events as `docker events` streams them.

use std::collections::BTreeMap;

use porthole_core::event::{Event, EventType};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Actor {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Attributes")]
    pub attributes: BTreeMap<String, String>,
}

/// Docker's event message; `status`, `id` and `from` are the legacy fields older clients read
/// for container events.
#[derive(Debug, Serialize)]
pub struct EventJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(rename = "Type")]
    pub kind: &'static str,
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: Actor,
    pub scope: &'static str,
    pub time: i64,
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
}

/// Docker's name for an event type; Porthole's file and walk events have none (they are not sent).
pub fn docker_type(kind: EventType) -> Option<&'static str> {
    match kind {
        EventType::Container => Some("container"),
        EventType::Volume => Some("volume"),
        EventType::Image => Some("image"),
        EventType::Network => Some("network"),
        EventType::File | EventType::Walk => None,
    }
}

impl EventJson {
    pub fn new(e: &Event) -> Option<Self> {
        let kind = docker_type(e.kind)?;
        let container = e.kind == EventType::Container;
        Some(EventJson {
            status: container.then(|| e.action.clone()),
            id: container.then(|| e.actor_id.clone()),
            from: if container { e.attributes.get("image").cloned() } else { None },
            kind,
            action: e.action.clone(),
            actor: Actor { id: e.actor_id.clone(), attributes: e.attributes.clone() },
            scope: "local",
            time: e.time_nano / 1_000_000_000,
            time_nano: e.time_nano,
        })
    }
}
