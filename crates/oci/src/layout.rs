//! OCI image layout directories (`oci:DIR[:TAG]`): writing an image into one, and reading one
//! as a base image source.
//!
//! A layout is a blob store plus `oci-layout` and `index.json`. Writing puts every blob in place
//! first (each under its final name only once complete) and replaces `index.json` last, through
//! a temporary file and a rename: a crash at any point leaves the previous index, which names
//! only blobs that are there.

use std::fmt;
use std::io;
use std::str::FromStr;

use camino::{Utf8Path, Utf8PathBuf};
use eider_regular_file::read_regular;

use crate::blob_store::{BlobStore, BlobStoreError, MAX_SMALL_BLOB, find_blob, write_atomically};
use crate::image::{
    AssembleError, AssembledImage, BaseImage, Descriptor, ImageIndex, ManifestError,
    ParsedManifest, Platform, parse_manifest,
};
use eider_oci_types::Digest;

/// The annotation that tags a manifest in a layout's index.
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// The file that marks a directory as a layout.
const LAYOUT_FILE: &str = "oci-layout";

/// Its content: the only layout version there is.
const LAYOUT_CONTENT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

/// The layout's index.
const INDEX_FILE: &str = "index.json";

/// Indexes nested deeper than this are refused (a loop of indexes would never end).
const MOST_NESTED_INDEXES: usize = 4;

/// `DIR[:TAG]`, the part after `oci:`. The directory cannot contain `:` (as with skopeo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciLayoutReference {
    /// The layout directory.
    pub directory: Utf8PathBuf,
    /// The tag (`org.opencontainers.image.ref.name`), if any.
    pub tag: Option<String>,
}

impl OciLayoutReference {
    /// Parses `DIR[:TAG]`.
    pub fn parse(text: &str) -> Result<Self, LayoutError> {
        let invalid = |problem: &'static str| LayoutError::Reference {
            text: text.to_owned(),
            problem,
        };
        let (directory, tag) = match text.split_once(':') {
            Some((directory, tag)) => (directory, Some(tag)),
            None => (text, None),
        };
        if directory.is_empty() {
            return Err(invalid("the directory is empty"));
        }
        if let Some(tag) = tag
            && !is_valid_ref_name(tag)
        {
            return Err(invalid(
                "the tag must be letters and digits separated by one of `-._:@+`, `--` or `/`",
            ));
        }
        Ok(Self {
            directory: Utf8PathBuf::from(directory),
            tag: tag.map(str::to_owned),
        })
    }
}

impl FromStr for OciLayoutReference {
    type Err = LayoutError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for OciLayoutReference {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.tag {
            Some(tag) => write!(formatter, "{}:{tag}", self.directory),
            None => write!(formatter, "{}", self.directory),
        }
    }
}

/// The grammar of `org.opencontainers.image.ref.name`: components of letters and digits joined
/// by single separators (`-._:@+`) or `--`, components joined by `/`.
fn is_valid_ref_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('/').all(|component| {
            let bytes = component.as_bytes();
            let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
                return false;
            };
            if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
                return false;
            }
            let mut separators = 0;
            for (position, byte) in bytes.iter().enumerate() {
                if byte.is_ascii_alphanumeric() {
                    separators = 0;
                } else if b"-._:@+".contains(byte) {
                    separators += 1;
                    let double_dash =
                        separators == 2 && bytes[position - 1] == b'-' && *byte == b'-';
                    if separators > 1 && !double_dash {
                        return false;
                    }
                } else {
                    return false;
                }
            }
            true
        })
}

/// Why a layout cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// `DIR[:TAG]` is malformed.
    #[error("`{text}` is not a valid OCI layout reference: {problem}")]
    Reference {
        /// The text given.
        text: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// The directory has no `oci-layout` file.
    #[error("{directory} is not an OCI image layout (it has no `oci-layout` file)")]
    NotALayout {
        /// The directory.
        directory: Utf8PathBuf,
    },
    /// A layout file could not be read or written.
    #[error("cannot {action} {path}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// `index.json` is not a valid index.
    #[error("{path} is not a valid image index")]
    Index {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// No manifest has the tag.
    #[error(
        "no image is tagged `{tag}` in {directory} (tags: {})",
        list(available)
    )]
    NoSuchTag {
        /// The tag asked for.
        tag: String,
        /// The layout.
        directory: Utf8PathBuf,
        /// The tags there are.
        available: Vec<String>,
    },
    /// No tag given, and the layout does not hold exactly one image.
    #[error(
        "{directory} holds {count} images: name one with `DIR:TAG` (tags: {})",
        list(available)
    )]
    Ambiguous {
        /// The layout.
        directory: Utf8PathBuf,
        /// How many manifests it lists.
        count: usize,
        /// The tags there are.
        available: Vec<String>,
    },
    /// An index has no manifest for the platform.
    #[error(
        "the image index {digest} has no manifest for {platform} (it has: {})",
        list(available)
    )]
    NoPlatform {
        /// The index.
        digest: Digest,
        /// The platform asked for, `os/architecture[/variant]`.
        platform: String,
        /// The platforms listed.
        available: Vec<String>,
    },
    /// Indexes nest too deeply.
    #[error("image indexes nest more than {MOST_NESTED_INDEXES} deep at {digest}")]
    TooDeep {
        /// The index where the limit was reached.
        digest: Digest,
    },
    /// A manifest does not parse.
    #[error("manifest {digest} is not usable")]
    Manifest {
        /// The manifest.
        digest: Digest,
        /// Why.
        #[source]
        source: ManifestError,
    },
    /// The image's manifest and config do not fit together.
    #[error("image {digest} is not usable")]
    Image {
        /// The manifest.
        digest: Digest,
        /// Why.
        #[source]
        source: AssembleError,
    },
    /// The blob store failed.
    #[error(transparent)]
    Store(#[from] BlobStoreError),
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// An image read from a layout: the manifest and config bytes as stored, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedImage {
    /// The manifest's descriptor (its digest identifies the image).
    pub manifest_descriptor: Descriptor,
    /// The manifest's bytes.
    pub manifest: Vec<u8>,
    /// The config's bytes.
    pub config: Vec<u8>,
    /// Both, parsed: ready to be a base.
    pub base: BaseImage,
}

/// An OCI image layout directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciLayout {
    store: BlobStore,
}

impl OciLayout {
    /// Opens an existing layout.
    pub fn open(directory: impl Into<Utf8PathBuf>) -> Result<Self, LayoutError> {
        let store = BlobStore::new(directory);
        let marker = store.root().join(LAYOUT_FILE);
        if !marker.is_file() {
            return Err(LayoutError::NotALayout {
                directory: store.root().to_owned(),
            });
        }
        Ok(Self { store })
    }

    /// Opens a layout, creating the directory, `blobs/sha256` and `oci-layout` when missing.
    pub fn create(directory: impl Into<Utf8PathBuf>) -> Result<Self, LayoutError> {
        let store = BlobStore::create(directory)?;
        let marker = store.root().join(LAYOUT_FILE);
        if !marker.is_file() {
            write_atomically(&marker, LAYOUT_CONTENT).map_err(|source| LayoutError::Io {
                action: "write",
                path: marker.clone(),
                source,
            })?;
        }
        Ok(Self { store })
    }

    /// The layout directory.
    #[must_use]
    pub fn directory(&self) -> &Utf8Path {
        self.store.root()
    }

    /// The layout's blobs.
    #[must_use]
    pub fn store(&self) -> &BlobStore {
        &self.store
    }

    fn index_path(&self) -> Utf8PathBuf {
        self.store.root().join(INDEX_FILE)
    }

    /// The layout's index (empty when there is no `index.json` yet). Anything but a regular
    /// file of at most [`MAX_SMALL_BLOB`] bytes is refused unread.
    pub fn index(&self) -> Result<ImageIndex, LayoutError> {
        let path = self.index_path();
        let bytes = match read_regular(&path, MAX_SMALL_BLOB) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Ok(ImageIndex::new());
            }
            Err(source) => {
                return Err(LayoutError::Io {
                    action: "read",
                    path,
                    source,
                });
            }
        };
        serde_json::from_slice(&bytes).map_err(|source| LayoutError::Index { path, source })
    }

    /// The tags in the index, in index order.
    pub fn tags(&self) -> Result<Vec<String>, LayoutError> {
        Ok(tags_of(&self.index()?))
    }

    /// Writes `image` into the layout: the layers (copied from the first of
    /// `sources` that has each), the config and the manifest, then the index, where the
    /// manifest replaces any entry with the same tag (or, untagged, with the same digest).
    pub fn write_image(
        &self,
        image: &AssembledImage,
        tag: Option<&str>,
        sources: &[&BlobStore],
    ) -> Result<(), LayoutError> {
        if let Some(tag) = tag
            && !is_valid_ref_name(tag)
        {
            return Err(LayoutError::Reference {
                text: tag.to_owned(),
                problem: "the tag must be letters and digits separated by one of `-._:@+`, `--` or `/`",
            });
        }
        for layer in &image.layers {
            let source = find_blob(sources, &layer.digest, layer.size)?;
            self.store.import(source, &layer.digest, layer.size)?;
        }
        image.write_to(&self.store)?;

        let mut index = self.index()?;
        let mut entry = image.manifest_descriptor.clone();
        match tag {
            Some(tag) => {
                index
                    .manifests
                    .retain(|existing| ref_name(existing) != Some(tag));
                entry
                    .annotations
                    .insert(REF_NAME_ANNOTATION.to_owned(), tag.to_owned());
            }
            None => index
                .manifests
                .retain(|existing| ref_name(existing).is_some() || existing.digest != entry.digest),
        }
        index.manifests.push(entry);
        let bytes = serde_json::to_vec(&index).map_err(|source| LayoutError::Index {
            path: self.index_path(),
            source,
        })?;
        write_atomically(&self.index_path(), &bytes).map_err(|source| LayoutError::Io {
            action: "write",
            path: self.index_path(),
            source,
        })
    }

    /// Finds the image tagged `tag` (or the only image, without a tag) and, when that is an
    /// index, the manifest for `platform` in it.
    pub fn resolve(
        &self,
        tag: Option<&str>,
        platform: &Platform,
    ) -> Result<ResolvedImage, LayoutError> {
        let index = self.index()?;
        let available = tags_of(&index);
        let descriptor = match tag {
            Some(tag) => index
                .manifests
                .iter()
                .find(|entry| ref_name(entry) == Some(tag))
                .ok_or_else(|| LayoutError::NoSuchTag {
                    tag: tag.to_owned(),
                    directory: self.directory().to_owned(),
                    available: available.clone(),
                })?,
            None => match index.manifests.as_slice() {
                [only] => only,
                entries => {
                    return Err(LayoutError::Ambiguous {
                        directory: self.directory().to_owned(),
                        count: entries.len(),
                        available,
                    });
                }
            },
        };
        self.resolve_descriptor(descriptor.clone(), platform, 0)
    }

    fn resolve_descriptor(
        &self,
        descriptor: Descriptor,
        platform: &Platform,
        depth: usize,
    ) -> Result<ResolvedImage, LayoutError> {
        let digest = descriptor.digest.clone();
        let bytes = self.store.read(&digest, Some(descriptor.size))?;
        let parsed = parse_manifest(&bytes, Some(&descriptor.media_type)).map_err(|source| {
            LayoutError::Manifest {
                digest: digest.clone(),
                source,
            }
        })?;
        match parsed {
            ParsedManifest::Image(manifest) => {
                let config = self
                    .store
                    .read(&manifest.config.digest, Some(manifest.config.size))?;
                let base = BaseImage::parse(&bytes, &config)
                    .map_err(|source| LayoutError::Image { digest, source })?;
                Ok(ResolvedImage {
                    manifest_descriptor: descriptor,
                    manifest: bytes,
                    config,
                    base,
                })
            }
            ParsedManifest::Index(index) => {
                if depth >= MOST_NESTED_INDEXES {
                    return Err(LayoutError::TooDeep { digest });
                }
                let chosen = index.manifests.iter().find(|entry| {
                    entry
                        .platform
                        .as_ref()
                        .is_some_and(|listed| platform.is_provided_by(listed))
                });
                let Some(chosen) = chosen else {
                    return Err(LayoutError::NoPlatform {
                        digest,
                        platform: platform.to_string(),
                        available: index
                            .manifests
                            .iter()
                            .filter_map(|entry| entry.platform.as_ref().map(ToString::to_string))
                            .collect(),
                    });
                };
                self.resolve_descriptor(chosen.clone(), platform, depth + 1)
            }
        }
    }
}

fn ref_name(descriptor: &Descriptor) -> Option<&str> {
    descriptor
        .annotations
        .get(REF_NAME_ANNOTATION)
        .map(String::as_str)
}

fn tags_of(index: &ImageIndex) -> Vec<String> {
    index
        .manifests
        .iter()
        .filter_map(|entry| ref_name(entry).map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_at_the_first_colon() {
        let reference = OciLayoutReference::parse("out/image:v1.2").expect("valid");
        assert_eq!(reference.directory, "out/image");
        assert_eq!(reference.tag.as_deref(), Some("v1.2"));
        let reference = OciLayoutReference::parse("out").expect("valid");
        assert_eq!(reference.tag, None);
        assert_eq!(reference.to_string(), "out");
        let reference = OciLayoutReference::parse("out:registry/app:1").expect("valid");
        assert_eq!(reference.tag.as_deref(), Some("registry/app:1"));
    }

    #[test]
    fn malformed_references_are_refused() {
        for text in [
            "", ":tag", "out:", "out:-x", "out:a..b", "out:a b", "out:a//b",
        ] {
            assert!(
                matches!(
                    OciLayoutReference::parse(text),
                    Err(LayoutError::Reference { .. })
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn ref_names_follow_the_specification_grammar() {
        for valid in ["latest", "v1.0", "a--b", "a-b_c.d", "r/app:1", "x@y+z"] {
            assert!(is_valid_ref_name(valid), "{valid}");
        }
        for invalid in ["", "a---b", "a.-b", ".a", "a.", "a/", "a/b/", "ü"] {
            assert!(!is_valid_ref_name(invalid), "{invalid}");
        }
    }
}
