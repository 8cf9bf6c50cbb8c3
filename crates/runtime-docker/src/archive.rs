//! Filling a volume from a tar stream, through a container that is created for it and never
//! started: the engine extracts the archive as root, straight into the volume.

use std::time::Duration;

use bollard::query_parameters::UploadToContainerOptions;
use eider_runtime::{Labels, RuntimeError};

use crate::model::{ArchiveStream, MountSource, VOLUME_ARCHIVE_ROOT, VolumeMount};

use crate::DockerRuntime;
use crate::error::from_bollard;
use crate::helper::helper_spec;

/// The engine answers an upload only when it has extracted all of it: a large tree takes
/// longer than ordinary requests may.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(6 * 60 * 60);

impl DockerRuntime {
    pub(crate) async fn upload(
        &self,
        volume: &str,
        image: &str,
        labels: &Labels,
        archive: ArchiveStream,
    ) -> Result<(), RuntimeError> {
        let mount = VolumeMount {
            source: MountSource::Volume(volume.to_owned()),
            target: format!("/{VOLUME_ARCHIVE_ROOT}"),
            read_only: false,
        };
        let spec = helper_spec(
            format!("{volume}-upload"),
            image,
            "fill-volume",
            mount,
            labels,
        );
        let id = self.create(&spec).await?;
        let options = UploadToContainerOptions {
            // Extract at the container's root, where the volume is mounted at the archive's
            // top directory: no relative link of the tree can point above it.
            path: "/".to_owned(),
            // Keep the owners of the source's files, as a copy should.
            copy_uidgid: Some("true".to_owned()),
            ..UploadToContainerOptions::default()
        };
        let client = self.client.clone().with_timeout(UPLOAD_TIMEOUT);
        let uploaded = client
            .upload_to_container(&id.0, Some(options), bollard::body_try_stream(archive))
            .await
            .map_err(from_bollard);
        let removed = self.remove(&id).await;
        uploaded.and(removed)
    }
}
