//! eider's Kubernetes backend, as far as it goes today: the objects a run creates on a cluster,
//! generated from the job spec of the runtime seam. A job is one Pod: its sidecars are native
//! sidecar containers (init containers that keep running, Kubernetes 1.29 and later), started
//! in the Drakefile's order before the primary, the Pod's one regular container; the Pod never
//! restarts anything, and all its containers share localhost. Values from the secrets file live
//! in one Secret per run and reach the containers by reference, never inline. The run's shared
//! storage is one claim.

mod names;
mod objects;
mod pod;

pub use names::{label_value, object_name};
pub use objects::{SharedStorageClaim, run_secret, shared_storage_claim};
pub use pod::{PodSettings, Unsupported, pod};
