//! Which manifest fields `kube play` honours. A field Porthole would ignore changes what the
//! pod does on a cluster (a probe, a security context, a resource limit), so every field the
//! document sets must be on these lists, else it is refused by its path. Checked on the
//! document as written, so a misspelt field is refused too rather than dropped by serde.

use serde_json::Value;

/// What every object may say: its type, name and free-form maps (listed as `path.*`), and a
/// `status`, which is the cluster's to write and changes nothing.
const OBJECT: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "metadata.name",
    "metadata.namespace",
    "metadata.labels.*",
    "metadata.annotations.*",
    "spec",
    "status.*",
];

const POD: &[&str] = &[
    "spec.restartPolicy",
    "spec.runtimeClassName",
    "spec.volumes",
    "spec.volumes[].name",
    "spec.volumes[].emptyDir",
    "spec.volumes[].hostPath",
    "spec.volumes[].hostPath.path",
    "spec.volumes[].hostPath.type",
    "spec.volumes[].persistentVolumeClaim",
    "spec.volumes[].persistentVolumeClaim.claimName",
    "spec.volumes[].persistentVolumeClaim.readOnly",
    "spec.containers",
    "spec.containers[].name",
    "spec.containers[].image",
    "spec.containers[].imagePullPolicy",
    "spec.containers[].command",
    "spec.containers[].args",
    "spec.containers[].env",
    "spec.containers[].env[].name",
    "spec.containers[].env[].value",
    "spec.containers[].workingDir",
    "spec.containers[].ports",
    "spec.containers[].ports[].name",
    "spec.containers[].ports[].containerPort",
    "spec.containers[].ports[].hostPort",
    "spec.containers[].ports[].hostIP",
    "spec.containers[].ports[].protocol",
    "spec.containers[].volumeMounts",
    "spec.containers[].volumeMounts[].name",
    "spec.containers[].volumeMounts[].mountPath",
    "spec.containers[].volumeMounts[].readOnly",
];

/// A claim's requested size is a minimum, which a local volume meets; its class and access
/// modes choose cluster storage, of which there is one kind here.
const CLAIM: &[&str] = &[
    "spec.accessModes",
    "spec.storageClassName",
    "spec.resources",
    "spec.resources.requests",
    "spec.resources.requests.storage",
];

/// Which list a kind is checked against.
#[derive(Debug, Clone, Copy)]
pub enum Object {
    Pod,
    Claim,
}

/// The first field `doc` sets that is not honoured, as a path (`spec.containers[0].resources`).
pub fn first_unsupported(doc: &Value, object: Object) -> Option<String> {
    let own = match object {
        Object::Pod => POD,
        Object::Claim => CLAIM,
    };
    let allowed: Vec<&str> = OBJECT.iter().chain(own).copied().collect();
    walk(doc, "", "", &allowed)
}

fn walk(v: &Value, pattern: &str, shown: &str, allowed: &[&str]) -> Option<String> {
    match v {
        Value::Object(map) => map.iter().find_map(|(k, child)| {
            // `null` is what a generator writes for "unset" (podman's `creationTimestamp: null`).
            if child.is_null() {
                return None;
            }
            let join = |base: &str| if base.is_empty() { k.clone() } else { format!("{base}.{k}") };
            let (p, s) = (join(pattern), join(shown));
            if allowed.iter().any(|a| a.strip_suffix(".*").is_some_and(|free| free == pattern || free == p)) {
                return None;
            }
            if !allowed.contains(&p.as_str()) {
                return Some(s);
            }
            walk(child, &p, &s, allowed)
        }),
        // Lists of objects are checked element by element; lists of strings need no more.
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| walk(item, &format!("{pattern}[]"), &format!("{shown}[{i}]"), allowed)),
        _ => None,
    }
}
