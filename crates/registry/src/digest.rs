//! Content digests as the distribution API spells them (`sha256:<64 lowercase hex>`): checking
//! their form and computing them while bytes stream past.

use sha2::{Digest as _, Sha256};

/// The only algorithm this client computes and verifies; registries and the OCI image spec
/// use it for every manifest and blob eider deals with.
pub const SHA256_PREFIX: &str = "sha256:";

const HEX_LENGTH: usize = 64;

/// A digest string that is not `sha256:` followed by 64 lowercase hexadecimal digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid digest `{digest}`: expected `sha256:` followed by 64 lowercase hex digits")]
pub struct DigestError {
    /// The digest as given.
    pub digest: String,
}

/// Checks that `digest` is a well-formed `sha256:<hex>` digest.
pub fn validate_digest(digest: &str) -> Result<(), DigestError> {
    let well_formed = digest.strip_prefix(SHA256_PREFIX).is_some_and(|hex| {
        hex.len() == HEX_LENGTH
            && hex
                .bytes()
                .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
    });
    if well_formed {
        Ok(())
    } else {
        Err(DigestError {
            digest: digest.to_owned(),
        })
    }
}

/// The hexadecimal part of a digest already checked by [`validate_digest`].
pub(crate) fn digest_hex(digest: &str) -> &str {
    digest.strip_prefix(SHA256_PREFIX).unwrap_or(digest)
}

/// The `sha256:` digest of `bytes`.
#[must_use]
pub fn sha256_digest(bytes: &[u8]) -> String {
    let mut hasher = DigestHasher::new();
    hasher.update(bytes);
    hasher.finish()
}

/// Computes a `sha256:` digest and counts bytes over data that arrives in pieces.
#[derive(Clone, Default)]
pub(crate) struct DigestHasher {
    hasher: Sha256,
    length: u64,
}

impl DigestHasher {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.length += bytes.len() as u64;
    }

    /// How many bytes went through so far.
    pub(crate) fn length(&self) -> u64 {
        self.length
    }

    pub(crate) fn finish(self) -> String {
        let hash = self.hasher.finalize();
        let mut digest = String::with_capacity(SHA256_PREFIX.len() + HEX_LENGTH);
        digest.push_str(SHA256_PREFIX);
        for byte in &hash {
            digest.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
            digest.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
        }
        digest
    }
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_of_empty_input_is_the_well_known_one() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn hashing_in_pieces_gives_the_same_digest_and_length() {
        let mut hasher = DigestHasher::new();
        hasher.update(b"hello ");
        hasher.update(b"world");
        assert_eq!(hasher.length(), 11);
        assert_eq!(hasher.finish(), sha256_digest(b"hello world"));
    }

    #[test]
    fn well_formed_digests_are_accepted() {
        assert!(validate_digest(&sha256_digest(b"x")).is_ok());
    }

    #[test]
    fn malformed_digests_are_refused() {
        let upper = sha256_digest(b"x")
            .to_uppercase()
            .replace("SHA256", "sha256");
        for digest in [
            "",
            "sha256:",
            "sha256:abc",
            "sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            upper.as_str(),
        ] {
            let error = validate_digest(digest).expect_err(digest);
            assert_eq!(error.digest, digest);
        }
    }
}
