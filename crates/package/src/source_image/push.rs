//! Pushing the source image. Config and source layer come from the cache's store; the base's
//! layers are mounted from the base's repository when it is on the target's registry, else
//! copied through the store (streamed to disk, then streamed up), only those the target lacks.
//! The push skips every blob the target has already.

use std::collections::BTreeSet;
use std::sync::Arc;

use bytes::Bytes;
use eider_oci::media_type::OCI_INDEX;
use eider_oci::{AssembledImage, BaseImage, Descriptor, Digest, LayerCache};
use eider_registry::{
    BlobSource, PushError, PushEvent, PushReport, PushRequest, Reference, RegistryClient,
    Repository,
};

use super::error::SourceImageError;
use crate::progress::{Event, Observer};

/// Where the image goes, and where its base comes from.
pub struct Target<'a> {
    /// The client, with the credentials of both registries.
    pub registry: &'a RegistryClient,
    /// The target repository.
    pub repository: &'a Repository,
    /// The base image as given: its repository holds the base's layers.
    pub base: &'a Reference,
    /// The cache whose store holds the new blobs.
    pub cache: &'a LayerCache,
    /// Who hears of the push.
    pub observer: &'a Arc<dyn Observer>,
}

/// What the pushes sent, all together.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Blobs whose bytes were sent.
    pub blobs: usize,
    /// Their bytes.
    pub bytes: u64,
}

impl Tally {
    fn add(&mut self, report: &PushReport) {
        self.blobs += report.uploaded().count();
        self.bytes += report.uploaded_bytes();
    }
}

impl Target<'_> {
    /// Pushes one image built on `base`, under `tags` (none: by digest only, for an image an
    /// index lists).
    pub async fn push_image(
        &self,
        image: &AssembledImage,
        base: &BaseImage,
        tags: Vec<String>,
        tally: &mut Tally,
    ) -> Result<(), SourceImageError> {
        let base_repository = self.base.repository();
        let mount_from = (base_repository.registry() == self.repository.registry())
            .then(|| base_repository.name().to_owned());
        let base_layers: BTreeSet<&Digest> = base
            .manifest
            .layers
            .iter()
            .map(|layer| &layer.digest)
            .collect();
        if mount_from.is_none() {
            self.fetch_missing(&base.manifest.layers).await?;
        }
        let store = self.cache.store().root();
        let blobs = std::iter::once(&image.config_descriptor)
            .chain(&image.layers)
            .map(|descriptor| {
                let blob = BlobSource::in_store(store, &descriptor.digest, descriptor.size);
                match &mount_from {
                    Some(from) if base_layers.contains(&descriptor.digest) => {
                        blob.with_mount_from(from.clone())
                    }
                    _ => blob,
                }
            })
            .collect();
        let request = PushRequest {
            repository: self.repository.clone(),
            blobs,
            manifest: Bytes::from(image.manifest.clone()),
            manifest_media_type: image.manifest_descriptor.media_type.clone(),
            tags,
        };
        match self.push(&request).await {
            Ok(report) => {
                tally.add(&report);
                Ok(())
            }
            // The registry would not mount a base layer (no pull access to the base's
            // repository, mounts turned off), and the store lacks it: copy it, then push again.
            Err(PushError::BlobFile { digest, .. })
                if mount_from.is_some() && base_layers.contains(&digest) =>
            {
                self.fetch_missing(&base.manifest.layers).await?;
                let report = self
                    .push(&request)
                    .await
                    .map_err(|source| self.failure(source))?;
                tally.add(&report);
                Ok(())
            }
            Err(source) => Err(self.failure(source)),
        }
    }

    /// Pushes the index `bytes` under `tags`; the images it lists are pushed already.
    pub async fn push_index(
        &self,
        bytes: Vec<u8>,
        tags: Vec<String>,
        tally: &mut Tally,
    ) -> Result<(), SourceImageError> {
        let request = PushRequest {
            repository: self.repository.clone(),
            blobs: Vec::new(),
            manifest: Bytes::from(bytes),
            manifest_media_type: OCI_INDEX.to_owned(),
            tags,
        };
        let report = self
            .push(&request)
            .await
            .map_err(|source| self.failure(source))?;
        tally.add(&report);
        Ok(())
    }

    async fn push(&self, request: &PushRequest) -> Result<PushReport, PushError> {
        let observer = Arc::clone(self.observer);
        self.registry
            .push(
                request,
                Arc::new(move |event: &PushEvent| observer.event(&Event::Push(event))),
            )
            .await
    }

    fn failure(&self, source: PushError) -> SourceImageError {
        SourceImageError::Push {
            repository: self.repository.to_string(),
            source: Box::new(source),
        }
    }

    /// Fetches into the store the base layers that neither the target nor the store has. Each
    /// is streamed to a file, never held in memory.
    async fn fetch_missing(&self, layers: &[Descriptor]) -> Result<(), SourceImageError> {
        let shown = self.base.to_string();
        for layer in layers {
            let present = self
                .registry
                .has_blob(self.repository, &layer.digest)
                .await
                .map_err(|source| SourceImageError::Target {
                    repository: self.repository.to_string(),
                    source: Box::new(source),
                })?;
            if present {
                continue;
            }
            // A damaged copy in the cache is removed here, so that it is downloaded again.
            self.cache
                .has_whole_blob(&layer.digest, layer.size)
                .map_err(SourceImageError::Store)?;
            self.registry
                .fetch_blob(
                    self.base.repository(),
                    &layer.digest,
                    Some(layer.size),
                    self.cache.store().root(),
                    &|_| {},
                )
                .await
                .map_err(|source| SourceImageError::BaseBlob {
                    reference: shown.clone(),
                    source: Box::new(source),
                })?;
        }
        Ok(())
    }
}
