//! The source image's manifests and configs, from the base's and the source layer alone: no
//! clock, no host, so the same base and tree always give the same digests.

use eider_oci::media_type::{self, OCI_INDEX};
use eider_oci::{
    AssembleError, AssembledImage, BaseImage, ConfigChanges, Descriptor, Digest, ImageIndex,
    LayerBlob, ManifestFormat, NewLayer, assemble,
};

use super::SOURCE_PATH_IN_IMAGE;

/// The annotation buildx puts on the manifests of an index that are attestations, not images.
const REFERENCE_TYPE_ANNOTATION: &str = "vnd.docker.reference.type";

/// The history entry of the source layer: the same words as a package's source layer.
#[must_use]
pub fn source_created_by() -> String {
    format!("eider: source at {SOURCE_PATH_IN_IMAGE}")
}

/// The base with the source layer on top. The base's config is kept as it is (the copier's
/// command is the Pod's to give); only `rootfs.diff_ids` and `history` grow, and every time is
/// `epoch`. OCI media types throughout: the base's Docker layers are the same bytes under their
/// OCI names.
pub fn compose_image(
    base: &BaseImage,
    layer: &LayerBlob,
    epoch: u64,
) -> Result<AssembledImage, AssembleError> {
    let new_layer = NewLayer {
        blob: layer.clone(),
        created_by: source_created_by(),
    };
    assemble(
        base,
        &[new_layer],
        &ConfigChanges::default(),
        epoch,
        ManifestFormat::Oci,
    )
}

/// Whether an entry of the base's index is an image to build on: an image manifest for a real
/// platform. Attestations (buildx lists them as images for `unknown/unknown`, annotated as
/// such), artifacts and nested indexes are left out.
#[must_use]
pub fn is_base_image_entry(entry: &Descriptor) -> bool {
    if !media_type::is_manifest(&entry.media_type) || entry.artifact_type.is_some() {
        return false;
    }
    if entry.annotations.contains_key(REFERENCE_TYPE_ANNOTATION) {
        return false;
    }
    entry
        .platform
        .as_ref()
        .is_none_or(|platform| platform.os != "unknown" && platform.architecture != "unknown")
}

/// An OCI index of the composed images, each listed with its base entry's platform, in the
/// base's order. Returns the index's bytes and descriptor.
#[must_use]
pub fn compose_index(images: &[(&Descriptor, &AssembledImage)]) -> (Vec<u8>, Descriptor) {
    let mut index = ImageIndex::new();
    for (base_entry, image) in images {
        let mut entry = image.manifest_descriptor.clone();
        entry.platform.clone_from(&base_entry.platform);
        index.manifests.push(entry);
    }
    // Serializing the index cannot fail: every map has string keys.
    let bytes = serde_json::to_vec(&index).unwrap_or_default();
    let descriptor = Descriptor::new(OCI_INDEX, Digest::of(&bytes), bytes.len() as u64);
    (bytes, descriptor)
}

/// The tag the image is pushed under: `source-` and the first 16 hex digits of its digest. A
/// tag keeps registries from collecting the image as garbage; deriving it from the digest makes
/// publishing the same tree twice a no-op and never moves a tag another run relies on.
#[must_use]
pub fn content_tag(digest: &Digest) -> String {
    let hex = digest.hex();
    format!("source-{}", &hex[..16.min(hex.len())])
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use eider_oci::image::ImageConfiguration;
    use eider_oci::{ImageManifest, ParsedManifest, Platform, parse_manifest};

    use super::*;

    fn base() -> BaseImage {
        let config = r#"{"architecture":"amd64","os":"linux","created":"2024-01-01T00:00:00Z",
            "config":{"Env":["PATH=/bin"],"Cmd":["sh"]},
            "rootfs":{"type":"layers","diff_ids":["sha256:1111111111111111111111111111111111111111111111111111111111111111"]},
            "history":[{"created":"2024-01-01T00:00:00Z","created_by":"busybox"}]}"#;
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{}","size":{}}},"layers":[{{"mediaType":"{}","digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","size":5}}]}}"#,
            media_type::DOCKER_MANIFEST,
            media_type::DOCKER_CONFIG,
            Digest::of(config.as_bytes()),
            config.len(),
            media_type::DOCKER_LAYER_GZIP,
        );
        BaseImage::parse(manifest.as_bytes(), config.as_bytes()).expect("base parses")
    }

    fn layer(content: &[u8]) -> LayerBlob {
        LayerBlob {
            diff_id: Digest::of(&[content, b"-tar"].concat()),
            digest: Digest::of(content),
            size: 42,
            media_type: media_type::OCI_LAYER_GZIP.to_owned(),
        }
    }

    fn manifest_of(image: &AssembledImage) -> ImageManifest {
        match parse_manifest(&image.manifest, None).expect("parses") {
            ParsedManifest::Image(manifest) => manifest,
            ParsedManifest::Index(_) => panic!("expected an image manifest"),
        }
    }

    fn entry(platform: Option<&str>) -> Descriptor {
        let mut entry = Descriptor::new(media_type::OCI_MANIFEST, Digest::of(b"entry"), 10);
        entry.platform = platform.map(|text| Platform::parse(text).expect("platform"));
        entry
    }

    #[test]
    fn the_image_is_the_base_with_the_source_layer_on_top() {
        let base = base();
        let image = compose_image(&base, &layer(b"tree"), 0).expect("composes");
        let manifest = manifest_of(&image);
        assert_eq!(manifest.layers.len(), 2);
        assert_eq!(manifest.layers[0].digest, base.manifest.layers[0].digest);
        assert_eq!(manifest.layers[0].media_type, media_type::OCI_LAYER_GZIP);
        assert_eq!(manifest.layers[1].digest, Digest::of(b"tree"));
        assert_eq!(manifest.config.digest, Digest::of(&image.config));

        let config: ImageConfiguration = serde_json::from_slice(&image.config).expect("config");
        assert_eq!(
            config.rootfs.diff_ids,
            [
                base.config.rootfs.diff_ids[0].clone(),
                layer(b"tree").diff_id
            ]
        );
        assert_eq!(config.history.len(), 2);
        assert_eq!(
            config.history[1].created_by.as_deref(),
            Some("eider: source at /eider/source")
        );
        assert_eq!(config.created.as_deref(), Some("1970-01-01T00:00:00Z"));
        let container = config.config.expect("container config");
        assert_eq!(container.cmd, Some(vec!["sh".to_owned()]));
        assert_eq!(container.env, ["PATH=/bin"]);
    }

    #[test]
    fn the_same_inputs_give_the_same_digest_and_another_tree_another() {
        let first = compose_image(&base(), &layer(b"tree"), 0).expect("composes");
        let again = compose_image(&base(), &layer(b"tree"), 0).expect("composes");
        assert_eq!(first, again);
        let changed = compose_image(&base(), &layer(b"other tree"), 0).expect("composes");
        assert_ne!(first.digest(), changed.digest());
    }

    #[test]
    fn attestations_artifacts_and_nested_indexes_are_not_built_on() {
        assert!(is_base_image_entry(&entry(Some("linux/amd64"))));
        assert!(is_base_image_entry(&entry(Some("linux/arm64/v8"))));
        assert!(is_base_image_entry(&entry(None)));
        assert!(!is_base_image_entry(&entry(Some("unknown/unknown"))));

        let mut attestation = entry(Some("linux/amd64"));
        attestation.annotations = BTreeMap::from([(
            REFERENCE_TYPE_ANNOTATION.to_owned(),
            "attestation-manifest".to_owned(),
        )]);
        assert!(!is_base_image_entry(&attestation));

        let mut artifact = entry(Some("linux/amd64"));
        artifact.artifact_type = Some("application/vnd.example+json".to_owned());
        assert!(!is_base_image_entry(&artifact));

        let mut nested = entry(Some("linux/amd64"));
        nested.media_type = media_type::OCI_INDEX.to_owned();
        assert!(!is_base_image_entry(&nested));
    }

    #[test]
    fn the_index_lists_each_image_with_its_base_platform_in_order() {
        let amd64 = entry(Some("linux/amd64"));
        let arm64 = entry(Some("linux/arm64/v8"));
        let first = compose_image(&base(), &layer(b"tree"), 0).expect("composes");
        let second = compose_image(&base(), &layer(b"tree"), 5).expect("composes");
        let (bytes, descriptor) = compose_index(&[(&amd64, &first), (&arm64, &second)]);
        assert_eq!(descriptor.digest, Digest::of(&bytes));
        assert_eq!(descriptor.media_type, media_type::OCI_INDEX);
        let ParsedManifest::Index(index) = parse_manifest(&bytes, None).expect("parses") else {
            panic!("expected an index");
        };
        assert_eq!(index.media_type.as_deref(), Some(media_type::OCI_INDEX));
        assert_eq!(index.manifests.len(), 2);
        assert_eq!(index.manifests[0].digest, *first.digest());
        assert_eq!(index.manifests[0].media_type, media_type::OCI_MANIFEST);
        assert_eq!(index.manifests[0].size, first.manifest.len() as u64);
        assert_eq!(index.manifests[0].platform, amd64.platform);
        assert_eq!(index.manifests[1].digest, *second.digest());
        assert_eq!(index.manifests[1].platform, arm64.platform);
        let (again, _) = compose_index(&[(&amd64, &first), (&arm64, &second)]);
        assert_eq!(bytes, again, "the index depends on its inputs alone");
    }

    #[test]
    fn the_tag_comes_from_the_digest() {
        let digest = Digest::of(b"image");
        let tag = content_tag(&digest);
        assert_eq!(tag, format!("source-{}", &digest.hex()[..16]));
        assert_eq!(tag.len(), "source-".len() + 16);
    }
}
