//! Content descriptors and platforms, as manifests and indexes list them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;

/// A reference to a blob: its media type, digest and size, with optional extras.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The blob's media type.
    pub media_type: String,
    /// The blob's digest.
    pub digest: Digest,
    /// The blob's size in bytes.
    pub size: u64,
    /// Other places the blob may be fetched from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// Annotations (e.g. `org.opencontainers.image.ref.name` in an image layout's index).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The blob's content, base64-encoded, when embedded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The platform of the manifest this points at (in an index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// The artifact type of the manifest this points at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

impl Descriptor {
    /// A descriptor with no extras.
    pub fn new(media_type: impl Into<String>, digest: Digest, size: u64) -> Self {
        Self {
            media_type: media_type.into(),
            digest,
            size,
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            data: None,
            platform: None,
            artifact_type: None,
        }
    }
}

/// An operating system and CPU architecture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// The CPU architecture, as Go names it (`amd64`, `arm64`).
    pub architecture: String,
    /// The operating system (`linux`).
    pub os: String,
    /// The operating system's version (Windows images).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Required operating system features.
    #[serde(rename = "os.features", default, skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
    /// The CPU variant (`v8` for arm64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// `os`/`architecture` without variant.
    pub fn new(os: impl Into<String>, architecture: impl Into<String>) -> Self {
        Self {
            architecture: architecture.into(),
            os: os.into(),
            os_version: None,
            os_features: Vec::new(),
            variant: None,
        }
    }

    /// `linux/amd64`, the platform eider packages for.
    #[must_use]
    pub fn linux_amd64() -> Self {
        Self::new("linux", "amd64")
    }

    /// Parses `OS/ARCHITECTURE[/VARIANT]`, the architecture in Go's names (`x86_64` is
    /// `amd64`, `aarch64` is `arm64`).
    pub fn parse(text: &str) -> Result<Self, PlatformError> {
        let parts: Vec<&str> = text.split('/').collect();
        let valid = |part: &&str| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
        };
        match parts.as_slice() {
            [os, architecture] | [os, architecture, _] if parts.iter().all(valid) => {
                let mut platform = Self::new(*os, normalize_architecture(architecture));
                platform.variant = parts.get(2).map(|variant| (*variant).to_owned());
                Ok(platform)
            }
            _ => Err(PlatformError {
                text: text.to_owned(),
            }),
        }
    }

    /// The architecture in Go's names, which image indexes use, whatever the text said.
    #[must_use]
    pub fn normalized_architecture(&self) -> &str {
        normalize_architecture(&self.architecture)
    }

    /// Whether `other` (a platform listed in an OCI layout's index) provides this one: same OS
    /// and architecture, and the same variant when this one names a variant. (A registry's
    /// index is read more leniently: see `eider-registry`.)
    #[must_use]
    pub fn is_provided_by(&self, other: &Platform) -> bool {
        self.os == other.os
            && self.architecture == other.architecture
            && (self.variant.is_none() || self.variant == other.variant)
    }
}

/// `OS/ARCHITECTURE[/VARIANT]`.
impl fmt::Display for Platform {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(formatter, "/{variant}")?;
        }
        Ok(())
    }
}

/// Maps the kernel's architecture names to Go's.
fn normalize_architecture(architecture: &str) -> &str {
    match architecture {
        "x86_64" | "x86-64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// A platform text that is not `OS/ARCHITECTURE[/VARIANT]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid platform `{text}`: expected OS/ARCHITECTURE[/VARIANT], e.g. linux/amd64")]
pub struct PlatformError {
    /// The text as given.
    pub text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_parse_and_display() {
        assert_eq!(
            Platform::parse("linux/amd64").expect("valid"),
            Platform::linux_amd64()
        );
        assert_eq!(
            Platform::parse("linux/arm64/v8")
                .expect("valid")
                .to_string(),
            "linux/arm64/v8"
        );
        assert_eq!(
            Platform::parse("linux/x86_64").expect("valid").architecture,
            "amd64"
        );
        for invalid in ["linux", "linux/", "a/b/c/d", "linux/amd 64"] {
            assert!(Platform::parse(invalid).is_err(), "{invalid}");
        }
    }
}
