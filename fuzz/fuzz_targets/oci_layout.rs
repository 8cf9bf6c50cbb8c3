//! The OCI layout reader and the image verifier on a layout made of the input: `index.json` is
//! the root of the linked blobs (see `eider_fuzz::linked_blobs`), each blob is stored under its
//! digest. Opening, listing tags, resolving (by tag and alone) and verifying every blob as a
//! manifest, layers decompressed, never panic.

#![no_main]

use eider_fuzz::linked_blobs::LinkedBlobs;
use eider_oci::{OciLayout, Platform, VerifyOptions, verify_image};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let linked = LinkedBlobs::from_input(input);
    let directory = tempfile::tempdir().expect("a temporary directory");
    let root = camino::Utf8Path::from_path(directory.path()).expect("a UTF-8 temporary path");
    let layout = OciLayout::create(root).expect("a new layout");
    for (digest, bytes) in &linked.blobs {
        let (written, _) = layout.store().write(bytes).expect("a blob is written");
        assert_eq!(&written, digest);
    }
    std::fs::write(root.join("index.json"), &linked.root).expect("index.json is written");

    let layout = OciLayout::open(root).expect("the layout opens again");
    let platform = Platform::new("linux", "amd64");
    if let Ok(tags) = layout.tags() {
        for tag in tags.iter().take(2) {
            let _ = layout.resolve(Some(tag), &platform);
        }
    }
    let _ = layout.resolve(None, &platform);
    let _ = layout.resolve(Some("latest"), &platform);
    let options = VerifyOptions::default().with_diff_ids(true);
    for (digest, _) in &linked.blobs {
        let _ = verify_image(layout.store(), digest, &options);
    }
});
