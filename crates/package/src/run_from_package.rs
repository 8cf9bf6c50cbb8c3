//! A job run from its package: the primary container runs the package's image, which holds the
//! source, so the source is not mounted into it; sidecars keep their images and mounts.

use drakefile::{Drakefile, Job, PullPolicy};
use eider_oci::Digest;

/// The Drakefile has no job of the package's name.
#[derive(Debug, thiserror::Error)]
#[error("the Drakefile has no job `{job}`")]
pub struct JobNotFound {
    /// The job.
    pub job: String,
}

/// Points the primary container of `job` of `drakefile` at the image whose id is `image` (the
/// engine already has it) and stops mounting the source into it.
pub fn use_package(
    drakefile: &mut Drakefile,
    job: &str,
    image: &Digest,
) -> Result<(), JobNotFound> {
    let Some(found) = drakefile
        .jobs
        .iter_mut()
        .find(|candidate| candidate.name == job)
    else {
        return Err(JobNotFound {
            job: job.to_owned(),
        });
    };
    run_from_package(found, image);
    Ok(())
}

/// Points the primary container of `job` at the image whose id is `image` and stops mounting
/// the source into it.
pub(crate) fn run_from_package(job: &mut Job, image: &Digest) {
    run_from_image(job, &image.to_string());
}

/// Points the primary container of `job` at `image`, which holds the source, and stops
/// mounting the source into it.
pub(crate) fn run_from_image(job: &mut Job, image: &str) {
    if let Some(primary) = job.containers.last_mut() {
        image.clone_into(&mut primary.image);
        primary.pull_policy = PullPolicy::IfNotPresent;
        primary.source_mount_path = None;
    }
}
