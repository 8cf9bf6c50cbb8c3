//! Answers that name a container's state, read while Podman reports a state of its own.
//!
//! The Engine API defines the states of a container (`created`, `running`, `exited`...), and
//! bollard reads them as a closed set: an answer that names another fails to read as a whole,
//! every other container of a listing with it. Podman 4.3 names states of its own where the
//! Docker Engine says `exited`: `stopped`, between a container's stop and podman's cleanup of
//! it, in listings (containers/podman#28359) and inspections (containers/podman#17728); later
//! versions of Podman say `exited` there. The state passes within moments, so a request whose
//! answer could not be read for it is sent again, for a bounded time.

use std::future::Future;
use std::time::Duration;

/// How long a request is sent again while its answer names a state of Podman's own.
const PATIENCE: Duration = Duration::from_secs(10);

/// How long to wait before sending it again.
const INTERVAL: Duration = Duration::from_millis(100);

/// The answer of `request`, sent again while bollard cannot read it because it names a
/// container's state that the Engine API does not define, for at most [`PATIENCE`]; then that
/// error. A large future: callers deep inside launches and sweeps box it.
pub(crate) async fn read_through_passing_states<T, Answer>(
    mut request: impl FnMut() -> Answer,
) -> Result<T, bollard::errors::Error>
where
    Answer: Future<Output = Result<T, bollard::errors::Error>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match request().await {
            Err(error) if names_an_undefined_state(&error) => {
                if tokio::time::Instant::now() >= deadline {
                    return Err(error);
                }
                tokio::time::sleep(INTERVAL).await;
            }
            answer => return answer,
        }
    }
}

/// Whether bollard could not read an answer for a value outside one of its closed sets (a
/// container's state is the only one eider reads that Podman leaves).
fn names_an_undefined_state(error: &bollard::errors::Error) -> bool {
    matches!(
        error,
        bollard::errors::Error::JsonDataError { message, .. } if message.contains("unknown variant")
    )
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn unreadable() -> bollard::errors::Error {
        bollard::errors::Error::JsonDataError {
            message: "unknown variant `stopped`, expected one of ``, `created`, `running`"
                .to_owned(),
            column: 612,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_podman_state_that_passes_is_read_through() {
        let sent = AtomicUsize::new(0);
        let answer = read_through_passing_states(|| async {
            if sent.fetch_add(1, Ordering::Relaxed) < 2 {
                Err(unreadable())
            } else {
                Ok("listed")
            }
        })
        .await;
        assert_eq!(answer.ok(), Some("listed"));
        assert_eq!(sent.load(Ordering::Relaxed), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_state_that_stays_is_an_error_in_the_end_and_other_errors_at_once() {
        let sent = AtomicUsize::new(0);
        let answer: Result<(), _> = read_through_passing_states(|| async {
            sent.fetch_add(1, Ordering::Relaxed);
            Err(unreadable())
        })
        .await;
        assert!(names_an_undefined_state(
            &answer.expect_err("never readable")
        ));
        assert!(sent.load(Ordering::Relaxed) > 1);

        let sent = AtomicUsize::new(0);
        let answer: Result<(), _> = read_through_passing_states(|| async {
            sent.fetch_add(1, Ordering::Relaxed);
            Err(bollard::errors::Error::RequestTimeoutError)
        })
        .await;
        assert!(answer.is_err());
        assert_eq!(sent.load(Ordering::Relaxed), 1);
    }
}
