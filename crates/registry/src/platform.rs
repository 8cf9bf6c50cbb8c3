//! Choosing an image index's manifest for a platform, the way registries' indexes are read:
//! architectures in Go's names, variants compared with their defaults filled in.

use eider_oci_types::Platform;
use serde::Deserialize;

use crate::media_type::is_supported_manifest;

/// The variant of `platform` with its architecture's default filled in, for comparisons
/// (`arm64` is `v8` unless said otherwise, `arm` is `v7`, `amd64` is `v1`).
fn effective_variant(platform: &Platform) -> Option<&str> {
    platform
        .variant
        .as_deref()
        .or(match platform.architecture.as_str() {
            "arm64" => Some("v8"),
            "arm" => Some("v7"),
            "amd64" => Some("v1"),
            _ => None,
        })
}

/// Whether two platforms have the same OS and architecture (in Go's names).
fn same_system(one: &Platform, other: &Platform) -> bool {
    one.os == other.os && one.normalized_architecture() == other.normalized_architecture()
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
            platform: entry.platform.map(|platform| {
                let mut parsed = Platform::new(platform.os, platform.architecture);
                parsed.variant = platform.variant.filter(|variant| !variant.is_empty());
                parsed
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
        .filter(|(_, platform)| same_system(platform, wanted))
        .collect();
    let exact = candidates
        .iter()
        .find(|(_, platform)| effective_variant(platform) == effective_variant(wanted));
    match exact {
        Some((entry, _)) => Some(entry),
        None if wanted.variant.is_none() && effective_variant(wanted).is_none() => {
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
            media_type: Some(eider_oci_types::media_type::OCI_MANIFEST.to_owned()),
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
}
