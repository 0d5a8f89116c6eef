//! Networks: Docker's `NetworkResource` for the three networks every Docker engine has.
//! Guests cannot open outbound connections, so Porthole has no container networking; these
//! records exist because clients (the Python SDK, docker-compose) list networks before they
//! do anything else, and each says in a label that it gives no connectivity.

use std::collections::BTreeMap;

use serde::Serialize;

/// The label every network carries, so `network inspect` tells the truth.
pub const NOTE_LABEL: &str = "io.porthole.note";
pub const NOTE: &str = "Porthole guests have no network: this network gives no connectivity";

/// The default networks: (name, driver, id). The ids are fixed (the sha256 of
/// `porthole network NAME`), so they are the same on every start, as Docker's are for a host.
const DEFAULTS: &[(&str, &str, &str)] = &[
    ("bridge", "bridge", "644f547c29b90aba1b5e6872977e11c88a68760ca5a5c15fb02fdac2a39d39bc"),
    ("host", "host", "4b8db68c00d1e33d16a68a80e08c6803f67923dcd87b832cd562ab44fa0a549b"),
    ("none", "null", "c91b590418c7453918067ba2295f44f7b7fcaf3152a6e85797a638fdc90055d4"),
];

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkJson {
    pub name: &'static str,
    pub id: &'static str,
    pub created: &'static str,
    pub scope: &'static str,
    pub driver: &'static str,
    #[serde(rename = "EnableIPv4")]
    pub enable_ipv4: bool,
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: bool,
    #[serde(rename = "IPAM")]
    pub ipam: Ipam,
    pub internal: bool,
    pub attachable: bool,
    pub ingress: bool,
    pub config_from: BTreeMap<&'static str, &'static str>,
    pub config_only: bool,
    pub containers: BTreeMap<String, serde_json::Value>,
    pub options: BTreeMap<String, String>,
    pub labels: BTreeMap<&'static str, &'static str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipam {
    pub driver: &'static str,
    pub options: Option<BTreeMap<String, String>>,
    pub config: Vec<serde_json::Value>,
}

impl NetworkJson {
    fn new((name, driver, id): (&'static str, &'static str, &'static str)) -> Self {
        NetworkJson {
            name,
            id,
            created: "0001-01-01T00:00:00Z",
            scope: "local",
            driver,
            enable_ipv4: false,
            enable_ipv6: false,
            ipam: Ipam { driver: "default", options: None, config: Vec::new() },
            internal: false,
            attachable: false,
            ingress: false,
            config_from: BTreeMap::from([("Network", "")]),
            config_only: false,
            containers: BTreeMap::new(),
            options: BTreeMap::new(),
            labels: BTreeMap::from([(NOTE_LABEL, NOTE)]),
        }
    }

    /// Every network, in Docker's order.
    pub fn all() -> Vec<NetworkJson> {
        DEFAULTS.iter().copied().map(NetworkJson::new).collect()
    }

    /// A network by name, full id or id prefix, as Docker looks one up.
    pub fn find(reference: &str) -> Option<NetworkJson> {
        let found = DEFAULTS.iter().find(|(name, _, id)| *name == reference || *id == reference).or_else(|| {
            let mut prefixed = DEFAULTS.iter().filter(|(_, _, id)| !reference.is_empty() && id.starts_with(reference));
            prefixed.next().filter(|_| prefixed.next().is_none())
        });
        found.copied().map(NetworkJson::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_found_by_name_and_id() {
        assert_eq!(NetworkJson::find("bridge").map(|n| n.driver), Some("bridge"));
        assert_eq!(NetworkJson::find("none").map(|n| n.driver), Some("null"));
        assert_eq!(NetworkJson::find("4b8db68c").map(|n| n.name), Some("host"));
        assert_eq!(NetworkJson::find("").map(|n| n.name), None);
        assert_eq!(NetworkJson::find("nosuch").map(|n| n.name), None);
    }
}
