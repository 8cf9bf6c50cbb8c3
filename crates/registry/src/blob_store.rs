//! Where blobs live on disk: a directory laid out like an OCI image layout's blobs,
//! `ROOT/blobs/sha256/HEX`, shared with the packaging side.

use camino::{Utf8Path, Utf8PathBuf};

use crate::digest::{DigestError, digest_hex, validate_digest};

/// The file of blob `digest` in the store at `root`.
pub fn blob_path(root: &Utf8Path, digest: &str) -> Result<Utf8PathBuf, DigestError> {
    validate_digest(digest)?;
    Ok(blob_directory(root).join(digest_hex(digest)))
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
        let digest = crate::digest::sha256_digest(b"x");
        let path = blob_path(Utf8Path::new("/store"), &digest).expect("valid digest");
        assert_eq!(
            path,
            Utf8PathBuf::from(format!("/store/blobs/sha256/{}", &digest[7..]))
        );
        assert!(blob_path(Utf8Path::new("/store"), "sha256:../../etc").is_err());
    }
}
