//! The cluster's answers as the runtime seam's errors.

use eider_runtime::RuntimeError;

/// `error` as the seam's error: the API server's refusals keep its status and message; a
/// connection that failed or broke is a lost backend.
pub(crate) fn runtime_error(error: kube::Error) -> RuntimeError {
    match error {
        kube::Error::Api(status) => RuntimeError::Refused {
            status: Some(status.code),
            message: if status.message.is_empty() {
                status.reason.clone()
            } else {
                status.message.clone()
            },
        },
        kube::Error::HyperError(error) => RuntimeError::BackendLost {
            message: error.to_string(),
        },
        kube::Error::Service(error) => RuntimeError::BackendLost {
            message: eider_error_chain::chain_text(error.as_ref()),
        },
        other => RuntimeError::Other(other.to_string()),
    }
}

/// Whether the API server answered that the object does not exist.
pub(crate) fn is_not_found(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 404)
}
