//! Ending a job: what still runs is stopped or killed, the output drained, every container
//! removed, and sidecars that crashed are named.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use drakefile::Job;
use eider_runtime::{ContainerId, Runtime, RuntimeError};
use tokio::task::JoinHandle;

use crate::event::JobOutcome;
use crate::run::Run;

use super::{EXIT_NOTICE_TIMEOUT, ExitWatch, KILLED_EXIT_CODE, Launched, drain};

impl<R: Runtime> Run<R> {
    /// Stops what still runs (the spec has sidecars forcibly terminated once the primary ends), lets the
    /// output drain, and removes every container.
    pub(super) async fn tear_down(
        &self,
        job: &Job,
        launched: Launched,
        outcome: &JobOutcome,
        private_copy: Option<String>,
    ) {
        let Launched {
            containers,
            outputs,
            exits,
            ..
        } = launched;
        if self.backend_lost.load(Ordering::Relaxed) {
            for watch in exits {
                watch.task.abort();
            }
            self.abandon(&containers, outputs, private_copy);
            return;
        }
        let primary_exited = matches!(outcome, JobOutcome::Succeeded | JobOutcome::Failed { .. });
        let mut outputs = outputs;
        if primary_exited {
            // The primary's stream ends with its process: print all of it before anything else.
            if let Some(primary_output) = outputs.pop() {
                drain(primary_output).await;
            }
        }
        if matches!(outcome, JobOutcome::Interrupted) {
            let grace = self.options.grace_period;
            let stops = containers
                .iter()
                .map(|(_, id)| self.runtime.stop(id, grace));
            tokio::select! {
                _ = futures_util::future::join_all(stops) => {}
                () = self.cancellation.immediate.cancelled() => self.kill_all(&containers).await,
            }
            for watch in exits {
                watch.task.abort();
            }
        } else {
            // An exited primary needs no signal (the engine would only answer that it does not
            // run): kill what may still run.
            let running = if primary_exited {
                containers
                    .split_last()
                    .map_or(&[][..], |(_, sidecars)| sidecars)
            } else {
                &containers[..]
            };
            self.kill_all(running).await;
            self.report_crashed_sidecars(job, exits).await;
        }
        for output in outputs {
            drain(output).await;
        }
        // Removed in the background: the job's result is known and its output printed, and in a
        // pipeline the jobs that waited for this one launch now. The removal goes on beside
        // them rather than after them: in a pipeline whose jobs launch back to back, removals
        // held back would pile up and then all go at once, stalling the launches of that time.
        let runtime = Arc::clone(&self.runtime);
        let removal = tokio::spawn(async move {
            // The dependents' launches are under way first.
            tokio::task::yield_now().await;
            let removals = containers
                .iter()
                .map(|(_, id)| runtime.remove_container(id));
            let mut failed = Vec::new();
            for ((name, _), result) in containers
                .iter()
                .zip(futures_util::future::join_all(removals).await)
            {
                if let Err(error) = result {
                    failed.push(format!("cannot remove container `{name}`: {error}"));
                }
            }
            // The copy goes once no container uses it any more.
            if let Some(volume) = private_copy
                && let Err(error) = runtime.remove_volume(&volume).await
            {
                failed.push(format!(
                    "cannot remove the job's copy of the source ({volume}): {error}"
                ));
            }
            failed
        });
        if let Ok(mut removals) = self.removals.lock() {
            removals.push(removal);
        }
    }

    /// Leaves a job's containers to an engine that does not answer (each request would wait the
    /// whole engine timeout): they carry the run's labels, so `eider clean` finds them.
    pub(super) fn abandon(
        &self,
        containers: &[(String, ContainerId)],
        outputs: Vec<JoinHandle<Result<(), RuntimeError>>>,
        private_copy: Option<String>,
    ) {
        for output in outputs {
            output.abort();
        }
        let mut left: Vec<String> = containers
            .iter()
            .map(|(name, id)| format!("container `{name}` ({id}) is left to the engine"))
            .collect();
        if let Some(volume) = private_copy {
            left.push(format!(
                "the job's copy of the source ({volume}) is left to the engine"
            ));
        }
        if let Ok(mut removals) = self.removals.lock() {
            removals.push(tokio::spawn(async move { left }));
        }
    }

    /// Warns about every sidecar that ended on its own with a failure while the job ran: the
    /// job's result is its primary's, but a crashed sidecar should not go unnoticed. Called
    /// once the sidecars still running were killed, so every exit is known or about to be;
    /// a plain SIGKILL exit (137) is eider's own kill and says nothing.
    pub(super) async fn report_crashed_sidecars(&self, job: &Job, exits: Vec<ExitWatch>) {
        let exits = exits.into_iter().map(|mut watch| async move {
            let exit =
                tokio::time::timeout(EXIT_NOTICE_TIMEOUT, watch.exited.wait_for(Option::is_some))
                    .await
                    .ok()
                    .and_then(|exit| exit.ok().and_then(|exit| *exit));
            watch.task.abort();
            (watch.name, exit)
        });
        for (name, exit) in futures_util::future::join_all(exits).await {
            let Some(exit) = exit else { continue };
            let message = if exit.out_of_memory {
                format!(
                    "sidecar `{name}` ran out of memory (exit code {}) while the job ran",
                    exit.code
                )
            } else if exit.code != 0 && exit.code != KILLED_EXIT_CODE {
                format!(
                    "sidecar `{name}` exited with code {} while the job ran",
                    exit.code
                )
            } else {
                continue;
            };
            self.warn(job, message).await;
        }
    }

    pub(super) async fn kill_all(&self, containers: &[(String, ContainerId)]) {
        let kills = containers.iter().map(|(_, id)| self.runtime.kill(id));
        futures_util::future::join_all(kills).await;
    }
}
