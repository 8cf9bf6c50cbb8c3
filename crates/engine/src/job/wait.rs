//! Waiting for the primary's end, beside a liveness probe of the container engine.

use std::sync::atomic::Ordering;

use drakefile::Job;
use eider_runtime::{ContainerId, Runtime};
use tokio::time::Instant;

use crate::event::JobOutcome;
use crate::follow::Followed;
use crate::run::Run;

use super::{Launched, drain};

impl<R: Runtime> Run<R> {
    /// The job ends when the primary's main process exits (the spec's rule), the deadline passes, or the
    /// run is interrupted; an engine that fails meanwhile ends it as an infrastructure failure.
    pub(super) async fn wait_for_primary(
        &self,
        job: &Job,
        launched: &mut Launched,
        deadline: Instant,
    ) -> JobOutcome {
        let Some((name, id)) = launched.containers.last().cloned() else {
            return JobOutcome::Succeeded;
        };
        tokio::select! {
            biased;
            () = self.cancellation.graceful.cancelled() => JobOutcome::Interrupted,
            () = tokio::time::sleep_until(deadline) => self.timed_out(),
            outcome = self.follow_primary(job, &name, &id, launched) => outcome,
        }
    }

    /// Follows the primary until it exits, attaching to it again each time the engine comes
    /// back from a restart that the container survived.
    pub(super) async fn follow_primary(
        &self,
        job: &Job,
        name: &str,
        id: &ContainerId,
        launched: &mut Launched,
    ) -> JobOutcome {
        loop {
            let exit = match self.follow_container(job, name, id).await {
                Followed::Exited(exit) => exit,
                Followed::Failed(outcome) => {
                    self.needs_sweep.store(true, Ordering::Relaxed);
                    return outcome;
                }
                Followed::StillRunning => {
                    if let Some(broken) = launched.outputs.pop() {
                        drain(broken).await;
                    }
                    match self
                        .forward_output(
                            job,
                            name,
                            id,
                            launched.primary_tty,
                            &launched.output_budget,
                        )
                        .await
                    {
                        Ok(output) => launched.outputs.push(output),
                        Err(outcome) => return outcome,
                    }
                    self.warn(
                        job,
                        format!(
                            "the container engine is back and container `{name}` still runs: \
                             following it again (output it wrote while the engine was away may \
                             be missing)"
                        ),
                    )
                    .await;
                    continue;
                }
            };
            return if exit.code == 0 {
                JobOutcome::Succeeded
            } else {
                JobOutcome::Failed {
                    container: name.to_owned(),
                    exit_code: exit.code,
                    out_of_memory: exit.out_of_memory,
                }
            };
        }
    }
}
