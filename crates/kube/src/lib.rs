//! Pod manifests for Porthole's containers, and back. `generate` turns what a controller knows
//! about some containers (`ContainerFacts`) into one Kubernetes Pod with its
//! PersistentVolumeClaims; `play` turns such a manifest into a `PlayPlan` of volumes and
//! containers for the Docker API to create. Both work on `k8s-openapi`'s typed structs and
//! YAML text only: no I/O, no HTTP, so the CLI gathers facts and executes plans.
//!
//! This is a crate of its own rather than part of `porthole-core` because the typed Kubernetes
//! API is large to compile and nothing else needs it.

mod facts;
mod fields;
mod generate;
mod names;
mod play;

pub use facts::{ContainerFacts, ImageDefaults, MountFact, MountOrigin, PortFact};
pub use generate::{GenerateOptions, Generated, generate};
pub use play::{
    MountKind, PlannedContainer, PlannedMount, PlannedPort, PlannedVolume, PlayError, PlayPlan, PodPlan, VolumeKind,
    plan,
};

/// The label every container of a played pod carries: what `kube down` looks for and what
/// the dashboard groups by. Kubernetes' own container runtimes set the same one.
pub use porthole_core::graph::POD_LABEL;
/// The container's name inside its pod.
pub const CONTAINER_LABEL: &str = "io.kubernetes.container.name";
/// On a volume made for a pod's `emptyDir`: the pod volume's name. `kube down` removes such
/// volumes with the pod; claims (named volumes) stay unless asked.
pub const EMPTY_DIR_LABEL: &str = "io.porthole.kube.empty-dir";
/// The runtime class a generated pod asks for unless told otherwise: runwasi's wasmtime shim.
pub const DEFAULT_RUNTIME_CLASS: &str = "wasmtime";

#[cfg(test)]
mod generate_tests;
#[cfg(test)]
mod play_tests;
