//! Networks as records: Docker's checks and texts on create, connect, disconnect, rm and
//! prune; a container's networks from create to removal; all of it across a reopen.

mod common;

use std::collections::BTreeMap;

use common::{engine, open_engine, sh};
use porthole_engine::{CreateOptions, Engine, NetworkCreate, NetworkRequest, RemoveOptions};

fn create_network(e: &Engine, name: &str) -> String {
    e.network_create(NetworkCreate { name: name.into(), ..Default::default() }).unwrap().record.id.to_string()
}

fn container(e: &Engine, name: &str, network: NetworkRequest) -> Result<String, String> {
    let opts = CreateOptions {
        name: Some(name.into()),
        image: "busybox".into(),
        cmd: sh("true"),
        network,
        ..Default::default()
    };
    e.create(opts).map(|id| id.to_string()).map_err(|e| e.to_string())
}

/// `NAME: alias, …` for each network the container is on.
fn networks_of(e: &Engine, container: &str) -> Vec<String> {
    let info = e.inspect(container).unwrap();
    let short = info.record.id.short().to_string();
    let named = |a: &String| if *a == short { "<short id>".to_string() } else { a.clone() };
    info.networks
        .iter()
        .map(|a| format!("{}: {}", a.name, a.endpoint.aliases.iter().map(named).collect::<Vec<_>>().join(", ")))
        .collect()
}

fn members(e: &Engine, network: &str) -> Vec<String> {
    let mut names: Vec<String> =
        e.network_inspect(network).unwrap().containers.into_iter().map(|(_, n, _)| n).collect();
    names.sort();
    names
}

#[test]
fn networks_are_records_with_dockers_checks() {
    let (tmp, e) = engine();
    let err = |r: porthole_engine::Result<()>| r.unwrap_err().to_string();
    let id = create_network(&e, "pulp_default");
    let names: Vec<String> = e.network_list().into_iter().map(|n| n.record.name.to_string()).collect();
    assert_eq!(names, ["bridge", "host", "none", "pulp_default"]);
    assert_eq!(e.network_inspect(&id[..6]).unwrap().record.driver, "bridge");
    let create = |name: &str, driver: &str| {
        e.network_create(NetworkCreate { name: name.into(), driver: driver.into(), ..Default::default() })
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    assert_eq!(create("pulp_default", ""), Err("network with name pulp_default already exists".into()));
    assert_eq!(create("bridge", ""), Err("bridge is a pre-defined network and cannot be created".into()));
    assert_eq!(create("x1", "overlay"), Err("network driver overlay is not supported by Porthole".into()));
    assert_eq!(create("x1", "weave"), Err("plugin \"weave\" not found".into()));
    assert_eq!(err(e.network_remove("host")), "host is a pre-defined network and cannot be removed");
    assert_eq!(err(e.network_remove("nosuch")), "network nosuch not found");

    // At create: the named network with its aliases (and the short id, as Docker adds it);
    // without one, `bridge`; an unknown one is refused.
    let endpoints = BTreeMap::from([("pulp_default".to_string(), vec!["web".to_string()])]);
    container(&e, "web", NetworkRequest { mode: "pulp_default".into(), endpoints }).unwrap();
    container(&e, "plain", NetworkRequest::default()).unwrap();
    assert_eq!(networks_of(&e, "web"), ["pulp_default: web, <short id>"]);
    assert_eq!(networks_of(&e, "plain"), ["bridge: "]);
    assert_eq!(
        container(&e, "lost", NetworkRequest { mode: "nosuch".into(), ..Default::default() }),
        Err("network nosuch not found".into())
    );
    assert_eq!(
        container(&e, "alone", NetworkRequest { mode: "none".into(), ..Default::default() }).map(|_| ()),
        Ok(())
    );
    assert_eq!(
        err(e.network_connect("pulp_default", "alone", &[])),
        "container cannot be connected to multiple networks with one of the networks in private (none) mode"
    );

    // connect, disconnect, and what rm says while a container is on the network.
    e.network_connect("pulp_default", "plain", &["db".into()]).unwrap();
    assert_eq!(networks_of(&e, "plain"), ["bridge: ", "pulp_default: db, <short id>"]);
    assert_eq!(
        err(e.network_connect(&id, "plain", &[])),
        "endpoint with name plain already exists in network pulp_default"
    );
    assert_eq!(members(&e, "pulp_default"), ["plain", "web"]);
    e.network_disconnect("pulp_default", "plain").unwrap();
    assert_eq!(
        err(e.network_disconnect("pulp_default", "plain")),
        "container plain is not connected to network pulp_default"
    );
    assert_eq!(
        err(e.network_remove("pulp_default")),
        format!("error while removing network: network pulp_default id {id} has active endpoints")
    );
    // prune keeps a network in use, and `bridge` always.
    let spare = create_network(&e, "spare");
    assert_eq!(e.network_prune(&[]).unwrap(), ["spare"]);
    assert!(e.network_inspect(&spare).is_err());

    // Across a reopen: the network and who is on it.
    drop(e);
    let e = open_engine(tmp.path(), None);
    assert_eq!(members(&e, "pulp_default"), ["web"]);
    assert_eq!(networks_of(&e, "web"), ["pulp_default: web, <short id>"]);
    // A removed container leaves its networks: the network can go.
    e.remove("web", RemoveOptions::default()).unwrap();
    assert_eq!(members(&e, "pulp_default"), Vec::<String>::new());
    e.network_remove("pulp_default").unwrap();
    assert_eq!(e.network_list().len(), 3);
}
