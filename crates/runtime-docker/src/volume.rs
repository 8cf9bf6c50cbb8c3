//! Volumes: the per-run shared storage.

use std::collections::HashMap;

use bollard::models::VolumeCreateRequest;
use bollard::query_parameters::{ListVolumesOptions, RemoveVolumeOptions};
use eider_runtime::{Labels, RuntimeError};

use crate::DockerRuntime;
use crate::error::{from_bollard, is_gone_or_done};
use crate::helper::helper_spec;
use crate::model::{MountSource, VolumeMount};

/// Where the volume is mounted in the container used to copy it out.
const EXPORT_PATH: &str = "/eider-export";

impl DockerRuntime {
    pub(crate) async fn create_named_volume(
        &self,
        name: &str,
        labels: &Labels,
    ) -> Result<(), RuntimeError> {
        let request = VolumeCreateRequest {
            name: Some(name.to_owned()),
            labels: Some(labels.iter().cloned().collect()),
            ..VolumeCreateRequest::default()
        };
        self.client
            .create_volume(request)
            .await
            .map(drop)
            .map_err(from_bollard)
    }

    pub(crate) async fn remove_named_volume(&self, name: &str) -> Result<(), RuntimeError> {
        let options = RemoveVolumeOptions { force: true };
        match self.client.remove_volume(name, Some(options)).await {
            Ok(()) => Ok(()),
            Err(error) if is_gone_or_done(&error) => Ok(()),
            Err(error) => Err(from_bollard(error)),
        }
    }

    pub(crate) async fn list_labelled_volumes(
        &self,
        key: &str,
    ) -> Result<Vec<(String, Labels)>, RuntimeError> {
        let filters = HashMap::from([("label".to_owned(), vec![key.to_owned()])]);
        let options = ListVolumesOptions {
            filters: Some(filters),
        };
        let response = self
            .client
            .list_volumes(Some(options))
            .await
            .map_err(from_bollard)?;
        Ok(response
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|volume| {
                let mut labels: Labels = volume.labels.into_iter().collect();
                labels.sort();
                (volume.name, labels)
            })
            .collect())
    }

    pub(crate) async fn export(
        &self,
        volume: &str,
        image: &str,
        labels: &Labels,
        destination: &camino::Utf8Path,
    ) -> Result<(), RuntimeError> {
        let mount = VolumeMount {
            source: MountSource::Volume(volume.to_owned()),
            target: EXPORT_PATH.to_owned(),
            read_only: true,
        };
        let spec = helper_spec(format!("{volume}-export"), image, "copy-out", mount, labels);
        let id = self.create(&spec).await?;
        let copied = self.copy_out(&id, EXPORT_PATH, destination).await;
        let removed = self.remove(&id).await;
        copied.and(removed)
    }
}
