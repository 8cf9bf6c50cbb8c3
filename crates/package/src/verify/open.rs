//! A package opened for verification: its blobs and its manifest, from an OCI layout or
//! downloaded from a registry into a directory of its own, so that nothing of a cache stands in
//! for what the registry holds.

use camino::{Utf8Path, Utf8PathBuf};
use eider_oci::{BlobStore, Digest, OciLayout, REF_NAME_ANNOTATION};
use eider_registry::{Reference, RegistryClient};

use super::error::{RegistryStep, VerifyError};
use crate::location::ImageLocation;
use crate::progress::Observer;
use crate::resolve::{RegistryAccess, registry_of};

/// A package's blobs and manifest.
#[derive(Debug)]
pub struct Package {
    pub(super) store: BlobStore,
    pub(super) manifest: Digest,
    /// Where it was opened from, as errors name it.
    pub(super) location: String,
    /// Where it was opened from.
    pub(super) origin: ImageLocation,
    /// Where a registry's blobs were downloaded; removed with the package.
    _download: tempfile::TempDir,
}

impl Package {
    /// The manifest's digest: the package's identity.
    #[must_use]
    pub fn manifest(&self) -> &Digest {
        &self.manifest
    }

    /// Where it was opened from.
    #[must_use]
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Whether its blobs are files of an OCI layout, which stay where they are between runs
    /// (a registry's are downloaded again into a new directory every time).
    pub(super) fn in_layout(&self) -> bool {
        matches!(self.origin, ImageLocation::OciLayout { .. })
    }
}

/// Opens the package at `location`: an OCI layout, or a registry reached with `access`.
pub async fn open(
    location: &ImageLocation,
    access: &RegistryAccess,
    observer: &dyn Observer,
) -> Result<Package, VerifyError> {
    let download = tempfile::tempdir().map_err(VerifyError::TemporaryDirectory)?;
    let (store, manifest) = match location {
        ImageLocation::OciLayout { directory, tag } => layout_image(directory, tag.as_deref())?,
        ImageLocation::Registry { reference } => {
            let directory = Utf8PathBuf::from_path_buf(download.path().to_owned())
                .map_err(|_| VerifyError::NotUtf8)?;
            let client = access
                .client(registry_of(reference), observer)
                .map_err(VerifyError::Access)?;
            registry_image(reference, &client, &directory).await?
        }
        ImageLocation::DockerArchive { .. } | ImageLocation::DockerDaemon { .. } => {
            return Err(VerifyError::Unsupported {
                location: location.to_string(),
            });
        }
    };
    Ok(Package {
        store,
        manifest,
        location: location.to_string(),
        origin: location.clone(),
        _download: download,
    })
}

fn layout_image(
    directory: &Utf8Path,
    tag: Option<&str>,
) -> Result<(BlobStore, Digest), VerifyError> {
    let layout = OciLayout::open(directory).map_err(|source| VerifyError::OpenLayout {
        directory: directory.to_owned(),
        source: Box::new(source),
    })?;
    let index = layout.index().map_err(|source| VerifyError::ReadIndex {
        directory: directory.to_owned(),
        source: Box::new(source),
    })?;
    let found = index.manifests.iter().find(|descriptor| match tag {
        Some(tag) => descriptor
            .annotations
            .get(REF_NAME_ANNOTATION)
            .is_some_and(|name| name == tag),
        None => index.manifests.len() == 1,
    });
    let Some(descriptor) = found else {
        return Err(VerifyError::NoSuchTag {
            directory: directory.to_owned(),
            tag: tag.map(str::to_owned),
            tags: layout.tags().unwrap_or_default(),
        });
    };
    Ok((layout.store().clone(), descriptor.digest.clone()))
}

async fn registry_image(
    reference: &str,
    client: &RegistryClient,
    directory: &Utf8Path,
) -> Result<(BlobStore, Digest), VerifyError> {
    let failure = |step, source: Box<dyn std::error::Error + Send + Sync>| VerifyError::Registry {
        step,
        reference: reference.to_owned(),
        source,
    };
    let reference = Reference::parse(reference).map_err(VerifyError::Reference)?;
    let pulled = client
        .fetch_image_manifest(&reference, &eider_oci::Platform::linux_amd64())
        .await
        .map_err(|error| failure(RegistryStep::FetchManifest, error.into()))?;
    let store = BlobStore::create(directory.to_owned())
        .map_err(|error| failure(RegistryStep::MakeBlobStore, error.into()))?;
    let (digest, _) = store
        .write(&pulled.manifest.bytes)
        .map_err(|error| failure(RegistryStep::StoreManifest, error.into()))?;
    let manifest =
        match eider_oci::parse_manifest(&pulled.manifest.bytes, Some(&pulled.manifest.media_type))
            .map_err(|error| failure(RegistryStep::ReadManifest, error.into()))?
        {
            eider_oci::ParsedManifest::Image(manifest) => manifest,
            eider_oci::ParsedManifest::Index(_) => {
                return Err(VerifyError::NestedIndex {
                    reference: reference.to_string(),
                });
            }
        };
    for descriptor in std::iter::once(&manifest.config).chain(&manifest.layers) {
        // A blob whose bytes do not match its digest is refused here and so shows up as a
        // missing blob when the package is checked, with its digest.
        let _checked_later = client
            .fetch_blob(
                reference.repository(),
                &descriptor.digest,
                Some(descriptor.size),
                directory,
                &|_| {},
            )
            .await;
    }
    Ok((store, digest))
}
