//! Engine errors in the runtime's terms.

use eider_runtime::RuntimeError;

/// Converts a bollard error, keeping what the engine said.
pub(crate) fn from_bollard(error: bollard::errors::Error) -> RuntimeError {
    use bollard::errors::Error;
    match error {
        Error::DockerResponseServerError {
            status_code,
            message,
        } => RuntimeError::Refused {
            status: Some(status_code),
            message,
        },
        Error::DockerStreamError { error } => RuntimeError::Refused {
            status: None,
            message: error,
        },
        Error::IOError { err } => RuntimeError::Io(err),
        Error::RequestTimeoutError => RuntimeError::Unresponsive,
        // The connection could not be made or broke: the engine is down or restarting.
        Error::HyperLegacyError { .. }
        | Error::HyperResponseError { .. }
        | Error::SocketNotFoundError(_) => RuntimeError::BackendLost {
            message: error_text(&error),
        },
        other => RuntimeError::Other(other.to_string()),
    }
}

/// Whether the engine answered 404 (the thing is already gone) or 304 (already in that state).
pub(crate) fn is_gone_or_done(error: &bollard::errors::Error) -> bool {
    matches!(
        error,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 304 | 404,
            ..
        }
    )
}

/// Whether the engine answered 409 because removal is already in progress.
pub(crate) fn is_removal_in_progress(error: &bollard::errors::Error) -> bool {
    matches!(
        error,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 409,
            message,
        } if message.contains("already in progress")
    )
}

/// The error with its causes, which for connection errors hold the useful part (`connection
/// refused`, `connection closed before message completed`).
fn error_text(error: &bollard::errors::Error) -> String {
    eider_error_chain::chain_text(error)
}
