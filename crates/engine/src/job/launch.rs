//! Launching a job: the backend launches it whole, asking the engine between its steps whether
//! to stop, and for its admission before anything starts.

use std::sync::atomic::Ordering;

use drakefile::Job;
use eider_runtime::{
    BoxFuture, JobSpec, LaunchControl, LaunchError, PlatformRequest, Runtime, StopSignal,
};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::outcome::JobOutcome;
use crate::policy;
use crate::run::Run;

use super::observer::JobOutput;
use super::{backend_error, refused};

/// Stop at an interrupt or at the job's deadline.
struct Stop<'a> {
    interrupt: &'a CancellationToken,
    deadline: Instant,
}

impl StopSignal for Stop<'_> {
    fn is_requested(&self) -> bool {
        self.interrupt.is_cancelled() || Instant::now() >= self.deadline
    }

    fn requested(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            tokio::select! {
                () = self.interrupt.cancelled() => {}
                () = tokio::time::sleep_until(self.deadline) => {}
            }
        })
    }
}

impl<R: Runtime> Run<R> {
    /// Has the backend launch the job. The job comes back whatever happened, to be ended and
    /// removed.
    pub(super) async fn launch(
        &self,
        job: &Job,
        spec: JobSpec,
        output: &JobOutput,
        deadline: Instant,
    ) -> (R::Job, Result<(), JobOutcome>) {
        let graceful = &self.cancellation.graceful;
        let stop = Stop {
            interrupt: graceful,
            deadline,
        };
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
            Ok(()) => Ok(()),
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
        (launched, result)
    }

    /// Refuses a job whose `osFamily` or `cpuArch` the backend cannot run.
    async fn check_platform(&self, job: &Job, request: &PlatformRequest) -> Result<(), JobOutcome> {
        if request.os.is_none() && request.architecture.is_none() {
            return Ok(());
        }
        match self.platform().await {
            Ok(Some(platform)) => {
                policy::check_platform(&job.name, request, platform).map_err(refused)
            }
            // The backend itself places the job on a machine of its platform.
            Ok(None) => Ok(()),
            Err(error) => Err(backend_error(
                job,
                None,
                "cannot ask the engine its platform",
                &error,
            )),
        }
    }
}
