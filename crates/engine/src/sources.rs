//! The source a job's containers see, and the run's shared storage.
//!
//! - v0.1.0+ `RO` / `RW`: the live tree, bound read-only / writable.
//! - v0.1.0+ `COPY`: one exact private copy per job, shared by its containers, deleted after it.
//! - Seed draft (no mode field): one writable copy per run, shared by the run's jobs, so the
//!   user's tree is never modified and two runs never see each other; `--source-mode rw` binds
//!   the live tree instead.

use camino::Utf8PathBuf;
use drakefile::{Job, SourceMountMode};
use eider_runtime::Runtime;

use crate::event::JobOutcome;
use crate::labels;
use crate::options::SeedSourceMode;
use crate::plan::{self, SourceBinding};
use crate::run::{Run, remove_directory};
use crate::source_copy::copy_tree;

/// The source of one job and what to delete after it.
#[derive(Debug, Default)]
pub(crate) struct JobSource {
    binding: Option<SourceBinding>,
    /// A copy made for this job alone.
    private_copy: Option<Utf8PathBuf>,
}

impl JobSource {
    /// How the containers see the source, when some container mounts it.
    pub fn binding(&self) -> Option<&SourceBinding> {
        self.binding.as_ref()
    }

    /// Deletes the job's private copy, if any.
    pub async fn remove(self) -> Result<(), String> {
        match self.private_copy {
            Some(directory) => {
                let parent = directory.parent().map(ToOwned::to_owned);
                remove_directory(&directory).await?;
                match parent {
                    // The job's directory under the run's; removing it keeps the tree clean.
                    Some(parent) => remove_directory(&parent).await,
                    None => Ok(()),
                }
            }
            None => Ok(()),
        }
    }
}

impl<R: Runtime> Run<R> {
    /// The job's view of the source, making a copy when its mode asks for one.
    pub(crate) async fn job_source(&self, job: &Job) -> Result<JobSource, JobOutcome> {
        if !plan::wants_source(job) {
            return Ok(JobSource::default());
        }
        let root = self.options.source_root.clone();
        let live = |read_only| JobSource {
            binding: Some(SourceBinding {
                path: root.clone(),
                read_only,
            }),
            private_copy: None,
        };
        if self.spec_version.is_seed() {
            return match self.options.seed_source_mode {
                SeedSourceMode::ReadWrite => Ok(live(false)),
                SeedSourceMode::Copy => {
                    let copy = self.run_source_copy(job).await?;
                    Ok(JobSource {
                        binding: Some(SourceBinding {
                            path: copy,
                            read_only: false,
                        }),
                        private_copy: None,
                    })
                }
            };
        }
        match job.source_mount_mode {
            SourceMountMode::ReadOnly => Ok(live(true)),
            SourceMountMode::ReadWrite => Ok(live(false)),
            SourceMountMode::Copy => {
                let destination = self
                    .run_directory()
                    .join("jobs")
                    .join(&job.name)
                    .join("source");
                self.copy_source(job, destination.clone()).await?;
                Ok(JobSource {
                    binding: Some(SourceBinding {
                        path: destination.clone(),
                        read_only: false,
                    }),
                    private_copy: Some(destination),
                })
            }
        }
    }

    /// The seed draft's per-run copy, made by the first job that needs it.
    async fn run_source_copy(&self, job: &Job) -> Result<Utf8PathBuf, JobOutcome> {
        let mut shared = self.shared.lock().await;
        if let Some(copy) = &shared.source_copy {
            return Ok(copy.clone());
        }
        let destination = self.run_directory().join("source");
        self.copy_source(job, destination.clone()).await?;
        shared.source_copy = Some(destination.clone());
        Ok(destination)
    }

    async fn copy_source(&self, job: &Job, destination: Utf8PathBuf) -> Result<(), JobOutcome> {
        let root = self.options.source_root.clone();
        let run_directory = self.run_directory();
        let target = destination.clone();
        let copied = tokio::task::spawn_blocking(move || {
            if let Some(parent) = target.parent() {
                fs_err::create_dir_all(parent).map_err(|error| error.to_string())?;
            }
            // The owner's pid lets `eider clean` tell a live run's copies from a crashed one's.
            fs_err::write(run_directory.join("pid"), std::process::id().to_string())
                .map_err(|error| error.to_string())?;
            copy_tree(&root, &target).map_err(|error| error.to_string())
        })
        .await
        .map_err(|error| error.to_string())
        .and_then(|result| result);
        match copied {
            Ok(stats) => {
                if !stats.skipped.is_empty() {
                    let skipped: Vec<String> =
                        stats.skipped.iter().map(ToString::to_string).collect();
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
            Err(message) => Err(JobOutcome::Error {
                message: format!(
                    "job `{}`: cannot copy the source into {destination}: {message}",
                    job.name
                ),
                hint: None,
            }),
        }
    }

    /// The run's shared-storage volume, created by the first job that mounts it (R34).
    pub(crate) async fn shared_volume(&self, job: &Job) -> Result<String, JobOutcome> {
        let mut shared = self.shared.lock().await;
        if let Some((volume, _)) = &shared.volume {
            return Ok(volume.clone());
        }
        let name = format!("eider-{}-shared", self.id);
        let mut volume_labels = labels::for_run(&self.id);
        volume_labels.push((labels::PURPOSE.to_owned(), "shared-storage".to_owned()));
        if let Err(error) = self.runtime.create_volume(&name, &volume_labels).await {
            return Err(crate::job::engine_error(
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
