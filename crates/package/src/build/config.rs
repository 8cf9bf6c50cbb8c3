//! The package's config: the job's command and environment, and labels that say where the image
//! comes from and hold the job itself.

use std::collections::BTreeMap;

use eider_oci::ConfigChanges;

use super::base::Base;
use super::description::SidecarImage;
use super::error::PackageError;
use super::plan::Plan;
use crate::keys;

/// The config changes of `plan`'s package on `base`, with the source at `source_path`.
pub(super) fn config_changes(
    plan: &Plan<'_>,
    base: &Base,
    source_path: &str,
    sidecars: &[SidecarImage],
) -> Result<ConfigChanges, PackageError> {
    let primary = plan.primary;
    let provenance = &plan.provenance;
    let mut labels = BTreeMap::new();
    labels.insert(
        "org.opencontainers.image.title".to_owned(),
        plan.job.name.clone(),
    );
    labels.insert(
        "org.opencontainers.image.version".to_owned(),
        provenance.version.clone(),
    );
    labels.insert(
        "org.opencontainers.image.created".to_owned(),
        eider_oci::epoch_to_rfc3339(provenance.epoch),
    );
    if let Some(revision) = &provenance.revision {
        labels.insert(
            "org.opencontainers.image.revision".to_owned(),
            revision.clone(),
        );
    }
    if let Some(source) = &provenance.source {
        labels.insert("org.opencontainers.image.source".to_owned(), source.clone());
    }
    labels.insert(
        "org.opencontainers.image.base.name".to_owned(),
        base.name.clone(),
    );
    labels.insert(
        "org.opencontainers.image.base.digest".to_owned(),
        base.digest.to_string(),
    );
    labels.insert(keys::JOB.to_owned(), plan.job.name.clone());
    labels.insert(
        keys::DRAKEFILE_DIGEST.to_owned(),
        plan.drakefile_digest.clone(),
    );
    labels.insert(
        keys::JOB_DEFINITION.to_owned(),
        serde_json::to_string(plan.job).map_err(PackageError::Describe)?,
    );
    labels.insert(
        keys::SPEC_VERSION.to_owned(),
        plan.spec_version.as_str().to_owned(),
    );
    labels.insert(keys::SOURCE_DIRTY.to_owned(), provenance.dirty.to_string());
    labels.insert(keys::SOURCE_PATH.to_owned(), source_path.to_owned());
    if !sidecars.is_empty() {
        labels.insert(
            keys::SIDECARS.to_owned(),
            serde_json::to_string(sidecars).map_err(PackageError::Describe)?,
        );
    }
    Ok(ConfigChanges {
        entrypoint: primary.command.clone(),
        cmd: primary.args.clone(),
        env: primary
            .environment
            .iter()
            .map(|variable| (variable.name.clone(), variable.value.clone()))
            .collect(),
        working_dir: primary.working_directory.clone(),
        user: None,
        annotations: labels.clone(),
        labels,
    })
}
