//! A run: one invocation's jobs, the resources they share (storage, source copies) and the
//! cleanup of everything it created.

use std::sync::Arc;
use std::time::Duration;

use drakefile::{Job, SpecVersion};
use eider_runtime::{Platform, Runtime, RuntimeError, Storage, labels};
use tokio::sync::{Mutex, OnceCell};
use tokio_util::sync::CancellationToken;

use crate::event::{Event, EventSender};
use crate::mask::Masker;
use crate::options::RunSettings;
use crate::outcome::JobOutcome;

/// How a run is interrupted: the first signal stops containers gracefully, the second kills them.
/// Cleanup happens either way.
#[derive(Debug, Clone, Default)]
pub struct Cancellation {
    /// Stop gracefully (SIGTERM, then SIGKILL after the grace period).
    pub graceful: CancellationToken,
    /// Kill at once.
    pub immediate: CancellationToken,
}

/// How one job of a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReport {
    /// The job.
    pub name: String,
    /// How it ended.
    pub outcome: JobOutcome,
    /// How long it took.
    pub duration: Duration,
    /// Whether its output reached the log limit (and the rest of it was discarded).
    pub log_limit_reached: bool,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// The run id.
    pub run_id: String,
    /// Every job asked for, in order, including those skipped.
    pub jobs: Vec<JobReport>,
    /// Whether the run was interrupted.
    pub interrupted: bool,
    /// Problems met while cleaning up (nothing is left behind silently).
    pub cleanup_errors: Vec<String>,
}

impl RunSummary {
    /// Whether every job succeeded.
    #[must_use]
    pub fn succeeded(&self) -> bool {
        !self.interrupted && self.jobs.iter().all(|job| job.outcome.succeeded())
    }
}

/// What the run shares between its jobs, created when a job first needs it.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// The shared storage.
    pub storage: Option<Storage>,
    /// The seed draft's per-run copy of the source.
    pub source_copy: Option<Storage>,
}

/// One run of jobs on a runtime.
pub struct Run<R: Runtime> {
    pub(crate) runtime: Arc<R>,
    pub(crate) id: String,
    pub(crate) spec_version: SpecVersion,
    pub(crate) options: RunSettings,
    pub(crate) events: EventSender,
    pub(crate) cancellation: Cancellation,
    pub(crate) masker: Arc<Masker>,
    pub(crate) platform: OnceCell<Option<Platform>>,
    pub(crate) shared: Mutex<Shared>,
    /// Whether something went wrong that may have left a container behind (an interrupted
    /// create, an engine error): the end of the run then sweeps by label.
    pub(crate) needs_sweep: std::sync::atomic::AtomicBool,
    /// Whether a job gave up on an engine that stopped answering: cleanup then asks nothing more
    /// of it than whether it is back (each request would wait the whole engine timeout).
    pub(crate) backend_lost: std::sync::atomic::AtomicBool,
    /// Removals of finished jobs' containers and copies, still under way: a job is reported
    /// finished as soon as its primary has exited and its output is printed, so that the jobs
    /// that wait for it start at once; the end of the run waits for every removal.
    pub(crate) removals: std::sync::Mutex<Vec<tokio::task::JoinHandle<Vec<String>>>>,
    /// How many job executions the run has begun, to name each one's containers apart.
    pub(crate) executions: std::sync::atomic::AtomicUsize,
    /// Images this run found or pulled, not looked up again for `IfNotPresent` (a chain of jobs
    /// of one image asks once).
    pub(crate) present_images: std::sync::Mutex<std::collections::HashSet<String>>,
    /// How many jobs may run at once: one, or a pipeline's concurrency.
    pub(crate) parallel_jobs: std::sync::atomic::AtomicUsize,
}

impl<R: Runtime> Run<R> {
    /// A new run with a fresh id.
    pub fn new(
        runtime: Arc<R>,
        spec_version: SpecVersion,
        options: RunSettings,
        masker: Arc<Masker>,
        events: EventSender,
        cancellation: Cancellation,
    ) -> Self {
        Self {
            runtime,
            id: crate::run_id::new_run_id(),
            spec_version,
            options,
            events,
            cancellation,
            masker,
            platform: OnceCell::new(),
            shared: Mutex::new(Shared::default()),
            needs_sweep: std::sync::atomic::AtomicBool::new(false),
            backend_lost: std::sync::atomic::AtomicBool::new(false),
            removals: std::sync::Mutex::new(Vec::new()),
            executions: std::sync::atomic::AtomicUsize::new(0),
            present_images: std::sync::Mutex::new(std::collections::HashSet::new()),
            parallel_jobs: std::sync::atomic::AtomicUsize::new(1),
        }
    }

    /// The run id, carried by everything the run creates.
    pub fn run_id(&self) -> &str {
        &self.id
    }

    /// Runs the jobs in order, each only if the previous one succeeded, then cleans up
    /// everything the run created. A job that asks for what is not allowed refuses the whole
    /// run before any job starts.
    pub async fn run_jobs(&self, jobs: &[&Job]) -> RunSummary {
        self.events
            .send(Event::RunStarted {
                run_id: self.id.clone(),
            })
            .await;
        let refusals = self.refusals(jobs.iter().copied());
        if refusals.iter().any(Option::is_some) {
            let names: Vec<String> = jobs.iter().map(|job| job.name.clone()).collect();
            return self.refuse_up_front("the run", &names, refusals).await;
        }
        let mut reports = Vec::with_capacity(jobs.len());
        let mut go_on = true;
        for job in jobs {
            if !go_on || self.cancellation.graceful.is_cancelled() {
                reports.push(JobReport {
                    name: job.name.clone(),
                    outcome: JobOutcome::Skipped,
                    duration: Duration::ZERO,
                    log_limit_reached: false,
                });
                continue;
            }
            let report = self.run_job(job).await;
            go_on = report.outcome.succeeded();
            reports.push(report);
        }
        let cleanup_errors = self.finish().await;
        RunSummary {
            run_id: self.id.clone(),
            jobs: reports,
            interrupted: self.cancellation.graceful.is_cancelled(),
            cleanup_errors,
        }
    }

    /// The engine's platform, asked once per run.
    pub(crate) async fn platform(&self) -> Result<Option<&Platform>, RuntimeError> {
        self.platform
            .get_or_try_init(|| self.runtime.platform())
            .await
            .map(Option::as_ref)
    }

    /// Removes what the run shares: exports and removes the shared volume, removes the source
    /// copy, and sweeps anything labelled with this run that an
    /// interrupted step may have left.
    pub(crate) async fn finish(&self) -> Vec<String> {
        let mut errors = Vec::new();
        let removals = self
            .removals
            .lock()
            .map(|mut removals| std::mem::take(&mut *removals))
            .unwrap_or_default();
        for removal in removals {
            let failed = match removal.await {
                Ok(failed) => failed,
                Err(error) => vec![format!("a removal did not finish: {error}")],
            };
            if !failed.is_empty() {
                self.needs_sweep
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                errors.extend(failed);
            }
        }
        if self.backend_lost.load(std::sync::atomic::Ordering::Relaxed)
            && self.runtime.probe().await.is_err()
        {
            errors.push(format!(
                "the container engine does not answer: what run {} created is left, labelled \
                 with its id, for `eider clean`",
                self.id
            ));
            return errors;
        }
        let shared = std::mem::take(&mut *self.shared.lock().await);
        if let Some(storage) = &shared.storage {
            if let Some(destination) = &self.options.keep_shared {
                let labels = labels::for_run(&self.id);
                match self
                    .runtime
                    .export_storage(storage, &labels, destination)
                    .await
                {
                    Ok(()) => {
                        self.events
                            .send(Event::Warning {
                                job: None,
                                message: format!("shared storage copied to {destination}"),
                            })
                            .await;
                    }
                    Err(error) => errors.push(format!(
                        "cannot copy the shared storage to {destination}: {error}"
                    )),
                }
            }
            if let Err(error) = self.runtime.remove_storage(storage).await {
                errors.push(format!("cannot remove volume {storage}: {error}"));
            }
        }
        if let Some(copy) = &shared.source_copy
            && let Err(error) = self.runtime.remove_storage(copy).await
        {
            errors.push(format!("cannot remove volume {copy}: {error}"));
        }
        if self.cancellation.graceful.is_cancelled()
            || self.needs_sweep.load(std::sync::atomic::Ordering::Relaxed)
        {
            errors.extend(crate::clean::sweep_run(self.runtime.as_ref(), &self.id).await);
        }
        errors.extend(self.runtime.finish_run(&self.id).await);
        errors
    }
}
