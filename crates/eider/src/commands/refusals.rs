//! Jobs that ask for what the user did not allow (`privileged`, the Docker socket), found before
//! anything runs: every such job at once, each with how to allow what it asks.

use drakefile::{Job, Permissions, Refusal};

use crate::failure::Failure;
use crate::render::Output;

/// The refusal of each job of `jobs` that asks for what `permissions` does not grant.
fn of(jobs: &[&Job], permissions: Permissions) -> Vec<Refusal> {
    jobs.iter()
        .filter_map(|job| drakefile::check_permissions(job, permissions).err())
        .collect()
}

/// Refuses, as bad input, every job that asks for what is not allowed: for commands that
/// describe jobs rather than run them.
pub fn refuse(jobs: &[&Job], permissions: Permissions) -> Result<(), Failure> {
    let refusals = of(jobs, permissions);
    let Some(first) = refusals.first() else {
        return Ok(());
    };
    let mut failure = Failure::input(first.message.clone());
    for refusal in &refusals[1..] {
        failure = failure.with_cause(refusal.message.clone());
    }
    if let Some(hint) = &first.hint {
        failure = failure.with_hint(hint.clone());
    }
    Err(failure)
}

/// Shows, for a dry run, every job the run would refuse, as the run would: each as an error
/// with its hint, and the run's exit code for a job that cannot run.
pub fn show(jobs: &[&Job], permissions: Permissions, output: Output) -> Result<(), Failure> {
    let refusals = of(jobs, permissions);
    if refusals.is_empty() {
        return Ok(());
    }
    for refusal in refusals {
        let mut failure = Failure::runtime(refusal.message);
        if let Some(hint) = refusal.hint {
            failure = failure.with_hint(hint);
        }
        output.failure(&failure);
    }
    Err(Failure::Reported {
        exit_code: crate::exit_code::FAILURE,
    })
}
