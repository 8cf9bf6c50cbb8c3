//! One job: check it may run, get its images and source, launch its containers in order, wait
//! for the primary, then stop and remove everything it created, whatever happened.

mod images;
mod launch;
mod teardown;
mod wait;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use drakefile::Job;
use eider_runtime::{ContainerId, Exit, Runtime, RuntimeError};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::event::{Event, JobOutcome};
use crate::follow::infrastructure_hint;
use crate::launch_pacer::JobClock;
use crate::output_budget::OutputBudget;
use crate::plan::{self, PlanContext};
use crate::policy::{self, Refusal};
use crate::run::{JobReport, Run};
use crate::socket_watch::SocketWatch;
use crate::sources::JobSource;

/// How long a container's output may keep flowing after it was killed before eider stops
/// reading it (the engine closes the stream on exit; this only guards against a stuck engine).
const OUTPUT_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// How long eider waits to hear that a container has exited, once the engine has said it does
/// not run (its wait request then answers at once).
const EXIT_NOTICE_TIMEOUT: Duration = Duration::from_secs(1);

/// The exit code of a process ended by SIGKILL (128 + 9), as eider's own kill leaves it.
const KILLED_EXIT_CODE: i64 = 137;

/// What a job has launched so far: everything here is torn down at the end.
struct Launched {
    /// The output all the job's containers may still print.
    output_budget: Arc<OutputBudget>,
    containers: Vec<(String, ContainerId)>,
    outputs: Vec<JoinHandle<Result<(), RuntimeError>>>,
    /// The started sidecars, in launch order, and whether each has exited.
    exits: Vec<ExitWatch>,
    /// Whether the primary has a TTY (to attach to it again after the engine restarted).
    primary_tty: bool,
    /// How long the launch and the run took, for the launch pacer.
    clock: JobClock,
}

/// Whether a started sidecar has exited, and how, as far as eider has heard.
struct ExitWatch {
    name: String,
    id: ContainerId,
    exited: watch::Receiver<Option<Exit>>,
    task: JoinHandle<()>,
}

impl Launched {
    fn new(output_budget: Arc<OutputBudget>) -> Self {
        Self {
            output_budget,
            containers: Vec::new(),
            outputs: Vec::new(),
            exits: Vec::new(),
            primary_tty: false,
            clock: JobClock::default(),
        }
    }

    /// The latest sidecar started that has not exited: the one whose network namespace the next
    /// container joins.
    fn running_member(&self) -> Option<ContainerId> {
        self.exits
            .iter()
            .rev()
            .find(|watch| watch.exited.borrow().is_none())
            .map(|watch| watch.id.clone())
    }

    /// Whether `id` has exited, waiting a little for the news.
    async fn has_exited(&mut self, id: &ContainerId) -> bool {
        let Some(watch) = self.exits.iter_mut().find(|watch| &watch.id == id) else {
            return false;
        };
        matches!(
            tokio::time::timeout(EXIT_NOTICE_TIMEOUT, watch.exited.wait_for(Option::is_some)).await,
            Ok(Ok(_))
        )
    }
}

/// Why the launch stopped before the primary exited.
enum Stop {
    Outcome(JobOutcome),
}
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
        if let Err(refusal) = policy::check_permissions(job, &self.options) {
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
        let shared_volume = if plan::wants_shared_storage(job) {
            match self.shared_volume(job).await {
                Ok(volume) => Some(volume),
                Err(outcome) => return outcome,
            }
        } else {
            None
        };
        let context = PlanContext {
            run_id: &self.id,
            execution,
            options: &self.options,
            source: source.binding(),
            shared_volume: shared_volume.as_deref(),
        };
        let planned = plan::plan_job(job, context);
        let socket_watch = SocketWatch::begin(self.runtime.as_ref(), job).await;
        let mut launched = Launched::new(Arc::clone(output_budget));
        let outcome = match self.launch(job, planned, &mut launched, deadline).await {
            Ok(()) => self.wait_for_primary(job, &mut launched, deadline).await,
            Err(Stop::Outcome(outcome)) => outcome,
        };
        if matches!(outcome, JobOutcome::Succeeded | JobOutcome::Failed { .. })
            && let Some(timing) = launched.clock.timing()
        {
            self.launch_pacer.record(timing);
        }
        self.tear_down(job, launched, &outcome, source.into_private_copy())
            .await;
        if let Some(socket_watch) = socket_watch {
            let appeared = socket_watch.appeared(self.runtime.as_ref()).await;
            if !appeared.is_empty() {
                self.warn(
                    job,
                    format!(
                        "containers that eider did not create appeared while the job had the \
                         Docker socket and are still there: {} (eider leaves them; `docker rm \
                         -f NAME` removes one)",
                        appeared.join(", ")
                    ),
                )
                .await;
            }
        }
        outcome
    }

    /// Images and the source: the slow steps before any container exists, so they may be
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

/// A container engine error, naming the job and the container.
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

/// Waits for an output task to finish, giving up after a while.
async fn drain(output: JoinHandle<Result<(), RuntimeError>>) {
    let abort = output.abort_handle();
    if tokio::time::timeout(OUTPUT_DRAIN_TIMEOUT, output)
        .await
        .is_err()
    {
        abort.abort();
    }
}
