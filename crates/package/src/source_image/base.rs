//! The copier base image, read from its registry: its manifest (one image, or an index whose
//! images are each built on) and each image's config. Only the configs are downloaded here;
//! the layers are mounted or copied to the target when the push needs them.

use eider_oci::{BaseImage, Descriptor, Digest, LayerCache, ParsedManifest, Platform};
use eider_registry::{Manifest, ManifestError, Reference, RegistryClient};

use super::compose::is_base_image_entry;
use super::error::SourceImageError;
use crate::build::BaseStep;

/// The base image, ready to build on.
pub struct SourceBase {
    /// The digest of the manifest the reference points at (the index's, for an index).
    pub digest: Digest,
    /// Whether that manifest is an index.
    pub is_index: bool,
    /// Its images: one, or one per platform of the index, in the index's order.
    pub images: Vec<BasePlatform>,
}

/// One image of the base.
pub struct BasePlatform {
    /// Its entry in the base's index; `None` when the base is a single image.
    pub entry: Option<Descriptor>,
    /// Its manifest and config.
    pub image: BaseImage,
}

impl BasePlatform {
    /// The image's platform: its index entry's, else its config's.
    pub fn platform(&self) -> Platform {
        if let Some(platform) = self.entry.as_ref().and_then(|entry| entry.platform.clone()) {
            return platform;
        }
        let config = &self.image.config;
        let mut platform = Platform::new(config.os.clone(), config.architecture.clone());
        platform.variant.clone_from(&config.variant);
        platform
    }
}

/// Reads the base image `reference`, its configs kept in `cache`'s store.
pub async fn fetch(
    registry: &RegistryClient,
    reference: &Reference,
    cache: &LayerCache,
) -> Result<SourceBase, SourceImageError> {
    let shown = reference.to_string();
    let top = registry
        .fetch_manifest(reference)
        .await
        .map_err(|source| manifest_failure(&shown, &shown, source))?;
    let read_failure = |source: eider_oci::image::ManifestError| SourceImageError::BaseImage {
        step: BaseStep::ReadManifest,
        reference: shown.clone(),
        source: source.into(),
    };
    let parsed =
        eider_oci::parse_manifest(&top.bytes, Some(&top.media_type)).map_err(&read_failure)?;
    let index = match parsed {
        ParsedManifest::Image(manifest) => {
            let image = read_image(registry, reference, &top, &manifest.config, cache).await?;
            return Ok(SourceBase {
                digest: top.digest,
                is_index: false,
                images: vec![BasePlatform { entry: None, image }],
            });
        }
        ParsedManifest::Index(index) => index,
    };
    let mut images = Vec::new();
    for entry in index.manifests.into_iter().filter(is_base_image_entry) {
        let child = reference.pinned(entry.digest.clone());
        let manifest = registry
            .fetch_manifest(&child)
            .await
            .map_err(|source| manifest_failure(&shown, &child.to_string(), source))?;
        let ParsedManifest::Image(parsed) =
            eider_oci::parse_manifest(&manifest.bytes, Some(&manifest.media_type))
                .map_err(&read_failure)?
        else {
            // The entry said it was an image: a nested index here is the registry's confusion.
            return Err(SourceImageError::BaseImage {
                step: BaseStep::ReadManifest,
                reference: child.to_string(),
                source: eider_oci::AssembleError::BaseIsIndex.into(),
            });
        };
        let image = read_image(registry, reference, &manifest, &parsed.config, cache).await?;
        images.push(BasePlatform {
            entry: Some(entry),
            image,
        });
    }
    if images.is_empty() {
        return Err(SourceImageError::NoBaseImage { reference: shown });
    }
    Ok(SourceBase {
        digest: top.digest,
        is_index: true,
        images,
    })
}

/// A missing base says so plainly; any other failure is the fetch's.
fn manifest_failure(base: &str, fetched: &str, source: ManifestError) -> SourceImageError {
    let missing = matches!(
        &source,
        ManifestError::Request { source, .. }
            if source.status().map(|status| status.as_u16()) == Some(404)
    );
    if missing {
        SourceImageError::BaseNotFound {
            reference: base.to_owned(),
            source: Box::new(source),
        }
    } else {
        SourceImageError::BaseManifest {
            reference: fetched.to_owned(),
            source: Box::new(source),
        }
    }
}

/// One image of the base: `manifest` with its config, fetched into the store.
async fn read_image(
    registry: &RegistryClient,
    reference: &Reference,
    manifest: &Manifest,
    config: &Descriptor,
    cache: &LayerCache,
) -> Result<BaseImage, SourceImageError> {
    let shown = reference.to_string();
    let step_failure =
        |step, source: Box<dyn std::error::Error + Send + Sync>| SourceImageError::BaseImage {
            step,
            reference: shown.clone(),
            source,
        };
    // A damaged copy in the cache is removed here, so that it is downloaded again.
    cache
        .has_whole_blob(&config.digest, config.size)
        .map_err(|error| step_failure(BaseStep::CheckCachedBlob, error.into()))?;
    let store = cache.store();
    registry
        .fetch_blob(
            reference.repository(),
            &config.digest,
            Some(config.size),
            store.root(),
            &|_| {},
        )
        .await
        .map_err(|source| SourceImageError::BaseBlob {
            reference: shown.clone(),
            source: Box::new(source),
        })?;
    let bytes = store
        .read(&config.digest, Some(config.size))
        .map_err(|error| step_failure(BaseStep::ReadConfig, error.into()))?;
    BaseImage::parse(&manifest.bytes, &bytes)
        .map_err(|error| step_failure(BaseStep::ReadImage, error.into()))
}
