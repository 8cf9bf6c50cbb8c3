//! A verified package loaded into the local engine, to run its job from it.

use drakefile::Drakefile;

use super::config;
use super::error::VerifyError;
use super::open::Package;
use super::recorded::RecordedJob;
use crate::engine_load::load_into_engine;
use crate::keys;
use crate::run_from_package::run_from_package;

/// A package in the local engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedPackage {
    /// The job it holds.
    pub job: String,
    /// The engine's id of the image.
    pub image: eider_oci::Digest,
}

/// A package's job, ready to run on the local engine.
#[derive(Debug, Clone, PartialEq)]
pub struct PackagedJob {
    /// A Drakefile of that one job, at the version it was written in: its primary runs the
    /// package (which holds the source, so none is mounted), its sidecars the images recorded
    /// with it.
    pub drakefile: Drakefile,
    /// The job.
    pub job: String,
    /// The engine's id of the package.
    pub image: eider_oci::Digest,
}

impl RecordedJob {
    /// The recorded job alone in a Drakefile of its version, as it runs from `image` (the
    /// engine's id of the package).
    #[must_use]
    pub fn drakefile(&self, image: Option<&eider_oci::Digest>) -> Drakefile {
        let mut job = self.job.clone();
        if let Some(image) = image {
            run_from_package(&mut job, image);
        }
        Drakefile {
            spec_version: self.spec_version,
            jobs: vec![job],
            pipelines: Vec::new(),
        }
    }

    /// The Drakefile of the recorded job whose primary runs `image`, the package as a
    /// registry holds it (`REGISTRY/REPOSITORY@sha256:...`), without mounting the source.
    #[must_use]
    pub fn drakefile_running(&self, image: &str) -> Drakefile {
        let mut job = self.job.clone();
        crate::run_from_package::run_from_image(&mut job, image);
        Drakefile {
            spec_version: self.spec_version,
            jobs: vec![job],
            pipelines: Vec::new(),
        }
    }

    /// The first sidecar that mounts the source: a run with no source tree cannot give it one.
    #[must_use]
    pub fn sidecar_mounting_source(&self) -> Option<&str> {
        self.job
            .sidecars()
            .iter()
            .find(|sidecar| {
                sidecar
                    .source_mount_path
                    .as_deref()
                    .is_some_and(|path| !path.is_empty())
            })
            .map(|sidecar| sidecar.name.as_str())
    }
}

impl Package {
    /// Loads the package into the local engine, named `eider-verified/JOB:CONFIG`.
    pub async fn load_into_engine(&self) -> Result<LoadedPackage, VerifyError> {
        let read = config::read(&self.store, &self.manifest).map_err(VerifyError::Package)?;
        self.load_read(&read).await
    }

    /// Loads the package whose manifest and config are `read` into the local engine.
    async fn load_read(&self, read: &config::PackageConfig) -> Result<LoadedPackage, VerifyError> {
        let Some(job) = read.labels.get(keys::JOB).cloned() else {
            return Err(VerifyError::NotAPackage {
                package: self.location.clone(),
            });
        };
        let config = &read.manifest.config;
        let image = load_into_engine(
            &self.store,
            &read.config,
            &read.manifest.layers,
            &format!("eider-verified/{job}:{}", &config.digest.hex()[..12]),
        )
        .await
        .map_err(VerifyError::Load)?;
        Ok(LoadedPackage { job, image })
    }

    /// The job the package records, made ready to run from it: read back and checked (before
    /// anything reaches the engine), then the package loaded into the local engine. Without a
    /// source tree (`source_tree` false), a job whose sidecars mount the source is refused.
    pub async fn prepare_run(&self, source_tree: bool) -> Result<PackagedJob, VerifyError> {
        // Read once for both: the job it records and what is loaded.
        let read = config::read(&self.store, &self.manifest).map_err(VerifyError::Package)?;
        let recorded = self.recorded_job_of(&read.labels)?;
        if !source_tree && let Some(container) = recorded.sidecar_mounting_source() {
            return Err(VerifyError::SidecarMountsSource {
                package: self.location.clone(),
                container: container.to_owned(),
            });
        }
        let loaded = self.load_read(&read).await?;
        Ok(PackagedJob {
            drakefile: recorded.drakefile(Some(&loaded.image)),
            job: recorded.job.name,
            image: loaded.image,
        })
    }
}
