//! The run's storage as engine volumes: shared storage, copies of the source filled from a tar
//! stream of the tree, and what eider created found again by label.
//!
//! Copies live in volumes because containers usually run as root and write root-owned files
//! into their copy, which only the engine can then remove (an eider that is not root could
//! not), and a volume works with a remote engine too.

use camino::Utf8Path;
use eider_runtime::{
    CopyReport, Labels, Resource, ResourceKind, RuntimeError, Storage, StorageRequest,
};

use crate::DockerRuntime;
use crate::create_spec::engine_name;
use crate::model::ContainerId;
use crate::source_archive::archive_tree;

impl DockerRuntime {
    pub(crate) async fn new_shared_storage(
        &self,
        request: StorageRequest<'_>,
    ) -> Result<Storage, RuntimeError> {
        let storage = Storage {
            name: format!("eider-{}-shared", request.run_id),
            image: request.image.to_owned(),
        };
        self.create_named_volume(&storage.name, request.labels)
            .await?;
        Ok(storage)
    }

    /// Creates a volume and fills it with an exact copy of the tree at `root`.
    pub(crate) async fn new_source_copy(
        &self,
        request: StorageRequest<'_>,
        root: &Utf8Path,
    ) -> Result<(Storage, CopyReport), RuntimeError> {
        let name = match request.job {
            Some((job, execution)) => engine_name(request.run_id, execution, job, "source"),
            None => format!("eider-{}-source", request.run_id),
        };
        if let Err(error) = self.create_named_volume(&name, request.labels).await {
            return Err(RuntimeError::Other(format!(
                "cannot create a volume for the copy of the source: {error}"
            )));
        }
        // The copy is filled through a container of the job's own image: it is present already.
        let (archive, archiving) = archive_tree(root.to_owned());
        let uploaded = self
            .upload(&name, request.image, request.labels, archive)
            .await;
        let archived = archiving.await;
        if !matches!((&archived, &uploaded), (Ok(Ok(_)), Ok(()))) {
            // Half a copy is no copy: the volume goes now (the run's sweep is the fallback).
            let _swept_later = self.remove_named_volume(&name).await;
        }
        let stats = match (archived, uploaded) {
            (Ok(Ok(stats)), Ok(())) => stats,
            (Ok(Err(error)), _) => {
                return Err(RuntimeError::Other(format!(
                    "cannot read the source {root}: {error}"
                )));
            }
            (Err(error), _) => {
                return Err(RuntimeError::Other(format!(
                    "cannot copy the source: {error}"
                )));
            }
            (Ok(Ok(_)), Err(error)) => {
                return Err(RuntimeError::Other(format!(
                    "cannot copy the source: {error}"
                )));
            }
        };
        let storage = Storage {
            name,
            image: request.image.to_owned(),
        };
        Ok((
            storage,
            CopyReport {
                skipped: stats.skipped,
            },
        ))
    }

    /// Containers, then volumes, that carry the label `selector`.
    pub(crate) async fn labelled_resources(
        &self,
        selector: &str,
    ) -> Result<Vec<Resource>, RuntimeError> {
        let containers = self.list_labelled(selector).await?;
        let volumes = self.list_labelled_volumes(selector).await?;
        let containers = containers.into_iter().map(|(id, labels)| Resource {
            kind: ResourceKind::Workload,
            noun: "container",
            shown: id.to_string(),
            id: id.0,
            labels,
        });
        let volumes = volumes.into_iter().map(|(name, labels)| Resource {
            kind: ResourceKind::Storage,
            noun: "volume",
            id: name.clone(),
            shown: name,
            labels,
        });
        Ok(containers.chain(volumes).collect())
    }

    pub(crate) async fn remove_labelled(&self, resource: &Resource) -> Result<(), RuntimeError> {
        match resource.kind {
            ResourceKind::Workload => self.remove(&ContainerId(resource.id.clone())).await,
            ResourceKind::Storage => self.remove_named_volume(&resource.id).await,
        }
    }

    pub(crate) async fn export_volume(
        &self,
        storage: &Storage,
        labels: &Labels,
        destination: &Utf8Path,
    ) -> Result<(), RuntimeError> {
        self.export(&storage.name, &storage.image, labels, destination)
            .await
    }
}
