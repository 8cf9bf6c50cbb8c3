//! Why a source image could not be published: one variant per step, naming the image or the
//! registry it concerns. The registry's errors are boxed: they are large, and rare. Nothing here holds a credential: references and repositories are shown,
//! never the client's configuration.

use camino::Utf8PathBuf;
use eider_oci::{AssembleError, BlobStoreError, LayerError};
use eider_registry::{BlobFetchError, ManifestError, PushError, RequestError};

use crate::build::{BaseStep, BuildError, SecretsError};
use crate::resolve::AccessError;

/// A source image that could not be published.
#[derive(Debug, thiserror::Error)]
pub enum SourceImageError {
    /// The source tree is not a directory.
    #[error("cannot package the source tree {root}: it is not a directory")]
    NotADirectory {
        /// The tree.
        root: Utf8PathBuf,
    },
    /// Neither `XDG_CACHE_HOME` nor `HOME` says where the cache is, and none was given.
    #[error("no cache directory: set XDG_CACHE_HOME or HOME")]
    NoCacheDirectory,
    /// The layer cache cannot be opened.
    #[error("cannot open the cache in {directory}")]
    OpenCache {
        /// The cache's directory.
        directory: Utf8PathBuf,
        /// Why.
        #[source]
        source: LayerError,
    },
    /// No registry client could be made.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// The secrets the image must not hold, or one it would hold.
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    /// The source layer could not be built.
    #[error("cannot build the source layer of {root}")]
    Layer {
        /// The tree.
        root: Utf8PathBuf,
        /// Why.
        #[source]
        source: BuildError,
    },
    /// The base image does not exist in its registry.
    #[error("base image `{reference}` does not exist")]
    BaseNotFound {
        /// The image as given.
        reference: String,
        /// What the registry said.
        #[source]
        source: Box<ManifestError>,
    },
    /// A manifest of the base image could not be fetched.
    #[error("cannot fetch the manifest of base image `{reference}`")]
    BaseManifest {
        /// The image as given, or the platform's manifest of its index.
        reference: String,
        /// Why.
        #[source]
        source: Box<ManifestError>,
    },
    /// A blob of the base image (its config, or a layer the target lacks) could not be fetched.
    #[error("cannot fetch a blob of base image `{reference}`")]
    BaseBlob {
        /// The image as given.
        reference: String,
        /// Why.
        #[source]
        source: Box<BlobFetchError>,
    },
    /// The base image is not usable as it is.
    #[error("cannot {step} of base image `{reference}`")]
    BaseImage {
        /// The step.
        step: BaseStep,
        /// The image as given.
        reference: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The base image is an index that lists no image (only attestations, or nested indexes).
    #[error("base image `{reference}` is an index that lists no image to build on")]
    NoBaseImage {
        /// The image as given.
        reference: String,
    },
    /// The image of one platform cannot be assembled.
    #[error("cannot assemble the source image for {platform}")]
    Assemble {
        /// The platform (`linux/amd64`).
        platform: String,
        /// Why.
        #[source]
        source: Box<AssembleError>,
    },
    /// The image cannot be stored in the cache before it is pushed.
    #[error("cannot store the source image in the cache")]
    Store(#[source] BlobStoreError),
    /// The target repository could not be asked which blobs it has.
    #[error("cannot check which blobs {repository} has")]
    Target {
        /// `REGISTRY/REPOSITORY`.
        repository: String,
        /// Why.
        #[source]
        source: Box<RequestError>,
    },
    /// The push to the target repository failed.
    #[error("cannot push the source image to {repository}")]
    Push {
        /// `REGISTRY/REPOSITORY`.
        repository: String,
        /// Why.
        #[source]
        source: Box<PushError>,
    },
}
