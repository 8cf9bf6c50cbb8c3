//! The source image: a project's tree as an OCI image a cluster can pull, for backends whose
//! nodes cannot see the user's files. It is a small base image that has `sh` and `cp` (busybox
//! by default) with one layer on top: the tree under [`SOURCE_PATH_IN_IMAGE`], built exactly as
//! a package's source layer is (same file selection: ignore files, `.git` and the secrets files
//! left out; same owners, modes and times). An init container runs it to copy the tree into a
//! volume: `cp -a /eider/source/. /eider/copy/`.
//!
//! Nothing in the image depends on the clock or the host: the same base and tree give the same
//! digest, so publishing an unchanged tree again sends nothing. An index base gives an index:
//! each platform's image gets the same source layer.

mod base;
mod compose;
mod error;
mod push;

use std::collections::BTreeSet;
use std::sync::Arc;

use camino::Utf8PathBuf;
use eider_oci::{AssembledImage, BuiltLayer, Compression, Digest, LayerCache, LayerSpec, Platform};
use eider_registry::{Reference, Repository};

pub use error::SourceImageError;

use self::base::SourceBase;
use self::push::{Tally, Target};
use crate::build::{Secrets, absolute, build_layer, secrets_files};
use crate::progress::{Event, Observer, Phase};
use crate::resolve::RegistryAccess;

pub use eider_runtime::SOURCE_PATH_IN_IMAGE;

/// A source image to publish.
#[derive(Debug, Clone)]
pub struct SourceImageRequest {
    /// The project's root: the tree that goes into the image (relative: to the current
    /// directory).
    pub source_root: Utf8PathBuf,
    /// The copier base image; a tag is resolved when the image is published.
    pub base: Reference,
    /// Where the image is pushed. It is tagged `source-HEX`, the first 16 hex digits of its
    /// digest (see [`SourceImage::tag`]).
    pub repository: Repository,
    /// A secrets file besides `Drakesecrets.yaml` in the root: neither is ever in the image, and
    /// neither's values may be (relative: to the current directory).
    pub secrets: Option<Utf8PathBuf>,
    /// Seconds since 1970 given to every file of the layer and every time of the config. 0 by
    /// default: the image then depends on the tree alone, not on the commit it is in.
    pub epoch: u64,
    /// How the source layer is compressed.
    pub compression: Compression,
    /// How registries are reached, as for `eider package --push`: credentials without a host go
    /// to the target's registry only; the base's registry gets its own or the Docker
    /// configuration's.
    pub registry: RegistryAccess,
    /// The layer cache; none: the user's (`$XDG_CACHE_HOME/eider`), shared with packages, so a
    /// tree packaged already is not compressed again.
    pub cache_directory: Option<Utf8PathBuf>,
}

impl SourceImageRequest {
    /// The tree at `source_root` on `base`, pushed to `repository`, with the defaults: gzip,
    /// epoch 0, the Docker configuration's credentials, the user's cache.
    #[must_use]
    pub fn new(source_root: Utf8PathBuf, base: Reference, repository: Repository) -> Self {
        Self {
            source_root,
            base,
            repository,
            secrets: None,
            epoch: 0,
            compression: Compression::Gzip,
            registry: RegistryAccess::default(),
            cache_directory: None,
        }
    }
}

/// A published source image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceImage {
    /// The image pinned by digest: `REGISTRY/REPOSITORY@sha256:...`, what a Pod names.
    pub reference: Reference,
    /// The tag it is stored under too: `source-` and the first 16 hex digits of the digest.
    pub tag: String,
    /// The base's digest (its index's, for an index).
    pub base_digest: Digest,
    /// The platforms the image has: its base's (each of an index's images).
    pub platforms: Vec<Platform>,
    /// The source layer.
    pub layer: BuiltLayer,
    /// Blobs whose bytes were sent (the others were there already, or mounted).
    pub uploaded_blobs: usize,
    /// Their bytes; manifests, a few hundred bytes each, are not counted.
    pub uploaded_bytes: u64,
}

/// Builds the source image `request` asks for and pushes it; returns it pinned by digest.
/// `observer` hears of the base, the layer and the push. When the repository holds the image
/// under its tag already, nothing is pushed.
pub async fn publish_source_image(
    request: &SourceImageRequest,
    observer: &Arc<dyn Observer>,
) -> Result<SourceImage, SourceImageError> {
    let root = absolute(&request.source_root);
    if !root.is_dir() {
        return Err(SourceImageError::NotADirectory { root });
    }
    let cache = open_cache(request.cache_directory.as_ref())?;
    // Credentials without a host go to the target, never to the base's registry.
    let registry = request
        .registry
        .client([request.repository.registry()], observer.as_ref())?;

    let base = base::fetch(&registry, &request.base, &cache).await?;
    observer.event(&Event::BaseReady {
        name: &request.base.to_string(),
        digest: &base.digest,
    });

    let layer = build_source_layer(request, &root, &cache, observer.as_ref()).await?;

    let composed = compose_all(&base, &layer, request, &cache)?;
    let tag = compose::content_tag(&composed.digest);
    let mut tally = Tally::default();
    if !already_published(&registry, &request.repository, &tag, &composed.digest).await {
        let target = Target {
            registry: &registry,
            repository: &request.repository,
            base: &request.base,
            cache: &cache,
            observer,
        };
        push_all(
            &target,
            &base,
            composed.images,
            composed.index,
            &tag,
            &mut tally,
        )
        .await?;
    }
    let digest = composed.digest;
    Ok(SourceImage {
        reference: Reference::with_digest(request.repository.clone(), digest),
        tag,
        base_digest: base.digest,
        platforms: base
            .images
            .iter()
            .map(base::BasePlatform::platform)
            .collect(),
        layer,
        uploaded_blobs: tally.blobs,
        uploaded_bytes: tally.bytes,
    })
}

/// The images of every platform of the base, and the index listing them when the base is one.
struct Composed {
    images: Vec<AssembledImage>,
    /// The index's bytes.
    index: Option<Vec<u8>>,
    /// The digest of what the tag points at: the index, else the one image.
    digest: Digest,
}

/// Composes the image of each platform of `base` (stored in the cache, as the push reads it
/// from there) and, for an index base, the index.
fn compose_all(
    base: &SourceBase,
    layer: &BuiltLayer,
    request: &SourceImageRequest,
    cache: &LayerCache,
) -> Result<Composed, SourceImageError> {
    let mut images = Vec::with_capacity(base.images.len());
    for platform in &base.images {
        let image = compose::compose_image(&platform.image, &layer.blob, request.epoch).map_err(
            |source| SourceImageError::Assemble {
                platform: platform.platform().to_string(),
                source: Box::new(source),
            },
        )?;
        image
            .write_to(cache.store())
            .map_err(SourceImageError::Store)?;
        images.push(image);
    }
    if base.is_index {
        let listed: Vec<_> = base
            .images
            .iter()
            .zip(&images)
            .filter_map(|(platform, image)| platform.entry.as_ref().map(|entry| (entry, image)))
            .collect();
        let (bytes, descriptor) = compose::compose_index(&listed);
        return Ok(Composed {
            images,
            index: Some(bytes),
            digest: descriptor.digest,
        });
    }
    let Some(digest) = images.first().map(|image| image.digest().clone()) else {
        // `base::fetch` never gives a base without images.
        return Err(SourceImageError::NoBaseImage {
            reference: request.base.to_string(),
        });
    };
    Ok(Composed {
        images,
        index: None,
        digest,
    })
}

/// Pushes every image (once each: two platforms may share one), then the index; the tag goes
/// on what is pushed last, so it never points at an incomplete image.
async fn push_all(
    target: &Target<'_>,
    base: &SourceBase,
    images: Vec<AssembledImage>,
    index: Option<Vec<u8>>,
    tag: &str,
    tally: &mut Tally,
) -> Result<(), SourceImageError> {
    let total = images
        .iter()
        .flat_map(|image| std::iter::once(&image.config_descriptor).chain(&image.layers))
        .map(|descriptor| descriptor.size)
        .sum();
    let _pushing = Phase::start(
        target.observer.as_ref(),
        &Event::PushStarted {
            destination: &format!("{}:{tag}", target.repository),
            bytes: total,
        },
        || Event::PushEnded,
    );
    let mut pushed = BTreeSet::new();
    for (platform, image) in base.images.iter().zip(&images) {
        if !pushed.insert(image.digest().clone()) {
            continue;
        }
        let tags = if index.is_some() {
            Vec::new()
        } else {
            vec![tag.to_owned()]
        };
        target
            .push_image(image, &platform.image, tags, tally)
            .await?;
    }
    if let Some(bytes) = index {
        target
            .push_index(bytes, vec![tag.to_owned()], tally)
            .await?;
    }
    Ok(())
}

/// The cache at `directory`, else the user's.
fn open_cache(directory: Option<&Utf8PathBuf>) -> Result<LayerCache, SourceImageError> {
    let directory = match directory {
        Some(directory) => directory.clone(),
        None => LayerCache::default_directory().ok_or(SourceImageError::NoCacheDirectory)?,
    };
    LayerCache::open(&directory).map_err(|source| SourceImageError::OpenCache { directory, source })
}

/// The source layer, as a package's: the whole tree, ignore files honoured, the secrets files
/// and eider's own directory left out; refused when it holds a secret's value.
async fn build_source_layer(
    request: &SourceImageRequest,
    root: &camino::Utf8Path,
    cache: &LayerCache,
    observer: &dyn Observer,
) -> Result<BuiltLayer, SourceImageError> {
    let secrets_files = secrets_files(root, request.secrets.as_deref());
    let secrets = Secrets::load(&secrets_files)?;
    let mut spec = LayerSpec::whole_tree(root.to_owned(), SOURCE_PATH_IN_IMAGE)
        .with_epoch(request.epoch)
        .with_compression(request.compression)
        .excluding(root.join(".eider"));
    for path in &secrets_files {
        spec = spec.with_secrets_file(path.clone());
    }
    let building = Phase::start(observer, &Event::LayersStarted, || Event::LayersEnded);
    let layer = build_layer(cache, spec, None)
        .await
        .map_err(|source| SourceImageError::Layer {
            root: root.to_owned(),
            source,
        })?
        .built;
    drop(building);
    let created_by = compose::source_created_by();
    observer.event(&Event::LayerReady {
        created_by: &created_by,
        layer: &layer,
    });
    secrets
        .check_new_layers(cache.store(), &[(created_by, layer.clone())])
        .await?;
    Ok(layer)
}

/// Whether `repository` holds the image under its tag already. A failed look only means the
/// push goes ahead, and reports what is wrong.
async fn already_published(
    registry: &eider_registry::RegistryClient,
    repository: &Repository,
    tag: &str,
    digest: &Digest,
) -> bool {
    let Ok(tagged) = Reference::with_tag(repository.clone(), tag) else {
        return false;
    };
    registry
        .resolve_digest(&tagged)
        .await
        .is_ok_and(|found| found == *digest)
}
