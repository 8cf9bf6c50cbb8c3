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
    },
    /// The engine refused a request.
    #[error("{message}")]
    Refused {
        /// The HTTP status, when there is one.
        status: Option<u16>,
        /// What the engine said.
        message: String,
    },
    /// A local file operation failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Anything else the backend reported.
    #[error("{0}")]
    Other(String),
}
