//! Pulls the engine failed for a reason that may go away: which ones (the engine reports only a
//! message, so it is read for the causes it names), and how long to wait before the next try.
//! The engine speaks to the registry itself, so eider cannot see a `Retry-After`; an exponential
//! backoff with jitter stands in for it.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher as _, Hasher as _};
use std::time::{Duration, SystemTime};

/// How often, and how far apart, a pull is tried when it fails for a transient reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRetry {
    /// Tries in total, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The wait after the first failure; it doubles after each further one.
    pub initial_delay: Duration,
    /// The longest wait.
    pub max_delay: Duration,
}

impl Default for PullRetry {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(15),
        }
    }
}

impl PullRetry {
    /// The wait after the `failed_attempts`-th failure (1-based): `initial_delay * 2^(n-1)`,
    /// capped at `max_delay`, scaled by a random factor in [0.5, 1] so that the jobs of a run
    /// that pull from one registry do not come back in lockstep.
    #[must_use]
    pub fn delay(&self, failed_attempts: u32) -> Duration {
        let exponent = failed_attempts.saturating_sub(1).min(31);
        let backoff = self
            .initial_delay
            .saturating_mul(1_u32 << exponent)
            .min(self.max_delay);
        backoff.mul_f64(0.5 + 0.5 * random_fraction())
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

/// A number in [0, 1) from the standard library's per-process random hash keys: enough to spread
/// retries, without a dependency for it.
fn random_fraction() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64),
    );
    let bits = hasher.finish() >> 11;
    #[expect(
        clippy::cast_precision_loss,
        reason = "53 random bits fit an f64 mantissa exactly"
    )]
    let fraction = bits as f64 / (1_u64 << 53) as f64;
    fraction
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

    #[test]
    fn the_backoff_doubles_within_its_jitter_and_is_capped() {
        let retry = PullRetry {
            max_attempts: 4,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
        };
        for (attempt, full) in [(1, 100), (2, 200), (3, 300), (40, 300)] {
            for _ in 0..20 {
                let delay = retry.delay(attempt);
                let full = Duration::from_millis(full);
                assert!(delay >= full / 2 && delay <= full, "{attempt}: {delay:?}");
            }
        }
    }
}
