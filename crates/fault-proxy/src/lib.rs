//! A fault-injecting HTTP/1.1 proxy on loopback, for tests of eider against a real registry:
//! requests pass through to the registry unless a rule matches them (method and path pattern,
//! optionally only the first N times), in which case the proxy refuses, answers a status of its
//! own, cuts the connection part-way through a body, or delays. Every request is recorded, so a
//! test can assert what was retried, in which order, and how long apart.
//!
//! Plain threads and blocking sockets: the proxy must not share a runtime with the code under
//! test, and it has no dependency at all.

mod http;
mod proxy;
mod rule;

pub use http::Head;
pub use proxy::{FaultProxy, Recorded, unused_address};
pub use rule::{Fault, Rule};
