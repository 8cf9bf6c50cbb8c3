//! Why a runtime call failed.

/// The error of every runtime call.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The engine cannot be reached at all.
    #[error("cannot reach the container engine at {endpoint}")]
    Unreachable {
        /// Where it was looked for.
        endpoint: String,
        /// Why it failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An image is not present and cannot be pulled.
    #[error("image {image} cannot be pulled: {message}")]
    ImageUnavailable {
        /// The reference.
        image: String,
        /// What the engine or registry said.
        message: String,
        /// What to check, in the backend's terms.
        hint: Option<String>,
    },
    /// The engine refused a request.
    #[error("{message}")]
    Refused {
        /// The HTTP status, when there is one.
        status: Option<u16>,
        /// What the engine said.
        message: String,
    },
    /// The engine stopped answering: a request or a liveness probe got no answer in time (a
    /// frozen or overloaded engine).
    #[error("the container engine did not answer in time")]
    Unresponsive,
    /// The connection to the engine failed or broke while a request was under way: the engine
    /// stopped or restarted.
    #[error("lost the connection to the container engine: {message}")]
    BackendLost {
        /// What the connection reported.
        message: String,
    },
    /// A local file operation failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Anything else the backend reported.
    #[error("{0}")]
    Other(String),
}

impl RuntimeError {
    /// Whether the error is the engine's own failure (gone, frozen, restarting) rather than an
    /// answer about what was asked: the job's result then says nothing about the job's code.
    #[must_use]
    pub fn is_backend_fault(&self) -> bool {
        matches!(
            self,
            Self::Unreachable { .. } | Self::Unresponsive | Self::BackendLost { .. }
        )
    }
}

/// Why a job could not be launched.
#[derive(Debug)]
pub enum LaunchError {
    /// The engine asked to stop between two steps (an interrupt, the job's deadline).
    Stopped,
    /// The engine's last checks refused the job (see `LaunchControl::admit`).
    NotAdmitted,
    /// A step failed.
    Failed {
        /// The container it concerned, by its name in the Drakefile.
        container: Option<String>,
        /// What was being done (`cannot start the container`).
        what: String,
        /// The backend's error.
        error: RuntimeError,
        /// What to do about it, in the backend's terms.
        hint: Option<String>,
    },
}
