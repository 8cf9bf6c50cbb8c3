//! The record of every request the double answered, for tests and benchmarks to count.

use std::time::SystemTime;

/// One request as it arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The HTTP method, such as `GET`.
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// The raw query string, empty when there was none.
    pub query: String,
    /// When the request arrived.
    pub started: SystemTime,
    /// Whether it asked for a watch (`watch=true` or `watch=1`).
    pub watch: bool,
    /// Whether it asked to follow a container's log.
    pub follow_log: bool,
}
