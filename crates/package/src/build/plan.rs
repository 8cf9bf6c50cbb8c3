//! Everything a package is decided by before the engine or a registry is asked anything: the
//! job and its primary container, the project's settings, the destinations, the provenance, the
//! lock, the cache.

use camino::{Utf8Path, Utf8PathBuf};
use drakefile::{Container, Job};
use eider_oci::LayerCache;

use super::error::PackageError;
use super::provenance::{self, Provenance};
use super::request::{PackageRequest, Project};
use super::settings::{DEFAULT_SOURCE_PATH, PackageSettings};
use crate::location::ImageLocation;
use crate::lock::LockFile;

/// The default secrets file, beside the Drakefile: the secrets of a project's runs, which its
/// packages must never hold.
pub const SECRETS_FILE_NAME: &str = "Drakesecrets.yaml";

/// Where packages go when no output is given, relative to the project.
const DEFAULT_LAYOUT: &str = ".eider/packages";

/// A package, decided: [`Plan::package`] makes it.
#[derive(Debug)]
pub struct Plan<'a> {
    pub(super) request: &'a PackageRequest,
    pub(super) job: &'a Job,
    /// The version of the Drakefile the job comes from.
    pub(super) spec_version: drakefile::SpecVersion,
    pub(super) primary: &'a Container,
    /// The source tree.
    pub(super) project: Utf8PathBuf,
    pub(super) settings: PackageSettings,
    pub(super) provenance: Provenance,
    pub(super) lock: Option<LockFile>,
    pub(super) lock_path: Utf8PathBuf,
    pub(super) drakefile_digest: String,
    pub(super) cache: LayerCache,
    pub(super) destinations: Vec<ImageLocation>,
    /// What packaging writes that may lie in the tree (see [`written_inside`]).
    pub(super) written: Vec<Utf8PathBuf>,
    /// The secrets files whose values the package must not hold, and which it never holds:
    /// the one beside the Drakefile when present, and the request's, as absolute paths.
    pub(super) secrets_files: Vec<Utf8PathBuf>,
}

impl<'a> Plan<'a> {
    /// Decides the package `request` asks for, of `project`; then removes what packaging
    /// processes killed before they could clean up left in the cache and in the directories
    /// this package is written to.
    pub fn prepare(
        project: Project<'a>,
        request: &'a PackageRequest,
    ) -> Result<Self, PackageError> {
        let drakefile = project.drakefile;
        let job = drakefile
            .job(&request.job)
            .ok_or_else(|| PackageError::UnknownJob {
                name: request.job.clone(),
                jobs: drakefile.jobs.iter().map(|job| job.name.clone()).collect(),
            })?;
        let Some(primary) = job.primary() else {
            return Err(PackageError::NoContainers {
                job: job.name.clone(),
            });
        };
        let root = project.root;
        let settings = PackageSettings::load(root)?;
        let destinations = if request.outputs.is_empty() {
            vec![ImageLocation::OciLayout {
                directory: root.join(DEFAULT_LAYOUT),
                tag: Some(job.name.clone()),
            }]
        } else {
            request.outputs.clone()
        };
        let written = written_inside(&destinations, root);
        let written_paths: Vec<&Utf8Path> = written.iter().map(Utf8PathBuf::as_path).collect();
        let provenance = provenance::provenance(
            root,
            request.version.as_deref(),
            request.source_date_epoch.as_deref(),
            &written_paths,
        )?;
        let lock_path = LockFile::path_for(project.path);
        let lock = if request.locked {
            Some(LockFile::load(&lock_path)?)
        } else {
            None
        };
        let drakefile_bytes =
            fs_err::read(project.path).map_err(|source| PackageError::ReadDrakefile {
                display: project.display.to_owned(),
                source,
            })?;
        let cache_directory =
            LayerCache::default_directory().ok_or(PackageError::NoCacheDirectory)?;
        let cache = match LayerCache::open(&cache_directory) {
            Ok(cache) => cache,
            Err(source) => {
                return Err(PackageError::OpenCache {
                    directory: cache_directory,
                    source,
                });
            }
        };
        let plan = Plan {
            request,
            job,
            spec_version: drakefile.spec_version,
            primary,
            project: root.to_owned(),
            settings,
            provenance,
            lock,
            lock_path,
            drakefile_digest: eider_oci::Digest::of(&drakefile_bytes).to_string(),
            cache,
            destinations,
            written,
            secrets_files: secrets_files(root, request.secrets.as_deref()),
        };
        crate::sweep::sweep_abandoned(&cache_directory, &plan.destinations);
        Ok(plan)
    }

    /// Where the source goes: the primary's `sourceMountPath`, else the request's, else the
    /// settings', else /src.
    pub(super) fn source_path(&self) -> String {
        self.primary
            .source_mount_path
            .clone()
            .filter(|path| !path.is_empty())
            .or_else(|| self.request.source_path.clone())
            .or_else(|| self.settings.path_of(&self.job.name).map(str::to_owned))
            .unwrap_or_else(|| DEFAULT_SOURCE_PATH.to_owned())
    }
}

/// The secrets files of a package of `project`: `Drakesecrets.yaml` when present, and `given`
/// (relative to where eider runs), as absolute paths.
pub(crate) fn secrets_files(project: &Utf8Path, given: Option<&Utf8Path>) -> Vec<Utf8PathBuf> {
    let default = project.join(SECRETS_FILE_NAME);
    let mut files: Vec<Utf8PathBuf> = default.is_file().then_some(default).into_iter().collect();
    files.extend(given.map(absolute));
    files
}

/// `path` made absolute against where eider runs.
pub(crate) fn absolute(path: &Utf8Path) -> Utf8PathBuf {
    if path.is_absolute() {
        return path.to_owned();
    }
    std::env::current_dir()
        .ok()
        .and_then(|directory| Utf8PathBuf::from_path_buf(directory).ok())
        .map_or_else(|| path.to_owned(), |directory| directory.join(path))
}

/// What packaging writes that may lie in the source tree: `.eider` and the file outputs, as
/// absolute paths.
fn written_inside(destinations: &[ImageLocation], project: &Utf8Path) -> Vec<Utf8PathBuf> {
    destinations
        .iter()
        .filter_map(|destination| match destination {
            ImageLocation::OciLayout { directory, .. } => Some(absolute(directory)),
            ImageLocation::DockerArchive { file } => Some(absolute(file)),
            _ => None,
        })
        .chain(std::iter::once(project.join(".eider")))
        .collect()
}
