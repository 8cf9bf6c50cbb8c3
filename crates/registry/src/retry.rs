//! When and how long to wait before trying a failed exchange again: exponential backoff with
//! jitter, the registry's `Retry-After` honoured (within a cap, so a registry cannot park a push).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher as _, Hasher as _};
use std::time::{Duration, SystemTime};

/// How many times to try, and how long to wait between tries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in total, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The wait after the first failure; it doubles after each further one.
    pub initial_delay: Duration,
    /// The longest computed wait.
    pub max_delay: Duration,
    /// The longest wait a `Retry-After` header can ask for.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(15),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Never retries.
    #[must_use]
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Whether another try is allowed after `failed_attempts` failures.
    #[must_use]
    pub fn allows_another(&self, failed_attempts: u32) -> bool {
        failed_attempts < self.max_attempts
    }

    /// The wait after the `failed_attempts`-th failure (1-based): the registry's `Retry-After`
    /// when it sent one (capped), else `initial_delay * 2^(n-1)` capped at `max_delay`, scaled
    /// by a random factor in [0.5, 1] so that parallel uploads do not retry in lockstep.
    #[must_use]
    pub fn delay(&self, failed_attempts: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(retry_after) = retry_after {
            return retry_after.min(self.max_retry_after);
        }
        let exponent = failed_attempts.saturating_sub(1).min(31);
        let backoff = self
            .initial_delay
            .saturating_mul(1_u32 << exponent)
            .min(self.max_delay);
        backoff.mul_f64(0.5 + 0.5 * random_fraction())
    }
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

/// An error that may go away when the exchange is tried again.
pub(crate) trait Transient {
    /// Whether another try may succeed.
    fn is_transient(&self) -> bool;
    /// How long the other side asked to wait, when it did.
    fn retry_after(&self) -> Option<Duration>;
}

impl Transient for crate::request_error::RequestError {
    fn is_transient(&self) -> bool {
        Self::is_transient(self)
    }

    fn retry_after(&self) -> Option<Duration> {
        Self::retry_after(self)
    }
}

/// Runs `operation` (given the 1-based attempt number) until it succeeds, fails for good, or the
/// policy's attempts are spent; `on_retry` hears of each failure that is retried and the wait.
pub(crate) async fn with_retries<T, E, F, Fut>(
    policy: &RetryPolicy,
    mut operation: F,
    mut on_retry: impl FnMut(u32, &E, Duration),
) -> Result<T, E>
where
    E: Transient,
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut failed_attempts = 0;
    loop {
        match operation(failed_attempts + 1).await {
            Ok(value) => return Ok(value),
            Err(error) => {
                failed_attempts += 1;
                if !error.is_transient() || !policy.allows_another(failed_attempts) {
                    return Err(error);
                }
                let delay = policy.delay(failed_attempts, error.retry_after());
                on_retry(failed_attempts, &error, delay);
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// Parses a `Retry-After` value: seconds, or an HTTP date (a date in the past means now).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(700),
            max_retry_after: Duration::from_secs(30),
        }
    }

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        let policy = policy();
        for (attempt, full) in [(1, 100), (2, 200), (3, 400), (4, 700), (10, 700), (40, 700)] {
            for _ in 0..50 {
                let delay = policy.delay(attempt, None);
                let full = Duration::from_millis(full);
                assert!(
                    delay >= full / 2 && delay <= full,
                    "attempt {attempt}: {delay:?}"
                );
            }
        }
    }

    #[test]
    fn retry_after_wins_over_backoff_but_is_capped() {
        let policy = policy();
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(3600))),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn attempts_are_counted_from_the_first_try() {
        let policy = policy();
        assert!(policy.allows_another(3));
        assert!(!policy.allows_another(4));
        assert!(!RetryPolicy::none().allows_another(1));
    }

    #[derive(Debug, PartialEq)]
    struct FakeError {
        transient: bool,
    }

    impl Transient for FakeError {
        fn is_transient(&self) -> bool {
            self.transient
        }

        fn retry_after(&self) -> Option<Duration> {
            Some(Duration::from_millis(1))
        }
    }

    #[tokio::test]
    async fn transient_failures_are_retried_until_success() {
        let mut retries = Vec::new();
        let result = with_retries(
            &policy(),
            |attempt| async move {
                if attempt < 3 {
                    Err(FakeError { transient: true })
                } else {
                    Ok(attempt)
                }
            },
            |attempt, _error, delay| retries.push((attempt, delay)),
        )
        .await;
        assert_eq!(result, Ok(3));
        assert_eq!(
            retries,
            vec![(1, Duration::from_millis(1)), (2, Duration::from_millis(1))]
        );
    }

    #[tokio::test]
    async fn permanent_failures_are_not_retried() {
        let mut calls = 0;
        let result: Result<(), FakeError> = with_retries(
            &policy(),
            |_attempt| {
                calls += 1;
                async { Err(FakeError { transient: false }) }
            },
            |_, _, _| {},
        )
        .await;
        assert_eq!(result, Err(FakeError { transient: false }));
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn retries_stop_after_the_last_attempt() {
        let mut calls = 0;
        let result: Result<(), FakeError> = with_retries(
            &policy(),
            |_attempt| {
                calls += 1;
                async { Err(FakeError { transient: true }) }
            },
            |_, _, _| {},
        )
        .await;
        assert!(result.is_err());
        assert_eq!(calls, 4);
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        // 784111777 is Sun, 06 Nov 1994 08:49:37 GMT.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }
}
