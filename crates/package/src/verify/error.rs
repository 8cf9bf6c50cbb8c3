//! Why a package could not be verified or run: one variant per step that failed.

use camino::Utf8PathBuf;
use drakefile::{LoadError, Report};
use eider_oci::{BlobStoreError, LayoutError};
use eider_registry::ReferenceError;

use crate::engine_load::EngineLoadError;
use crate::keys;
use crate::resolve::AccessError;

/// A package that could not be verified, or run after it was.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// No directory for what a registry holds.
    #[error("cannot make a temporary directory")]
    TemporaryDirectory(#[source] std::io::Error),
    /// The temporary directory's path is not UTF-8.
    #[error("the temporary directory is not UTF-8")]
    NotUtf8,
    /// The package is neither in an OCI layout nor in a registry.
    #[error("`{location}`: eider verifies packages in an OCI layout or a registry")]
    Unsupported {
        /// Where the package is.
        location: String,
    },
    /// The OCI layout cannot be opened.
    #[error("cannot open the OCI layout {directory}")]
    OpenLayout {
        /// The layout.
        directory: Utf8PathBuf,
        /// Why.
        #[source]
        source: Box<LayoutError>,
    },
    /// The layout's index cannot be read.
    #[error("cannot read the index of {directory}")]
    ReadIndex {
        /// The layout.
        directory: Utf8PathBuf,
        /// Why.
        #[source]
        source: Box<LayoutError>,
    },
    /// The layout has no image of the tag (or, without a tag, not exactly one image).
    #[error("{directory} has no image tagged `{}`", tag.as_deref().unwrap_or(""))]
    NoSuchTag {
        /// The layout.
        directory: Utf8PathBuf,
        /// The tag asked for.
        tag: Option<String>,
        /// The tags it has.
        tags: Vec<String>,
    },
    /// No registry client could be made.
    #[error(transparent)]
    Access(AccessError),
    /// The registry reference does not parse.
    #[error(transparent)]
    Reference(ReferenceError),
    /// A step of the download from the registry.
    #[error("cannot {step} of {reference}")]
    Registry {
        /// The step.
        step: RegistryStep,
        /// The package, as given.
        reference: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The registry's manifest is an index inside an index.
    #[error("{reference} is a nested index")]
    NestedIndex {
        /// The package.
        reference: String,
    },
    /// The config cannot be read to compare the job with the Drakefile's.
    #[error("cannot read the package's config")]
    Config(#[source] ReadError),
    /// The Drakefile to compare with cannot be read.
    #[error(transparent)]
    Drakefile(LoadError),
    /// The Drakefile to compare with is invalid.
    #[error("the Drakefile is invalid")]
    InvalidDrakefile(Report),
    /// The package cannot be read to run it.
    #[error("cannot read the package")]
    Package(#[source] ReadError),
    /// The package says no job: eider did not make it.
    #[error(
        "{package} is not a package of eider: it has no `{}` label, so it holds no job to run",
        keys::JOB
    )]
    NotAPackage {
        /// The package, as given.
        package: String,
    },
    /// The job the package records cannot be run.
    #[error("{package} records no job eider can run: {problem}")]
    InvalidJob {
        /// The package, as given.
        package: String,
        /// What is wrong with it.
        #[source]
        problem: RecordedJobProblem,
    },
    /// A sidecar of the package's job mounts the source, which only its primary's image holds.
    #[error(
        "sidecar `{container}` of the job of {package} mounts the source, which the package \
         holds only in its primary's image"
    )]
    SidecarMountsSource {
        /// The package, as given.
        package: String,
        /// The sidecar.
        container: String,
    },
    /// A package outside any registry has no way to a cluster without one to push it to.
    #[error(
        "{package} is not in a registry a cluster can pull from: give one to push it to \
         (--registry, or `[kubernetes] registry` in the config file)"
    )]
    NeedsRegistry {
        /// The package, as given.
        package: String,
    },
    /// Pushing the package for a cluster failed.
    #[error("cannot push the package to {repository}")]
    Push {
        /// Where it was pushed.
        repository: String,
        /// Why it failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The package cannot be loaded into the local engine.
    #[error(transparent)]
    Load(EngineLoadError),
}

/// What is wrong with the job a package records.
#[derive(Debug, thiserror::Error)]
pub enum RecordedJobProblem {
    /// No definition.
    #[error("it has no `{}` label", keys::JOB_DEFINITION)]
    NoDefinition,
    /// The definition is not a valid job.
    #[error("label `{}` is not a job eider can run", keys::JOB_DEFINITION)]
    Definition(#[source] drakefile::RecordedJobError),
    /// The definition names another job than the label.
    #[error(
        "label `{}` names job `{label}` but its definition is job `{definition}`",
        keys::JOB
    )]
    OtherName {
        /// The job label's.
        label: String,
        /// The definition's.
        definition: String,
    },
    /// A job without a primary container.
    #[error("the job has no container")]
    NoContainers,
    /// A version this eider does not know.
    #[error(
        "label `{}`: `{version}` is not a DrakeSpec version this eider supports",
        keys::SPEC_VERSION
    )]
    Version {
        /// The version recorded.
        version: String,
    },
    /// The sidecars' images cannot be read.
    #[error("label `{}` is not a list of sidecar images", keys::SIDECARS)]
    Sidecars(#[source] serde_json::Error),
    /// A sidecar whose image was not recorded.
    #[error(
        "sidecar `{container}` has no image recorded in label `{}`",
        keys::SIDECARS
    )]
    UnpinnedSidecar {
        /// The sidecar.
        container: String,
    },
}

/// A step of fetching a package from a registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryStep {
    /// The manifest from the registry.
    FetchManifest,
    /// The directory the blobs go to.
    MakeBlobStore,
    /// The manifest into that directory.
    StoreManifest,
    /// The manifest parsed.
    ReadManifest,
}

impl std::fmt::Display for RegistryStep {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Self::FetchManifest => "fetch the manifest",
            Self::MakeBlobStore => "make a blob store",
            Self::StoreManifest => "store the manifest",
            Self::ReadManifest => "read the manifest",
        })
    }
}

/// A package's manifest or config that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// From the store.
    #[error(transparent)]
    Store(BlobStoreError),
    /// As JSON.
    #[error(transparent)]
    Json(serde_json::Error),
}
