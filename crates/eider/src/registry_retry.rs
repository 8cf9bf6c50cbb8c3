//! How eider reaches registries: the registry flags of `package`, `lock` and `verify` as the
//! packaging library's access, and how often and how patiently eider tries a registry again
//! after a transient failure, for its own registry client and for the pulls it asks the engine
//! for (`run`): the defaults, or a shorter backoff from `EIDER_REGISTRY_RETRY_BASE_MS` (for tests
//! and for pipelines that would rather fail fast than wait).

use std::time::Duration;

use eider_package::RegistryAccess;
use eider_registry::RetryPolicy;
use eider_runtime_docker::PullRetry;

use crate::cli::RegistryOptions;
use crate::failure::Failure;

/// The first wait, in milliseconds, after a transient registry failure; it doubles after each
/// further one.
pub const RETRY_BASE_VARIABLE: &str = "EIDER_REGISTRY_RETRY_BASE_MS";

/// The registry flags, with the registry client's retries.
pub fn registry_access(options: &RegistryOptions) -> Result<RegistryAccess, Failure> {
    Ok(RegistryAccess {
        credentials: options.registry_auth.clone(),
        insecure_registries: options.insecure_registries.clone(),
        retry: registry_retry_policy()?,
    })
}

/// The registry client's retries.
pub fn registry_retry_policy() -> Result<RetryPolicy, Failure> {
    with_base_from_environment(RetryPolicy::default())
}

/// The engine pulls' retries: the registry client's backoff, without `Retry-After` (the engine
/// does not pass it on), 4 tries in all from a 1 s wait by default.
pub fn pull_retry() -> Result<PullRetry, Failure> {
    let policy = with_base_from_environment(RetryPolicy {
        max_attempts: 4,
        initial_delay: Duration::from_secs(1),
        ..RetryPolicy::default()
    })?;
    Ok(PullRetry {
        max_attempts: policy.max_attempts,
        delay: std::sync::Arc::new(move |failed_attempts| policy.delay(failed_attempts, None)),
    })
}

/// `policy`, with its first wait from the environment when set there.
fn with_base_from_environment(mut policy: RetryPolicy) -> Result<RetryPolicy, Failure> {
    if let Some(base) = parse_base(std::env::var(RETRY_BASE_VARIABLE).ok().as_deref())? {
        policy.initial_delay = base;
        policy.max_delay = policy.max_delay.max(base);
    }
    Ok(policy)
}

fn parse_base(value: Option<&str>) -> Result<Option<Duration>, Failure> {
    let Some(value) = value.map(str::trim).filter(|value| !value.is_empty()) else {
        return Ok(None);
    };
    value
        .parse::<u64>()
        .map(|milliseconds| Some(Duration::from_millis(milliseconds)))
        .map_err(|_| {
            Failure::input(format!(
                "invalid {RETRY_BASE_VARIABLE} `{value}`: expected a number of milliseconds"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_is_milliseconds_and_anything_else_is_bad_input() {
        assert_eq!(parse_base(None).ok(), Some(None));
        assert_eq!(parse_base(Some(" ")).ok(), Some(None));
        assert_eq!(
            parse_base(Some("25")).ok(),
            Some(Some(Duration::from_millis(25)))
        );
        let failure = parse_base(Some("1s")).expect_err("not a number");
        assert_eq!(failure.exit_code(), crate::exit_code::INVALID_INPUT);
    }
}
