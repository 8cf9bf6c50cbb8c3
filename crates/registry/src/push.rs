//! Pushing an image: every blob made present (several at once, each skipped, mounted or
//! uploaded), then the manifest, only once every blob is confirmed, under each tag. A push that
//! stops before the end leaves blobs behind but never a tag pointing at an incomplete image.

use std::collections::BTreeSet;

use bytes::Bytes;
use camino::{Utf8Path, Utf8PathBuf};
use eider_oci_types::Digest;
use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use reqwest::header::{self, HeaderValue};
use reqwest::{Method, Url};

use crate::auth::Access;
use crate::blob_store::blob_path;
use crate::client::RegistryClient;
use crate::progress::{PushEvent, PushProgress};
use crate::reference::{Reference, Repository};
use crate::request_error::RequestError;
use crate::retry::with_retries;
use crate::transport::{Exchange, RequestBody};

/// A blob to push, read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobSource {
    /// Its digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// The file holding it.
    pub path: Utf8PathBuf,
    /// A repository on the same registry that may already hold it (a base image's), for a
    /// cross-repository mount instead of an upload.
    pub mount_from: Option<String>,
}

impl BlobSource {
    /// The blob `digest` of the blob store at `store`.
    #[must_use]
    pub fn in_store(store: &Utf8Path, digest: &Digest, size: u64) -> Self {
        Self {
            digest: digest.clone(),
            size,
            path: blob_path(store, digest),
            mount_from: None,
        }
    }

    /// The same blob, to be mounted from `repository` when the registry has it there.
    #[must_use]
    pub fn with_mount_from(mut self, repository: impl Into<String>) -> Self {
        self.mount_from = Some(repository.into());
        self
    }
}

/// An image to push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRequest {
    /// Where it goes.
    pub repository: Repository,
    /// Every blob the manifest references (config and layers).
    pub blobs: Vec<BlobSource>,
    /// The manifest, exactly as it is to be stored.
    pub manifest: Bytes,
    /// The manifest's media type.
    pub manifest_media_type: String,
    /// The tags to store it under; with none, it is stored under its digest only.
    pub tags: Vec<String>,
}

/// What happened to one blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobOutcome {
    /// The registry had it already.
    AlreadyPresent,
    /// The registry linked it from another repository.
    Mounted {
        /// The source repository.
        from: String,
    },
    /// It was sent.
    Uploaded {
        /// Whether it went in chunks rather than in one request.
        chunked: bool,
    },
}

/// One blob's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobReport {
    /// The blob.
    pub digest: Digest,
    /// Its size.
    pub size: u64,
    /// What happened.
    pub outcome: BlobOutcome,
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushReport {
    /// The pushed manifest's digest.
    pub manifest_digest: Digest,
    /// Each blob's result, in the order of the request (duplicates dropped).
    pub blobs: Vec<BlobReport>,
    /// The tags set.
    pub tags: Vec<String>,
}

impl PushReport {
    /// The blobs whose bytes were sent.
    pub fn uploaded(&self) -> impl Iterator<Item = &BlobReport> {
        self.blobs
            .iter()
            .filter(|blob| matches!(blob.outcome, BlobOutcome::Uploaded { .. }))
    }

    /// The bytes sent for blobs.
    #[must_use]
    pub fn uploaded_bytes(&self) -> u64 {
        self.uploaded().map(|blob| blob.size).sum()
    }

    /// The pushed image as `REGISTRY/REPOSITORY@DIGEST`.
    #[must_use]
    pub fn pinned_reference(&self, repository: &Repository) -> Reference {
        Reference::with_digest(repository.clone(), self.manifest_digest.clone())
    }
}

impl RegistryClient {
    /// Pushes `request`: blobs first (at most [`crate::ClientOptions::max_concurrent_uploads`]
    /// at once), then the manifest under each tag. Fails fast on the first permanent error.
    pub async fn push(
        &self,
        request: &PushRequest,
        progress: PushProgress,
    ) -> Result<PushReport, PushError> {
        let blobs = check_request(request).map_err(|problem| PushError::InvalidRequest {
            repository: request.repository.to_string(),
            problem,
        })?;
        let manifest_digest = Digest::of(&request.manifest);
        let concurrency = self.options.max_concurrent_uploads.max(1);
        let mut outcomes = vec![None; blobs.len()];
        // A hand-fed `FuturesUnordered` of `async fn` futures rather than `buffer_unordered`
        // over a closure: the closure's borrowed captures would keep the push future from being
        // `Send` for every lifetime, which `tokio::spawn` needs.
        let mut waiting = blobs.iter().enumerate();
        let mut running = FuturesUnordered::new();
        loop {
            while running.len() < concurrency
                && let Some((index, blob)) = waiting.next()
            {
                running.push(self.push_indexed_blob(index, &request.repository, blob, &progress));
            }
            // Returning on an error drops `running`, which cancels the uploads still going.
            let Some((index, outcome)) = running.next().await else {
                break;
            };
            let blob = &blobs[index];
            outcomes[index] = Some(BlobReport {
                digest: blob.digest.clone(),
                size: blob.size,
                outcome: outcome?,
            });
        }
        // Every blob has its report here: the loop above returns on the first failure.
        let blob_reports = outcomes.into_iter().flatten().collect();

        let digest_target = manifest_digest.to_string();
        let targets: Vec<&str> = if request.tags.is_empty() {
            vec![digest_target.as_str()]
        } else {
            request.tags.iter().map(String::as_str).collect()
        };
        for target in targets {
            self.push_manifest(request, &manifest_digest, target)
                .await?;
            progress(&PushEvent::ManifestPushed {
                digest: manifest_digest.clone(),
                target: target.to_owned(),
            });
        }
        Ok(PushReport {
            manifest_digest,
            blobs: blob_reports,
            tags: request.tags.clone(),
        })
    }

    async fn push_indexed_blob(
        &self,
        index: usize,
        repository: &Repository,
        blob: &BlobSource,
        progress: &PushProgress,
    ) -> (usize, Result<BlobOutcome, PushError>) {
        (index, self.push_blob(repository, blob, progress).await)
    }

    async fn push_manifest(
        &self,
        request: &PushRequest,
        digest: &Digest,
        target: &str,
    ) -> Result<(), PushError> {
        let repository = &request.repository;
        let error = |source| PushError::Manifest {
            repository: repository.to_string(),
            target: target.to_owned(),
            digest: digest.clone(),
            source,
        };
        let access = Access::push(repository.registry(), repository.name());
        let base = self
            .transport
            .api_base(repository.registry())
            .map_err(error)?;
        let path = format!("{}/manifests/{target}", repository.name());
        let url: Url = base.join(&path).map_err(|_| {
            error(RequestError::InvalidLocation {
                url: base.to_string(),
                location: path.clone(),
            })
        })?;
        let content_type = HeaderValue::from_str(&request.manifest_media_type).map_err(|_| {
            PushError::InvalidRequest {
                repository: repository.to_string(),
                problem: format!(
                    "invalid manifest media type `{}`",
                    request.manifest_media_type
                ),
            }
        })?;
        let response_digest = with_retries(
            &self.options.retry,
            |_attempt| async {
                let exchange = Exchange::new(Method::PUT, url.clone(), &access)
                    .header(header::CONTENT_TYPE, content_type.clone())
                    .body(RequestBody::Bytes(request.manifest.clone()));
                let response = self.transport.send(&exchange).await?;
                if !response.status().is_success() {
                    return Err(self.transport.status_error("PUT", &url, response).await);
                }
                Ok(response
                    .headers()
                    .get("docker-content-digest")
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned))
            },
            |_, _, _| {},
        )
        .await
        .map_err(error)?;
        match response_digest {
            Some(stored) if stored != digest.to_string() => {
                Err(PushError::ManifestDigestMismatch {
                    repository: repository.to_string(),
                    target: target.to_owned(),
                    expected: digest.clone(),
                    actual: stored,
                })
            }
            _ => Ok(()),
        }
    }
}

/// Checks the request before anything is sent: media type, tags and mount sources.
/// Returns the blobs without duplicates, or what is wrong.
fn check_request(request: &PushRequest) -> Result<Vec<BlobSource>, String> {
    if request.manifest_media_type.is_empty() {
        return Err("the manifest media type is empty".to_owned());
    }
    for tag in &request.tags {
        Reference::with_tag(request.repository.clone(), tag)
            .map_err(|error| error.kind.to_string())?;
    }
    let mut seen = BTreeSet::new();
    let mut blobs = Vec::new();
    for blob in &request.blobs {
        if let Some(source) = &blob.mount_from {
            request
                .repository
                .sibling(source)
                .map_err(|error| error.to_string())?;
        }
        if !seen.insert(blob.digest.clone()) {
            continue;
        }
        blobs.push(blob.clone());
    }
    Ok(blobs)
}

/// Checks that a blob's file is there and of its size, just before its bytes are needed: a blob
/// the registry has, or can mount, needs no local copy (a base layer never downloaded).
pub(crate) async fn check_blob_file(
    repository: &Repository,
    blob: &BlobSource,
) -> Result<(), PushError> {
    let metadata = tokio::fs::metadata(&blob.path)
        .await
        .map_err(|source| PushError::BlobFile {
            repository: repository.to_string(),
            digest: blob.digest.clone(),
            path: blob.path.clone(),
            source,
        })?;
    if metadata.len() == blob.size {
        Ok(())
    } else {
        Err(PushError::BlobSize {
            repository: repository.to_string(),
            digest: blob.digest.clone(),
            path: blob.path.clone(),
            expected: blob.size,
            actual: metadata.len(),
        })
    }
}

/// A push that failed.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The request itself is wrong (a malformed digest or tag, an empty media type).
    #[error("invalid push to {repository}: {problem}")]
    InvalidRequest {
        /// `REGISTRY/REPOSITORY`.
        repository: String,
        /// What is wrong.
        problem: String,
    },
    /// A blob's file cannot be read.
    #[error("cannot read blob {digest} for {repository} from {path}")]
    BlobFile {
        /// `REGISTRY/REPOSITORY`.
        repository: String,
        /// The blob.
        digest: Digest,
        /// The file.
        path: Utf8PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A blob's file is not the size given for it.
    #[error("blob {digest} for {repository}: {path} is {actual} bytes, expected {expected}")]
    BlobSize {
        /// `REGISTRY/REPOSITORY`.
        repository: String,
        /// The blob.
        digest: Digest,
        /// The file.
        path: Utf8PathBuf,
        /// The size given.
        expected: u64,
        /// The file's size.
        actual: u64,
    },
    /// A blob could not be made present in the repository.
    #[error("cannot push blob {digest} to {repository}")]
    Blob {
        /// `REGISTRY/REPOSITORY`.
        repository: String,
        /// The blob's digest, or `(streamed)` for a blob sent while it was made.
        digest: String,
        /// What failed.
        #[source]
        source: RequestError,
    },
    /// The registry accepted a blob's upload but reports another digest for what it stored.
    #[error("cannot push blob {digest} to {repository}: the registry stored it as {actual}")]
    BlobDigestMismatch {
        /// `REGISTRY/REPOSITORY`.
        repository: String,
        /// The blob.
        digest: Digest,
        /// The digest the registry reported.
        actual: String,
    },
    /// The registry accepted a blob's upload, every time, but then did not have it.
    #[error(
        "cannot push blob {digest} to {repository}: the registry accepted the upload but does \
         not have the blob"
    )]
    BlobUnconfirmed {
        /// `REGISTRY/REPOSITORY`.
        repository: String,
        /// The blob.
        digest: Digest,
    },
    /// The manifest could not be stored.
    #[error("cannot push manifest {digest} to {repository} as {target}")]
    Manifest {
        /// `REGISTRY/REPOSITORY`.
        repository: String,
        /// The tag or digest.
        target: String,
        /// The manifest's digest.
        digest: Digest,
        /// What failed.
        #[source]
        source: RequestError,
    },
    /// The registry stored the manifest under another digest than that of the bytes sent.
    #[error("{repository} stored manifest {target} as {actual}, expected {expected}")]
    ManifestDigestMismatch {
        /// `REGISTRY/REPOSITORY`.
        repository: String,
        /// The tag or digest.
        target: String,
        /// The digest of the bytes sent.
        expected: Digest,
        /// The digest the registry reported.
        actual: String,
    },
}
