//! Content digests (`sha256:<64 lowercase hex>`, the only algorithm images use in practice) and a
//! writer that hashes and counts what passes through it, so a digest and a size come out of the
//! same pass that writes the bytes.

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

/// The algorithm prefix of every digest this crate deals in.
const ALGORITHM_PREFIX: &str = "sha256:";

/// Hexadecimal characters in a SHA-256 digest.
const HEX_LENGTH: usize = 64;

/// A SHA-256 content digest, always valid: `sha256:` followed by 64 lowercase hexadecimal digits.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest {
    /// The 32 bytes of the hash.
    bytes: [u8; 32],
}

/// Why a string is not a digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// Another algorithm than SHA-256, or no algorithm at all.
    #[error("`{text}` is not a sha256 digest (expected `sha256:` and 64 lowercase hex digits)")]
    Algorithm {
        /// The text given.
        text: String,
    },
    /// The hexadecimal part is malformed.
    #[error(
        "`{text}` is not a valid sha256 digest: expected 64 lowercase hex digits after `sha256:`"
    )]
    Hex {
        /// The text given.
        text: String,
    },
}

impl Digest {
    /// The digest of `bytes`.
    #[must_use]
    pub fn of(bytes: &[u8]) -> Self {
        Self::from_hash(Sha256::digest(bytes).into())
    }

    /// Wraps the 32 bytes of a finished SHA-256 hash.
    #[must_use]
    pub fn from_hash(bytes: [u8; 32]) -> Self {
        Self { bytes }
    }

    /// The 32 bytes of the hash.
    #[must_use]
    pub fn hash(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The 64 lowercase hexadecimal digits, without the algorithm: the blob's file name.
    #[must_use]
    pub fn hex(&self) -> String {
        let mut text = String::with_capacity(HEX_LENGTH);
        for byte in self.bytes {
            text.push(hex_digit(byte >> 4));
            text.push(hex_digit(byte & 0x0f));
        }
        text
    }

    /// Parses `sha256:<64 lowercase hex>`; uppercase digits are refused because the digest is
    /// compared as a string everywhere else (registries, file names).
    pub fn parse(text: &str) -> Result<Self, DigestError> {
        let Some(hex) = text.strip_prefix(ALGORITHM_PREFIX) else {
            return Err(DigestError::Algorithm {
                text: text.to_owned(),
            });
        };
        Self::from_hex(hex).ok_or_else(|| DigestError::Hex {
            text: text.to_owned(),
        })
    }

    /// Parses the 64 hexadecimal digits alone (a blob file name).
    #[must_use]
    pub fn from_hex(hex: &str) -> Option<Self> {
        let digits = hex.as_bytes();
        if digits.len() != HEX_LENGTH {
            return None;
        }
        let mut bytes = [0_u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            *byte = (hex_value(pair[0])? << 4) | hex_value(pair[1])?;
        }
        Some(Self { bytes })
    }
}

fn hex_digit(value: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(value)])
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{ALGORITHM_PREFIX}{}", self.hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, formatter)
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// An incremental SHA-256 that also counts the bytes it has seen.
#[derive(Clone, Default)]
pub struct Hasher {
    state: Sha256,
    size: u64,
}

impl Hasher {
    /// A hasher that has seen nothing.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        self.state.update(bytes);
        self.size += bytes.len() as u64;
    }

    /// Bytes seen so far.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The digest and the size of everything seen.
    #[must_use]
    pub fn finish(self) -> (Digest, u64) {
        (Digest::from_hash(self.state.finalize().into()), self.size)
    }
}

/// A writer that hashes and counts every byte on its way to the inner writer.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Hasher,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Hasher::new(),
        }
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.hasher.size()
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The inner writer, the digest and the size of everything written.
    pub fn finish(self) -> (W, Digest, u64) {
        let (digest, size) = self.hasher.finish();
        (self.inner, digest, size)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        // Only what the inner writer accepted is hashed, so the digest matches the bytes written.
        let written = self.inner.write(buffer)?;
        self.hasher.update(&buffer[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn digest_of_nothing_is_the_well_known_one() {
        assert_eq!(Digest::of(b"").to_string(), EMPTY);
    }

    #[test]
    fn parse_round_trips() {
        let digest = Digest::parse(EMPTY).expect("valid");
        assert_eq!(digest.to_string(), EMPTY);
        assert_eq!(digest, Digest::of(b""));
        assert_eq!(
            Digest::from_hex(&digest.hex()).as_ref(),
            Some(&digest),
            "the hex part alone parses too"
        );
    }

    #[test]
    fn parse_refuses_other_algorithms_uppercase_and_wrong_lengths() {
        assert!(matches!(
            Digest::parse("sha512:abcd"),
            Err(DigestError::Algorithm { .. })
        ));
        assert!(matches!(
            Digest::parse(&EMPTY.to_uppercase().replace("SHA256", "sha256")),
            Err(DigestError::Hex { .. })
        ));
        assert!(matches!(
            Digest::parse(&EMPTY[..EMPTY.len() - 1]),
            Err(DigestError::Hex { .. })
        ));
        assert!(matches!(
            Digest::parse(&format!("{EMPTY}0")),
            Err(DigestError::Hex { .. })
        ));
        assert!(matches!(
            Digest::parse(&EMPTY.replace('e', "g")),
            Err(DigestError::Hex { .. })
        ));
    }

    #[test]
    fn serde_uses_the_string_form() {
        let digest = Digest::of(b"");
        let json = serde_json::to_string(&digest).expect("serializes");
        assert_eq!(json, format!("\"{EMPTY}\""));
        let back: Digest = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, digest);
        assert!(serde_json::from_str::<Digest>("\"md5:00\"").is_err());
    }

    #[test]
    fn hashing_writer_hashes_and_counts_what_it_writes() {
        let mut writer = HashingWriter::new(Vec::new());
        writer.write_all(b"hello ").expect("write");
        writer.write_all(b"world").expect("write");
        let (inner, digest, size) = writer.finish();
        assert_eq!(inner, b"hello world");
        assert_eq!(size, 11);
        assert_eq!(digest, Digest::of(b"hello world"));
    }
}
