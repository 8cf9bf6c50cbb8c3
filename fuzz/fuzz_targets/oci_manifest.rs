//! The in-memory OCI readers: manifests and indexes (with every kind of media type hint), image
//! configs, and a base image (manifest plus the config it names) assembled into a new image.
//! None of them panics on any bytes.
//!
//! The input is linked blobs (see `eider_fuzz::linked_blobs`): the root is the manifest and blob
//! 1 its config, so `@1` in the manifest is the config's real digest.

#![no_main]

use eider_fuzz::linked_blobs::LinkedBlobs;
use eider_oci::media_type::{DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST};
use eider_oci::{
    BaseImage, ConfigChanges, ImageConfiguration, ImageIndex, ImageManifest, ManifestFormat,
    ParsedManifest, assemble, parse_manifest,
};
use libfuzzer_sys::fuzz_target;

const HINTS: [Option<&str>; 6] = [
    None,
    Some(OCI_MANIFEST),
    Some(OCI_INDEX),
    Some(DOCKER_MANIFEST),
    Some(DOCKER_MANIFEST_LIST),
    Some("application/json"),
];

fuzz_target!(|input: &[u8]| {
    let linked = LinkedBlobs::from_input(input);
    for hint in HINTS {
        if let Ok(parsed) = parse_manifest(&linked.root, hint) {
            // What was read is written back as JSON that reads the same.
            match parsed {
                ParsedManifest::Image(manifest) => {
                    let bytes = serde_json::to_vec(&manifest).expect("a manifest serializes");
                    let again: ImageManifest = serde_json::from_slice(&bytes).expect("reads back");
                    assert_eq!(again, manifest);
                }
                ParsedManifest::Index(index) => {
                    let bytes = serde_json::to_vec(&index).expect("an index serializes");
                    let again: ImageIndex = serde_json::from_slice(&bytes).expect("reads back");
                    assert_eq!(again, index);
                }
            }
        }
    }
    let _ = serde_json::from_slice::<ImageConfiguration>(&linked.root);
    let Some((_, config)) = linked.blobs.first() else {
        return;
    };
    let Ok(base) = BaseImage::parse(&linked.root, config) else {
        return;
    };
    let changes = ConfigChanges::default();
    for format in [ManifestFormat::Oci, ManifestFormat::Docker] {
        let _ = assemble(&base, &[], &changes, 0, format);
    }
});
