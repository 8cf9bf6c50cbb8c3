//! Waiting for the primary's end, within the job's deadline and the run's cancellation.

use std::sync::atomic::Ordering;

use drakefile::Job;
use eider_runtime::{LaunchedJob, PrimaryEnd, Runtime};
use tokio::time::Instant;

use crate::outcome::JobOutcome;
use crate::run::Run;

use super::observer::JobOutput;
use super::{backend_error, infrastructure_failure};

impl<R: Runtime> Run<R> {
    /// The job ends when the primary's main process exits (the spec's rule), the deadline
    /// passes, or the run is interrupted; a backend that fails meanwhile ends it as an
    /// infrastructure failure.
    pub(super) async fn wait_for_primary(
        &self,
        job: &Job,
        launched: &mut R::Job,
        output: &JobOutput,
        deadline: Instant,
    ) -> JobOutcome {
        let end = tokio::select! {
            biased;
            () = self.cancellation.graceful.cancelled() => return JobOutcome::Interrupted,
            () = tokio::time::sleep_until(deadline) => return self.timed_out(),
            end = launched.wait_primary(output) => end,
        };
        let primary = job
            .primary()
            .map_or_else(String::new, |container| container.name.clone());
        match end {
            PrimaryEnd::Exited(exit) if exit.code == 0 => JobOutcome::Succeeded,
            PrimaryEnd::Exited(exit) => JobOutcome::Failed {
                container: primary,
                exit_code: exit.code,
                out_of_memory: exit.out_of_memory,
            },
            PrimaryEnd::BackendFailed { message, lost } => {
                self.needs_sweep.store(true, Ordering::Relaxed);
                if lost {
                    self.backend_lost.store(true, Ordering::Relaxed);
                }
                infrastructure_failure(job, &primary, &message)
            }
            PrimaryEnd::Error { what, error } => {
                self.needs_sweep.store(true, Ordering::Relaxed);
                backend_error(job, Some(&primary), &what, &error)
            }
        }
    }
}
