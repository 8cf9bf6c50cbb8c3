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
use crate::archive::VolumeUpload;
use crate::create_spec::engine_name;
use crate::model::ContainerId;
use crate::removal_order::removal_order;
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
        // The archive's layout depends on the engine that extracts it.
        let how = VolumeUpload::of(self.version.get().await?.kind);
        if let Err(error) = self.create_named_volume(&name, request.labels).await {
            return Err(RuntimeError::Other(format!(
                "cannot create a volume for the copy of the source: {error}"
            )));
        }
        // The copy is filled through a container of the job's own image: it is present already.
        let (archive, archiving) = archive_tree(root.to_owned(), how.archive_directory());
        let uploaded = self
            .upload(&name, request.image, request.labels, how, archive)
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

    /// Containers, each before the one whose network namespace it joined, then volumes, that
    /// carry the label `selector`.
    pub(crate) async fn labelled_resources(
        &self,
        selector: &str,
    ) -> Result<Vec<Resource>, RuntimeError> {
        let containers = self.list_labelled(selector).await?;
        let containers = self.in_removal_order(containers).await;
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

    /// `containers` in an order that removes each before the one whose network namespace it
    /// joined (`removal_order`): whatever order the engine listed them in (Podman lists by id),
    /// a sweep that removes them one after the other never meets Podman's refusal. The engine
    /// is asked what each joined only when there are several.
    async fn in_removal_order(
        &self,
        containers: Vec<(ContainerId, Labels)>,
    ) -> Vec<(ContainerId, Labels)> {
        if containers.len() < 2 {
            return containers;
        }
        let joined = futures_util::future::join_all(
            containers.iter().map(|(id, _)| self.joined_namespace(id)),
        )
        .await;
        let joins: Vec<(&ContainerId, Option<&ContainerId>)> = containers
            .iter()
            .zip(&joined)
            .map(|((id, _), owner)| (id, owner.as_ref()))
            .collect();
        let order = removal_order(&joins);
        let mut listed: Vec<Option<(ContainerId, Labels)>> =
            containers.into_iter().map(Some).collect();
        order
            .into_iter()
            .filter_map(|position| listed[position].take())
            .collect()
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
