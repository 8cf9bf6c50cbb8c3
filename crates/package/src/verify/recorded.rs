//! The job a package holds, rebuilt from the labels `eider package` wrote (see
//! `build/config.rs`): its definition, its DrakeSpec version, and its sidecars at the digests
//! they were resolved to when it was packaged.

use drakefile::{Job, PullPolicy, SpecVersion};

use super::config;
use super::error::{RecordedJobProblem, VerifyError};
use super::open::Package;
use crate::build::SidecarImage;
use crate::keys;

/// What a package records of its job.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedJob {
    /// The job as packaged, its sidecars pinned to the images they were packaged with; the
    /// primary still names the image the package was built on.
    pub job: Job,
    /// The version of the Drakefile the job came from.
    pub spec_version: SpecVersion,
}

/// The version assumed for packages made before the version was recorded: the newest one
/// whose jobs ask for no platform, so that such a package runs as its image allows rather than
/// under a request its job never made.
const UNRECORDED_VERSION: SpecVersion = SpecVersion::V0_4_0;

impl Package {
    /// The job the package holds, as its labels record it.
    pub fn recorded_job(&self) -> Result<RecordedJob, VerifyError> {
        let labels = config::read(&self.store, &self.manifest)
            .map_err(VerifyError::Package)?
            .labels;
        self.recorded_job_of(&labels)
    }

    /// The job that `labels`, the package's, record.
    pub(super) fn recorded_job_of(
        &self,
        labels: &std::collections::BTreeMap<String, String>,
    ) -> Result<RecordedJob, VerifyError> {
        let invalid = |problem| VerifyError::InvalidJob {
            package: self.location.clone(),
            problem,
        };
        let Some(name) = labels.get(keys::JOB) else {
            return Err(VerifyError::NotAPackage {
                package: self.location.clone(),
            });
        };
        let Some(definition) = labels.get(keys::JOB_DEFINITION) else {
            return Err(invalid(RecordedJobProblem::NoDefinition));
        };
        let mut job = drakefile::read_recorded_job(definition)
            .map_err(|error| invalid(RecordedJobProblem::Definition(error)))?;
        if &job.name != name {
            return Err(invalid(RecordedJobProblem::OtherName {
                label: name.clone(),
                definition: job.name.clone(),
            }));
        }
        if job.primary().is_none() {
            return Err(invalid(RecordedJobProblem::NoContainers));
        }
        let spec_version = match labels.get(keys::SPEC_VERSION) {
            Some(text) => SpecVersion::from_written(text).ok_or_else(|| {
                invalid(RecordedJobProblem::Version {
                    version: text.clone(),
                })
            })?,
            None => UNRECORDED_VERSION,
        };
        let sidecars: Vec<SidecarImage> = match labels.get(keys::SIDECARS) {
            Some(text) => serde_json::from_str(text)
                .map_err(|error| invalid(RecordedJobProblem::Sidecars(error)))?,
            None => Vec::new(),
        };
        pin_sidecars(&mut job, &sidecars).map_err(invalid)?;
        Ok(RecordedJob { job, spec_version })
    }
}

/// Points every sidecar of `job` at the image it was packaged with. Each one must have been
/// recorded: a sidecar left at its tag could run another image than the one packaged.
fn pin_sidecars(job: &mut Job, recorded: &[SidecarImage]) -> Result<(), RecordedJobProblem> {
    let count = job.containers.len().saturating_sub(1);
    for sidecar in &mut job.containers[..count] {
        let Some(image) = recorded
            .iter()
            .find(|image| image.container == sidecar.name)
        else {
            return Err(RecordedJobProblem::UnpinnedSidecar {
                container: sidecar.name.clone(),
            });
        };
        sidecar.image.clone_from(&image.pinned);
        // The digest names the image exactly: a pull only when the engine lacks it.
        sidecar.pull_policy = PullPolicy::IfNotPresent;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        let parsed = drakefile::parse(
            "Drakefile.yaml",
            "specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  build:
    sidecarContainers:
    - name: db
      image: redis:7
      imagePullPolicy: Always
    primaryContainer:
      name: main
      image: busybox:1.36
",
        )
        .expect("valid");
        parsed.drakefile.jobs[0].clone()
    }

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn sidecars_run_the_images_they_were_packaged_with_and_the_primary_is_left_alone() {
        let mut job = job();
        let pinned = format!("docker.io/library/redis@{DIGEST}");
        let recorded = [SidecarImage {
            container: "db".to_owned(),
            image: "redis:7".to_owned(),
            digest: DIGEST.parse().expect("digest"),
            pinned: pinned.clone(),
        }];
        pin_sidecars(&mut job, &recorded).expect("pinned");
        assert_eq!(job.containers[0].image, pinned);
        assert_eq!(job.containers[0].pull_policy, PullPolicy::IfNotPresent);
        assert_eq!(job.containers[1].image, "busybox:1.36");
    }

    #[test]
    fn a_sidecar_without_a_recorded_image_is_refused() {
        let mut job = job();
        assert!(matches!(
            pin_sidecars(&mut job, &[]),
            Err(RecordedJobProblem::UnpinnedSidecar { container }) if container == "db"
        ));
    }
}
