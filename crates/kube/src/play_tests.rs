//! `plan` refusing what it cannot honour, with the text the user reads.

use crate::*;

const POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  restartPolicy: Never
  containers:
  - name: httpd
    image: pulp-apache
";

fn error(yaml: &str) -> String {
    plan(yaml).unwrap_err().to_string()
}

#[test]
fn a_minimal_pod_plays() {
    let p = plan(POD).unwrap();
    assert_eq!(p.pods[0].containers[0].name, "web-httpd");
    assert_eq!(p.pods[0].containers[0].cmd, None);
}

#[test]
fn bad_manifests_are_refused_by_name() {
    let cases: &[(String, &str)] = &[
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n".into(),
            "document 1: kind \"Deployment\" is not supported by Porthole (it plays Pod and PersistentVolumeClaim)",
        ),
        (
            format!("{POD}---\napiVersion: v1\nkind: Service\n"),
            "document 2: kind \"Service\" is not supported by Porthole (it plays Pod and PersistentVolumeClaim)",
        ),
        (
            POD.replace("image: pulp-apache", "image: pulp-apache\n    securityContext: {privileged: true}"),
            "document 1: field spec.containers[0].securityContext is not supported by Porthole",
        ),
        (
            POD.replace(
                "image: pulp-apache",
                "image: pulp-apache\n    env:\n    - name: A\n      valueFrom: {fieldRef: {fieldPath: x}}",
            ),
            "document 1: field spec.containers[0].env[0].valueFrom is not supported by Porthole",
        ),
        (
            POD.replace("image: pulp-apache", "imag: pulp-apache"),
            "document 1: field spec.containers[0].imag is not supported by Porthole",
        ),
        (POD.replace("    image: pulp-apache\n", ""), "pod web: container httpd: image is required"),
        (
            POD.replace("  restartPolicy: Never\n", ""),
            "pod web: restartPolicy: \"Always\" is not supported by Porthole: Porthole never restarts a container; set restartPolicy: Never",
        ),
        (
            POD.replace("image: pulp-apache", "image: pulp-apache\n    imagePullPolicy: Always"),
            "pod web: imagePullPolicy: \"Always\" is not supported by Porthole: Porthole runs local images only (IfNotPresent or Never)",
        ),
        (
            POD.replace("image: pulp-apache", "image: pulp-apache\n    ports: [{containerPort: 53, protocol: UDP}]"),
            "pod web: ports.protocol: \"UDP\" is not supported by Porthole: guests have TCP only",
        ),
        (
            POD.replace("image: pulp-apache", "image: pulp-apache\n    volumeMounts: [{name: data, mountPath: /d}]"),
            "pod web: container httpd: volume \"data\" is not one of the pod's volumes",
        ),
        (
            POD.replace("  containers:", "  volumes:\n  - name: data\n    emptyDir: {medium: Memory}\n  containers:"),
            "document 1: field spec.volumes[0].emptyDir.medium is not supported by Porthole",
        ),
        (
            POD.replace(
                "  containers:",
                "  volumes:\n  - name: data\n    hostPath: {path: /srv, type: Socket}\n  containers:",
            ),
            "pod web: hostPath.type: \"Socket\" is not supported by Porthole: Porthole binds directories, made when missing (use DirectoryOrCreate)",
        ),
        (
            POD.replace("  containers:", "  volumes:\n  - name: data\n  containers:"),
            "pod web: volume data: one of emptyDir, persistentVolumeClaim, hostPath is required",
        ),
        (
            POD.replace("name: web", "name: Web_1"),
            "Pod: name \"Web_1\" is not a valid name (lower-case letters, digits and '-', at most 63)",
        ),
        (
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec: {volumeName: pv1}\n".into(),
            "document 1: field spec.volumeName is not supported by Porthole",
        ),
        ("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\n".into(), "the manifest has no Pod"),
        (
            "kind: Pod\napiVersion: v2\n".into(),
            "document 1: apiVersion \"v2\" is not supported (Pod and PersistentVolumeClaim are v1)",
        ),
        (
            "kind: Pod\napiVersion: v1\nspec: [\n".into(),
            "document 1: did not find expected node content at line 4 column 1, while parsing a flow node",
        ),
    ];
    for (yaml, expected) in cases {
        assert_eq!(error(yaml), *expected, "{yaml}");
    }
}

#[test]
fn labels_annotations_status_and_nulls_are_accepted() {
    let yaml = POD.replace(
        "  name: web\n",
        "  name: web\n  creationTimestamp: null\n  labels: {app: web}\n  annotations: {a/b: c}\n",
    ) + "status: {}\n";
    assert_eq!(plan(&yaml).unwrap().pods[0].name, "web");
}
