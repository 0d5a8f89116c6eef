//! Engine events, shaped like Docker's (`Type`, `Action`, `Actor`), plus Porthole's file
//! events from guest writes.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    Container,
    Volume,
    Image,
    Network,
    /// A guest changed a file (Porthole's own; not sent to Docker clients).
    File,
    /// A guest opened a path (or failed to): the engine kept its walk (Porthole's own).
    Walk,
}

/// One event. `actor_id` is the container id, volume name or image id; attributes follow
/// Docker's (`name`, `image`, `exitCode`, `destination`, `container`, `driver`, …).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    pub kind: EventType,
    pub action: String,
    pub actor_id: String,
    pub attributes: BTreeMap<String, String>,
    /// Nanoseconds since the Unix epoch.
    pub time_nano: i64,
}

impl Event {
    pub fn new(kind: EventType, action: &str, actor_id: &str, time_nano: i64) -> Self {
        Self {
            kind,
            action: action.to_string(),
            actor_id: actor_id.to_string(),
            attributes: BTreeMap::new(),
            time_nano,
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.attributes.insert(key.to_string(), value.into());
        self
    }
}
