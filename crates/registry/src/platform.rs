//! Platforms (`linux/amd64`, `linux/arm64/v8`) and choosing an image index's manifest for one.

use std::fmt;

use serde::Deserialize;

use crate::media_type::is_supported_manifest;

/// The operating system, architecture and optional variant an image is built for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Platform {
    /// `linux`.
    pub os: String,
    /// `amd64`, `arm64`, ... (Go's names, as the OCI spec uses).
    pub architecture: String,
    /// `v8` for arm64, `v7` for arm, ...
    pub variant: Option<String>,
}

impl Platform {
    /// `linux/amd64`, the platform packages are built for.
    #[must_use]
    pub fn linux_amd64() -> Self {
        Self {
            os: "linux".to_owned(),
            architecture: "amd64".to_owned(),
            variant: None,
        }
    }

    /// Parses `OS/ARCHITECTURE[/VARIANT]`.
    pub fn parse(text: &str) -> Result<Self, PlatformError> {
        let parts: Vec<&str> = text.split('/').collect();
        let valid = |part: &&str| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
        };
        match parts.as_slice() {
            [os, architecture] | [os, architecture, _] if parts.iter().all(valid) => Ok(Self {
                os: (*os).to_owned(),
                architecture: normalize_architecture(architecture).to_owned(),
                variant: parts.get(2).map(|variant| (*variant).to_owned()),
            }),
            _ => Err(PlatformError {
                text: text.to_owned(),
            }),
        }
    }

    /// The variant with the architecture's default filled in, for comparisons (`arm64` is `v8`
    /// unless said otherwise, `arm` is `v7`, `amd64` is `v1`).
    fn effective_variant(&self) -> Option<&str> {
        self.variant
            .as_deref()
            .or(match self.architecture.as_str() {
                "arm64" => Some("v8"),
                "arm" => Some("v7"),
                "amd64" => Some("v1"),
                _ => None,
            })
    }

    fn same_system(&self, other: &Self) -> bool {
        self.os == other.os
            && normalize_architecture(&self.architecture)
                == normalize_architecture(&other.architecture)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(formatter, "/{variant}")?;
        }
        Ok(())
    }
}

/// Maps the kernel's architecture names to Go's, which image indexes use.
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

/// One manifest listed by an image index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    pub(crate) digest: String,
    pub(crate) media_type: Option<String>,
    pub(crate) platform: Option<Platform>,
}

/// The manifests an image index lists.
pub(crate) fn parse_index(body: &[u8]) -> Result<Vec<IndexEntry>, serde_json::Error> {
    #[derive(Deserialize)]
    struct Index {
        #[serde(default)]
        manifests: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        digest: String,
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        platform: Option<EntryPlatform>,
    }
    #[derive(Deserialize)]
    struct EntryPlatform {
        os: String,
        architecture: String,
        variant: Option<String>,
    }
    let index: Index = serde_json::from_slice(body)?;
    Ok(index
        .manifests
        .into_iter()
        .map(|entry| IndexEntry {
            digest: entry.digest,
            media_type: entry.media_type,
            platform: entry.platform.map(|platform| Platform {
                os: platform.os,
                architecture: platform.architecture,
                variant: platform.variant.filter(|variant| !variant.is_empty()),
            }),
        })
        .collect())
}

/// The entry for `wanted`: same OS and architecture, then the same variant (defaults filled
/// in), else, when `wanted` names no variant, the only or first entry for the architecture.
pub(crate) fn choose_manifest<'a>(
    entries: &'a [IndexEntry],
    wanted: &Platform,
) -> Option<&'a IndexEntry> {
    let candidates: Vec<(&IndexEntry, &Platform)> = entries
        .iter()
        .filter(|entry| {
            entry
                .media_type
                .as_deref()
                .is_none_or(is_supported_manifest)
        })
        .filter_map(|entry| Some((entry, entry.platform.as_ref()?)))
        .filter(|(_, platform)| platform.same_system(wanted))
        .collect();
    let exact = candidates
        .iter()
        .find(|(_, platform)| platform.effective_variant() == wanted.effective_variant());
    match exact {
        Some((entry, _)) => Some(entry),
        None if wanted.variant.is_none() && wanted.effective_variant().is_none() => {
            candidates.first().map(|(entry, _)| *entry)
        }
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(digest: &str, platform: &str) -> IndexEntry {
        IndexEntry {
            digest: digest.to_owned(),
            media_type: Some(crate::media_type::OCI_MANIFEST.to_owned()),
            platform: Some(Platform::parse(platform).expect("valid platform")),
        }
    }

    fn chosen(entries: &[IndexEntry], wanted: &str) -> Option<String> {
        choose_manifest(entries, &Platform::parse(wanted).expect("valid platform"))
            .map(|entry| entry.digest.clone())
    }

    #[test]
    fn the_matching_os_and_architecture_is_chosen() {
        let entries = [
            entry("arm", "linux/arm/v7"),
            entry("amd", "linux/amd64"),
            entry("win", "windows/amd64"),
        ];
        assert_eq!(chosen(&entries, "linux/amd64"), Some("amd".to_owned()));
        assert_eq!(chosen(&entries, "linux/s390x"), None);
    }

    #[test]
    fn variants_compare_with_their_defaults() {
        let entries = [
            entry("v6", "linux/arm/v6"),
            entry("v7", "linux/arm/v7"),
            entry("arm64", "linux/arm64/v8"),
        ];
        assert_eq!(chosen(&entries, "linux/arm"), Some("v7".to_owned()));
        assert_eq!(chosen(&entries, "linux/arm/v6"), Some("v6".to_owned()));
        assert_eq!(chosen(&entries, "linux/arm64"), Some("arm64".to_owned()));
        assert_eq!(chosen(&entries, "linux/aarch64"), Some("arm64".to_owned()));
    }

    #[test]
    fn amd64_without_variant_does_not_take_a_newer_microarchitecture() {
        let entries = [entry("v3", "linux/amd64/v3"), entry("v1", "linux/amd64")];
        assert_eq!(chosen(&entries, "linux/amd64"), Some("v1".to_owned()));
        assert_eq!(chosen(&entries, "linux/amd64/v3"), Some("v3".to_owned()));
        assert_eq!(
            chosen(&[entry("v3", "linux/amd64/v3")], "linux/amd64"),
            None
        );
    }

    #[test]
    fn attestations_and_entries_without_platform_are_skipped() {
        let index = br#"{"schemaVersion":2,"manifests":[
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:att",
             "platform":{"os":"unknown","architecture":"unknown"},
             "annotations":{"vnd.docker.reference.type":"attestation-manifest"}},
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:none"},
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:amd",
             "platform":{"os":"linux","architecture":"amd64","variant":""}}]}"#;
        let entries = parse_index(index).expect("valid index");
        assert_eq!(
            chosen(&entries, "linux/amd64"),
            Some("sha256:amd".to_owned())
        );
    }

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
        for invalid in ["linux", "linux/", "a/b/c/d", "linux/amd 64"] {
            assert!(Platform::parse(invalid).is_err(), "{invalid}");
        }
    }
}
