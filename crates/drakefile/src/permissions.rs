//! What a job may do on this machine: the permissions the user grants. The DrakeSpec has
//! executors refuse `privileged` and `mountDockerSocket` unless allowed, never downgrade them
//! silently.

use crate::Job;

/// What the user allowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Permissions {
    /// Whether `privileged: true` is honored.
    pub privileged: bool,
    /// Whether `mountDockerSocket: true` is honored.
    pub docker_socket: bool,
}

/// Why a job may not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What is refused.
    pub message: String,
    /// How to allow it.
    pub hint: Option<String>,
}

/// Refuses the first container of `job` that asks for what `allowed` does not grant.
pub fn check_permissions(job: &Job, allowed: Permissions) -> Result<(), Refusal> {
    for container in &job.containers {
        if container.privileged && !allowed.privileged {
            return Err(Refusal {
                message: format!(
                    "job `{}`: container `{}` asks to run privileged, which is not allowed",
                    job.name, container.name
                ),
                hint: Some(
                    "a privileged container can take over this machine; if you trust this \
                     Drakefile, pass --allow-privileged (or set allow-privileged = true in the \
                     eider config file)"
                        .to_owned(),
                ),
            });
        }
        if container.mount_docker_socket && !allowed.docker_socket {
            return Err(Refusal {
                message: format!(
                    "job `{}`: container `{}` asks for the Docker socket, which is not allowed",
                    job.name, container.name
                ),
                hint: Some(
                    "the Docker socket gives full control of the engine; if you trust this \
                     Drakefile, pass --allow-docker-socket (or set allow-docker-socket = true in \
                     the eider config file)"
                        .to_owned(),
                ),
            });
        }
    }
    Ok(())
}
