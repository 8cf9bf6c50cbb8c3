//! The objects a run creates beside its Pods: the one that owns everything else of the run, one
//! Secret for the values of the secrets file, and one claim for the shared storage.

use std::collections::BTreeMap;

use eider_runtime::Labels;
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, PersistentVolumeClaimSpec, Secret, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::metadata::object_meta;
use crate::names::run_object_name;

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

/// The owner of everything run `run_id` creates, `eider-RUN`: the run's other objects name it in
/// their `ownerReferences`, so that deleting it has the cluster's garbage collector delete them.
/// A config map, because every cluster has the kind and it needs no permission beyond the ones
/// a run needs anyway; its one entry tells people who find it what it is for. `labels` are
/// eider's labels of the run ([`eider_runtime::labels::for_run`]).
#[must_use]
pub fn run_owner(run_id: &str, namespace: &str, labels: &Labels) -> ConfigMap {
    ConfigMap {
        metadata: object_meta(&run_object_name(run_id, None), namespace, labels),
        data: Some(BTreeMap::from([(
            "description".to_owned(),
            format!("Owns what eider run {run_id} created: deleting it removes the rest."),
        )])),
        ..ConfigMap::default()
    }
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
