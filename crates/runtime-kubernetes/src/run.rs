//! What a run keeps on the cluster beside its Pods: the object that owns everything the run
//! creates (deleting it has the cluster's garbage collector remove the rest, should eider be
//! gone), the Secret of the values from the secrets file, and the watch of its Pods.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError};

use eider_runtime::{RuntimeError, labels};
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{DeleteParams, PostParams, PropagationPolicy};
use kube::{Api, Resource as _};
use tokio::sync::{Mutex, OnceCell};

use crate::error::{is_not_found, runtime_error};
use crate::metadata::object_meta;
use crate::names::run_object_name;
use crate::objects::run_owner;
use crate::pod_watch::PodWatch;

/// The cluster and namespace eider works in.
#[derive(Clone)]
pub(crate) struct Cluster {
    pub client: kube::Client,
    pub namespace: String,
}

impl Cluster {
    pub(crate) fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.namespace)
    }
}

/// One run's objects on the cluster.
pub(crate) struct RunObjects {
    run_id: String,
    owner: OnceCell<OwnerReference>,
    /// The run's Secret as last written, once written.
    secret: Mutex<Option<Secret>>,
    /// The watch of the run's Pods, once started; none again once the run is over.
    pods: std::sync::Mutex<Option<Arc<PodWatch>>>,
    /// The node of the run's claims when they can be attached to one node only: the node the
    /// first Pod that mounts one was scheduled to. Held while that Pod is placed.
    pub(crate) storage_node: Mutex<Option<String>>,
}

impl RunObjects {
    pub(crate) fn new(run_id: &str) -> Self {
        Self {
            run_id: run_id.to_owned(),
            owner: OnceCell::new(),
            secret: Mutex::new(None),
            pods: std::sync::Mutex::new(None),
            storage_node: Mutex::new(None),
        }
    }

    /// The reference that makes an object the run's, creating the run's owner on first use.
    pub(crate) async fn owner(&self, cluster: &Cluster) -> Result<&OwnerReference, RuntimeError> {
        self.owner
            .get_or_try_init(|| async {
                let owner = run_owner(
                    &self.run_id,
                    &cluster.namespace,
                    &labels::for_run(&self.run_id),
                );
                let created = cluster
                    .api::<ConfigMap>()
                    .create(&PostParams::default(), &owner)
                    .await
                    .map_err(runtime_error)?;
                Ok(owner_reference(&created))
            })
            .await
    }

    /// Makes the run's Secret hold `values` (besides what it holds already).
    pub(crate) async fn hold_secrets(
        &self,
        cluster: &Cluster,
        values: BTreeMap<String, String>,
    ) -> Result<(), RuntimeError> {
        if values.is_empty() {
            return Ok(());
        }
        let owner = self.owner(cluster).await?.clone();
        let mut written = self.secret.lock().await;
        let held = written
            .as_ref()
            .and_then(|secret| secret.data.as_ref())
            .cloned()
            .unwrap_or_default();
        let missing = values.iter().any(|(name, value)| {
            held.get(name)
                .is_none_or(|held| held.0.as_slice() != value.as_bytes())
        });
        if !missing {
            return Ok(());
        }
        let mut data: BTreeMap<String, k8s_openapi::ByteString> = held;
        for (name, value) in values {
            data.insert(name, k8s_openapi::ByteString(value.into_bytes()));
        }
        let api = cluster.api::<Secret>();
        let stored = match written.take() {
            None => {
                let mut metadata = object_meta(
                    &run_object_name(&self.run_id, Some("secrets")),
                    &cluster.namespace,
                    &labels::for_run(&self.run_id),
                );
                metadata.owner_references = Some(vec![owner]);
                let secret = Secret {
                    metadata,
                    type_: Some("Opaque".to_owned()),
                    data: Some(data),
                    ..Secret::default()
                };
                api.create(&PostParams::default(), &secret).await
            }
            Some(mut secret) => {
                secret.data = Some(data);
                let name = secret.metadata.name.clone().unwrap_or_default();
                api.replace(&name, &PostParams::default(), &secret).await
            }
        }
        .map_err(runtime_error)?;
        *written = Some(stored);
        Ok(())
    }

    /// The run's watch of its Pods, started on first use.
    pub(crate) fn pods(&self, cluster: &Cluster) -> Arc<PodWatch> {
        let mut pods = self.pods.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(pods.get_or_insert_with(|| {
            Arc::new(PodWatch::start(
                cluster.api::<Pod>(),
                &format!("{}={}", labels::RUN_ID, self.run_id),
            ))
        }))
    }

    /// Stops handing out the Pod `name` (its job is over).
    pub(crate) fn forget(&self, name: &str) {
        if let Some(pods) = &*self.pods.lock().unwrap_or_else(PoisonError::into_inner) {
            pods.unsubscribe(name);
        }
    }

    /// Deletes the run's owner, and with it (through the garbage collector) anything of the
    /// run still there; stops the watch.
    pub(crate) async fn finish(&self, cluster: &Cluster) -> Vec<String> {
        drop(
            self.pods
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let Some(owner) = self.owner.get() else {
            return Vec::new();
        };
        let parameters = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            ..DeleteParams::default()
        };
        match cluster
            .api::<ConfigMap>()
            .delete(&owner.name, &parameters)
            .await
        {
            Ok(_) => Vec::new(),
            Err(error) if is_not_found(&error) => Vec::new(),
            Err(error) => vec![format!(
                "cannot remove config map {} (the owner of run {}): {}",
                owner.name,
                self.run_id,
                runtime_error(error)
            )],
        }
    }
}

/// A reference to `object` as the owner of others.
fn owner_reference(object: &ConfigMap) -> OwnerReference {
    let meta: &ObjectMeta = object.meta();
    OwnerReference {
        api_version: ConfigMap::api_version(&()).into_owned(),
        kind: ConfigMap::kind(&()).into_owned(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
        controller: None,
        block_owner_deletion: None,
    }
}
