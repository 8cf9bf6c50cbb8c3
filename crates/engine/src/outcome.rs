//! How a job ended, as a typed value with one description that every renderer (the terminal,
//! the summary, JUnit, JSON) formats in its own way.

use std::time::Duration;

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// The primary container's main process exited with 0 (or the job had no containers).
    Succeeded,
    /// The primary container's main process exited with another code.
    Failed {
        /// The primary container.
        container: String,
        /// Its exit code.
        exit_code: i64,
        /// Whether the out-of-memory killer ended it.
        out_of_memory: bool,
    },
    /// The job's timeout elapsed; everything was killed.
    TimedOut {
        /// The timeout.
        after: Duration,
    },
    /// Interrupted (Ctrl-C, SIGTERM) while it ran.
    Interrupted,
    /// Not started because a job it depends on (or, run one by one, an earlier job) did not
    /// succeed.
    Skipped,
    /// Not started: cancelled when another job of the pipeline failed, or by an interrupt.
    Cancelled,
    /// The container engine failed while the job ran or was being launched: it stopped
    /// answering, or restarted and stopped the job's containers. Says nothing about the job's own
    /// code: running it again on a healthy engine may well succeed.
    InfrastructureFailure {
        /// What the engine did, naming the job and container.
        message: String,
        /// What to do about it.
        hint: Option<String>,
    },
    /// It could not run: a refused permission, a missing image, an engine error.
    Error {
        /// What went wrong, naming the job, container and image where they apply.
        message: String,
        /// What to do about it.
        hint: Option<String>,
    },
}

impl JobOutcome {
    /// Whether the job succeeded.
    #[must_use]
    pub fn succeeded(&self) -> bool {
        matches!(self, Self::Succeeded)
    }

    /// Whether the job ended because the container engine failed, not because of the job.
    #[must_use]
    pub fn is_infrastructure_failure(&self) -> bool {
        matches!(self, Self::InfrastructureFailure { .. })
    }
}

/// A job's result in one word, as every report names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobResult {
    /// See [`JobOutcome::Succeeded`].
    Passed,
    /// See [`JobOutcome::Failed`].
    Failed,
    /// See [`JobOutcome::TimedOut`].
    TimedOut,
    /// See [`JobOutcome::Interrupted`].
    Interrupted,
    /// See [`JobOutcome::Skipped`].
    Skipped,
    /// See [`JobOutcome::Cancelled`].
    Cancelled,
    /// See [`JobOutcome::Error`].
    Error,
    /// See [`JobOutcome::InfrastructureFailure`].
    InfrastructureFailure,
}

impl JobResult {
    /// The word: `passed`, `timed-out`, `infrastructure-failure`...
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::TimedOut => "timed-out",
            Self::Interrupted => "interrupted",
            Self::Skipped => "skipped",
            Self::Cancelled => "cancelled",
            Self::Error => "error",
            Self::InfrastructureFailure => "infrastructure-failure",
        }
    }
}

impl JobOutcome {
    /// The result in one word.
    #[must_use]
    pub fn result(&self) -> JobResult {
        match self {
            Self::Succeeded => JobResult::Passed,
            Self::Failed { .. } => JobResult::Failed,
            Self::TimedOut { .. } => JobResult::TimedOut,
            Self::Interrupted => JobResult::Interrupted,
            Self::Skipped => JobResult::Skipped,
            Self::Cancelled => JobResult::Cancelled,
            Self::Error { .. } => JobResult::Error,
            Self::InfrastructureFailure { .. } => JobResult::InfrastructureFailure,
        }
    }

    /// What happened, in words, without the job's name; nothing for a success.
    #[must_use]
    pub fn description(&self) -> Option<String> {
        Some(match self {
            Self::Succeeded => return None,
            Self::Failed {
                container,
                exit_code,
                out_of_memory: true,
            } => format!("container `{container}` ran out of memory (exit code {exit_code})"),
            Self::Failed {
                container,
                exit_code,
                ..
            } => format!("container `{container}` exited with code {exit_code}"),
            Self::TimedOut { after } => {
                format!("timed out after {}", humantime::format_duration(*after))
            }
            Self::Interrupted => "interrupted".to_owned(),
            Self::Skipped => "a job it depends on did not succeed".to_owned(),
            Self::Cancelled => "cancelled".to_owned(),
            Self::Error { message, .. } | Self::InfrastructureFailure { message, .. } => {
                message.clone()
            }
        })
    }

    /// What to do about it, when there is something to do.
    #[must_use]
    pub fn hint(&self) -> Option<&str> {
        match self {
            Self::Error { hint, .. } | Self::InfrastructureFailure { hint, .. } => hint.as_deref(),
            _ => None,
        }
    }
}
