//! Networks: Docker's `NetworkResource` for the default networks and the created ones, and the
//! bodies of `network create/connect/disconnect/prune`. Guests cannot open outbound
//! connections, so Porthole has no container networking: networks are records only (see
//! `porthole_engine`'s `networks`), and every network says so in inspect (`PortholeNote`, a
//! field Docker's clients ignore and `docker network inspect` prints). The default networks
//! also carry the note as a label; created ones carry only the labels they were given, since
//! docker-compose compares a network's labels and options with its file.

use std::collections::BTreeMap;

use porthole_engine::{NO_CONNECTIVITY, NetworkCreate, NetworkInfo};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The label every default network carries, so `network inspect` tells the truth.
pub const NOTE_LABEL: &str = "io.porthole.note";

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkJson {
    pub name: String,
    pub id: String,
    pub created: String,
    pub scope: &'static str,
    pub driver: String,
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
    pub containers: BTreeMap<String, EndpointResource>,
    pub options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    /// What a network is in Porthole: no connectivity.
    pub porthole_note: &'static str,
    /// Not serialized: `network ls --filter type=builtin|custom`.
    #[serde(skip)]
    pub builtin: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipam {
    pub driver: &'static str,
    pub options: Option<BTreeMap<String, String>>,
    pub config: Vec<serde_json::Value>,
}

/// A container in `network inspect`'s `Containers`: no addresses, since a guest has none.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointResource {
    pub name: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    pub mac_address: String,
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: String,
    #[serde(rename = "IPv6Address")]
    pub ipv6_address: String,
}

impl From<NetworkInfo> for NetworkJson {
    fn from(n: NetworkInfo) -> Self {
        let r = n.record;
        let mut labels = r.labels;
        if n.builtin {
            labels.insert(NOTE_LABEL.to_string(), NO_CONNECTIVITY.to_string());
        }
        NetworkJson {
            name: r.name.to_string(),
            id: r.id.to_string(),
            created: crate::dto::time(r.created),
            scope: "local",
            driver: r.driver,
            enable_ipv4: false,
            enable_ipv6: r.enable_ipv6,
            ipam: Ipam { driver: "default", options: None, config: Vec::new() },
            internal: r.internal,
            attachable: r.attachable,
            ingress: false,
            config_from: BTreeMap::from([("Network", "")]),
            config_only: false,
            containers: n
                .containers
                .into_iter()
                .map(|(id, name, _)| {
                    let endpoint = EndpointResource {
                        name,
                        endpoint_id: String::new(),
                        mac_address: String::new(),
                        ipv4_address: String::new(),
                        ipv6_address: String::new(),
                    };
                    (id.to_string(), endpoint)
                })
                .collect(),
            options: r.options,
            labels,
            porthole_note: NO_CONNECTIVITY,
            builtin: n.builtin,
        }
    }
}

/// `POST /networks/create`, as the docker CLI and the Python SDK send it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkCreateBody {
    pub name: String,
    pub driver: String,
    pub options: Option<BTreeMap<String, String>>,
    pub labels: Option<BTreeMap<String, String>>,
    pub internal: bool,
    pub attachable: bool,
    pub ingress: bool,
    pub config_only: bool,
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: Option<bool>,
    #[serde(rename = "IPAM")]
    pub ipam: Option<IpamBody>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpamBody {
    pub config: Option<Vec<serde_json::Value>>,
}

impl TryFrom<NetworkCreateBody> for NetworkCreate {
    type Error = ApiError;

    /// Addresses (`--subnet`, `--ip-range`, `--gateway`) and swarm's kinds of network would be
    /// promises a record cannot keep: refused by name.
    fn try_from(b: NetworkCreateBody) -> Result<Self, ApiError> {
        if b.ipam.and_then(|i| i.config).is_some_and(|c| !c.is_empty()) {
            return Err(ApiError::Unsupported("--subnet/--ip-range/--gateway (a network gives no addresses)".into()));
        }
        if b.ingress {
            return Err(ApiError::Unsupported("--ingress".into()));
        }
        if b.config_only {
            return Err(ApiError::Unsupported("--config-only".into()));
        }
        Ok(NetworkCreate {
            name: b.name,
            driver: b.driver,
            labels: b.labels.unwrap_or_default(),
            options: b.options.unwrap_or_default(),
            internal: b.internal,
            attachable: b.attachable,
            enable_ipv6: b.enable_ipv6.unwrap_or(false),
        })
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkCreateResponse {
    pub id: String,
    pub warning: &'static str,
}

/// `POST /networks/{id}/connect`
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ConnectBody {
    pub container: String,
    pub endpoint_config: Option<EndpointConfig>,
}

/// An endpoint as a client asks for one (`--alias`; compose's service name). Addresses are
/// refused: a guest has none.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EndpointConfig {
    pub aliases: Option<Vec<String>>,
    #[serde(rename = "IPAMConfig")]
    pub ipam_config: Option<BTreeMap<String, serde_json::Value>>,
}

impl EndpointConfig {
    pub fn aliases(self) -> Result<Vec<String>, ApiError> {
        let asks_address =
            self.ipam_config.is_some_and(|c| c.values().any(|v| v.as_str().is_some_and(|s| !s.is_empty())));
        if asks_address {
            return Err(ApiError::Unsupported("--ip/--ip6 (a network gives no addresses)".into()));
        }
        Ok(self.aliases.unwrap_or_default())
    }
}

/// `POST /networks/{id}/disconnect`
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DisconnectBody {
    pub container: String,
    pub force: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkPruneReport {
    pub networks_deleted: Vec<String>,
}
