//! Where blobs live on disk: a directory laid out like an OCI image layout's blobs,
//! `ROOT/blobs/sha256/HEX`, shared with the packaging side.

use camino::{Utf8Path, Utf8PathBuf};

use eider_oci_types::Digest;

/// The file of blob `digest` in the store at `root`.
#[must_use]
pub fn blob_path(root: &Utf8Path, digest: &Digest) -> Utf8PathBuf {
    blob_directory(root).join(digest.hex())
}

/// The directory holding the store's sha256 blobs.
#[must_use]
pub fn blob_directory(root: &Utf8Path) -> Utf8PathBuf {
    root.join("blobs").join("sha256")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_named_by_their_hex_digest() {
        let digest = Digest::of(b"x");
        let path = blob_path(Utf8Path::new("/store"), &digest);
        assert_eq!(
            path,
            Utf8PathBuf::from(format!("/store/blobs/sha256/{}", digest.hex()))
        );
    }
}
