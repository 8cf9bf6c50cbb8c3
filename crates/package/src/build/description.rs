//! What was made and where it went, for scripts and CI (`eider package --json`).

use eider_oci::{AssembledImage, BuiltLayer, Digest};
use serde::Serialize;

use super::base::Base;
use super::plan::Plan;
use super::publish::Published;

/// A package, described.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Description {
    /// The manifest's digest: the package's identity.
    pub digest: Digest,
    /// The job packaged.
    pub job: String,
    /// Its version.
    pub version: String,
    /// The commit of the source, when in git.
    pub revision: Option<String>,
    /// Whether the tree had uncommitted changes.
    pub dirty: bool,
    /// Every timestamp of the image.
    pub created: String,
    /// The base image.
    pub base: BaseDescription,
    /// The config's digest (the image id in an engine).
    pub config: Digest,
    /// The manifest's media type.
    pub media_type: String,
    /// The manifest's size in bytes.
    pub size: u64,
    /// The layers eider added, bottom first.
    pub layers: Vec<LayerDescription>,
    /// The sidecars' images.
    pub sidecars: Vec<SidecarImage>,
    /// The version of the rules the bytes follow.
    pub normalization: u32,
    /// Where it was written.
    pub outputs: Vec<Published>,
}

/// The base image.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BaseDescription {
    /// As the Drakefile names it.
    pub image: String,
    /// Its digest (registry) or image id (local engine).
    pub digest: Digest,
}

/// A layer eider added.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerDescription {
    /// What it holds.
    pub created_by: String,
    /// The compressed blob's digest.
    pub digest: Digest,
    /// The uncompressed tar's digest.
    pub diff_id: Digest,
    /// The compressed size.
    pub size: u64,
    /// Entries in the tar.
    pub files: usize,
    /// Whether an earlier build's blob was reused.
    pub reused: bool,
}

/// A sidecar's image, recorded by digest (sidecars are not packaged); read back to run the job
/// from its package.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SidecarImage {
    /// The container.
    pub container: String,
    /// The image as the Drakefile names it.
    pub image: String,
    /// Its digest or image id.
    pub digest: Digest,
    /// What an engine runs to get exactly that image.
    pub pinned: String,
}

/// The description of `image`, made by `plan` on `base` with `layers`.
pub(super) fn describe(
    plan: &Plan<'_>,
    image: &AssembledImage,
    base: &Base,
    layers: &[(String, BuiltLayer)],
    sidecars: Vec<SidecarImage>,
    outputs: Vec<Published>,
) -> Description {
    Description {
        digest: image.digest().clone(),
        job: plan.job.name.clone(),
        version: plan.provenance.version.clone(),
        revision: plan.provenance.revision.clone(),
        dirty: plan.provenance.dirty,
        created: eider_oci::epoch_to_rfc3339(plan.provenance.epoch),
        base: BaseDescription {
            image: base.name.clone(),
            digest: base.digest.clone(),
        },
        config: image.config_descriptor.digest.clone(),
        media_type: image.manifest_descriptor.media_type.clone(),
        size: image.manifest_descriptor.size,
        layers: layers
            .iter()
            .map(|(created_by, built)| LayerDescription {
                created_by: created_by.clone(),
                digest: built.blob.digest.clone(),
                diff_id: built.blob.diff_id.clone(),
                size: built.blob.size,
                files: built.entries,
                reused: !matches!(built.reuse, eider_oci::Reuse::Built),
            })
            .collect(),
        sidecars,
        normalization: eider_oci::NORMALIZATION_VERSION,
        outputs,
    }
}
