//! Ending a job: what still runs is stopped or killed, the output drained, everything the job
//! created removed, and sidecars that crashed are named.

use std::sync::atomic::Ordering;

use drakefile::Job;
use eider_runtime::{Ending, Exit, LaunchedJob, Runtime};

use crate::outcome::JobOutcome;
use crate::run::Run;

use super::observer::JobOutput;

/// The exit code of a process ended by SIGKILL (128 + 9), as eider's own kill leaves it.
const KILLED_EXIT_CODE: i64 = 137;

impl<R: Runtime> Run<R> {
    /// Ends what still runs (the spec has sidecars forcibly terminated once the primary ends),
    /// lets the output drain, and removes what the job created.
    pub(super) async fn tear_down(
        &self,
        job: &Job,
        mut launched: R::Job,
        output: &JobOutput,
        outcome: &JobOutcome,
    ) {
        if self.backend_lost.load(Ordering::Relaxed) {
            // Each request would wait the backend's whole timeout: leave it all, labelled with
            // the run, for `eider clean`.
            output.abort_all();
            let left = launched.abandon();
            if let Ok(mut removals) = self.removals.lock() {
                removals.push(tokio::spawn(async move { left }));
            }
            return;
        }
        let primary_exited = matches!(outcome, JobOutcome::Succeeded | JobOutcome::Failed { .. });
        if primary_exited {
            // The primary's stream ends with its process: print all of it before anything else.
            output.drain_primary().await;
        }
        let end = if matches!(outcome, JobOutcome::Interrupted) {
            let stopped = tokio::select! {
                end = launched.end(Ending::Stop(self.options.grace_period)) => Some(end),
                () = self.cancellation.immediate.cancelled() => None,
            };
            let mut end = match stopped {
                Some(end) => end,
                None => launched.end(Ending::Kill).await,
            };
            // Sidecars ended by the interrupt say nothing about the job.
            end.sidecar_exits.clear();
            end
        } else if primary_exited {
            launched.end(Ending::PrimaryExited).await
        } else {
            launched.end(Ending::Kill).await
        };
        for (name, exit) in &end.sidecar_exits {
            if let Some(message) = crashed_sidecar(name, *exit) {
                self.warn(job, message).await;
            }
        }
        output.drain_all().await;
        // Removed in the background: the job's result is known and its output printed, and in a
        // pipeline the jobs that waited for this one launch now. The removal goes on beside
        // them rather than after them: in a pipeline whose jobs launch back to back, removals
        // held back would pile up and then all go at once, stalling the launches of that time.
        let removal = launched.remove();
        let removal = tokio::spawn(async move {
            // The dependents' launches are under way first.
            tokio::task::yield_now().await;
            removal.await
        });
        if let Ok(mut removals) = self.removals.lock() {
            removals.push(removal);
        }
        for warning in end.warnings {
            self.warn(job, warning).await;
        }
    }
}

/// A warning about a sidecar that ended on its own with a failure while the job ran: the job's
/// result is its primary's, but a crashed sidecar should not go unnoticed. A plain SIGKILL
/// exit (137) is eider's own kill and says nothing.
fn crashed_sidecar(name: &str, exit: Exit) -> Option<String> {
    if exit.out_of_memory {
        Some(format!(
            "sidecar `{name}` ran out of memory (exit code {}) while the job ran",
            exit.code
        ))
    } else if exit.code != 0 && exit.code != KILLED_EXIT_CODE {
        Some(format!(
            "sidecar `{name}` exited with code {} while the job ran",
            exit.code
        ))
    } else {
        None
    }
}
