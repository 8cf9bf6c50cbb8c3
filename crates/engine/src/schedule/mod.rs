//! Scheduling a pipeline's jobs: the dependency graph ([`Dag`]) and the pure, synchronous state
//! machine ([`Scheduler`]) that decides which job starts next, how many run at once, and what a
//! failure or an interrupt cancels, as the DrakeSpec says.
//!
//! Nothing here runs a job or waits: the caller starts what [`Scheduler::start_next`] returns and
//! reports each end with [`Scheduler::finish`], so the same logic serves a real run, a dry run and
//! tests with a fake clock.

mod dag;
mod scheduler;

pub use dag::Dag;
pub use scheduler::{FailurePolicy, JobState, ScheduleError, Scheduler};
