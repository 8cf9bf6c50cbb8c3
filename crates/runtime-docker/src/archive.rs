//! Filling a volume from a tar stream, through a container that is created for it and never
//! started: the engine extracts the archive as root, straight into the volume.
//!
//! The Docker Engine and Podman both take the archive, but put it in different places (see
//! [`VolumeUpload`]); the archive's layout and the upload's path follow the engine.

use std::time::Duration;

use bollard::query_parameters::UploadToContainerOptions;
use eider_runtime::{Labels, RuntimeError};

use crate::model::{ArchiveStream, MountSource, VOLUME_ARCHIVE_ROOT, VolumeMount};

use crate::DockerRuntime;
use crate::connect::EngineKind;
use crate::error::from_bollard;
use crate::helper::helper_spec;

/// The engine answers an upload only when it has extracted all of it: a large tree takes
/// longer than ordinary requests may.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(6 * 60 * 60);

/// How an engine extracts an archive into the volume of a container that never started. The
/// helper container has the volume at `/eider-volume` either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VolumeUpload {
    /// The Docker Engine mounts the container's volumes for its archive endpoint, and refuses a
    /// link that points above the directory it extracts into (`up -> ..` at the top of the
    /// tree). So the archive is extracted at the container's root, its entries under
    /// `eider-volume/`: the volume gets them, and no relative link of the tree points above the
    /// root. Owners are kept only when asked (`copyUIDGID`).
    UnderVolumeDirectory,
    /// Podman resolves only the upload's path to a volume; entries below a path in the
    /// container's own file system stay there (and go with the helper). So the archive is
    /// extracted at the volume's mount point, its entries at the top; Podman keeps links as
    /// they are. It keeps the archive's owners unless `copyUIDGID` is set, which to Podman means
    /// the opposite of Docker's: every file given to the container's user.
    AtVolumeRoot,
}

impl VolumeUpload {
    /// How `kind` takes an archive into a volume.
    pub(crate) fn of(kind: EngineKind) -> Self {
        match kind {
            EngineKind::Docker => Self::UnderVolumeDirectory,
            EngineKind::Podman => Self::AtVolumeRoot,
        }
    }

    /// The directory that the archive's entries are under, if any.
    pub(crate) fn archive_directory(self) -> Option<&'static str> {
        match self {
            Self::UnderVolumeDirectory => Some(VOLUME_ARCHIVE_ROOT),
            Self::AtVolumeRoot => None,
        }
    }

    /// Where the archive is extracted in the helper container, and whether `copyUIDGID` is set
    /// (which both engines take as a string), so that the archive's owners are kept.
    fn options(self) -> UploadToContainerOptions {
        match self {
            Self::UnderVolumeDirectory => UploadToContainerOptions {
                path: "/".to_owned(),
                copy_uidgid: Some("true".to_owned()),
                ..UploadToContainerOptions::default()
            },
            Self::AtVolumeRoot => UploadToContainerOptions {
                path: format!("/{VOLUME_ARCHIVE_ROOT}"),
                copy_uidgid: None,
                ..UploadToContainerOptions::default()
            },
        }
    }
}

impl DockerRuntime {
    /// Fills `volume` with `archive`, laid out as `how` says.
    pub(crate) async fn upload(
        &self,
        volume: &str,
        image: &str,
        labels: &Labels,
        how: VolumeUpload,
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
        let client = self.client.clone().with_timeout(UPLOAD_TIMEOUT);
        let uploaded = client
            .upload_to_container(
                &id.0,
                Some(how.options()),
                bollard::body_try_stream(archive),
            )
            .await
            .map_err(from_bollard);
        let removed = self.remove(&id).await;
        uploaded.and(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_extracts_at_the_root_under_the_volume_s_directory_keeping_owners() {
        let how = VolumeUpload::of(EngineKind::Docker);
        let options = how.options();
        assert_eq!(how.archive_directory(), Some("eider-volume"));
        assert_eq!(
            (options.path.as_str(), options.copy_uidgid.as_deref()),
            ("/", Some("true"))
        );
    }

    #[test]
    fn podman_extracts_at_the_volume_s_mount_point_without_copy_uidgid() {
        let how = VolumeUpload::of(EngineKind::Podman);
        let options = how.options();
        assert_eq!(how.archive_directory(), None);
        assert_eq!(
            (options.path.as_str(), options.copy_uidgid),
            ("/eider-volume", None)
        );
    }
}
