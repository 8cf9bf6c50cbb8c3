//! Writing a package where it was asked to go: an OCI layout, a Docker archive, a registry, the
//! local engine.

use std::collections::BTreeSet;
use std::sync::Arc;

use bytes::Bytes;
use camino::Utf8PathBuf;
use eider_oci::{AssembledImage, Digest, DockerArchiveError, LayerCache, OciLayout};
use eider_registry::{BlobOutcome, BlobSource, PushEvent, PushRequest, Reference, RegistryClient};
use eider_runtime_docker::DockerRuntime;
use futures_util::StreamExt as _;

use super::base::Base;
use crate::location::ImageLocation;
use crate::progress::{Event, Observer, Phase};

/// A cause of any kind, kept with its own causes.
type Cause = Box<dyn std::error::Error + Send + Sync>;

/// A destination that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Writing the package failed.
    #[error("cannot write the package to {destination}")]
    Write {
        /// The destination.
        destination: String,
        /// Why.
        #[source]
        source: Cause,
    },
    /// Writing a Docker archive failed.
    #[error("cannot write the package to {destination}")]
    Archive {
        /// The destination.
        destination: String,
        /// Why.
        #[source]
        source: Box<ArchiveError>,
    },
    /// The local engine, which the destination is, does not answer.
    #[error("cannot write the package to {destination}")]
    NoEngine {
        /// The destination.
        destination: String,
    },
    /// The push failed.
    #[error("cannot push the package to {destination}")]
    Push {
        /// The destination.
        destination: String,
        /// Why.
        #[source]
        source: Cause,
    },
}

/// A Docker archive that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The writer.
    #[error(transparent)]
    Write(DockerArchiveError),
    /// The thread it ran on.
    #[error(transparent)]
    Task(tokio::task::JoinError),
}

/// What writing to one destination did, for the description.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Published {
    /// The destination, as given.
    pub destination: String,
    /// For a registry: the blobs uploaded (the others were there already or mounted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uploaded_blobs: Option<usize>,
    /// For a registry: the reference pinned by digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned: Option<String>,
    /// For a registry: the layers sent while they were compressed (counted in
    /// `uploadedBlobs` too).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub streamed_layers: Option<usize>,
}

/// Where the package goes and what it is.
pub struct Publication<'a> {
    /// The package.
    pub image: &'a AssembledImage,
    /// Its base image.
    pub base: &'a Base,
    /// The cache, whose store holds every blob.
    pub cache: &'a LayerCache,
    /// The tag to use where a destination names none: the version.
    pub version: &'a str,
    /// The job's name, for image names.
    pub job: &'a str,
    /// Layers already streamed to the first registry destination as they were compressed.
    pub streamed: &'a [Digest],
    /// Who is told about pushes.
    pub observer: &'a Arc<dyn Observer>,
}

/// Writes the package to `destination`.
pub async fn publish(
    publication: &Publication<'_>,
    destination: &ImageLocation,
    daemon: Option<&DockerRuntime>,
    registry: &RegistryClient,
) -> Result<Published, PublishError> {
    let shown = destination.to_string();
    let failure = |source: Cause| PublishError::Write {
        destination: shown.clone(),
        source,
    };
    let archive_failure = |source| PublishError::Archive {
        destination: shown.clone(),
        source: Box::new(source),
    };
    let mut published = Published {
        destination: shown.clone(),
        uploaded_blobs: None,
        pinned: None,
        streamed_layers: None,
    };
    match destination {
        ImageLocation::OciLayout { directory, tag } => {
            let directory = directory.clone();
            // A layout without a name for its image is one that umoci cannot open and skopeo
            // cannot address: without a tag, the image is named after the version, as in every
            // other destination.
            let tag = Some(
                tag.clone()
                    .unwrap_or_else(|| docker_tag(publication.version)),
            );
            let image = publication.image.clone();
            let store = publication.cache.store().clone();
            tokio::task::spawn_blocking(move || {
                OciLayout::create(directory)?.write_image(&image, tag.as_deref(), &[&store])
            })
            .await
            .map_err(|error| failure(error.into()))?
            .map_err(|error| failure(error.into()))?;
        }
        ImageLocation::DockerArchive { file } => {
            let tag = format!(
                "eider/{}:{}",
                publication.job,
                docker_tag(publication.version)
            );
            write_archive(publication, file.clone(), vec![tag])
                .await
                .map_err(archive_failure)?;
        }
        ImageLocation::DockerDaemon { name } => {
            let Some(daemon) = daemon else {
                return Err(PublishError::NoEngine { destination: shown });
            };
            let name = if name
                .rsplit('/')
                .next()
                .is_some_and(|last| last.contains(':'))
            {
                name.clone()
            } else {
                format!("{name}:{}", docker_tag(publication.version))
            };
            let directory = eider_oci::temporary::TemporaryDirectory::create(
                publication.cache.directory(),
                "load-",
            )
            .map_err(|error| failure(error.into()))?;
            let file = directory.path().join("image.tar");
            write_archive(publication, file.clone(), vec![name])
                .await
                .map_err(archive_failure)?;
            let reader = tokio::fs::File::open(&file)
                .await
                .map_err(|error| failure(error.into()))?;
            let stream = tokio_util::io::ReaderStream::new(reader).boxed();
            daemon
                .load_image(stream)
                .await
                .map_err(|error| failure(error.into()))?;
        }
        ImageLocation::Registry { reference } => {
            let report = push(publication, reference, registry)
                .await
                .map_err(|source| PublishError::Push {
                    destination: shown.clone(),
                    source,
                })?;
            published.uploaded_blobs = Some(report.0);
            published.pinned = Some(report.1);
            published.streamed_layers = Some(report.2);
        }
    }
    Ok(published)
}

async fn write_archive(
    publication: &Publication<'_>,
    file: Utf8PathBuf,
    tags: Vec<String>,
) -> Result<(), ArchiveError> {
    let config = publication.image.config.clone();
    let layers = publication.image.layers.clone();
    let store = publication.cache.store().clone();
    tokio::task::spawn_blocking(move || {
        eider_oci::write_docker_archive(&file, &config, &layers, &tags, &[&store])
    })
    .await
    .map_err(ArchiveError::Task)?
    .map_err(ArchiveError::Write)
}

/// Pushes the package; returns how many blobs were uploaded, the pinned reference and how many
/// of the uploads were layers streamed earlier.
async fn push(
    publication: &Publication<'_>,
    reference: &str,
    registry: &RegistryClient,
) -> Result<(usize, String, usize), Cause> {
    let mut target = Reference::parse(reference)?;
    if target.tag().is_none() && target.digest().is_none() {
        target = Reference::with_tag(
            target.repository().clone(),
            &docker_tag(publication.version),
        )?;
    }
    let store_root = publication.cache.store().root().to_owned();
    // Base layers can come from the base's repository when it is on the same registry.
    let mount_from = publication
        .base
        .repository
        .as_ref()
        .filter(|repository| repository.registry() == target.registry())
        .map(|repository| repository.name().to_owned());
    let base_layers: BTreeSet<&Digest> = publication
        .base
        .image
        .manifest
        .layers
        .iter()
        .map(|layer| &layer.digest)
        .collect();
    let image = publication.image;
    let mut blobs = Vec::with_capacity(image.layers.len() + 1);
    for descriptor in std::iter::once(&image.config_descriptor).chain(&image.layers) {
        let mut blob = BlobSource::in_store(&store_root, &descriptor.digest, descriptor.size);
        if let Some(from) = &mount_from
            && base_layers.contains(&descriptor.digest)
        {
            blob = blob.with_mount_from(from.clone());
        }
        blobs.push(blob);
    }
    let request = PushRequest {
        repository: target.repository().clone(),
        blobs,
        manifest: Bytes::from(image.manifest.clone()),
        manifest_media_type: image.manifest_descriptor.media_type.clone(),
        tags: target.tag().map(str::to_owned).into_iter().collect(),
    };
    let total = request.blobs.iter().map(|blob| blob.size).sum();
    let observer = Arc::clone(publication.observer);
    let pushing = Phase::start(
        publication.observer.as_ref(),
        &Event::PushStarted {
            destination: &target.to_string(),
            bytes: total,
        },
        || Event::PushEnded,
    );
    let report = registry
        .push(
            &request,
            Arc::new(move |event: &PushEvent| observer.event(&Event::Push(event))),
        )
        .await?;
    drop(pushing);
    // A layer streamed while it was compressed was uploaded by this package too.
    let streamed = report
        .blobs
        .iter()
        .filter(|blob| {
            matches!(blob.outcome, BlobOutcome::AlreadyPresent)
                && publication.streamed.contains(&blob.digest)
        })
        .count();
    let uploaded = report
        .blobs
        .iter()
        .filter(|blob| {
            matches!(blob.outcome, BlobOutcome::Uploaded { .. })
                || (matches!(blob.outcome, BlobOutcome::AlreadyPresent)
                    && publication.streamed.contains(&blob.digest))
        })
        .count();
    Ok((
        uploaded,
        format!("{}@{}", target.repository(), report.manifest_digest),
        streamed,
    ))
}

/// A version as a Docker tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`; other characters (a `+` of
/// semver build metadata, a `/` of a branch) become `-`.
pub fn docker_tag(version: &str) -> String {
    let mut tag: String = version
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || matches!(character, '_' | '.' | '-') {
                character
            } else {
                '-'
            }
        })
        .take(128)
        .collect();
    if tag.starts_with(['.', '-']) || tag.is_empty() {
        tag.insert(0, '_');
        tag.truncate(128);
    }
    tag
}

#[cfg(test)]
mod tests {
    use super::docker_tag;

    #[test]
    fn versions_become_valid_docker_tags() {
        assert_eq!(docker_tag("v1.2.3"), "v1.2.3");
        assert_eq!(docker_tag("1.0.0+build.5"), "1.0.0-build.5");
        assert_eq!(docker_tag("feature/x-dirty"), "feature-x-dirty");
        assert_eq!(docker_tag("-x"), "_-x");
        assert_eq!(docker_tag(""), "_");
        assert_eq!(docker_tag(&"a".repeat(300)).len(), 128);
    }
}
