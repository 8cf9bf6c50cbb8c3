//! Finding and removing what eider created: after an interrupted run (by its id), and after a
//! crashed eider (`eider clean`: everything whose creating process is gone).

use eider_runtime::{ContainerId, Labels, Runtime};

use crate::labels;

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

/// Removes every container and volume labelled with `run_id`; returns the errors.
pub async fn sweep_run<R: Runtime>(runtime: &R, run_id: &str) -> Vec<String> {
    let filter = format!("{}={run_id}", labels::RUN_ID);
    let mut errors = Vec::new();
    match runtime.list_containers(&filter).await {
        Ok(containers) => {
            for (id, _) in containers {
                if let Err(error) = runtime.remove_container(&id).await {
                    errors.push(format!("cannot remove container {id}: {error}"));
                }
            }
        }
        Err(error) => errors.push(format!("cannot list containers: {error}")),
    }
    match runtime.list_volumes(&filter).await {
        Ok(volumes) => {
            for (name, _) in volumes {
                if let Err(error) = runtime.remove_volume(&name).await {
                    errors.push(format!("cannot remove volume {name}: {error}"));
                }
            }
        }
        Err(error) => errors.push(format!("cannot list volumes: {error}")),
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

/// Removes the containers, then the volumes, labelled by eider for which `abandoned` holds.
async fn remove_where<R: Runtime>(runtime: &R, abandoned: impl Fn(&Labels) -> bool) -> CleanReport {
    let mut report = CleanReport::default();
    match runtime.list_containers(labels::RUN_ID).await {
        Ok(containers) => {
            let (remove, keep): (Vec<(ContainerId, Labels)>, Vec<_>) = containers
                .into_iter()
                .partition(|(_, labels)| abandoned(labels));
            report.in_use += keep.len();
            for (id, _) in remove {
                match runtime.remove_container(&id).await {
                    Ok(()) => report.containers.push(id.to_string()),
                    Err(error) => report.errors.push(format!("container {id}: {error}")),
                }
            }
        }
        Err(error) => report
            .errors
            .push(format!("cannot list containers: {error}")),
    }
    match runtime.list_volumes(labels::RUN_ID).await {
        Ok(volumes) => {
            for (name, labels) in volumes {
                if !abandoned(&labels) {
                    report.in_use += 1;
                    continue;
                }
                match runtime.remove_volume(&name).await {
                    Ok(()) => report.volumes.push(name),
                    Err(error) => report.errors.push(format!("volume {name}: {error}")),
                }
            }
        }
        Err(error) => report.errors.push(format!("cannot list volumes: {error}")),
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
