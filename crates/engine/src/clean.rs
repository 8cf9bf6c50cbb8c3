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
/// with `all`): containers, then volumes (shared storage, copies of the source).
pub async fn clean<R: Runtime>(runtime: &R, all: bool) -> CleanReport {
    let mut report = CleanReport::default();
    let abandoned = |labels: &Labels| all || !owner_is_alive(labels::value(labels, labels::PID));
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
