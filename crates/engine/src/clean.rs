//! Finding and removing what eider created: after an interrupted run (by its id), and after a
//! crashed eider (`eider clean`: everything whose creating process is gone).

use eider_runtime::{Labels, Resource, ResourceKind, Runtime, labels};

/// What `eider clean` removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CleanReport {
    /// Containers removed, by engine name or id.
    pub containers: Vec<String>,
    /// Volumes removed.
    pub volumes: Vec<String>,
    /// Resources of runs still in progress, left alone.
    pub in_use: usize,
    /// What could not be removed, and why.
    pub errors: Vec<String>,
}

/// Removes everything labelled with `run_id`; returns the errors.
pub async fn sweep_run<R: Runtime>(runtime: &R, run_id: &str) -> Vec<String> {
    let selector = format!("{}={run_id}", labels::RUN_ID);
    let mut errors = Vec::new();
    match runtime.list_labelled(&selector).await {
        Ok(resources) => {
            for resource in resources {
                if let Err(error) = runtime.remove_resource(&resource).await {
                    errors.push(format!(
                        "cannot remove {} {}: {error}",
                        resource.noun, resource.shown
                    ));
                }
            }
        }
        Err(error) => errors.push(format!("cannot list what run {run_id} created: {error}")),
    }
    errors
}

/// Removes everything eider created whose eider process is no longer running (or everything,
/// with `all`): containers, then volumes (shared storage, copies of the source). What another
/// pid namespace created (another machine or container sharing the engine) is kept unless
/// `all`: whether its eider runs cannot be told from here.
pub async fn clean<R: Runtime>(runtime: &R, all: bool) -> CleanReport {
    let abandoned = |labels: &Labels| {
        all || (!from_another_namespace(labels)
            && !owner_is_alive(labels::value(labels, labels::PID)))
    };
    remove_where(runtime, abandoned).await
}

/// What a new run sweeps before it starts: the leftovers of eider processes of this pid
/// namespace that are gone (a `kill -9`, a third Ctrl-C, a crash). Only what carries this
/// namespace's label is touched, so a live eider elsewhere never loses a container, and
/// nothing without eider's labels is ever looked at.
pub async fn sweep_abandoned<R: Runtime>(runtime: &R) -> CleanReport {
    let Some(namespace) = eider_process::pid_namespace() else {
        return CleanReport::default();
    };
    let abandoned = |labels: &Labels| {
        labels::value(labels, labels::PID_NAMESPACE) == Some(namespace)
            && !owner_is_alive(labels::value(labels, labels::PID))
    };
    remove_where(runtime, abandoned).await
}

/// Whether something was created by an eider of another pid namespace than this one.
fn from_another_namespace(labels: &Labels) -> bool {
    match labels::value(labels, labels::PID_NAMESPACE) {
        Some(namespace) => eider_process::pid_namespace() != Some(namespace),
        None => false,
    }
}

/// Removes what runs, then what stores, labelled by eider, for which `abandoned` holds.
async fn remove_where<R: Runtime>(runtime: &R, abandoned: impl Fn(&Labels) -> bool) -> CleanReport {
    let mut report = CleanReport::default();
    let resources = match runtime.list_labelled(labels::RUN_ID).await {
        Ok(resources) => resources,
        Err(error) => {
            report
                .errors
                .push(format!("cannot list what eider created: {error}"));
            return report;
        }
    };
    let (remove, keep): (Vec<Resource>, Vec<Resource>) = resources
        .into_iter()
        .partition(|resource| abandoned(&resource.labels));
    report.in_use += keep.len();
    for resource in remove {
        match runtime.remove_resource(&resource).await {
            Ok(()) => match resource.kind {
                ResourceKind::Workload => report.containers.push(resource.shown),
                ResourceKind::Storage => report.volumes.push(resource.shown),
            },
            Err(error) => report
                .errors
                .push(format!("{} {}: {error}", resource.noun, resource.shown)),
        }
    }
    report
}

/// Whether the process that created something still runs and is an eider. A recycled pid of
/// another program does not keep leftovers alive.
fn owner_is_alive(pid: Option<&str>) -> bool {
    let Some(pid) = pid.and_then(|pid| pid.parse::<u32>().ok()) else {
        return false;
    };
    if pid == std::process::id() {
        return true;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/comm")) {
        Ok(name) => name.trim() == "eider",
        Err(_) => false,
    }
}
