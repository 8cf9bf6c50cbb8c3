//! A package's manifest and config read back from its store, and the labels eider wrote.

use std::collections::BTreeMap;

use eider_oci::{BlobStore, Digest, ImageConfiguration, ImageManifest};

use super::error::ReadError;

/// A package's manifest and config.
pub(super) struct PackageConfig {
    /// The manifest.
    pub manifest: ImageManifest,
    /// The config's bytes.
    pub config: Vec<u8>,
    /// The config's labels.
    pub labels: BTreeMap<String, String>,
}

/// Reads the manifest `manifest` of `store` and its config.
pub(super) fn read(store: &BlobStore, manifest: &Digest) -> Result<PackageConfig, ReadError> {
    let manifest_bytes = store.read(manifest, None).map_err(ReadError::Store)?;
    let parsed: ImageManifest = serde_json::from_slice(&manifest_bytes).map_err(ReadError::Json)?;
    let config = store
        .read(&parsed.config.digest, Some(parsed.config.size))
        .map_err(ReadError::Store)?;
    let configuration: ImageConfiguration =
        serde_json::from_slice(&config).map_err(ReadError::Json)?;
    let labels = configuration
        .config
        .map(|config| config.labels)
        .unwrap_or_default();
    Ok(PackageConfig {
        manifest: parsed,
        config,
        labels,
    })
}
