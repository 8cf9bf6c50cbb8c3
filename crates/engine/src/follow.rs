//! Following a job's primary container until it exits, through an engine that stops, restarts or
//! freezes meanwhile.
//!
//! Waiting for an exit is a long request that legitimately lasts as long as the job, so it cannot
//! carry a timeout: a cheap liveness probe runs beside it instead. When the engine goes away,
//! the job waits for it (bounded by the engine timeout) and then asks what became of the
//! container. Exit codes are believed only from an engine that is still there: an engine that
//! shuts down without live restore stops every container and answers pending waits with the
//! codes of that stop (143, 137), which are the engine's doing, not the job's.

use std::sync::atomic::Ordering;
use std::time::Duration;

use drakefile::Job;
use eider_runtime::{ContainerId, ContainerState, Exit, Runtime, RuntimeError};
use tokio::time::Instant;

use crate::event::JobOutcome;
use crate::job::backend_error;
use crate::run::Run;

/// How often the engine is probed while a wait is pending (at most; half the engine timeout
/// when that is shorter, so that a frozen engine is noticed within about one timeout).
const PROBE_INTERVAL: Duration = Duration::from_secs(2);

/// How often an engine that went away is asked whether it is back.
const RECONNECT_INTERVAL: Duration = Duration::from_millis(250);

/// What the engine said about a container whose engine went away and came back.
pub(crate) enum Followed {
    /// The job's own exit (believed), with whether output may be missing.
    Exited(Exit),
    /// The engine failed the job: an infrastructure failure.
    Failed(JobOutcome),
    /// The engine is back and the container still runs: attach again and keep waiting.
    StillRunning,
}

impl<R: Runtime> Run<R> {
    /// Waits for the container to exit while probing the engine; returns the exit when it can
    /// be believed, or what became of the container when the engine went away meanwhile.
    pub(crate) async fn follow_container(
        &self,
        job: &Job,
        name: &str,
        id: &ContainerId,
    ) -> Followed {
        let mut last_answer = Instant::now();
        let waited = tokio::select! {
            exit = self.runtime.wait(id) => exit,
            error = self.until_unresponsive(&mut last_answer) => Err(error),
        };
        let fault = match waited {
            Ok(exit) => match self.runtime.probe().await {
                Err(error) if error.is_backend_fault() => {
                    last_answer = Instant::now();
                    error
                }
                _ => return Followed::Exited(exit),
            },
            Err(error) if error.is_backend_fault() => {
                if !matches!(error, RuntimeError::Unresponsive) {
                    last_answer = Instant::now();
                }
                error
            }
            Err(error) => {
                return Followed::Failed(backend_error(
                    job,
                    Some(name),
                    "lost track of the container",
                    &error,
                ));
            }
        };
        let timeout = self.options.backend_timeout;
        let deadline = last_answer + timeout;
        // A frozen engine has already used its whole timeout by the time it is noticed.
        if deadline > Instant::now() {
            self.warn(
                job,
                format!(
                    "{fault}; waiting for the engine to answer again (up to {} since its last \
                     answer)",
                    seconds_text(timeout)
                ),
            )
            .await;
        }
        if !self.reconnect(deadline).await {
            self.backend_lost.store(true, Ordering::Relaxed);
            return Followed::Failed(infrastructure_failure(
                job,
                name,
                &format!(
                    "the container engine did not answer for {} ({fault})",
                    seconds_text(timeout)
                ),
            ));
        }
        self.after_reconnect(job, name, id).await
    }

    /// What became of the container, asked of an engine that is back.
    async fn after_reconnect(&self, job: &Job, name: &str, id: &ContainerId) -> Followed {
        let state = match self.runtime.container_state(id).await {
            Ok(state) => state,
            Err(error) => {
                return Followed::Failed(infrastructure_failure(
                    job,
                    name,
                    &format!(
                        "the container engine came back but cannot say what became of the container: {error}"
                    ),
                ));
            }
        };
        match state {
            ContainerState::Running => Followed::StillRunning,
            ContainerState::Missing => Followed::Failed(infrastructure_failure(
                job,
                name,
                "the container engine restarted while the job ran and no longer knows its \
                 container",
            )),
            ContainerState::Exited(exit) => {
                match self.runtime.keeps_containers_across_restarts().await {
                    // The container outlived the engine: it ended on its own.
                    Ok(true) => Followed::Exited(exit),
                    Ok(false) => Followed::Failed(infrastructure_failure(
                        job,
                        name,
                        &format!(
                            "the container engine stopped while the job ran, and stopped its \
                             containers (exit code {} is the engine's doing, not the job's)",
                            exit.code
                        ),
                    )),
                    Err(error) => Followed::Failed(infrastructure_failure(
                        job,
                        name,
                        &format!(
                            "the container engine restarted while the job ran and cannot say \
                             whether it kept its containers: {error}"
                        ),
                    )),
                }
            }
        }
    }

    /// Probes the engine until it fails to answer; keeps `last_answer` up to date.
    async fn until_unresponsive(&self, last_answer: &mut Instant) -> RuntimeError {
        let interval = PROBE_INTERVAL.min(self.options.backend_timeout / 2);
        loop {
            tokio::time::sleep(interval).await;
            match self.runtime.probe().await {
                Err(error) if error.is_backend_fault() => return error,
                // Any answer, even a refusal, is an engine alive.
                _ => *last_answer = Instant::now(),
            }
        }
    }

    /// Whether the engine answers again before `deadline`.
    async fn reconnect(&self, deadline: Instant) -> bool {
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return false;
            }
            if let Ok(Ok(())) = tokio::time::timeout(remaining, self.runtime.probe()).await {
                return true;
            }
            tokio::time::sleep(RECONNECT_INTERVAL.min(remaining)).await;
        }
    }
}

/// The job ended because the engine failed, naming the job and the container.
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

/// `30s`, `1.5s`.
fn seconds_text(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}
