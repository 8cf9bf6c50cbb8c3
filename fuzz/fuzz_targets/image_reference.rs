//! The small grammars of images: registry references (`[docker://][REGISTRY/]REPO[:TAG][@DIGEST]`,
//! as the Drakefile, the lock file and `--output` write them), digests, platforms and OCI layout
//! references (`oci:DIR[:TAG]`). None panics, and what parses prints as text that parses to the
//! same value.

#![no_main]

use eider_oci::{Digest, OciLayoutReference, Platform};
use eider_registry::Reference;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    if let Ok(reference) = Reference::parse(text) {
        let printed = reference.to_string();
        let again = Reference::parse(&printed).expect("a printed reference parses");
        assert_eq!(again, reference, "{text:?} printed as {printed:?}");
        if let Some(digest) = reference.digest() {
            assert_eq!(Digest::parse(&digest.to_string()).as_ref(), Ok(digest));
        }
    }
    if let Ok(digest) = Digest::parse(text) {
        assert_eq!(Digest::parse(&digest.to_string()).ok(), Some(digest));
    }
    if let Ok(platform) = Platform::parse(text) {
        let printed = platform.to_string();
        assert_eq!(
            Platform::parse(&printed).ok(),
            Some(platform),
            "{text:?} printed as {printed:?}"
        );
    }
    if let Ok(layout) = OciLayoutReference::parse(text) {
        let printed = layout.to_string();
        assert_eq!(OciLayoutReference::parse(&printed).ok(), Some(layout));
    }
});
