//! What a job may do where it runs: the platform the backend runs. Checked before anything of
//! the job is created, so a refused job leaves nothing behind. (The permissions the user grants
//! are checked by `drakefile::check_permissions`.)

use drakefile::Refusal;
use eider_runtime::{Platform, PlatformRequest};

/// Refuses a job whose `osFamily` or `cpuArch` the backend cannot run. Versions without the
/// fields ask for nothing.
pub fn check_platform(
    job: &str,
    request: &PlatformRequest,
    platform: &Platform,
) -> Result<(), Refusal> {
    if let Some(os) = &request.os
        && os != &platform.os
    {
        return Err(Refusal {
            message: format!(
                "job `{job}` needs osFamily `{os}`, but the engine runs `{}` containers",
                platform.os
            ),
            hint: Some(format!("run it on an engine that runs {os} containers")),
        });
    }
    if let Some(architecture) = &request.architecture
        && architecture != &platform.architecture
    {
        return Err(Refusal {
            message: format!(
                "job `{job}` needs cpuArch `{architecture}`, but the engine runs `{}`",
                platform.architecture
            ),
            hint: Some(format!(
                "run it on an engine of architecture {architecture}"
            )),
        });
    }
    Ok(())
}
