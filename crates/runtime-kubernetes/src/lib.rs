//! eider's Kubernetes backend. A job is one Pod: its sidecars are native sidecar containers
//! (init containers that keep running, Kubernetes 1.29 and later), started in the Drakefile's
//! order before the primary, the Pod's one regular container; the Pod never restarts anything,
//! and all its containers share localhost. Values from the secrets file live in one Secret per
//! run and reach the containers by reference, never inline. The run's shared storage is one
//! claim, copied out (`--keep-shared`) through exec in a short-lived Pod that mounts it.
//! Everything a run creates is owned by one object per run, so that deleting it has the cluster
//! remove the rest; one watch per run follows all of its Pods.
//!
//! The objects are generated without a cluster too (`eider manifests`).

mod cluster;
mod error;
mod export;
mod job;
mod launch;
mod logs;
mod metadata;
mod names;
mod objects;
mod pod;
mod pod_watch;
mod run;
mod runtime;
mod source;
mod status;
mod unpack;

pub use cluster::{
    ClusterSettings, ConnectError, DEFAULT_PENDING_TIMEOUT, DEFAULT_SHARED_STORAGE_SIZE,
    OLDEST_SUPPORTED,
};
pub use job::KubernetesJob;
pub use names::{label_value, object_name, run_object_name};
pub use objects::{SharedStorageClaim, run_owner, run_secret, shared_storage_claim};
pub use pod::{PodSettings, Unsupported, pod, source_seed_pod};
pub use runtime::KubernetesRuntime;
