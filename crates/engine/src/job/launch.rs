//! Launching a job: a turn of the launch pacer, then the backend launches the whole job.

use std::sync::atomic::Ordering;

use drakefile::Job;
use eider_runtime::{JobSpec, LaunchControl, LaunchError, PlatformRequest, Runtime};
use tokio::time::Instant;

use crate::launch_pacer::JobClock;
use crate::outcome::JobOutcome;
use crate::policy;
use crate::run::Run;

use super::observer::JobOutput;
use super::{backend_error, refused};

/// How a launch went.
pub(super) enum Launch<J> {
    /// Nothing was asked of the backend: the run was interrupted or the job's time ran out
    /// while it waited for its turn.
    NotBegun(JobOutcome),
    /// The backend launched the job, whole (with the clock of the launch) or in part.
    Begun(J, Result<JobClock, JobOutcome>),
}

impl<R: Runtime> Run<R> {
    /// Takes a turn to launch, then has the backend launch the job; cancellation and the
    /// deadline are checked between the backend's steps.
    pub(super) async fn launch(
        &self,
        job: &Job,
        spec: JobSpec,
        output: &JobOutput,
        deadline: Instant,
    ) -> Launch<R::Job> {
        let turn = tokio::select! {
            biased;
            () = self.cancellation.graceful.cancelled() => {
                return Launch::NotBegun(JobOutcome::Interrupted);
            }
            () = tokio::time::sleep_until(deadline) => return Launch::NotBegun(self.timed_out()),
            turn = self.launch_pacer.launch() => turn,
        };
        let mut clock = JobClock::default();
        clock.launch_began(turn.at_once());
        let graceful = &self.cancellation.graceful;
        let stop = || graceful.is_cancelled() || Instant::now() >= deadline;
        // Why the engine's last checks refused the job, when they did.
        let refusal = std::sync::Mutex::new(None);
        let platform = spec.platform.clone();
        let admit = async {
            match self.check_platform(job, &platform).await {
                Ok(()) => true,
                Err(outcome) => {
                    if let Ok(mut refusal) = refusal.lock() {
                        *refusal = Some(outcome);
                    }
                    false
                }
            }
        };
        let control = LaunchControl {
            stop: &stop,
            admit: Box::pin(admit),
        };
        let (launched, result) = self.runtime.launch(spec, output, control).await;
        let result = match result {
            Ok(()) => {
                clock.primary_started(turn.at_once());
                Ok(clock)
            }
            Err(LaunchError::Stopped) if graceful.is_cancelled() => Err(JobOutcome::Interrupted),
            Err(LaunchError::Stopped) => Err(self.timed_out()),
            Err(LaunchError::NotAdmitted) => Err(refusal
                .into_inner()
                .ok()
                .flatten()
                .unwrap_or(JobOutcome::Interrupted)),
            Err(LaunchError::Failed {
                container,
                what,
                error,
                hint,
            }) => {
                // A failed step may have left something the job does not know of.
                self.needs_sweep.store(true, Ordering::Relaxed);
                let mut outcome = backend_error(job, container.as_deref(), &what, &error);
                if let (JobOutcome::Error { hint: slot, .. }, Some(hint)) = (&mut outcome, hint) {
                    *slot = Some(hint);
                }
                Err(outcome)
            }
        };
        Launch::Begun(launched, result)
    }

    /// Refuses a job whose `osFamily` or `cpuArch` the backend cannot run.
    async fn check_platform(&self, job: &Job, request: &PlatformRequest) -> Result<(), JobOutcome> {
        if request.os.is_none() && request.architecture.is_none() {
            return Ok(());
        }
        match self.platform().await {
            Ok(platform) => policy::check_platform(&job.name, request, platform).map_err(refused),
            Err(error) => Err(backend_error(
                job,
                None,
                "cannot ask the engine its platform",
                &error,
            )),
        }
    }
}
