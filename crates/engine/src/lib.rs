//! eider's engine: runs DrakeSpec jobs and pipelines on a backend ([`eider_runtime::Runtime`]),
//! keeping every rule of the spec that is not the backend's (scheduling, timeouts, cancellation,
//! environment precedence, source modes, shared storage, masking, the output budget), and
//! reports what happens as typed [`Event`]s. It never prints: the command line renders events.

mod clean;
pub mod environment;
mod event;
mod job;
pub mod lines;
pub mod mask;
mod mask_encodings;
mod options;
mod outcome;
mod output;
mod output_budget;
mod pipeline;
pub mod plan;
mod policy;
mod refusal;
mod run;
mod run_id;
pub mod schedule;
mod sources;

pub use clean::{CleanReport, clean, sweep_abandoned, sweep_run};
pub use eider_runtime::labels;
pub use event::{Event, EventReceiver, EventSender, OutputSource, OutputStreamKind, channel};
pub use options::{DEFAULT_GRACE_PERIOD, DEFAULT_TIMEOUT, RunSettings, SeedSourceMode};
pub use outcome::{JobOutcome, JobResult};
pub use policy::check_platform;
pub use run::{Cancellation, JobReport, Run, RunSummary};
