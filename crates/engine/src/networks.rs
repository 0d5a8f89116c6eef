//! Networks, kept as records only. Guests have no network stack, so a network gives no
//! connectivity in Porthole; it exists because docker-compose creates one for every project
//! and attaches each service to it. So `network create/connect/disconnect/rm/prune` keep
//! records with Docker's checks and texts, and nothing else happens.
//!
//! The three networks every Docker engine has (`bridge`, `host`, `none`) are fixed records with
//! fixed ids; created ones are `networks/<id>.json`. Which container is on which network is
//! kept on the container's record (`HostOptions::networks`, by network id), as a volume
//! reference is kept in its mounts: a removed container leaves its networks with it, and a
//! network's `Containers` is read from the containers, never kept twice.

use std::collections::BTreeMap;

use porthole_core::event::EventType;
use porthole_core::names::{Id, Lookup, NetworkName, lookup};
use porthole_store::{ContainerRecord, Endpoint, NetworkRecord};

use crate::error::IoContext;
use crate::volumes::labels_match;
use crate::{Engine, EngineError, Result, World};

/// What every network tells whoever inspects it (the create responses carry it as a warning).
pub const NO_CONNECTIVITY: &str = "Porthole guests have no network: this network gives no connectivity";

/// The default networks: (name, driver, id). The ids are fixed (the sha256 of
/// `porthole network NAME`), so they are the same on every start, as Docker's are for a host.
const DEFAULTS: &[(&str, &str, &str)] = &[
    ("bridge", "bridge", "644f547c29b90aba1b5e6872977e11c88a68760ca5a5c15fb02fdac2a39d39bc"),
    ("host", "host", "4b8db68c00d1e33d16a68a80e08c6803f67923dcd87b832cd562ab44fa0a549b"),
    ("none", "null", "c91b590418c7453918067ba2295f44f7b7fcaf3152a6e85797a638fdc90055d4"),
];

/// The network a container is on when it names none (`default` is Docker's word for it).
pub const DEFAULT_NETWORK: &str = "bridge";

/// A default network as a record (created at the epoch, as Docker shows its own).
fn default_record((name, driver, id): (&str, &str, &str)) -> NetworkRecord {
    NetworkRecord {
        id: Id::new(id).expect("a fixed id"),
        name: NetworkName::new(name).expect("a fixed name"),
        created: 0,
        driver: driver.to_string(),
        labels: BTreeMap::new(),
        options: BTreeMap::new(),
        internal: false,
        attachable: false,
        enable_ipv6: false,
    }
}

/// Is this one of the networks every engine has (never created, never removed)?
pub fn is_builtin(id: &Id) -> bool {
    DEFAULTS.iter().any(|(_, _, builtin)| *builtin == id.as_str())
}

/// The id of the default network `name`, if it is one.
fn builtin_id(name: &str) -> Option<Id> {
    DEFAULTS.iter().find(|(n, _, _)| *n == name).map(|(_, _, id)| Id::new(id).expect("a fixed id"))
}

/// A container's networks when its record names none (records from before networks): `bridge`,
/// as every container was on then.
pub(crate) fn default_attachment() -> BTreeMap<String, Endpoint> {
    BTreeMap::from([(builtin_id(DEFAULT_NETWORK).expect("bridge").to_string(), Endpoint::default())])
}

/// A network as `docker network inspect` shows it: its record and who is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkInfo {
    pub record: NetworkRecord,
    pub builtin: bool,
    /// The containers attached, with their endpoints.
    pub containers: Vec<(Id, String, Endpoint)>,
}

/// `docker network create` (`POST /networks/create`).
#[derive(Debug, Clone, Default)]
pub struct NetworkCreate {
    pub name: String,
    /// `-d`; empty is `bridge`.
    pub driver: String,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
    pub internal: bool,
    pub attachable: bool,
    pub enable_ipv6: bool,
}

/// What a container asks for at create: `--network` (`HostConfig.NetworkMode`) and each
/// network's endpoint (`NetworkingConfig.EndpointsConfig`: network → aliases).
#[derive(Debug, Clone, Default)]
pub struct NetworkRequest {
    pub mode: String,
    pub endpoints: BTreeMap<String, Vec<String>>,
}

/// Drivers Docker has built in that mean real connectivity (or a swarm): refused by name. Any
/// other name is a plugin Docker would look up and fail to find.
const REFUSED_DRIVERS: &[&str] = &["overlay", "macvlan", "ipvlan", "host", "null"];

/// `driver` for a created network, as Docker decides it.
fn check_driver(driver: &str) -> Result<String> {
    match driver {
        "" | "bridge" => Ok("bridge".into()),
        d if REFUSED_DRIVERS.contains(&d) => Err(EngineError::NetworkDriver(d.to_string())),
        d => Err(EngineError::NoSuchPlugin(d.to_string())),
    }
}

/// `aliases` with the container's short id added, each once, in order: Docker gives a container
/// its short id as an alias on every network but the default ones (docker-compose checks for it
/// before deciding a container is already connected).
fn aliases(given: &[String], network: &Id, container: &Id) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let short = (!is_builtin(network)).then(|| container.short().to_string());
    for a in given.iter().cloned().chain(short) {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// Who can share a container's networks: `host` and `none` stand alone (Docker's rules and words).
fn check_joinable(current: &BTreeMap<String, Endpoint>, joining: &Id) -> Result<()> {
    let is = |id: &str, name: &str| builtin_id(name).is_some_and(|b| b.as_str() == id);
    let alone = |id: &str| is(id, "host") || is(id, "none");
    if current.contains_key(joining.as_str()) {
        return Ok(());
    }
    if current.keys().any(|k| is(k, "host")) || is(joining.as_str(), "host") {
        return Err(EngineError::NetworkHost);
    }
    if !current.is_empty() && (current.keys().any(|k| alone(k)) || alone(joining.as_str())) {
        return Err(EngineError::NetworkNoneAlone);
    }
    Ok(())
}

/// A network a container is on, for container inspect's `NetworkSettings.Networks`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub id: Id,
    pub endpoint: Endpoint,
}

impl World {
    /// The networks `record` is on, by name.
    pub(crate) fn attachments_of(&self, record: &ContainerRecord) -> Vec<Attachment> {
        let mut out: Vec<Attachment> = record
            .host
            .networks
            .iter()
            .filter_map(|(id, endpoint)| {
                let n = self.network(id).ok()?;
                Some(Attachment { name: n.name.to_string(), id: n.id, endpoint: endpoint.clone() })
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Every network: the defaults first, then those created, oldest first.
    fn networks(&self) -> Vec<NetworkRecord> {
        let mut created: Vec<NetworkRecord> = self.networks.values().cloned().collect();
        created.sort_by_key(|n| n.created);
        DEFAULTS.iter().copied().map(default_record).chain(created).collect()
    }

    /// A network by name, full id or unique id prefix, as Docker looks one up.
    pub(crate) fn network(&self, reference: &str) -> Result<NetworkRecord> {
        let all = self.networks();
        match lookup(all.iter().map(|n| (n.name.as_str(), &n.id, n)), reference) {
            Lookup::Found(n) => Ok(n.clone()),
            Lookup::NotFound => Err(EngineError::NoSuchNetwork(reference.to_string())),
            Lookup::Ambiguous => Err(EngineError::Ambiguous(reference.to_string())),
        }
    }

    fn network_info(&self, record: NetworkRecord) -> NetworkInfo {
        let containers = self
            .containers
            .iter()
            .filter_map(|(id, c)| {
                let endpoint = c.record.host.networks.get(record.id.as_str())?;
                Some((id.clone(), c.record.name.to_string(), endpoint.clone()))
            })
            .collect();
        NetworkInfo { builtin: is_builtin(&record.id), record, containers }
    }

    /// The endpoints a new container (`container`) gets from its request, every network
    /// looked up. An unknown one is refused with Docker's text.
    pub(crate) fn attachments(&self, req: &NetworkRequest, container: &Id) -> Result<BTreeMap<String, Endpoint>> {
        let unknown = |e: EngineError| match e {
            EngineError::NoSuchNetwork(n) => EngineError::CreateOnNoSuchNetwork(n),
            e => e,
        };
        // `default` is Docker's word for `bridge`, in the mode and as an endpoint's key.
        let find = |name: &str| match name {
            "" | "default" => self.network(DEFAULT_NETWORK),
            name => self.network(name),
        };
        let primary = find(&req.mode).map_err(unknown)?;
        let mut out = BTreeMap::new();
        let given = |network: &NetworkRecord| {
            req.endpoints.iter().find(|(k, _)| find(k).is_ok_and(|n| n.id == network.id)).map(|(_, a)| a)
        };
        let primary_aliases = given(&primary).cloned().unwrap_or_default();
        out.insert(primary.id.to_string(), Endpoint { aliases: aliases(&primary_aliases, &primary.id, container) });
        for (name, given) in &req.endpoints {
            let network = find(name).map_err(unknown)?;
            check_joinable(&out, &network.id)?;
            out.insert(network.id.to_string(), Endpoint { aliases: aliases(given, &network.id, container) });
        }
        Ok(out)
    }
}

impl Engine {
    /// `docker network create`: a record, with Docker's checks. The warning says what a
    /// network is here.
    pub fn network_create(&self, req: NetworkCreate) -> Result<NetworkInfo> {
        if builtin_id(&req.name).is_some() {
            return Err(EngineError::PredefinedNetwork { name: req.name, verb: "created" });
        }
        let name = NetworkName::new(&req.name)?;
        let driver = check_driver(&req.driver)?;
        let mut w = self.world();
        if w.networks.values().any(|n| n.name == name) {
            return Err(EngineError::NetworkNameInUse(name.to_string()));
        }
        let record = NetworkRecord {
            id: porthole_store::random_id(),
            name,
            created: porthole_store::now_nanos(),
            driver,
            labels: req.labels,
            options: req.options,
            internal: req.internal,
            attachable: req.attachable,
            enable_ipv6: req.enable_ipv6,
        };
        self.inner.store.save_network(&record).context(|| format!("saving network {}", record.name))?;
        w.networks.insert(record.id.clone(), record.clone());
        self.emit(self.network_event("create", &record));
        Ok(w.network_info(record))
    }

    pub fn network_list(&self) -> Vec<NetworkInfo> {
        let w = self.world();
        w.networks().into_iter().map(|n| w.network_info(n)).collect()
    }

    pub fn network_inspect(&self, reference: &str) -> Result<NetworkInfo> {
        let w = self.world();
        let record = w.network(reference)?;
        Ok(w.network_info(record))
    }

    /// `docker network rm`: never a default network, never one a container is attached to
    /// (running or not: no container record may name a network that is gone).
    pub fn network_remove(&self, reference: &str) -> Result<()> {
        let mut w = self.world();
        let record = w.network(reference)?;
        self.remove_network_locked(&mut w, record)
    }

    fn remove_network_locked(&self, w: &mut World, record: NetworkRecord) -> Result<()> {
        if is_builtin(&record.id) {
            return Err(EngineError::PredefinedNetwork { name: record.name.to_string(), verb: "removed" });
        }
        if !w.network_info(record.clone()).containers.is_empty() {
            return Err(EngineError::NetworkInUse { name: record.name.to_string(), id: record.id.to_string() });
        }
        self.inner.store.remove_network(&record.id).context(|| format!("removing network {}", record.name))?;
        w.networks.remove(&record.id);
        self.emit(self.network_event("destroy", &record));
        Ok(())
    }

    /// `docker network prune [--filter label=…]`: every created network no container is on.
    /// Returns the names removed.
    pub fn network_prune(&self, labels: &[String]) -> Result<Vec<String>> {
        let mut w = self.world();
        let unused: Vec<NetworkRecord> = w
            .networks
            .values()
            .filter(|n| labels_match(&n.labels, labels))
            .filter(|n| w.network_info((*n).clone()).containers.is_empty())
            .cloned()
            .collect();
        let mut removed = Vec::new();
        for record in unused {
            removed.push(record.name.to_string());
            self.remove_network_locked(&mut w, record)?;
        }
        self.emit(self.event(EventType::Network, "prune", ""));
        Ok(removed)
    }

    /// `docker network connect [--alias A] NETWORK CONTAINER`
    pub fn network_connect(&self, network: &str, container: &str, given_aliases: &[String]) -> Result<()> {
        let mut w = self.world();
        let network = w.network(network)?;
        let id = w.container_id(container)?;
        let record = &w.containers[&id].record;
        if record.host.networks.contains_key(network.id.as_str()) {
            return Err(EngineError::AlreadyConnected {
                container: record.name.to_string(),
                network: network.name.to_string(),
            });
        }
        check_joinable(&record.host.networks, &network.id)?;
        let endpoint = Endpoint { aliases: aliases(given_aliases, &network.id, &id) };
        self.change_networks(&mut w, &id, |networks| {
            networks.insert(network.id.to_string(), endpoint);
        })?;
        self.emit(self.network_event("connect", &network).with("container", id.as_str()));
        Ok(())
    }

    /// `docker network disconnect [-f] NETWORK CONTAINER`
    pub fn network_disconnect(&self, network: &str, container: &str) -> Result<()> {
        let mut w = self.world();
        let network = w.network(network)?;
        let id = w.container_id(container)?;
        if !w.containers[&id].record.host.networks.contains_key(network.id.as_str()) {
            return Err(EngineError::NotConnected {
                container: w.containers[&id].record.name.to_string(),
                network: network.name.to_string(),
            });
        }
        self.change_networks(&mut w, &id, |networks| {
            networks.remove(network.id.as_str());
        })?;
        self.emit(self.network_event("disconnect", &network).with("container", id.as_str()));
        Ok(())
    }

    /// Changes a container's networks: its record saved first, then the world.
    fn change_networks(
        &self,
        w: &mut World,
        id: &Id,
        change: impl FnOnce(&mut BTreeMap<String, Endpoint>),
    ) -> Result<()> {
        let c = w.containers.get_mut(id).expect("looked up by the caller");
        let mut record: ContainerRecord = c.record.clone();
        change(&mut record.host.networks);
        self.inner.store.save_container(&record).context(|| format!("saving container {id}"))?;
        c.record = record;
        Ok(())
    }

    fn network_event(&self, action: &str, n: &NetworkRecord) -> porthole_core::event::Event {
        self.event(EventType::Network, action, n.id.as_str()).with("name", n.name.as_str()).with("type", &n.driver)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drivers_as_docker_decides() {
        let check = |d: &str| check_driver(d).map_err(|e| e.to_string());
        assert_eq!(check(""), Ok("bridge".into()));
        assert_eq!(check("bridge"), Ok("bridge".into()));
        assert_eq!(check("overlay"), Err("network driver overlay is not supported by Porthole".into()));
        assert_eq!(check("foo"), Err("plugin \"foo\" not found".into()));
    }

    #[test]
    fn aliases_add_the_short_id_on_created_networks_only() {
        let c = Id::new(&"ab".repeat(32)).unwrap();
        let created = Id::new(&"cd".repeat(32)).unwrap();
        let bridge = builtin_id("bridge").unwrap();
        assert_eq!(aliases(&["web".into(), "web".into()], &created, &c), ["web", "abababababab"]);
        assert_eq!(aliases(&["web".into()], &bridge, &c), ["web"]);
    }

    #[test]
    fn host_and_none_stand_alone() {
        let on = |name: &str| BTreeMap::from([(builtin_id(name).unwrap().to_string(), Endpoint::default())]);
        let created = Id::new(&"cd".repeat(32)).unwrap();
        let err = |r: Result<()>| r.map_err(|e| e.to_string()).err().unwrap_or_default();
        assert_eq!(err(check_joinable(&on("bridge"), &created)), "");
        assert_eq!(
            err(check_joinable(&on("host"), &created)),
            "container cannot be disconnected from host network or connected to host network"
        );
        assert_eq!(
            err(check_joinable(&on("bridge"), &builtin_id("none").unwrap())),
            "container cannot be connected to multiple networks with one of the networks in private (none) mode"
        );
        assert_eq!(err(check_joinable(&BTreeMap::new(), &builtin_id("none").unwrap())), "");
    }
}
