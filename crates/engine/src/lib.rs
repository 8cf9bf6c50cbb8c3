//! eider's engine: turns DrakeSpec jobs into containers on a [`eider_runtime::Runtime`], keeping
//! every rule of the spec (launch order, one network namespace per job, the primary decides,
//! sidecars are terminated, timeouts, environment precedence, source modes, shared storage), and
//! reports what happens as typed [`Event`]s. It never prints: the command line renders events.

mod clean;
pub mod environment;
mod event;
mod follow;
mod job;
pub mod labels;
mod launch_pacer;
pub mod lines;
pub mod mask;
mod mask_encodings;
mod options;
mod output;
mod output_budget;
mod pipeline;
pub mod plan;
mod policy;
mod run;
mod run_id;
pub mod schedule;
mod socket_watch;
mod source_archive;
mod sources;

pub use clean::{CleanReport, clean, sweep_abandoned, sweep_run};
pub use event::{
    Event, EventReceiver, EventSender, JobOutcome, OutputSource, OutputStreamKind, channel,
};
pub use options::{
    DEFAULT_BACKEND_TIMEOUT, DEFAULT_GRACE_PERIOD, DEFAULT_TIMEOUT, RunSettings, SeedSourceMode,
};
pub use policy::{Refusal, check_permissions, check_platform};
pub use run::{Cancellation, JobReport, Run, RunSummary};
