//! Image manifests and indexes, OCI or Docker schema 2 (the same shape under other media
//! types), and telling them apart when parsing a base image's manifest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::media_type;
use eider_oci_types::Descriptor;

/// An image manifest: a config and layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// [`media_type::OCI_MANIFEST`] or [`media_type::DOCKER_MANIFEST`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The artifact type, for artifacts that are not images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The image config.
    pub config: Descriptor,
    /// The layers, base first.
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to (signatures, attestations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An image index (or Docker manifest list): manifests, usually one per platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// [`media_type::OCI_INDEX`] or [`media_type::DOCKER_MANIFEST_LIST`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The artifact type, for artifacts that are not images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The manifests.
    pub manifests: Vec<Descriptor>,
    /// The manifest this one refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ImageIndex {
    /// An empty OCI index.
    #[must_use]
    pub fn new() -> Self {
        Self {
            schema_version: 2,
            media_type: Some(media_type::OCI_INDEX.to_owned()),
            artifact_type: None,
            manifests: Vec::new(),
            subject: None,
            annotations: BTreeMap::new(),
        }
    }
}

impl Default for ImageIndex {
    fn default() -> Self {
        Self::new()
    }
}

/// A parsed manifest: an image, or an index of images.
#[expect(
    clippy::large_enum_variant,
    reason = "parsed once per image and matched at once; boxing would only add noise"
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParsedManifest {
    /// An image manifest.
    Image(ImageManifest),
    /// An image index or manifest list.
    Index(ImageIndex),
}

/// Why bytes are not a usable manifest.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The JSON does not parse, or lacks a required field.
    #[error("the manifest is not valid JSON of a known kind")]
    Json(#[source] serde_json::Error),
    /// A Docker schema 1 manifest, or another schema version.
    #[error("manifest schema version {version} is not supported (only version 2 is)")]
    SchemaVersion {
        /// The version found.
        version: u64,
    },
    /// A media type that is neither a manifest nor an index.
    #[error("media type `{media_type}` is not an image manifest or index")]
    MediaType {
        /// The media type found.
        media_type: String,
    },
}

/// The fields that tell the kinds apart.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    schema_version: Option<u64>,
    media_type: Option<String>,
    manifests: Option<serde::de::IgnoredAny>,
}

/// Parses a manifest or index. The kind comes from the `mediaType` field, else from
/// `media_type_hint` (a registry's `Content-Type`), else from the presence of `manifests`.
pub fn parse_manifest(
    bytes: &[u8],
    media_type_hint: Option<&str>,
) -> Result<ParsedManifest, ManifestError> {
    let probe: Probe = serde_json::from_slice(bytes).map_err(ManifestError::Json)?;
    if let Some(version) = probe.schema_version
        && version != 2
    {
        return Err(ManifestError::SchemaVersion { version });
    }
    let media_type = probe
        .media_type
        .or_else(|| media_type_hint.map(str::to_owned));
    let is_index = match media_type.as_deref() {
        Some(kind) if media_type::is_index(kind) => true,
        Some(kind) if media_type::is_manifest(kind) => false,
        Some(media_type::DOCKER_MANIFEST_SCHEMA1 | media_type::DOCKER_MANIFEST_SCHEMA1_SIGNED) => {
            return Err(ManifestError::SchemaVersion { version: 1 });
        }
        // A registry's generic content type says nothing: look at the fields.
        Some("application/json") | None => probe.manifests.is_some(),
        Some(other) => {
            return Err(ManifestError::MediaType {
                media_type: other.to_owned(),
            });
        }
    };
    if is_index {
        serde_json::from_slice(bytes)
            .map(ParsedManifest::Index)
            .map_err(ManifestError::Json)
    } else {
        serde_json::from_slice(bytes)
            .map(ParsedManifest::Image)
            .map_err(ManifestError::Json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCKER: &str = r#"{
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1469,
            "digest": "sha256:0000000000000000000000000000000000000000000000000000000000000001"},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 10,
            "digest": "sha256:0000000000000000000000000000000000000000000000000000000000000002"}]
    }"#;

    const LIST: &str = r#"{
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests": [{"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "size": 528, "platform": {"architecture": "amd64", "os": "linux"},
            "digest": "sha256:0000000000000000000000000000000000000000000000000000000000000003"}]
    }"#;

    #[test]
    fn a_docker_manifest_parses_as_an_image() {
        let ParsedManifest::Image(manifest) =
            parse_manifest(DOCKER.as_bytes(), None).expect("parses")
        else {
            panic!("expected an image manifest");
        };
        assert_eq!(manifest.layers.len(), 1);
        assert_eq!(manifest.config.size, 1469);
    }

    #[test]
    fn a_manifest_list_parses_as_an_index() {
        let ParsedManifest::Index(index) = parse_manifest(LIST.as_bytes(), None).expect("parses")
        else {
            panic!("expected an index");
        };
        assert_eq!(
            index.manifests[0]
                .platform
                .as_ref()
                .map(|platform| platform.os.as_str()),
            Some("linux")
        );
    }

    #[test]
    fn without_a_media_type_the_fields_decide() {
        let oci_index = r#"{"schemaVersion": 2, "manifests": []}"#;
        assert!(matches!(
            parse_manifest(oci_index.as_bytes(), None),
            Ok(ParsedManifest::Index(_))
        ));
        let hinted = DOCKER.replace(
            "\"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",",
            "",
        );
        assert!(matches!(
            parse_manifest(hinted.as_bytes(), Some(media_type::OCI_MANIFEST)),
            Ok(ParsedManifest::Image(_))
        ));
    }

    #[test]
    fn schema_1_and_unknown_types_are_refused() {
        assert!(matches!(
            parse_manifest(br#"{"schemaVersion": 1, "fsLayers": []}"#, None),
            Err(ManifestError::SchemaVersion { version: 1 })
        ));
        assert!(matches!(
            parse_manifest(br#"{"schemaVersion": 2, "mediaType": "text/plain"}"#, None),
            Err(ManifestError::MediaType { .. })
        ));
        assert!(matches!(
            parse_manifest(b"not json", None),
            Err(ManifestError::Json(_))
        ));
    }

    #[test]
    fn serialization_is_compact_and_ordered() {
        let ParsedManifest::Image(manifest) =
            parse_manifest(DOCKER.as_bytes(), None).expect("parses")
        else {
            panic!("expected an image manifest");
        };
        let json =
            String::from_utf8(serde_json::to_vec(&manifest).expect("serializes")).expect("UTF-8");
        assert!(json.starts_with(
            r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"#
        ));
        assert!(!json.contains('\n'));
    }
}
