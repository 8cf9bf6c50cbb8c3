//! The source a job's containers see, and the run's shared storage.
//!
//! - v0.1.0+ `RO` / `RW`: the live tree, bound read-only / writable.
//! - v0.1.0+ `COPY`: one exact private copy per job, shared by its containers, deleted after it.
//! - Seed draft (no mode field): one writable copy per run, shared by the run's jobs, so the
//!   user's tree is never modified and two runs never see each other; `--source-mode rw` binds
//!   the live tree instead.
//!
//! Copies live in engine volumes, filled from a tar stream of the tree: containers usually run
//! as root and write root-owned files into their copy, which only the engine can then remove
//! (an eider that is not root could not), and a volume works with a remote engine too.

use drakefile::{Job, SourceMountMode};
use eider_runtime::{MountSource, Runtime};

use crate::event::JobOutcome;
use crate::labels;
use crate::options::SeedSourceMode;
use crate::plan::{self, SourceBinding};
use crate::run::Run;
use crate::source_archive::archive_tree;

/// What a copy of the source is labelled as.
const SOURCE_COPY_PURPOSE: &str = "source-copy";

/// The source of one job and the copy to delete after it.
#[derive(Debug, Default)]
pub(crate) struct JobSource {
    binding: Option<SourceBinding>,
    /// A volume holding a copy made for this job alone.
    private_copy: Option<String>,
}

impl JobSource {
    /// How the containers see the source, when some container mounts it.
    pub fn binding(&self) -> Option<&SourceBinding> {
        self.binding.as_ref()
    }

    /// The volume of a copy made for this job alone, to remove after it.
    pub fn into_private_copy(self) -> Option<String> {
        self.private_copy
    }
}

impl<R: Runtime> Run<R> {
    /// The job's view of the source, making a copy when its mode asks for one.
    pub(crate) async fn job_source(
        &self,
        job: &Job,
        execution: usize,
    ) -> Result<JobSource, JobOutcome> {
        if !plan::wants_source(job) {
            return Ok(JobSource::default());
        }
        let live = |read_only| JobSource {
            binding: Some(SourceBinding {
                source: MountSource::Host(self.options.source_root.clone()),
                read_only,
            }),
            private_copy: None,
        };
        let copy = |volume: String, private: bool| JobSource {
            binding: Some(SourceBinding {
                source: MountSource::Volume(volume.clone()),
                read_only: false,
            }),
            private_copy: private.then_some(volume),
        };
        if self.spec_version.is_seed() {
            return match self.options.seed_source_mode {
                SeedSourceMode::ReadWrite => Ok(live(false)),
                SeedSourceMode::Copy => Ok(copy(self.run_source_copy(job).await?, false)),
            };
        }
        match job.source_mount_mode {
            SourceMountMode::ReadOnly => Ok(live(true)),
            SourceMountMode::ReadWrite => Ok(live(false)),
            SourceMountMode::Copy => {
                let volume = plan::engine_name(&self.id, execution, &job.name, "source");
                self.copy_source(job, &volume).await?;
                Ok(copy(volume, true))
            }
        }
    }

    /// The seed draft's per-run copy, made by the first job that needs it.
    async fn run_source_copy(&self, job: &Job) -> Result<String, JobOutcome> {
        let mut shared = self.shared.lock().await;
        if let Some(copy) = &shared.source_copy {
            return Ok(copy.clone());
        }
        let volume = format!("eider-{}-source", self.id);
        self.copy_source(job, &volume).await?;
        shared.source_copy = Some(volume.clone());
        Ok(volume)
    }

    /// Creates `volume` and fills it with an exact copy of the source tree.
    async fn copy_source(&self, job: &Job, volume: &str) -> Result<(), JobOutcome> {
        // Filling the copy may be abandoned half-way (timeout, Ctrl-C): the end of the run then
        // finds the volume by its labels.
        self.needs_sweep
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let mut volume_labels = labels::for_run(&self.id);
        volume_labels.push((labels::JOB.to_owned(), job.name.clone()));
        volume_labels.push((labels::PURPOSE.to_owned(), SOURCE_COPY_PURPOSE.to_owned()));
        let failed = |what: &str, error: &dyn std::fmt::Display| JobOutcome::Error {
            message: format!("job `{}`: {what}: {error}", job.name),
            hint: None,
        };
        if let Err(error) = self.runtime.create_volume(volume, &volume_labels).await {
            return Err(failed(
                "cannot create a volume for the copy of the source",
                &error,
            ));
        }
        // The copy is filled through a container of the job's own image: it is present already.
        let image = job
            .containers
            .first()
            .map(|container| container.image.clone())
            .unwrap_or_default();
        let (archive, archiving) = archive_tree(self.options.source_root.clone());
        let uploaded = self
            .runtime
            .upload_to_volume(volume, &image, &volume_labels, archive)
            .await;
        let archived = archiving.await;
        if !matches!((&archived, &uploaded), (Ok(Ok(_)), Ok(()))) {
            // Half a copy is no copy: the volume goes now (the run's sweep is the fallback).
            if self.runtime.remove_volume(volume).await.is_err() {
                self.needs_sweep
                    .store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        let stats = match (archived, uploaded) {
            (Ok(Ok(stats)), Ok(())) => stats,
            (Ok(Err(error)), _) => {
                return Err(failed(
                    &format!("cannot read the source {}", self.options.source_root),
                    &error,
                ));
            }
            (Err(error), _) => return Err(failed("cannot copy the source", &error)),
            (Ok(Ok(_)), Err(error)) => return Err(failed("cannot copy the source", &error)),
        };
        if !stats.skipped.is_empty() {
            let skipped: Vec<String> = stats.skipped.iter().map(ToString::to_string).collect();
            self.warn(
                job,
                format!(
                    "special files are not copied into the job's source: {}",
                    skipped.join(", ")
                ),
            )
            .await;
        }
        Ok(())
    }

    /// The run's shared-storage volume, created by the first job that mounts it.
    pub(crate) async fn shared_volume(&self, job: &Job) -> Result<String, JobOutcome> {
        let mut shared = self.shared.lock().await;
        if let Some((volume, _)) = &shared.volume {
            return Ok(volume.clone());
        }
        let name = format!("eider-{}-shared", self.id);
        let mut volume_labels = labels::for_run(&self.id);
        volume_labels.push((labels::PURPOSE.to_owned(), "shared-storage".to_owned()));
        if let Err(error) = self.runtime.create_volume(&name, &volume_labels).await {
            return Err(crate::job::backend_error(
                job,
                None,
                "cannot create the shared storage volume",
                &error,
            ));
        }
        let image = job
            .primary()
            .map(|container| container.image.clone())
            .unwrap_or_default();
        shared.volume = Some((name.clone(), image));
        Ok(name)
    }
}
