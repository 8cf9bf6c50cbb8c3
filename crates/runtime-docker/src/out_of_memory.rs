//! Whether the kernel's out-of-memory killer ended a container.
//!
//! The engine sets `OOMKilled` in a container's state only when the kernel's OOM notice reaches
//! it before the exit. Both come from the container's shim at nearly the same moment, and on a
//! busy machine the notice can come second: the state then says `false` for good, although the
//! engine still logs an `oom` event for the container. So a primary's SIGKILL that the state
//! does not explain is looked up in the engine's events, waiting a moment for a notice still on
//! its way.

use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

use bollard::query_parameters::EventsOptions;
use futures_util::StreamExt;

use eider_runtime::Exit;

use crate::DockerRuntime;
use crate::container::KILLED_EXIT_CODE;
use crate::model::ContainerId;

/// How long after the exit an OOM notice may still arrive. Only a primary's SIGKILL that the
/// state does not put down to memory waits this long, and only once.
const LATE_NOTICE: Duration = Duration::from_secs(1);

impl DockerRuntime {
    /// Whether the state of container `id`, which was killed, says it was killed for memory.
    pub(crate) async fn state_says_out_of_memory(&self, id: &ContainerId) -> bool {
        self.inspect(id)
            .await
            .ok()
            .and_then(|inspect| inspect.state)
            .and_then(|state| state.oom_killed)
            .unwrap_or(false)
    }

    /// `exit` of the primary `id`, with a kill for memory that only the engine's events tell.
    /// Only the primary's exit is worth the wait: it decides the job, while sidecars are
    /// killed by eider at the end of every job, and their exits must not hold that end up.
    pub(crate) async fn primary_exit(&self, id: &ContainerId, exit: Exit) -> Exit {
        if exit.code != KILLED_EXIT_CODE || exit.out_of_memory {
            return exit;
        }
        let started = self
            .inspect(id)
            .await
            .ok()
            .and_then(|inspect| inspect.state)
            .and_then(|state| state.started_at)
            .as_deref()
            .and_then(unix_seconds);
        let Some(started) = started else {
            return exit;
        };
        Exit {
            out_of_memory: self.logged_out_of_memory(id, started).await,
            ..exit
        }
    }

    /// Whether the engine logs an `oom` event for `id` since `started` (Unix seconds), or does
    /// within [`LATE_NOTICE`].
    async fn logged_out_of_memory(&self, id: &ContainerId, started: u64) -> bool {
        let filters = HashMap::from([
            ("type".to_owned(), vec!["container".to_owned()]),
            ("container".to_owned(), vec![id.0.clone()]),
            ("event".to_owned(), vec!["oom".to_owned()]),
        ]);
        let options = EventsOptions {
            since: Some(started.to_string()),
            until: None,
            filters: Some(filters),
        };
        let mut events = self.client.events(Some(options));
        matches!(
            tokio::time::timeout(LATE_NOTICE, events.next()).await,
            Ok(Some(Ok(_)))
        )
    }
}

/// The whole seconds since the Unix epoch of an RFC 3339 time as the engine writes it.
fn unix_seconds(time: &str) -> Option<u64> {
    let parsed = humantime::parse_rfc3339_weak(time).ok()?;
    parsed
        .duration_since(UNIX_EPOCH)
        .ok()
        .map(|since| since.as_secs())
}

#[cfg(test)]
mod tests {
    use super::unix_seconds;

    #[test]
    fn the_engine_s_start_time_becomes_whole_unix_seconds() {
        assert_eq!(
            unix_seconds("2026-12-07T09:30:12.123456789Z"),
            Some(1_796_635_812)
        );
        assert_eq!(unix_seconds("0001-01-01T00:00:00Z"), None);
        assert_eq!(unix_seconds("yesterday"), None);
    }
}
