//! Reading manifests: by tag or digest, with the digest verified (or computed, for a tag), an
//! image index resolved to one platform's manifest, and a cheap `HEAD` that turns a tag into a
//! digest for lock files.

use bytes::Bytes;
use eider_oci_types::media_type::is_index;
use eider_oci_types::{Digest, Platform};
use reqwest::header::{self, HeaderValue};
use reqwest::{Method, StatusCode};

use crate::auth::Access;
use crate::client::RegistryClient;
use crate::media_type::{MANIFEST_ACCEPT, is_supported_manifest, manifest_media_type};
use crate::platform::{choose_manifest, parse_index};
use crate::reference::Reference;
use crate::request_error::RequestError;
use crate::retry::with_retries;
use crate::transport::Exchange;

/// The distribution reference implementation's limit; a larger "manifest" is not one.
const MAX_MANIFEST_SIZE: u64 = 4 * 1024 * 1024;

/// The header registries put a manifest's digest in.
const CONTENT_DIGEST: &str = "docker-content-digest";

/// A manifest exactly as the registry served it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The bytes; the digest is over these, so they are never re-serialized.
    pub bytes: Bytes,
    /// The media type.
    pub media_type: String,
    /// The digest of the bytes.
    pub digest: Digest,
}

impl Manifest {
    /// Whether this is an image index (or a Docker manifest list).
    #[must_use]
    pub fn is_index(&self) -> bool {
        is_index(&self.media_type)
    }
}

/// One platform's image manifest, and the index it was chosen from when the reference named one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledManifest {
    /// The image manifest.
    pub manifest: Manifest,
    /// The index (or manifest list) the reference pointed at, if it pointed at one.
    pub index: Option<Manifest>,
}

impl RegistryClient {
    /// Fetches the manifest `reference` points at, index or image manifest alike. A digest in the
    /// reference is verified; for a tag, the digest is computed (and checked against the
    /// registry's `Docker-Content-Digest` when it sends one).
    pub async fn fetch_manifest(&self, reference: &Reference) -> Result<Manifest, ManifestError> {
        let access = Access::pull(reference.registry(), reference.repository().name());
        let request_error = |source| ManifestError::Request {
            reference: reference.to_string(),
            source,
        };
        let url = self.manifest_url(reference).map_err(request_error)?;
        let (bytes, content_type, header_digest) = with_retries(
            &self.options.retry,
            |_attempt| async {
                let exchange = Exchange::new(Method::GET, url.clone(), &access)
                    .header(header::ACCEPT, HeaderValue::from_static(MANIFEST_ACCEPT));
                let response = self.transport.send(&exchange).await?;
                if response.status() != StatusCode::OK {
                    return Err(self.transport.status_error("GET", &url, response).await);
                }
                let content_type = header_text(&response, header::CONTENT_TYPE.as_str());
                let header_digest = header_text(&response, CONTENT_DIGEST);
                let bytes = self
                    .transport
                    .read_body(response, MAX_MANIFEST_SIZE, "GET", &url)
                    .await?;
                Ok((bytes, content_type, header_digest))
            },
            |_, _, _| {},
        )
        .await
        .map_err(request_error)?;

        let digest = Digest::of(&bytes);
        let expected = reference
            .digest()
            .map(ToString::to_string)
            .or(header_digest);
        if let Some(expected) = expected
            && expected != digest.to_string()
        {
            return Err(ManifestError::DigestMismatch {
                reference: reference.to_string(),
                expected,
                actual: digest,
            });
        }
        let media_type = manifest_media_type(content_type.as_deref(), &bytes).unwrap_or_default();
        if !is_supported_manifest(&media_type) {
            return Err(ManifestError::UnsupportedMediaType {
                reference: reference.to_string(),
                media_type,
            });
        }
        Ok(Manifest {
            bytes,
            media_type,
            digest,
        })
    }

    /// Fetches the image manifest for `platform`: the manifest itself when `reference` points at
    /// one, else the index entry chosen for the platform (fetched by digest and verified).
    pub async fn fetch_image_manifest(
        &self,
        reference: &Reference,
        platform: &Platform,
    ) -> Result<PulledManifest, ManifestError> {
        let first = self.fetch_manifest(reference).await?;
        if !first.is_index() {
            return Ok(PulledManifest {
                manifest: first,
                index: None,
            });
        }
        let entries = parse_index(&first.bytes).map_err(|source| ManifestError::InvalidIndex {
            reference: reference.to_string(),
            source,
        })?;
        let Some(entry) = choose_manifest(&entries, platform) else {
            let mut available: Vec<String> = entries
                .iter()
                .filter_map(|entry| entry.platform.as_ref().map(ToString::to_string))
                .collect();
            available.dedup();
            return Err(ManifestError::NoMatchingPlatform {
                reference: reference.to_string(),
                platform: platform.to_string(),
                available: if available.is_empty() {
                    "none".to_owned()
                } else {
                    available.join(", ")
                },
            });
        };
        let child = reference.pinned(Digest::parse(&entry.digest).map_err(|_| {
            ManifestError::InvalidIndexEntry {
                reference: reference.to_string(),
                digest: entry.digest.clone(),
            }
        })?);
        let manifest = self.fetch_manifest(&child).await?;
        if manifest.is_index() {
            return Err(ManifestError::NestedIndex {
                reference: reference.to_string(),
                digest: manifest.digest,
            });
        }
        Ok(PulledManifest {
            manifest,
            index: Some(first),
        })
    }

    /// The digest of the manifest `reference` points at (an index's digest for a multi-platform
    /// tag, which is what `docker pull NAME@DIGEST` takes), from a `HEAD` request; falls back to
    /// fetching the manifest when the registry does not send the digest header.
    pub async fn resolve_digest(&self, reference: &Reference) -> Result<Digest, ManifestError> {
        let access = Access::pull(reference.registry(), reference.repository().name());
        let request_error = |source| ManifestError::Request {
            reference: reference.to_string(),
            source,
        };
        let url = self.manifest_url(reference).map_err(request_error)?;
        let header_digest = with_retries(
            &self.options.retry,
            |_attempt| async {
                let exchange = Exchange::new(Method::HEAD, url.clone(), &access)
                    .header(header::ACCEPT, HeaderValue::from_static(MANIFEST_ACCEPT));
                let response = self.transport.send(&exchange).await?;
                if response.status() != StatusCode::OK {
                    return Err(self.transport.status_error("HEAD", &url, response).await);
                }
                Ok(header_text(&response, CONTENT_DIGEST))
            },
            |_, _, _| {},
        )
        .await
        .map_err(request_error)?;
        match header_digest.as_deref().map(Digest::parse) {
            Some(Ok(digest)) => {
                if let Some(expected) = reference.digest()
                    && *expected != digest
                {
                    return Err(ManifestError::DigestMismatch {
                        reference: reference.to_string(),
                        expected: expected.to_string(),
                        actual: digest,
                    });
                }
                Ok(digest)
            }
            _ => Ok(self.fetch_manifest(reference).await?.digest),
        }
    }

    fn manifest_url(&self, reference: &Reference) -> Result<reqwest::Url, RequestError> {
        let base = self.transport.api_base(reference.registry())?;
        let path = format!(
            "{}/manifests/{}",
            reference.repository().name(),
            reference.target()
        );
        base.join(&path).map_err(|_| RequestError::InvalidLocation {
            url: base.to_string(),
            location: path,
        })
    }
}

fn header_text(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim().to_owned())
}

/// A manifest that could not be fetched or resolved.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The exchange with the registry failed.
    #[error("cannot fetch manifest {reference}")]
    Request {
        /// The reference asked for.
        reference: String,
        /// What failed.
        #[source]
        source: RequestError,
    },
    /// The bytes served do not have the digest asked for (or announced).
    #[error("manifest {reference} has digest {actual}, expected {expected}")]
    DigestMismatch {
        /// The reference asked for.
        reference: String,
        /// The digest asked for, or the one the registry announced (as it announced it).
        expected: String,
        /// The digest of the bytes received.
        actual: Digest,
    },
    /// The manifest is of a type this client does not read (schema 1, an artifact, ...).
    #[error(
        "manifest {reference} has media type `{media_type}`; expected an OCI or Docker v2 image \
         manifest or index"
    )]
    UnsupportedMediaType {
        /// The reference asked for.
        reference: String,
        /// The media type found.
        media_type: String,
    },
    /// The index is not valid JSON of the expected shape.
    #[error("image index {reference} is not valid")]
    InvalidIndex {
        /// The reference asked for.
        reference: String,
        /// What the parser found.
        #[source]
        source: serde_json::Error,
    },
    /// The index's entry for the platform has a malformed digest.
    #[error("image index {reference} lists an invalid digest `{digest}`")]
    InvalidIndexEntry {
        /// The reference asked for.
        reference: String,
        /// The digest as listed.
        digest: String,
    },
    /// The index has no manifest for the platform.
    #[error("image index {reference} has no manifest for {platform} (it has: {available})")]
    NoMatchingPlatform {
        /// The reference asked for.
        reference: String,
        /// The platform wanted.
        platform: String,
        /// The platforms the index lists.
        available: String,
    },
    /// The index's entry for the platform is itself an index.
    #[error("image index {reference} lists another index ({digest}) for the platform")]
    NestedIndex {
        /// The reference asked for.
        reference: String,
        /// The nested index's digest.
        digest: Digest,
    },
}
