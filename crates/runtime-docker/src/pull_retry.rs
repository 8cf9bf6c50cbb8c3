//! Pulls the engine failed for a reason that may go away: which ones (the engine reports only a
//! message, so it is read for the causes it names), and how long to wait before the next try.
//! The engine speaks to the registry itself, so eider cannot see a `Retry-After`; the caller's
//! exponential backoff with jitter stands in for it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// How often, and how far apart, a pull is tried when it fails for a transient reason. The waits
/// come from the caller, so that eider backs off from a registry alike whether it speaks to it
/// itself or through the engine.
#[derive(Clone)]
pub struct PullRetry {
    /// Tries in total, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The wait after the `n`-th failure (1-based).
    pub delay: Arc<dyn Fn(u32) -> Duration + Send + Sync>,
}

impl Default for PullRetry {
    /// Never retries.
    fn default() -> Self {
        Self {
            max_attempts: 1,
            delay: Arc::new(|_| Duration::ZERO),
        }
    }
}

impl fmt::Debug for PullRetry {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PullRetry")
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

/// Whether a pull that failed with the engine's `message` may succeed when tried again: the
/// connection failed or broke, the registry was overloaded (429) or failing (5xx). Anything
/// else (unknown image, refused credentials, a bad reference) fails the same way every time.
#[must_use]
pub fn is_transient_pull_failure(message: &str) -> bool {
    const PERMANENT: &[&str] = &[
        "manifest unknown",
        "not found",
        "unauthorized",
        "denied",
        "no basic auth credentials",
        "authentication required",
        "invalid reference",
    ];
    const TRANSIENT: &[&str] = &[
        "connection refused",
        "connection reset",
        "broken pipe",
        "unexpected eof",
        "i/o timeout",
        "tls handshake timeout",
        "timeout exceeded",
        "no route to host",
        "toomanyrequests",
        "too many requests",
        "429 ",
        "500 internal server error",
        "502 bad gateway",
        "503 service unavailable",
        "504 gateway timeout",
        "the pull made no progress",
    ];
    let message = message.to_ascii_lowercase();
    if PERMANENT.iter().any(|cause| message.contains(cause)) {
        return false;
    }
    TRANSIENT.iter().any(|cause| message.contains(cause)) || message.trim_end().ends_with(": eof")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_overload_and_server_errors_are_transient() {
        for message in [
            "Get \"http://127.0.0.1:9/v2/\": dial tcp 127.0.0.1:9: connect: connection refused",
            "received unexpected HTTP status: 503 Service Unavailable",
            "received unexpected HTTP status: 502 Bad Gateway",
            "received unexpected HTTP status: 500 Internal Server Error",
            "toomanyrequests: slow down",
            "Get \"http://127.0.0.1:9/v2/a/manifests/b\": EOF",
            "read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer",
            "the pull made no progress for 60 seconds",
        ] {
            assert!(is_transient_pull_failure(message), "{message}");
        }
    }

    #[test]
    fn unknown_images_and_refused_credentials_are_not() {
        for message in [
            "manifest for 127.0.0.1:5000/a:b not found: manifest unknown: manifest unknown",
            "pull access denied for a, repository does not exist or may require 'docker login'",
            "Head \"http://127.0.0.1:5000/v2/a/manifests/b\": no basic auth credentials",
            "unauthorized: authentication required",
            "invalid reference format",
            "something else entirely",
        ] {
            assert!(!is_transient_pull_failure(message), "{message}");
        }
    }
}
