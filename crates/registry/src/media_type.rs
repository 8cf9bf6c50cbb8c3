//! The manifest media types this client accepts, and how a manifest's type is told when the
//! registry's `Content-Type` does not say. The names themselves are `eider_oci_types`'.

use eider_oci_types::media_type::{OCI_INDEX, OCI_MANIFEST, is_index, is_manifest};
use serde::Deserialize;

/// The `Accept` header for manifest requests: every type this client can read.
pub(crate) const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// Whether `media_type` is a manifest type this client reads: an image manifest or an index,
/// OCI or Docker schema 2.
pub(crate) fn is_supported_manifest(media_type: &str) -> bool {
    is_manifest(media_type) || is_index(media_type)
}

/// The fields that tell a manifest's type.
#[derive(Deserialize)]
struct Shape {
    #[serde(rename = "mediaType")]
    media_type: Option<String>,
    manifests: Option<serde::de::IgnoredAny>,
    layers: Option<serde::de::IgnoredAny>,
}

/// The media type of a manifest: the registry's `Content-Type` when it names a manifest type,
/// else the document's own `mediaType`, else its shape (OCI documents may omit `mediaType`).
pub(crate) fn manifest_media_type(content_type: Option<&str>, body: &[u8]) -> Option<String> {
    let declared = content_type
        .map(|value| value.split(';').next().unwrap_or_default().trim())
        .filter(|value| !value.is_empty());
    if let Some(declared) = declared
        && is_supported_manifest(declared)
    {
        return Some(declared.to_owned());
    }
    let shape: Shape = serde_json::from_slice(body).ok()?;
    if let Some(media_type) = shape.media_type {
        return Some(media_type);
    }
    if shape.manifests.is_some() {
        return Some(OCI_INDEX.to_owned());
    }
    if shape.layers.is_some() {
        return Some(OCI_MANIFEST.to_owned());
    }
    // A type the registry declared that is not a manifest type (schema 1, an artifact).
    declared.map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use eider_oci_types::media_type::{DOCKER_MANIFEST, DOCKER_MANIFEST_LIST};

    use super::*;

    #[test]
    fn the_content_type_wins_when_it_names_a_manifest_type() {
        assert_eq!(
            manifest_media_type(
                Some("application/vnd.oci.image.index.v1+json; charset=utf-8"),
                b"{}"
            ),
            Some(OCI_INDEX.to_owned())
        );
    }

    #[test]
    fn a_generic_content_type_falls_back_to_the_document() {
        let body = br#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}"#;
        assert_eq!(
            manifest_media_type(Some("application/json"), body),
            Some(DOCKER_MANIFEST.to_owned())
        );
        assert_eq!(
            manifest_media_type(None, br#"{"schemaVersion":2,"manifests":[]}"#),
            Some(OCI_INDEX.to_owned())
        );
        assert_eq!(
            manifest_media_type(None, br#"{"schemaVersion":2,"config":{},"layers":[]}"#),
            Some(OCI_MANIFEST.to_owned())
        );
    }

    #[test]
    fn the_accept_header_names_every_type_read_and_nothing_else() {
        let accepted: Vec<&str> = MANIFEST_ACCEPT.split(", ").collect();
        assert_eq!(accepted.len(), 4);
        for media_type in [
            OCI_MANIFEST,
            OCI_INDEX,
            DOCKER_MANIFEST,
            DOCKER_MANIFEST_LIST,
        ] {
            assert!(accepted.contains(&media_type), "{media_type}");
            assert!(is_supported_manifest(media_type), "{media_type}");
        }
    }

    #[test]
    fn unknown_types_are_reported_as_declared() {
        let schema1 = "application/vnd.docker.distribution.manifest.v1+prettyjws";
        assert_eq!(
            manifest_media_type(Some(schema1), br#"{"schemaVersion":1}"#),
            Some(schema1.to_owned())
        );
        assert!(!is_supported_manifest(schema1));
        assert!(is_index(DOCKER_MANIFEST_LIST));
        assert!(!is_index(OCI_MANIFEST));
    }
}
