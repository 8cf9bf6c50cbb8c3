//! The labels on everything eider creates, so that it can always find it again (cleanup and
//! `eider clean` never depend on names).

use crate::Labels;

/// The run that created it.
pub const RUN_ID: &str = "eider.run-id";
/// The job it belongs to.
pub const JOB: &str = "eider.job";
/// The container's name in the Drakefile.
pub const CONTAINER: &str = "eider.container";
/// The process id of the eider that created it.
pub const PID: &str = "eider.pid";
/// What a volume is for.
pub const PURPOSE: &str = "eider.purpose";
/// The process id namespace of the eider that created it (boot id and namespace inode): a pid
/// only says whether its eider still runs when read in that namespace. Another machine or
/// container sharing the engine has pids of its own.
pub const PID_NAMESPACE: &str = "eider.pid-namespace";

/// The labels of anything created by run `run_id` of this process.
#[must_use]
pub fn for_run(run_id: &str) -> Labels {
    let mut labels = vec![
        (RUN_ID.to_owned(), run_id.to_owned()),
        (PID.to_owned(), std::process::id().to_string()),
    ];
    if let Some(namespace) = eider_process::pid_namespace() {
        labels.push((PID_NAMESPACE.to_owned(), namespace.to_owned()));
    }
    labels
}

/// The labels of a job's container.
#[must_use]
pub fn for_container(run_id: &str, job: &str, container: &str) -> Labels {
    let mut labels = for_run(run_id);
    labels.push((JOB.to_owned(), job.to_owned()));
    labels.push((CONTAINER.to_owned(), container.to_owned()));
    labels
}

/// The value of `key`, if present.
#[must_use]
pub fn value<'a>(labels: &'a Labels, key: &str) -> Option<&'a str> {
    labels
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.as_str())
}
