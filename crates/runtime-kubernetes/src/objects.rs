//! The objects a run creates beside its Pods: one Secret for the values of the secrets file, and
//! one claim for the shared storage.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimSpec, Secret, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// How the run's shared storage is claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedStorageClaim {
    /// The storage class; the cluster's default when unset.
    pub storage_class: Option<String>,
    /// The size, as Kubernetes writes quantities (`1Gi`).
    pub size: String,
    /// Whether the run's Pods may be on different nodes (`ReadWriteMany`), or must share one
    /// (`ReadWriteOnce`, where the cluster offers nothing else).
    pub many_nodes: bool,
}

/// The run's Secret: each variable of the secrets file under its own name. The values are the
/// caller's: a manifest shown to people gets redacted ones.
#[must_use]
pub fn run_secret(
    name: &str,
    namespace: &str,
    labels: BTreeMap<String, String>,
    values: &[(String, String)],
) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(namespace.to_owned()),
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        type_: Some("Opaque".to_owned()),
        string_data: Some(values.iter().cloned().collect()),
        ..Secret::default()
    }
}

/// The run's shared-storage claim.
#[must_use]
pub fn shared_storage_claim(
    name: &str,
    namespace: &str,
    labels: BTreeMap<String, String>,
    claim: &SharedStorageClaim,
) -> PersistentVolumeClaim {
    let access = if claim.many_nodes {
        "ReadWriteMany"
    } else {
        "ReadWriteOnce"
    };
    PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(namespace.to_owned()),
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec![access.to_owned()]),
            storage_class_name: claim.storage_class.clone(),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_owned(),
                    Quantity(claim.size.clone()),
                )])),
                ..VolumeResourceRequirements::default()
            }),
            ..PersistentVolumeClaimSpec::default()
        }),
        status: None,
    }
}
