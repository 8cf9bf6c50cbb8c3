//! What a package is asked to be, and the project it is made from.

use camino::{Utf8Path, Utf8PathBuf};
use drakefile::Drakefile;
use eider_oci::{Compression, ManifestFormat};
use eider_registry::RetryPolicy;

use crate::location::ImageLocation;
use crate::resolve::{RegistryAccess, ResolveFrom};

/// The project a job is packaged from.
#[derive(Debug, Clone, Copy)]
pub struct Project<'a> {
    /// The Drakefile, read and valid.
    pub drakefile: &'a Drakefile,
    /// Where the Drakefile is: its bytes are recorded by digest, its lock sits beside it.
    pub path: &'a Utf8Path,
    /// The Drakefile as messages show it.
    pub display: &'a str,
    /// The source tree, absolute: the Drakefile's directory.
    pub root: &'a Utf8Path,
}

/// What to package, how, and where to write it.
#[derive(Debug, Clone)]
pub struct PackageRequest {
    /// The job.
    pub job: String,
    /// Where the package goes; none: the OCI layout `.eider/packages` of the project, tagged
    /// with the job's name.
    pub outputs: Vec<ImageLocation>,
    /// The package's version; none: `git describe --tags --always`, `-dirty` when the tree has
    /// changes.
    pub version: Option<String>,
    /// How the new layers are compressed.
    pub compression: Compression,
    /// Which media types the manifest uses.
    pub manifest_format: ManifestFormat,
    /// Where the source goes in the image when the primary container has no `sourceMountPath`;
    /// none: `path` in `eider.toml`, else `/src`.
    pub source_path: Option<String>,
    /// Where images are resolved, for a name that is not a registry's.
    pub resolve_from: ResolveFrom,
    /// The base image, instead of the primary container's `image`.
    pub base: Option<ImageLocation>,
    /// Whether every image is taken at its digest in the Drakefile's lock.
    pub locked: bool,
    /// The secrets file of the job's runs (relative to the current directory): none of its
    /// values may be in the package. `Drakesecrets.yaml` beside the Drakefile is always checked.
    pub secrets: Option<Utf8PathBuf>,
    /// `SOURCE_DATE_EPOCH`, when set: every timestamp of the image, instead of the commit's time.
    pub source_date_epoch: Option<String>,
    /// How registries are reached.
    pub registry: RegistryAccess,
}

impl PackageRequest {
    /// The package a run from it needs: `job` loaded into the local engine as
    /// `eider-packaged/JOB`, everything else as by default. `secrets` is the run's own secrets
    /// file: what its jobs are given must not be built into them.
    #[must_use]
    pub fn for_run(
        job: &str,
        locked: bool,
        secrets: Option<Utf8PathBuf>,
        retry: RetryPolicy,
        source_date_epoch: Option<String>,
    ) -> Self {
        Self {
            job: job.to_owned(),
            outputs: vec![ImageLocation::DockerDaemon {
                name: format!("eider-packaged/{job}"),
            }],
            version: None,
            compression: Compression::Gzip,
            manifest_format: ManifestFormat::Oci,
            source_path: None,
            resolve_from: ResolveFrom::Auto,
            base: None,
            locked,
            secrets,
            source_date_epoch,
            // The engine runs the package: no registry is written to, and the images of its
            // registries are reached with the Docker configuration, as `docker pull` would.
            registry: RegistryAccess {
                retry,
                ..RegistryAccess::default()
            },
        }
    }
}
