//! The source a job's containers see, and the run's shared storage.
//!
//! - v0.1.0+ `RO` / `RW`: the live tree, read-only / writable.
//! - v0.1.0+ `COPY`: one exact private copy per job, shared by its containers, deleted after it.
//! - Seed draft (no mode field): one writable copy per run, shared by the run's jobs, so the
//!   user's tree is never modified and two runs never see each other; `--source-mode rw` binds
//!   the live tree instead.
//!
//! Copies and shared storage are the backend's: it knows where its containers can reach them.

use drakefile::Job;
use eider_runtime::{Runtime, SourceView, Storage, StorageRequest, labels};

use crate::outcome::JobOutcome;
use crate::plan::{self, SourceNeed};
use crate::run::Run;

/// What a copy of the source is labelled as.
const SOURCE_COPY_PURPOSE: &str = "source-copy";

/// How one job sees the source.
#[derive(Debug, Default)]
pub(crate) struct JobSource {
    view: Option<SourceView>,
}

impl JobSource {
    /// How the containers see the source, when some container mounts it.
    pub fn view(&self) -> Option<&SourceView> {
        self.view.as_ref()
    }
}

impl<R: Runtime> Run<R> {
    /// The job's view of the source, making a copy when its mode asks for one.
    pub(crate) async fn job_source(
        &self,
        job: &Job,
        execution: usize,
    ) -> Result<JobSource, JobOutcome> {
        let view = match plan::source_need(job, self.spec_version, &self.options) {
            None => return Ok(JobSource::default()),
            Some(SourceNeed::Live(view)) => view,
            Some(SourceNeed::RunCopy) => SourceView::RunCopy(self.run_source_copy(job).await?),
            Some(SourceNeed::JobCopy) => {
                SourceView::PrivateCopy(self.copy_source(job, Some(execution)).await?)
            }
        };
        Ok(JobSource { view: Some(view) })
    }

    /// The seed draft's per-run copy, made by the first job that needs it.
    async fn run_source_copy(&self, job: &Job) -> Result<Storage, JobOutcome> {
        let mut shared = self.shared.lock().await;
        if let Some(copy) = &shared.source_copy {
            return Ok(copy.clone());
        }
        let copy = self.copy_source(job, None).await?;
        shared.source_copy = Some(copy.clone());
        Ok(copy)
    }

    /// An exact copy of the source tree, for one execution of `job` or for the run.
    async fn copy_source(
        &self,
        job: &Job,
        execution: Option<usize>,
    ) -> Result<Storage, JobOutcome> {
        // Making the copy may be abandoned half-way (timeout, Ctrl-C): the end of the run then
        // finds what it created by its labels.
        self.needs_sweep
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let mut copy_labels = labels::for_run(&self.id);
        copy_labels.push((labels::JOB.to_owned(), job.name.clone()));
        copy_labels.push((labels::PURPOSE.to_owned(), SOURCE_COPY_PURPOSE.to_owned()));
        // The copy is made with the job's own image: it is present already.
        let image = job
            .containers
            .first()
            .map(|container| container.image.clone())
            .unwrap_or_default();
        let request = StorageRequest {
            run_id: &self.id,
            job: execution.map(|execution| (job.name.as_str(), execution)),
            labels: &copy_labels,
            image: &image,
        };
        let (copy, report) = self
            .runtime
            .copy_source(request, &self.options.source_root)
            .await
            .map_err(|error| JobOutcome::Error {
                message: format!("job `{}`: {error}", job.name),
                hint: None,
            })?;
        if !report.skipped.is_empty() {
            let skipped: Vec<String> = report.skipped.iter().map(ToString::to_string).collect();
            self.warn(
                job,
                format!(
                    "special files are not copied into the job's source: {}",
                    skipped.join(", ")
                ),
            )
            .await;
        }
        Ok(copy)
    }

    /// The run's shared storage, created by the first job that mounts it.
    pub(crate) async fn shared_storage(&self, job: &Job) -> Result<Storage, JobOutcome> {
        let mut shared = self.shared.lock().await;
        if let Some(storage) = &shared.storage {
            return Ok(storage.clone());
        }
        let mut storage_labels = labels::for_run(&self.id);
        storage_labels.push((labels::PURPOSE.to_owned(), "shared-storage".to_owned()));
        let image = job
            .primary()
            .map(|container| container.image.clone())
            .unwrap_or_default();
        let request = StorageRequest {
            run_id: &self.id,
            job: None,
            labels: &storage_labels,
            image: &image,
        };
        let storage = self
            .runtime
            .create_shared_storage(request)
            .await
            .map_err(|error| {
                crate::job::backend_error(
                    job,
                    None,
                    "cannot create the shared storage volume",
                    &error,
                )
            })?;
        shared.storage = Some(storage.clone());
        Ok(storage)
    }
}
