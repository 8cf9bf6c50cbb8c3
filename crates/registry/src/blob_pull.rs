//! Downloading blobs into the blob store: streamed to a temporary file beside the destination,
//! digest and size checked as the bytes arrive, renamed into place only when both match. A blob
//! already in the store is not downloaded again.

use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};
use eider_oci_types::{Digest, Hasher};
use reqwest::{Method, StatusCode};
use tokio::io::AsyncWriteExt as _;

use crate::auth::Access;
use crate::blob_store::{blob_directory, blob_path};
use crate::client::RegistryClient;
use crate::reference::Repository;
use crate::request_error::RequestError;
use crate::retry::{Transient, with_retries};
use crate::transport::Exchange;

/// A blob in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedBlob {
    /// Its file in the store.
    pub path: Utf8PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Whether it was downloaded (false: it was already in the store).
    pub downloaded: bool,
}

impl RegistryClient {
    /// Makes blob `digest` of `repository` present in the store at `store`, downloading it
    /// unless it is there already. `expected_size` (from the manifest) is checked when given;
    /// `progress` hears the bytes received so far (from 0 again when a download restarts).
    pub async fn fetch_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        expected_size: Option<u64>,
        store: &Utf8Path,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<FetchedBlob, BlobFetchError> {
        let destination = blob_path(store, digest);
        if let Ok(metadata) = tokio::fs::metadata(&destination).await
            && metadata.is_file()
            && expected_size.is_none_or(|size| size == metadata.len())
        {
            return Ok(FetchedBlob {
                path: destination,
                size: metadata.len(),
                downloaded: false,
            });
        }
        let directory = blob_directory(store);
        tokio::fs::create_dir_all(&directory)
            .await
            .map_err(|source| BlobFetchError::Write {
                digest: digest.clone(),
                path: directory.clone(),
                source,
            })?;
        let size = with_retries(
            &self.options.retry,
            |_attempt| {
                self.download_once(repository, digest, expected_size, &destination, progress)
            },
            |_, _, _| {},
        )
        .await
        .map_err(|error| match error {
            AttemptError::Request(source) => BlobFetchError::Request {
                repository: repository.to_string(),
                digest: digest.clone(),
                source,
            },
            AttemptError::Final(error) => error,
        })?;
        Ok(FetchedBlob {
            path: destination,
            size,
            downloaded: true,
        })
    }

    async fn download_once(
        &self,
        repository: &Repository,
        digest: &Digest,
        expected_size: Option<u64>,
        destination: &Utf8Path,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<u64, AttemptError> {
        let access = Access::pull(repository.registry(), repository.name());
        let base = self.transport.api_base(repository.registry())?;
        let path = format!("{}/blobs/{digest}", repository.name());
        let url = base
            .join(&path)
            .map_err(|_| RequestError::InvalidLocation {
                url: base.to_string(),
                location: path,
            })?;
        let mut response = self
            .transport
            .send(&Exchange::new(Method::GET, url.clone(), &access))
            .await?;
        if response.status() != StatusCode::OK {
            return Err(self
                .transport
                .status_error("GET", &url, response)
                .await
                .into());
        }
        let write_error = |path: &Utf8Path, source| {
            AttemptError::Final(BlobFetchError::Write {
                digest: digest.clone(),
                path: path.to_owned(),
                source,
            })
        };
        let directory = destination.parent().unwrap_or(destination);
        // The temporary file is removed when this attempt ends early (error, cancellation).
        let temporary = tempfile::Builder::new()
            .prefix(".partial-")
            .tempfile_in(directory)
            .map_err(|source| write_error(directory, source))?;
        let (file, temporary_path) = temporary.into_parts();
        let temporary_name = Utf8PathBuf::from_path_buf(temporary_path.to_path_buf())
            .unwrap_or_else(|_| directory.join(".partial"));
        let mut file = tokio::fs::File::from_std(file);
        let mut hasher = Hasher::new();
        progress(0);
        while let Some(chunk) = self
            .transport
            .next_chunk(&mut response, "GET", &url)
            .await?
        {
            hasher.update(&chunk);
            if let Some(expected) = expected_size
                && hasher.size() > expected
            {
                return Err(AttemptError::Final(BlobFetchError::SizeMismatch {
                    repository: repository.to_string(),
                    digest: digest.clone(),
                    expected,
                    actual: hasher.size(),
                }));
            }
            file.write_all(&chunk)
                .await
                .map_err(|source| write_error(&temporary_name, source))?;
            progress(hasher.size());
        }
        let size = hasher.size();
        if let Some(expected) = expected_size
            && size != expected
        {
            return Err(AttemptError::Final(BlobFetchError::SizeMismatch {
                repository: repository.to_string(),
                digest: digest.clone(),
                expected,
                actual: size,
            }));
        }
        let (actual, _) = hasher.finish();
        if actual != *digest {
            return Err(AttemptError::Final(BlobFetchError::DigestMismatch {
                repository: repository.to_string(),
                digest: digest.clone(),
                actual,
            }));
        }
        file.flush()
            .await
            .map_err(|source| write_error(&temporary_name, source))?;
        file.sync_all()
            .await
            .map_err(|source| write_error(&temporary_name, source))?;
        drop(file);
        temporary_path
            .persist(destination)
            .map_err(|error| write_error(destination, error.error))?;
        Ok(size)
    }
}

/// One download attempt's failure: a transient exchange error is retried, the rest is final.
enum AttemptError {
    Request(RequestError),
    Final(BlobFetchError),
}

impl From<RequestError> for AttemptError {
    fn from(error: RequestError) -> Self {
        Self::Request(error)
    }
}

impl Transient for AttemptError {
    fn is_transient(&self) -> bool {
        matches!(self, Self::Request(error) if error.is_transient())
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Request(error) => error.retry_after(),
            Self::Final(_) => None,
        }
    }
}

/// A blob that could not be fetched into the store.
#[derive(Debug, thiserror::Error)]
pub enum BlobFetchError {
    /// The exchange with the registry failed.
    #[error("cannot fetch blob {digest} from {repository}")]
    Request {
        /// `REGISTRY/REPOSITORY`.
        repository: String,
        /// The blob.
        digest: Digest,
        /// What failed.
        #[source]
        source: RequestError,
    },
    /// The bytes served do not have the digest asked for.
    #[error("blob {digest} from {repository} has the wrong content (its digest is {actual})")]
    DigestMismatch {
        /// `REGISTRY/REPOSITORY`.
        repository: String,
        /// The blob asked for.
        digest: Digest,
        /// The digest of the bytes received.
        actual: Digest,
    },
    /// The bytes served are not the size the manifest gives.
    #[error("blob {digest} from {repository}: received {actual} bytes, expected {expected}")]
    SizeMismatch {
        /// `REGISTRY/REPOSITORY`.
        repository: String,
        /// The blob.
        digest: Digest,
        /// The size from the manifest.
        expected: u64,
        /// The bytes received.
        actual: u64,
    },
    /// The store could not be written.
    #[error("cannot write blob {digest} to {path}")]
    Write {
        /// The blob.
        digest: Digest,
        /// The file or directory.
        path: Utf8PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}
