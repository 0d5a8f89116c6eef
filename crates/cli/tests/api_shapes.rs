//! API shapes and status codes through a typed Docker client (bollard): Porthole's JSON must
//! deserialize into Docker's own models, errors must carry Docker's codes and messages.

mod common;

use std::collections::HashMap;

use bollard::Docker;
use bollard::errors::Error;
use bollard::models::{ContainerCreateBody, HostConfig, VolumeCreateRequest, VolumeScopeEnum};
use bollard::query_parameters::CreateContainerOptionsBuilder;
use common::Daemon;

fn client(d: &Daemon) -> Docker {
    Docker::connect_with_http(&format!("http://{}", d.addr), 30, bollard::API_DEFAULT_VERSION).unwrap()
}

/// The status code and message of a Docker error response.
fn server_error<T: std::fmt::Debug>(r: Result<T, Error>) -> (u16, String) {
    match r {
        Err(Error::DockerResponseServerError { status_code, message }) => (status_code, message),
        other => panic!("expected an error response, got {other:?}"),
    }
}

#[test]
fn volumes_and_containers_have_dockers_shapes_and_status_codes() {
    let d = Daemon::start();
    let host_dir = d.root.path().join("bind-src");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let docker = client(&d);
        assert_eq!(docker.ping().await.unwrap(), "OK");

        let labels = HashMap::from([("course".to_string(), "storage".to_string())]);
        let v = docker
            .create_volume(VolumeCreateRequest {
                name: Some("pulp".into()),
                labels: Some(labels.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!((v.name.as_str(), v.driver.as_str(), v.scope), ("pulp", "local", Some(VolumeScopeEnum::LOCAL)));
        assert!(v.mountpoint.ends_with("/volumes/pulp/_data"), "{}", v.mountpoint);
        assert_eq!(v.labels, labels);
        assert!(v.created_at.is_some());
        assert_eq!(server_error(docker.inspect_volume("nope").await), (404, "get nope: no such volume".into()));

        let body = ContainerCreateBody {
            image: Some("busybox".into()),
            cmd: Some(vec!["true".into()]),
            volumes: Some(vec!["/anon".into()]),
            host_config: Some(HostConfig {
                binds: Some(vec!["pulp:/data:ro".into(), format!("{}:/host", host_dir.display())]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default().name("shapes").build();
        let created = docker.create_container(Some(options.clone()), body.clone()).await.unwrap();
        assert_eq!(created.id.len(), 64);

        let info = docker.inspect_container("shapes", None).await.unwrap();
        assert_eq!(info.name.as_deref(), Some("/shapes"));
        assert_eq!(info.state.as_ref().and_then(|s| s.status).map(|s| s.to_string()), Some("created".into()));
        let mounts = info.mounts.unwrap();
        let by_dest = |d: &str| mounts.iter().find(|m| m.destination.as_deref() == Some(d)).unwrap().clone();
        let data = by_dest("/data");
        assert_eq!(
            (data.typ.as_deref(), data.name.as_deref(), data.mode.as_deref(), data.rw, data.driver.as_deref()),
            (Some("volume"), Some("pulp"), Some("ro"), Some(false), Some("local"))
        );
        let host = by_dest("/host");
        assert_eq!(
            (host.typ.as_deref(), host.source.as_deref(), host.rw, host.propagation.as_deref(), host.driver.as_deref()),
            // Docker omits Driver and Name for binds.
            (Some("bind"), Some(host_dir.to_str().unwrap()), Some(true), Some("rprivate"), None)
        );
        let anon = by_dest("/anon");
        assert_eq!((anon.name.as_ref().map(String::len), anon.mode.as_deref()), (Some(64), Some("")));

        let (code, msg) =
            server_error(docker.remove_volume("pulp", None::<bollard::query_parameters::RemoveVolumeOptions>).await);
        assert_eq!(code, 409);
        assert_eq!(msg, format!("remove pulp: volume is in use - [{}]", created.id));
        let (code, msg) = server_error(docker.create_container(Some(options), body.clone()).await);
        assert_eq!(code, 409);
        assert!(msg.starts_with("Conflict. The container name \"/shapes\" is already in use"), "{msg}");
        let missing = ContainerCreateBody { image: Some("nosuch".into()), ..body.clone() };
        assert_eq!(
            server_error(docker.create_container(None, missing).await),
            (404, "No such image: nosuch:latest".into())
        );
        let bad = ContainerCreateBody {
            host_config: Some(HostConfig { binds: Some(vec!["pulp:/x:bogus".into()]), ..Default::default() }),
            ..body
        };
        assert_eq!(server_error(docker.create_container(None, bad).await), (400, "invalid mode: bogus".into()));
        assert_eq!(
            server_error(docker.inspect_container("ghost", None).await),
            (404, "No such container: ghost".into())
        );
    });
}
