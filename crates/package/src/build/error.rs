//! Why a job could not be packaged: one variant per step that failed, the step's own error as
//! its source.

use camino::Utf8PathBuf;
use eider_oci::{AssembleError, BlobStoreError, LayerError};
use eider_runtime_docker::ConnectError;

use super::base::BaseError;
use super::provenance::ProvenanceError;
use super::publish::PublishError;
use super::secrets::SecretsError;
use super::settings::SettingsError;
use super::stream_upload::BuildError;
use crate::lock::LockFileError;
use crate::resolve::{AccessError, ResolveError};

/// A job that could not be packaged.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The Drakefile has no such job.
    #[error("no job named `{name}` in the Drakefile")]
    UnknownJob {
        /// The name asked for.
        name: String,
        /// The jobs the Drakefile has.
        jobs: Vec<String>,
    },
    /// The job has no container to take the image of.
    #[error("job `{job}` has no containers: there is nothing to package")]
    NoContainers {
        /// The job.
        job: String,
    },
    /// The project's packaging settings.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The provenance of the source.
    #[error(transparent)]
    Provenance(#[from] ProvenanceError),
    /// The lock, for a locked package.
    #[error(transparent)]
    Lock(#[from] LockFileError),
    /// The Drakefile's bytes, whose digest the package records.
    #[error("cannot read {display}")]
    ReadDrakefile {
        /// The Drakefile, as messages show it.
        display: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Neither `XDG_CACHE_HOME` nor `HOME` says where the cache is.
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
    /// The local engine, which a destination writes to, does not answer.
    #[error("cannot load the package into the local engine")]
    Engine(#[source] ConnectError),
    /// An image could not be resolved, or the engine to resolve it in does not answer.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// No registry client could be made.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// The base image.
    #[error(transparent)]
    Base(#[from] BaseError),
    /// The secrets the package must not hold, or one it would hold.
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    /// A layer could not be built.
    #[error("cannot build the layers")]
    Layers(#[source] BuildError),
    /// The job's definition cannot be recorded.
    #[error("cannot describe the job")]
    Describe(#[source] serde_json::Error),
    /// The image cannot be assembled.
    #[error("cannot assemble the image")]
    Assemble(#[source] AssembleError),
    /// The image cannot be stored in the cache.
    #[error("cannot store the image")]
    Store(#[source] BlobStoreError),
    /// A destination could not be written.
    #[error(transparent)]
    Publish(#[from] PublishError),
}
