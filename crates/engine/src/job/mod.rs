//! One job: check it may run, get its images and source, have the backend launch it, wait for
//! its primary, then end and remove everything it created, whatever happened.

mod images;
mod launch;
mod observer;
mod teardown;
mod wait;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use drakefile::{Job, Refusal};
use eider_runtime::{Runtime, RuntimeError};
use tokio::time::Instant;

use crate::event::Event;
use crate::outcome::JobOutcome;
use crate::output_budget::OutputBudget;
use crate::plan::{self, PlanContext};
use crate::run::{JobReport, Run};
use crate::sources::JobSource;

use observer::JobOutput;

impl<R: Runtime> Run<R> {
    /// Runs one job and reports how it ended. Never leaves a container behind.
    pub async fn run_job(&self, job: &Job) -> JobReport {
        let started = Instant::now();
        self.events
            .send(Event::JobStarted {
                job: job.name.clone(),
            })
            .await;
        let output_budget = Arc::new(OutputBudget::new(self.options.log_limit));
        let outcome = self.execute(job, started, &output_budget).await;
        let duration = started.elapsed();
        self.events
            .send(Event::JobFinished {
                job: job.name.clone(),
                outcome: outcome.clone(),
                duration,
            })
            .await;
        JobReport {
            name: job.name.clone(),
            outcome,
            duration,
            log_limit_reached: output_budget.is_reached(),
        }
    }

    async fn execute(
        &self,
        job: &Job,
        started: Instant,
        output_budget: &Arc<OutputBudget>,
    ) -> JobOutcome {
        if job.containers.is_empty() {
            self.warn(
                job,
                format!("job `{}` has no containers: nothing to run", job.name),
            )
            .await;
            return JobOutcome::Succeeded;
        }
        if let Err(refusal) = drakefile::check_permissions(job, self.options.permissions) {
            return refused(refusal);
        }
        let deadline = started + self.options.timeout;
        let execution = self.executions.fetch_add(1, Ordering::Relaxed);
        let prepared = tokio::select! {
            biased;
            () = self.cancellation.graceful.cancelled() => return JobOutcome::Interrupted,
            () = tokio::time::sleep_until(deadline) => return self.timed_out(),
            prepared = self.prepare(job, execution) => prepared,
        };
        let source = match prepared {
            Ok(source) => source,
            Err(outcome) => return outcome,
        };
        let shared_storage = if plan::wants_shared_storage(job) {
            match self.shared_storage(job).await {
                Ok(storage) => Some(storage),
                Err(outcome) => return outcome,
            }
        } else {
            None
        };
        let spec = plan::job_spec(
            job,
            PlanContext {
                run_id: &self.id,
                execution,
                spec_version: self.spec_version,
                options: &self.options,
                source: source.view(),
                shared_storage: shared_storage.as_ref(),
                parallel_jobs: self.parallel_jobs.load(Ordering::Relaxed),
            },
        );
        let output = JobOutput::new(self, job, Arc::clone(output_budget));
        let (mut launched, launch) = self.launch(job, spec, &output, deadline).await;
        let outcome = match launch {
            Ok(()) => {
                self.wait_for_primary(job, &mut launched, &output, deadline)
                    .await
            }
            Err(outcome) => outcome,
        };
        self.tear_down(job, launched, &output, &outcome).await;
        outcome
    }

    /// Images and the source: the slow steps before anything of the job exists, so they may be
    /// abandoned at any point (by a timeout or Ctrl-C) without leaving anything behind.
    async fn prepare(&self, job: &Job, execution: usize) -> Result<JobSource, JobOutcome> {
        self.ensure_images(job).await?;
        self.job_source(job, execution).await
    }

    pub(crate) async fn warn(&self, job: &Job, message: String) {
        self.events
            .send(Event::Warning {
                job: Some(job.name.clone()),
                message,
            })
            .await;
    }

    fn timed_out(&self) -> JobOutcome {
        JobOutcome::TimedOut {
            after: self.options.timeout,
        }
    }
}

fn refused(refusal: Refusal) -> JobOutcome {
    JobOutcome::Error {
        message: refusal.message,
        hint: refusal.hint,
    }
}

/// A backend error, naming the job and the container.
pub(crate) fn backend_error(
    job: &Job,
    container: Option<&str>,
    what: &str,
    error: &RuntimeError,
) -> JobOutcome {
    let place = match container {
        Some(container) => format!("job `{}`: container `{container}`", job.name),
        None => format!("job `{}`", job.name),
    };
    let message = format!("{place}: {what}: {error}");
    if error.is_backend_fault() {
        JobOutcome::InfrastructureFailure {
            message,
            hint: Some(infrastructure_hint()),
        }
    } else {
        JobOutcome::Error {
            message,
            hint: None,
        }
    }
}

/// The job ended because the backend failed, naming the job and the container.
pub(crate) fn infrastructure_failure(job: &Job, container: &str, what: &str) -> JobOutcome {
    JobOutcome::InfrastructureFailure {
        message: format!("job `{}`: container `{container}`: {what}", job.name),
        hint: Some(infrastructure_hint()),
    }
}

/// What to do after any infrastructure failure.
pub(crate) fn infrastructure_hint() -> String {
    "the container engine failed, not the job: run it again once the engine is healthy; \
     `eider clean` removes anything left behind"
        .to_owned()
}
