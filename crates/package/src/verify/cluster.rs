//! A verified package where a cluster can pull it: a package in a registry is run from there,
//! pinned to the manifest that was verified; one in a local layout is pushed first to a
//! repository the cluster pulls from.

use bytes::Bytes;
use eider_oci::ImageManifest;
use eider_registry::{BlobSource, PushRequest, Reference, Repository};

use super::error::VerifyError;
use super::open::Package;
use crate::location::ImageLocation;
use crate::progress::Observer;
use crate::resolve::RegistryAccess;

impl Package {
    /// The reference, pinned to this package's manifest, that a cluster pulls it by. A package
    /// read from a registry is named there; any other is pushed to `repository` (under the tag
    /// `package-` and the first 16 hex digits of its digest), and without one it has no way to
    /// the cluster.
    pub async fn cluster_image(
        &self,
        repository: Option<&Repository>,
        access: &RegistryAccess,
        observer: &dyn Observer,
    ) -> Result<Reference, VerifyError> {
        if let ImageLocation::Registry { reference } = &self.origin {
            let reference = Reference::parse(reference).map_err(VerifyError::Reference)?;
            return Ok(Reference::with_digest(
                reference.repository().clone(),
                self.manifest.clone(),
            ));
        }
        let Some(repository) = repository else {
            return Err(VerifyError::NeedsRegistry {
                package: self.location.clone(),
            });
        };
        let failure = |source: Box<dyn std::error::Error + Send + Sync>| VerifyError::Push {
            repository: repository.to_string(),
            source,
        };
        let bytes = self
            .store
            .read(&self.manifest, None)
            .map_err(|error| failure(error.into()))?;
        let manifest: ImageManifest =
            serde_json::from_slice(&bytes).map_err(|error| failure(error.into()))?;
        let root = self.store.root().to_owned();
        let blobs = std::iter::once(&manifest.config)
            .chain(&manifest.layers)
            .map(|descriptor| BlobSource::in_store(&root, &descriptor.digest, descriptor.size))
            .collect();
        let request = PushRequest {
            repository: repository.clone(),
            blobs,
            manifest: Bytes::from(bytes),
            manifest_media_type: manifest
                .media_type
                .clone()
                .unwrap_or_else(|| eider_oci::media_type::OCI_MANIFEST.to_owned()),
            tags: vec![format!("package-{}", &self.manifest.hex()[..16])],
        };
        let client = access
            .client([repository.registry()], observer)
            .map_err(VerifyError::Access)?;
        let report = client
            .push(&request, eider_registry::no_progress())
            .await
            .map_err(|error| failure(error.into()))?;
        Ok(Reference::with_digest(
            repository.clone(),
            report.manifest_digest,
        ))
    }
}
