//! What a job may do on this machine: permissions the user grants and platforms the engine runs.
//! Checked before anything of the job is created, so a refused job leaves nothing behind.

use drakefile::{Job, OsFamily, SpecVersion};
use eider_runtime::Platform;

use crate::options::RunSettings;

/// Why a job may not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What is refused.
    pub message: String,
    /// How to allow it.
    pub hint: Option<String>,
}

/// Refuses `privileged` and `mountDockerSocket` unless the user allowed them: never a silent
/// downgrade, as the DrakeSpec says.
pub fn check_permissions(job: &Job, options: &RunSettings) -> Result<(), Refusal> {
    for container in &job.containers {
        if container.privileged && !options.allow_privileged {
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
        if container.mount_docker_socket && !options.allow_docker_socket {
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

/// Refuses a job whose `osFamily` or `cpuArch` the engine cannot run. Versions
/// without the field are not checked: their jobs never asked for a platform.
pub fn check_platform(job: &Job, version: SpecVersion, platform: &Platform) -> Result<(), Refusal> {
    if job.containers.is_empty() {
        return Ok(());
    }
    let os = match job.os_family {
        OsFamily::Linux => "linux",
        OsFamily::Windows => "windows",
    };
    if version >= SpecVersion::V0_5_0 && os != platform.os {
        return Err(Refusal {
            message: format!(
                "job `{}` needs osFamily `{os}`, but the engine runs `{}` containers",
                job.name, platform.os
            ),
            hint: Some(format!("run it on an engine that runs {os} containers")),
        });
    }
    if version >= SpecVersion::V0_6_0 && job.cpu_arch != platform.architecture {
        return Err(Refusal {
            message: format!(
                "job `{}` needs cpuArch `{}`, but the engine runs `{}`",
                job.name, job.cpu_arch, platform.architecture
            ),
            hint: Some(format!(
                "run it on an engine of architecture {}",
                job.cpu_arch
            )),
        });
    }
    Ok(())
}
