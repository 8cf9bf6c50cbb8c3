//! The base image of a package, in the blob store: pulled from a registry (its layers reused as
//! they are), read from an OCI layout, or exported from the local engine (its layers compressed
//! once, then found again by the image's id).

use camino::Utf8Path;
use eider_error_chain::{TextError, chain_text};
use eider_oci::{
    BaseImage, BlobStore, Digest, LayerCache, LayoutError, OciLayout, ParsedManifest, Platform,
};
use eider_registry::{Reference, RegistryClient};
use eider_runtime_docker::DockerRuntime;
use futures_util::StreamExt as _;
use serde::Deserialize;

use crate::location::ImageLocation;
use crate::resolve::{self, ResolveError, ResolveFrom, Resolved};

/// A cause of any kind, kept with its own causes.
type Cause = Box<dyn std::error::Error + Send + Sync>;

/// A base image that could not be had.
#[derive(Debug, thiserror::Error)]
pub enum BaseError {
    /// The image is the local engine's, and the engine does not answer.
    #[error("cannot read base image `{image}` from the local engine: it does not answer")]
    NoEngine {
        /// The image.
        image: String,
    },
    /// An OCI layout cannot be read as a base image.
    #[error("cannot read base image {location}")]
    Layout {
        /// The layout, as given.
        location: String,
        /// Why.
        #[source]
        source: Box<LayoutError>,
    },
    /// The thread reading a layout stopped.
    #[error(transparent)]
    Task(tokio::task::JoinError),
    /// A Docker archive was given as a base image.
    #[error("{location}: a base image comes from an OCI layout, the local engine or a registry")]
    Archive {
        /// The archive, as given.
        location: String,
    },
    /// The image could not be resolved.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// A step of the pull from the registry.
    #[error("cannot {step} of base image `{reference}`")]
    Registry {
        /// The step.
        step: BaseStep,
        /// The image.
        reference: String,
        /// Why.
        #[source]
        source: Cause,
    },
    /// The registry's manifest is an index inside an index.
    #[error("base image `{reference}` is an index inside an index, which eider does not read")]
    NestedIndex {
        /// The image.
        reference: String,
    },
    /// A step of the export from the local engine.
    #[error("cannot {step} of base image `{image}` (local engine)")]
    Engine {
        /// The step.
        step: BaseStep,
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: Cause,
    },
}

/// A step of getting a base image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseStep {
    /// Its manifest from the registry.
    FetchManifest,
    /// Its manifest parsed.
    ReadManifest,
    /// A blob of the cache checked before it is used.
    CheckCachedBlob,
    /// A blob from the registry.
    FetchBlob,
    /// Its config read from the store.
    ReadConfig,
    /// Its manifest and config read together.
    ReadImage,
    /// A directory for the export.
    MakeRoom,
    /// The engine's archive of it.
    Export,
    /// Its layers compressed into the store.
    Import,
}

impl std::fmt::Display for BaseStep {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Self::FetchManifest => "fetch the manifest",
            Self::ReadManifest => "read the manifest",
            Self::CheckCachedBlob => "check a cached blob",
            Self::FetchBlob => "fetch a blob",
            Self::ReadConfig => "read the config",
            Self::ReadImage => "read the image",
            Self::MakeRoom => "make room for the export",
            Self::Export => "export the image",
            Self::Import => "import the image",
        })
    }
}

/// A base image ready to build on: everything it needs is in the cache's store.
pub struct Base {
    /// Its manifest and config.
    pub image: BaseImage,
    /// The image as the Drakefile names it.
    pub name: String,
    /// What identifies it: the registry's manifest digest, or the engine's image id.
    pub digest: Digest,
    /// Its repository, when it came from a registry: a push to the same registry can mount its
    /// layers from there instead of uploading them.
    pub repository: Option<eider_registry::Repository>,
}

/// Gets the base image `resolved` into `cache`'s store.
pub async fn fetch(
    resolved: &Resolved,
    cache: &LayerCache,
    daemon: Option<&DockerRuntime>,
    registry: &RegistryClient,
    compression: eider_oci::Compression,
) -> Result<Base, BaseError> {
    match resolved {
        Resolved::Registry { reference, digest } => {
            from_registry(reference, digest, cache, registry).await
        }
        Resolved::Daemon { image, id } => {
            let Some(daemon) = daemon else {
                return Err(BaseError::NoEngine {
                    image: image.clone(),
                });
            };
            from_daemon(image, id, cache, daemon, compression).await
        }
    }
}

/// Gets the base image at an explicit `location` into `cache`'s store.
pub async fn fetch_location(
    location: &ImageLocation,
    cache: &LayerCache,
    daemon: Option<&DockerRuntime>,
    registry: &RegistryClient,
    compression: eider_oci::Compression,
) -> Result<Base, BaseError> {
    match location {
        ImageLocation::OciLayout { directory, tag } => {
            let store = cache.store().clone();
            let directory = directory.clone();
            let tag = tag.clone();
            let shown = location.to_string();
            tokio::task::spawn_blocking(move || from_layout(&directory, tag.as_deref(), &store))
                .await
                .map_err(BaseError::Task)?
                .map_err(|source| BaseError::Layout {
                    location: shown,
                    source: Box::new(source),
                })
        }
        ImageLocation::DockerDaemon { name } => {
            let resolved = resolve::resolve(name, ResolveFrom::Daemon, daemon, registry).await?;
            fetch(&resolved, cache, daemon, registry, compression).await
        }
        ImageLocation::Registry { reference } => {
            let resolved =
                resolve::resolve(reference, ResolveFrom::Registry, daemon, registry).await?;
            fetch(&resolved, cache, daemon, registry, compression).await
        }
        ImageLocation::DockerArchive { .. } => Err(BaseError::Archive {
            location: location.to_string(),
        }),
    }
}

/// A base image of an OCI layout, its blobs copied into `store`.
fn from_layout(
    directory: &Utf8Path,
    tag: Option<&str>,
    store: &BlobStore,
) -> Result<Base, eider_oci::LayoutError> {
    let layout = OciLayout::open(directory)?;
    let resolved = layout.resolve(tag, &Platform::linux_amd64())?;
    let manifest = &resolved.base.manifest;
    for descriptor in std::iter::once(&manifest.config).chain(&manifest.layers) {
        store.import_checked(layout.store(), &descriptor.digest, descriptor.size)?;
    }
    Ok(Base {
        name: match tag {
            Some(tag) => format!("oci:{directory}:{tag}"),
            None => format!("oci:{directory}"),
        },
        digest: resolved.manifest_descriptor.digest.clone(),
        image: resolved.base,
        repository: None,
    })
}

async fn from_registry(
    reference: &Reference,
    digest: &Digest,
    cache: &LayerCache,
    registry: &RegistryClient,
) -> Result<Base, BaseError> {
    let store = cache.store();
    let failure = |step, source| BaseError::Registry {
        step,
        reference: reference.to_string(),
        source,
    };
    let pinned = Reference::with_digest(reference.repository().clone(), digest.clone());
    let pulled = registry
        .fetch_image_manifest(&pinned, &Platform::linux_amd64())
        .await
        .map_err(|error| failure(BaseStep::FetchManifest, error.into()))?;
    let manifest =
        match eider_oci::parse_manifest(&pulled.manifest.bytes, Some(&pulled.manifest.media_type))
            .map_err(|error| failure(BaseStep::ReadManifest, error.into()))?
        {
            ParsedManifest::Image(manifest) => manifest,
            ParsedManifest::Index(_) => {
                return Err(BaseError::NestedIndex {
                    reference: reference.to_string(),
                });
            }
        };
    let repository = reference.repository();
    let root = store.root().to_owned();
    for descriptor in std::iter::once(&manifest.config).chain(&manifest.layers) {
        // A damaged copy in the cache is removed here, so that it is downloaded again.
        cache
            .has_whole_blob(&descriptor.digest, descriptor.size)
            .map_err(|error| failure(BaseStep::CheckCachedBlob, error.into()))?;
        registry
            .fetch_blob(
                repository,
                &descriptor.digest,
                Some(descriptor.size),
                &root,
                &|_| {},
            )
            .await
            .map_err(|error| failure(BaseStep::FetchBlob, error.into()))?;
    }
    let config = store
        .read(&manifest.config.digest, Some(manifest.config.size))
        .map_err(|error| failure(BaseStep::ReadConfig, error.into()))?;
    let image = BaseImage::parse(&pulled.manifest.bytes, &config)
        .map_err(|error| failure(BaseStep::ReadImage, error.into()))?;
    Ok(Base {
        image,
        name: reference.to_string(),
        digest: pulled.index.as_ref().map_or_else(
            || pulled.manifest.digest.clone(),
            |index| index.digest.clone(),
        ),
        repository: Some(repository.clone()),
    })
}

/// The part of `docker save`'s `manifest.json` that matters here.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SavedImage {
    config: String,
    layers: Vec<String>,
}

/// The engine's image as an OCI image in the store. `docker save` gives uncompressed layers;
/// they are compressed by the same rules as every layer eider makes, so the result depends only
/// on the image. The manifest is kept by image id: the next package finds it without asking
/// the engine for the image again.
async fn from_daemon(
    image: &str,
    id: &Digest,
    cache: &LayerCache,
    daemon: &DockerRuntime,
    compression: eider_oci::Compression,
) -> Result<Base, BaseError> {
    let failure = |step, source| BaseError::Engine {
        step,
        image: image.to_owned(),
        source,
    };
    let id_hex = id.hex();
    let known = cache
        .directory()
        .join("bases")
        .join(format!("{id_hex}-{}.json", compression.name()));
    if let Some(base) = known_base(&known, cache) {
        return Ok(Base {
            image: base,
            name: image.to_owned(),
            digest: id.clone(),
            repository: None,
        });
    }
    let work = eider_oci::temporary::TemporaryDirectory::create(cache.directory(), "export-")
        .map_err(|error| failure(BaseStep::MakeRoom, error.into()))?;
    let work_path = work.path().to_owned();
    // The engine's archive goes to disk first: its index comes last, after the layers.
    let archive = work_path.join("image.tar");
    save_to_file(daemon, id, &archive)
        .await
        .map_err(|error| failure(BaseStep::Export, error.into()))?;
    let store = cache.store().clone();
    let compression_used = compression;
    let built = tokio::task::spawn_blocking(move || {
        import_saved(&archive, &work_path.join("image"), &store, compression_used)
    })
    .await
    .map_err(|error| failure(BaseStep::Import, error.into()))?
    .map_err(|error| failure(BaseStep::Import, TextError(error).into()))?;
    let (manifest, config) = built;
    let base = BaseImage::parse(&manifest, &config)
        .map_err(|error| failure(BaseStep::ReadImage, error.into()))?;
    remember_base(&known, &manifest);
    Ok(Base {
        image: base,
        name: image.to_owned(),
        digest: id.clone(),
        repository: None,
    })
}

async fn save_to_file(
    daemon: &DockerRuntime,
    id: &Digest,
    path: &Utf8Path,
) -> Result<(), std::io::Error> {
    use tokio::io::AsyncWriteExt as _;
    let mut file = tokio::fs::File::create(path).await?;
    let mut stream = daemon.export_image(&id.to_string());
    while let Some(chunk) = stream.next().await {
        file.write_all(&chunk?).await?;
    }
    file.flush().await
}

/// Unpacks `docker save`'s archive and stores its config and layers; returns the manifest and
/// config bytes of the OCI image made of them.
fn import_saved(
    archive: &Utf8Path,
    directory: &Utf8Path,
    store: &BlobStore,
    compression: eider_oci::Compression,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    let file = fs_err::File::open(archive).map_err(|error| chain_text(&error))?;
    fs_err::create_dir_all(directory).map_err(|error| chain_text(&error))?;
    tar::Archive::new(file)
        .unpack(directory)
        .map_err(|error| format!("{archive}: {}", chain_text(&error)))?;
    let index =
        fs_err::read(directory.join("manifest.json")).map_err(|error| chain_text(&error))?;
    let saved: Vec<SavedImage> =
        serde_json::from_slice(&index).map_err(|error| format!("manifest.json: {error}"))?;
    let Some(saved) = saved.into_iter().next() else {
        return Err("the engine's archive holds no image".to_owned());
    };
    let config = fs_err::read(directory.join(&saved.config)).map_err(|error| chain_text(&error))?;
    let (config_digest, config_size) = store.write(&config).map_err(|error| chain_text(&error))?;
    let mut layers = Vec::with_capacity(saved.layers.len());
    for layer in &saved.layers {
        let mut tar =
            fs_err::File::open(directory.join(layer)).map_err(|error| chain_text(&error))?;
        let blob = eider_oci::compress_tar(&mut tar as &mut dyn std::io::Read, compression, store)
            .map_err(|error| format!("{layer}: {}", chain_text(&error)))?;
        layers.push(eider_oci::Descriptor::new(
            blob.media_type,
            blob.digest,
            blob.size,
        ));
    }
    let manifest = eider_oci::ImageManifest {
        schema_version: 2,
        media_type: Some(eider_oci::media_type::OCI_MANIFEST.to_owned()),
        artifact_type: None,
        config: eider_oci::Descriptor::new(
            eider_oci::media_type::OCI_CONFIG,
            config_digest,
            config_size,
        ),
        layers,
        subject: None,
        annotations: std::collections::BTreeMap::new(),
    };
    let bytes = serde_json::to_vec(&manifest).map_err(|error| error.to_string())?;
    Ok((bytes, config))
}

/// The base image recorded at `path`, when every blob it names is still in the store, whole.
fn known_base(path: &Utf8Path, cache: &LayerCache) -> Option<BaseImage> {
    let store = cache.store();
    let manifest = fs_err::read(path).ok()?;
    let parsed: eider_oci::ImageManifest = serde_json::from_slice(&manifest).ok()?;
    let config = store
        .read(&parsed.config.digest, Some(parsed.config.size))
        .ok()?;
    let all_present = parsed.layers.iter().all(|layer| {
        cache
            .has_whole_blob(&layer.digest, layer.size)
            .unwrap_or(false)
    });
    if !all_present {
        return None;
    }
    BaseImage::parse(&manifest, &config).ok()
}

/// Records a base image's manifest; a failure only costs an export next time.
fn remember_base(path: &Utf8Path, manifest: &[u8]) {
    let Some(directory) = path.parent() else {
        return;
    };
    let temporary = path.with_extension("json.tmp");
    let _best_effort = fs_err::create_dir_all(directory)
        .and_then(|()| fs_err::write(&temporary, manifest))
        .and_then(|()| fs_err::rename(&temporary, path));
}
