//! The runtime seam over a Kubernetes cluster.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use camino::Utf8Path;
use drakefile::PullPolicy;
use eider_runtime::{
    CopyReport, JobObserver, JobSpec, Labels, LaunchControl, LaunchError, Platform, PullProgress,
    Resource, ResourceKind, Runtime, RuntimeError, Storage, StorageRequest,
};
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Pod, Secret};
use kube::api::{DeleteParams, ListParams, PostParams};

use crate::cluster::{ClusterSettings, ConnectError, connect};
use crate::error::{is_not_found, runtime_error};
use crate::job::KubernetesJob;
use crate::metadata::{labels_of, object_meta};
use crate::names::run_object_name;
use crate::objects::shared_storage_claim;
use crate::run::{Cluster, RunObjects};

/// A Kubernetes cluster as eider's backend: a job is one Pod.
pub struct KubernetesRuntime {
    pub(crate) cluster: Cluster,
    /// Boxed: the runtime is moved around whole, and its settings are most of it.
    pub(crate) settings: Box<ClusterSettings>,
    runs: Mutex<HashMap<String, Arc<RunObjects>>>,
    /// The names given to jobs' own copies of the source, which live in their Pods (an
    /// `emptyDir`) and go with them: nothing to remove.
    pod_copies: Mutex<HashSet<String>>,
}

impl KubernetesRuntime {
    /// Connects to the cluster the settings name and checks its version.
    pub async fn connect(settings: ClusterSettings) -> Result<Self, ConnectError> {
        let (client, namespace) = connect(&settings).await?;
        Ok(Self {
            cluster: Cluster { client, namespace },
            settings: Box::new(settings),
            runs: Mutex::new(HashMap::new()),
            pod_copies: Mutex::new(HashSet::new()),
        })
    }

    /// The namespace everything is created in.
    #[must_use]
    pub fn namespace(&self) -> &str {
        &self.cluster.namespace
    }

    /// The objects of run `run_id`, known from its first request on.
    pub(crate) fn run(&self, run_id: &str) -> Arc<RunObjects> {
        let mut runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(
            runs.entry(run_id.to_owned())
                .or_insert_with(|| Arc::new(RunObjects::new(run_id))),
        )
    }

    async fn list<K>(
        &self,
        selector: &str,
        kind: ResourceKind,
        noun: &'static str,
    ) -> Result<Vec<Resource>, RuntimeError>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
        <K as kube::Resource>::DynamicType: Default,
    {
        let objects = self
            .cluster
            .api::<K>()
            .list(&ListParams::default().labels(selector))
            .await
            .map_err(runtime_error)?;
        Ok(objects
            .items
            .iter()
            // Something being deleted already is on its way out, not left behind.
            .filter(|object| object.meta().deletion_timestamp.is_none())
            .map(|object| {
                let meta = object.meta();
                let name = meta.name.clone().unwrap_or_default();
                Resource {
                    kind,
                    id: format!("{noun}/{name}"),
                    shown: name,
                    noun,
                    labels: labels_of(meta),
                }
            })
            .collect())
    }

    /// Creates the run's claim `eider-RUN-WHAT`, labelled as `request` says and owned by the
    /// run's owner; returns its name.
    pub(crate) async fn create_run_claim(
        &self,
        request: &StorageRequest<'_>,
        what: &str,
    ) -> Result<String, RuntimeError> {
        let run = self.run(request.run_id);
        let owner = run.owner(&self.cluster).await?.clone();
        let name = run_object_name(request.run_id, Some(what));
        let mut claim = shared_storage_claim(
            &name,
            &self.cluster.namespace,
            std::collections::BTreeMap::new(),
            &self.settings.shared_storage,
        );
        claim.metadata = object_meta(&name, &self.cluster.namespace, request.labels);
        claim.metadata.owner_references = Some(vec![owner]);
        self.cluster
            .api::<PersistentVolumeClaim>()
            .create(&PostParams::default(), &claim)
            .await
            .map_err(runtime_error)?;
        Ok(name)
    }

    async fn delete<K>(&self, name: &str, parameters: &DeleteParams) -> Result<(), RuntimeError>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
        <K as kube::Resource>::DynamicType: Default,
    {
        match self.cluster.api::<K>().delete(name, parameters).await {
            Ok(_) => Ok(()),
            Err(error) if is_not_found(&error) => Ok(()),
            Err(error) => Err(runtime_error(error)),
        }
    }
}

impl Runtime for KubernetesRuntime {
    type Job = KubernetesJob;

    async fn platform(&self) -> Result<Option<Platform>, RuntimeError> {
        // Node selectors place each Pod on a node of the platform its job asks for.
        Ok(None)
    }

    async fn needs_pull(&self, _image: &str, _policy: PullPolicy) -> Result<bool, RuntimeError> {
        // The nodes pull, as each container's pull policy says.
        Ok(false)
    }

    async fn pull_image(
        &self,
        _image: &str,
        _progress: &(dyn Fn(PullProgress) + Send + Sync),
    ) -> Result<(), RuntimeError> {
        Ok(())
    }

    async fn probe(&self) -> Result<(), RuntimeError> {
        self.cluster
            .client
            .apiserver_version()
            .await
            .map(drop)
            .map_err(runtime_error)
    }

    async fn create_shared_storage(
        &self,
        request: StorageRequest<'_>,
    ) -> Result<Storage, RuntimeError> {
        let name = self.create_run_claim(&request, "shared").await?;
        Ok(Storage {
            name,
            image: request.image.to_owned(),
        })
    }

    async fn copy_source(
        &self,
        request: StorageRequest<'_>,
        _root: &Utf8Path,
    ) -> Result<(Storage, CopyReport), RuntimeError> {
        // The tree travels in the source image, published before the run, with the file
        // selection of eider's packager; special files never get into an image.
        let storage = match request.job {
            Some((job, execution)) => {
                self.source_image()?;
                let name = crate::names::object_name(&format!(
                    "eider-{}-{execution}-{job}-source",
                    request.run_id
                ));
                self.pod_copies
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(name.clone());
                Storage {
                    name,
                    image: String::new(),
                }
            }
            None => self.seed_run_source(request).await?,
        };
        Ok((storage, CopyReport::default()))
    }

    async fn export_storage(
        &self,
        storage: &Storage,
        labels: &Labels,
        destination: &Utf8Path,
    ) -> Result<(), RuntimeError> {
        self.export_claim(storage, labels, destination).await
    }

    async fn remove_storage(&self, storage: &Storage) -> Result<(), RuntimeError> {
        if self
            .pod_copies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&storage.name)
        {
            return Ok(());
        }
        self.delete::<PersistentVolumeClaim>(&storage.name, &DeleteParams::default())
            .await
    }

    async fn launch(
        &self,
        spec: JobSpec,
        observer: &dyn JobObserver,
        control: LaunchControl<'_>,
    ) -> (Self::Job, Result<(), LaunchError>) {
        self.launch_job(spec, observer, control).await
    }

    async fn list_labelled(&self, selector: &str) -> Result<Vec<Resource>, RuntimeError> {
        let mut resources = self
            .list::<Pod>(selector, ResourceKind::Workload, "pod")
            .await?;
        resources.extend(
            self.list::<PersistentVolumeClaim>(
                selector,
                ResourceKind::Storage,
                "persistent volume claim",
            )
            .await?,
        );
        resources.extend(
            self.list::<Secret>(selector, ResourceKind::Storage, "secret")
                .await?,
        );
        resources.extend(
            self.list::<ConfigMap>(selector, ResourceKind::Storage, "config map")
                .await?,
        );
        Ok(resources)
    }

    async fn remove_resource(&self, resource: &Resource) -> Result<(), RuntimeError> {
        let name = resource.shown.as_str();
        match resource.noun {
            "pod" => {
                // Whatever ran there is abandoned: no grace.
                let parameters = DeleteParams {
                    grace_period_seconds: Some(0),
                    ..DeleteParams::default()
                };
                self.delete::<Pod>(name, &parameters).await
            }
            "persistent volume claim" => {
                self.delete::<PersistentVolumeClaim>(name, &DeleteParams::default())
                    .await
            }
            "secret" => self.delete::<Secret>(name, &DeleteParams::default()).await,
            _ => {
                self.delete::<ConfigMap>(name, &DeleteParams::background())
                    .await
            }
        }
    }

    async fn finish_run(&self, run_id: &str) -> Vec<String> {
        let run = self
            .runs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(run_id);
        let Some(run) = run else {
            return Vec::new();
        };
        run.finish(&self.cluster).await
    }
}
