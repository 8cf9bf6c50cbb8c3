//! Following a job's primary container until it exits, through an engine that stops, restarts or
//! freezes meanwhile.
//!
//! Waiting for an exit is a long request that legitimately lasts as long as the job, so it cannot
//! carry a timeout: a cheap liveness probe runs beside it instead. When the engine goes away,
//! the job waits for it (bounded by the engine's response timeout) and then asks what became of
//! the container. Exit codes are believed only from an engine that is still there: an engine
//! that shuts down without live restore stops every container and answers pending waits with
//! the codes of that stop (143, 137), which are the engine's doing, not the job's.

use std::time::Duration;

use eider_runtime::{Exit, JobObserver, PrimaryEnd, RuntimeError};
use tokio::time::Instant;

use crate::model::{ContainerId, ContainerState};

use super::DockerJob;

/// How often the engine is probed while a wait is pending (at most; half the engine timeout
/// when that is shorter, so that a frozen engine is noticed within about one timeout).
const PROBE_INTERVAL: Duration = Duration::from_secs(2);

/// How often an engine that went away is asked whether it is back.
const RECONNECT_INTERVAL: Duration = Duration::from_millis(250);

/// What the engine said about a container whose engine went away and came back.
enum Followed {
    /// The job's own exit (believed).
    Exited(Exit),
    /// The engine failed the job.
    Failed(PrimaryEnd),
    /// The engine is back and the container still runs: attach again and keep waiting.
    StillRunning,
}

impl DockerJob {
    /// Follows the primary until it exits, attaching to it again each time the engine comes
    /// back from a restart that the container survived.
    pub(super) async fn follow_primary(&mut self, observer: &dyn JobObserver) -> PrimaryEnd {
        let Some(super::JobContainer { name, id, .. }) = self.containers.last().cloned() else {
            return PrimaryEnd::Exited(Exit {
                code: 0,
                out_of_memory: false,
            });
        };
        loop {
            match self.follow_container(&id, observer).await {
                Followed::Exited(exit) => {
                    return PrimaryEnd::Exited(self.runtime.primary_exit(&id, exit).await);
                }
                Followed::Failed(end) => return end,
                Followed::StillRunning => {
                    match self.runtime.attach_output(&id, self.primary_tty).await {
                        Ok(stream) => observer.output(&name, true, stream),
                        Err(error) => {
                            return PrimaryEnd::Error {
                                what: "cannot attach to the container".to_owned(),
                                error,
                            };
                        }
                    }
                    observer
                        .warning(format!(
                            "the container engine is back and container `{name}` still runs: \
                             following it again (output it wrote while the engine was away may \
                             be missing)"
                        ))
                        .await;
                }
            }
        }
    }

    /// Waits for the container to exit while probing the engine; returns the exit when it can
    /// be believed, or what became of the container when the engine went away meanwhile.
    async fn follow_container(&self, id: &ContainerId, observer: &dyn JobObserver) -> Followed {
        let runtime = &self.runtime;
        let mut last_answer = Instant::now();
        let waited = tokio::select! {
            exit = runtime.wait_container(id) => exit,
            error = self.until_unresponsive(&mut last_answer) => Err(error),
        };
        let fault = match waited {
            Ok(exit) => match runtime.ping_fresh().await {
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
                return Followed::Failed(PrimaryEnd::Error {
                    what: "lost track of the container".to_owned(),
                    error,
                });
            }
        };
        let timeout = runtime.response_timeout;
        let deadline = last_answer + timeout;
        // A frozen engine has already used its whole timeout by the time it is noticed.
        if deadline > Instant::now() {
            observer
                .warning(format!(
                    "{fault}; waiting for the engine to answer again (up to {} since its last \
                     answer)",
                    seconds_text(timeout)
                ))
                .await;
        }
        if !self.reconnect(deadline).await {
            return Followed::Failed(PrimaryEnd::BackendFailed {
                message: format!(
                    "the container engine did not answer for {} ({fault})",
                    seconds_text(timeout)
                ),
                lost: true,
            });
        }
        self.after_reconnect(id).await
    }

    /// What became of the container, asked of an engine that is back.
    async fn after_reconnect(&self, id: &ContainerId) -> Followed {
        let failed = |message: String| {
            Followed::Failed(PrimaryEnd::BackendFailed {
                message,
                lost: false,
            })
        };
        let state = match self.runtime.state_of(id).await {
            Ok(state) => state,
            Err(error) => {
                return failed(format!(
                    "the container engine came back but cannot say what became of the container: {error}"
                ));
            }
        };
        match state {
            ContainerState::Running => Followed::StillRunning,
            ContainerState::Missing => failed(
                "the container engine restarted while the job ran and no longer knows its \
                 container"
                    .to_owned(),
            ),
            ContainerState::Exited(exit) => match self.runtime.live_restore_enabled().await {
                // The container outlived the engine: it ended on its own.
                Ok(true) => Followed::Exited(exit),
                Ok(false) => failed(format!(
                    "the container engine stopped while the job ran, and stopped its \
                     containers (exit code {} is the engine's doing, not the job's)",
                    exit.code
                )),
                Err(error) => failed(format!(
                    "the container engine restarted while the job ran and cannot say \
                     whether it kept its containers: {error}"
                )),
            },
        }
    }

    /// Probes the engine until it fails to answer; keeps `last_answer` up to date.
    async fn until_unresponsive(&self, last_answer: &mut Instant) -> RuntimeError {
        let interval = PROBE_INTERVAL.min(self.runtime.response_timeout / 2);
        loop {
            tokio::time::sleep(interval).await;
            match self.runtime.ping_fresh().await {
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
            if let Ok(Ok(())) = tokio::time::timeout(remaining, self.runtime.ping_fresh()).await {
                return true;
            }
            tokio::time::sleep(RECONNECT_INTERVAL.min(remaining)).await;
        }
    }
}

/// `30s`, `1.5s`.
fn seconds_text(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}
