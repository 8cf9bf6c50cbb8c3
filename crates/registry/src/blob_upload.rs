//! Sending one blob: `HEAD` first (a blob the registry has is not sent), then a cross-repository
//! mount when a source is known, else an upload session with one monolithic `PUT` that streams
//! the file; chunked `PATCH`es only after the registry refuses the size (413) or when asked for.
//! A transient failure or a lost session (404) starts the blob over, `HEAD` included, so an
//! upload that succeeded but whose answer was lost is not sent twice. An acknowledged upload
//! counts only once confirmed: the digest the registry reports (when it reports one) must be the
//! blob's, and a `HEAD` must find the blob.

use std::sync::Arc;
use std::time::Duration;

use eider_oci_types::Digest;
use reqwest::header::{self, HeaderValue};
use reqwest::{Method, StatusCode, Url};

use crate::auth::Access;
use crate::client::{RegistryClient, UploadMode};
use crate::progress::{PushEvent, PushProgress};
use crate::push::{BlobOutcome, BlobSource, PushError, check_blob_file};
use crate::reference::Repository;
use crate::request_error::RequestError;
use crate::retry::{Transient, with_retries};
use crate::transport::{Exchange, RequestBody};

/// The smallest chunk a 413 can halve the chunk size down to.
const MIN_CHUNK_SIZE: u64 = 256 * 1024;

fn octet_stream() -> HeaderValue {
    HeaderValue::from_static("application/octet-stream")
}

/// One try's failure.
enum UploadError {
    Request(RequestError),
    /// The registry forgot the upload session (404 on `PATCH`/`PUT`): start the blob over.
    SessionLost(RequestError),
    /// The blob's local file is missing or of the wrong size.
    Local(PushError),
    /// The registry accepted the upload but says it stored other bytes.
    DigestMismatch {
        actual: String,
    },
    /// The registry accepted the upload but a `HEAD` does not find the blob.
    Unconfirmed,
}

impl From<RequestError> for UploadError {
    fn from(error: RequestError) -> Self {
        Self::Request(error)
    }
}

impl Transient for UploadError {
    fn is_transient(&self) -> bool {
        match self {
            Self::Request(error) => error.is_transient(),
            // A registry (or a node behind its load balancer) that lost what it acknowledged
            // may well keep it when it is sent again.
            Self::SessionLost(_) | Self::Unconfirmed => true,
            Self::Local(_) | Self::DigestMismatch { .. } => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Request(error) => error.retry_after(),
            Self::SessionLost(_)
            | Self::Local(_)
            | Self::DigestMismatch { .. }
            | Self::Unconfirmed => None,
        }
    }
}

impl UploadError {
    fn into_push_error(self, repository: &Repository, digest: &Digest) -> PushError {
        match self {
            Self::Request(source) | Self::SessionLost(source) => PushError::Blob {
                repository: repository.to_string(),
                digest: digest.to_string(),
                source,
            },
            Self::Local(error) => error,
            Self::DigestMismatch { actual } => PushError::BlobDigestMismatch {
                repository: repository.to_string(),
                digest: digest.clone(),
                actual,
            },
            Self::Unconfirmed => PushError::BlobUnconfirmed {
                repository: repository.to_string(),
                digest: digest.clone(),
            },
        }
    }

    fn reason(&self) -> String {
        match self {
            Self::Request(error) => error.to_string(),
            Self::SessionLost(_) => "the registry lost the upload session".to_owned(),
            Self::Local(error) => error.to_string(),
            Self::DigestMismatch { actual } => format!("the registry stored it as {actual}"),
            Self::Unconfirmed => {
                "the registry accepted the upload but does not have the blob".to_owned()
            }
        }
    }
}

impl RegistryClient {
    /// Makes `blob` present in `repository`, with retries.
    pub(crate) async fn push_blob(
        &self,
        repository: &Repository,
        blob: &BlobSource,
        progress: &PushProgress,
    ) -> Result<BlobOutcome, PushError> {
        let mount_from = blob
            .mount_from
            .as_deref()
            .filter(|source| *source != repository.name());
        let mut access = Access::push(repository.registry(), repository.name());
        if let Some(source) = mount_from {
            access = access.and_pull(source);
        }
        with_retries(
            &self.options.retry,
            |_attempt| self.push_blob_once(repository, blob, mount_from, &access, progress),
            |attempt, error: &UploadError, delay| {
                progress(&PushEvent::BlobRetrying {
                    digest: blob.digest.clone(),
                    attempt,
                    delay,
                    reason: error.reason(),
                });
            },
        )
        .await
        .map_err(|error| error.into_push_error(repository, &blob.digest))
    }

    async fn push_blob_once(
        &self,
        repository: &Repository,
        blob: &BlobSource,
        mount_from: Option<&str>,
        access: &Access,
        progress: &PushProgress,
    ) -> Result<BlobOutcome, UploadError> {
        let base = self.transport.api_base(repository.registry())?;
        let name = repository.name();
        if self.blob_present(&base, name, &blob.digest, access).await? {
            progress(&PushEvent::BlobPresent {
                digest: blob.digest.clone(),
                size: blob.size,
            });
            return Ok(BlobOutcome::AlreadyPresent);
        }
        let uploads = join(&base, &format!("{name}/blobs/uploads/"))?;
        let mut session = None;
        if let Some(source) = mount_from {
            let mut url = uploads.clone();
            url.query_pairs_mut()
                .append_pair("mount", &blob.digest.to_string())
                .append_pair("from", source);
            let response = self
                .transport
                .send(&Exchange::new(Method::POST, url.clone(), access))
                .await?;
            match response.status() {
                StatusCode::CREATED => {
                    progress(&PushEvent::BlobMounted {
                        digest: blob.digest.clone(),
                        size: blob.size,
                        from: source.to_owned(),
                    });
                    return Ok(BlobOutcome::Mounted {
                        from: source.to_owned(),
                    });
                }
                // The registry could not mount and opened an ordinary session instead.
                StatusCode::ACCEPTED => session = Some(location(&url, &response)?),
                status if crate::request_error::is_transient_status(status) => {
                    return Err(self
                        .transport
                        .status_error("POST", &url, response)
                        .await
                        .into());
                }
                // Any other refusal (no access to the source, mounting unsupported): upload.
                _ => {}
            }
        }
        check_blob_file(repository, blob)
            .await
            .map_err(UploadError::Local)?;
        let session = match session {
            Some(session) => session,
            None => self.open_session(&uploads, access).await?,
        };
        progress(&PushEvent::BlobStarted {
            digest: blob.digest.clone(),
            size: blob.size,
        });
        let chunked = match self.options.upload_mode {
            UploadMode::Chunked => {
                self.upload_chunked(session, blob, access, progress).await?;
                true
            }
            UploadMode::Monolithic => {
                match self
                    .upload_monolithic(&session, blob, access, progress)
                    .await?
                {
                    Monolithic::Done => false,
                    Monolithic::TooLarge => {
                        // The refused session may be spent: chunks go to a fresh one.
                        let session = self.open_session(&uploads, access).await?;
                        self.upload_chunked(session, blob, access, progress).await?;
                        true
                    }
                }
            }
        };
        // The manifest goes only over blobs known to be there: an acknowledged upload is
        // checked, since a registry that lost it would otherwise be sent a manifest over a
        // missing blob (refused at best, a broken image behind a cache at worst).
        if !self.blob_present(&base, name, &blob.digest, access).await? {
            return Err(UploadError::Unconfirmed);
        }
        progress(&PushEvent::BlobUploaded {
            digest: blob.digest.clone(),
            size: blob.size,
        });
        Ok(BlobOutcome::Uploaded { chunked })
    }

    /// Whether `repository` holds blob `digest`, from a `HEAD` (retried when the failure is
    /// transient): a copy from another registry fetches only what the destination lacks.
    pub async fn has_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
    ) -> Result<bool, RequestError> {
        let access = Access::pull(repository.registry(), repository.name());
        let base = self.transport.api_base(repository.registry())?;
        with_retries(
            &self.options.retry,
            |_attempt| self.blob_present(&base, repository.name(), digest, &access),
            |_, _, _| {},
        )
        .await
    }

    /// Whether the repository has the blob (`HEAD`).
    pub(crate) async fn blob_present(
        &self,
        base: &Url,
        name: &str,
        digest: &Digest,
        access: &Access,
    ) -> Result<bool, RequestError> {
        let url = join(base, &format!("{name}/blobs/{digest}"))?;
        let response = self
            .transport
            .send(&Exchange::new(Method::HEAD, url.clone(), access))
            .await?;
        match response.status() {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(self.transport.status_error("HEAD", &url, response).await),
        }
    }

    /// `POST .../blobs/uploads/`: a new upload session's URL.
    async fn open_session(&self, uploads: &Url, access: &Access) -> Result<Url, RequestError> {
        open_session(self, uploads, access).await
    }

    async fn upload_monolithic(
        &self,
        session: &Url,
        blob: &BlobSource,
        access: &Access,
        progress: &PushProgress,
    ) -> Result<Monolithic, UploadError> {
        let url = with_digest(session, &blob.digest);
        let exchange = Exchange::new(Method::PUT, url.clone(), access)
            .header(header::CONTENT_TYPE, octet_stream())
            .body(RequestBody::File {
                path: blob.path.clone(),
                offset: 0,
                length: blob.size,
                sent: Some(sent_reporter(blob, 0, progress)),
            });
        let response = self.transport.send(&exchange).await?;
        match response.status() {
            StatusCode::CREATED => {
                check_stored_digest(&response, &blob.digest)?;
                Ok(Monolithic::Done)
            }
            StatusCode::PAYLOAD_TOO_LARGE => Ok(Monolithic::TooLarge),
            StatusCode::NOT_FOUND => Err(UploadError::SessionLost(
                self.transport.status_error("PUT", &url, response).await,
            )),
            _ => Err(self
                .transport
                .status_error("PUT", &url, response)
                .await
                .into()),
        }
    }

    async fn upload_chunked(
        &self,
        mut session: Url,
        blob: &BlobSource,
        access: &Access,
        progress: &PushProgress,
    ) -> Result<(), UploadError> {
        let mut chunk_size = self.options.chunk_size.max(1);
        let mut offset = 0;
        while offset < blob.size {
            let length = chunk_size.min(blob.size - offset);
            let range = format!("{offset}-{}", offset + length - 1);
            let exchange = Exchange::new(Method::PATCH, session.clone(), access)
                .header(header::CONTENT_TYPE, octet_stream())
                .header(
                    header::CONTENT_RANGE,
                    HeaderValue::from_str(&range)
                        .expect("digits and a dash make a valid header value"),
                )
                .body(RequestBody::File {
                    path: blob.path.clone(),
                    offset,
                    length,
                    sent: Some(sent_reporter(blob, offset, progress)),
                });
            let response = self.transport.send(&exchange).await?;
            match response.status() {
                StatusCode::ACCEPTED | StatusCode::NO_CONTENT => {
                    session = location(&session, &response)?;
                    offset += length;
                }
                StatusCode::PAYLOAD_TOO_LARGE if chunk_size > MIN_CHUNK_SIZE => {
                    chunk_size = (chunk_size / 2).max(MIN_CHUNK_SIZE);
                }
                StatusCode::NOT_FOUND | StatusCode::RANGE_NOT_SATISFIABLE => {
                    return Err(UploadError::SessionLost(
                        self.transport
                            .status_error("PATCH", &session, response)
                            .await,
                    ));
                }
                _ => {
                    return Err(self
                        .transport
                        .status_error("PATCH", &session, response)
                        .await
                        .into());
                }
            }
        }
        let url = with_digest(&session, &blob.digest);
        let response = self
            .transport
            .send(&Exchange::new(Method::PUT, url.clone(), access))
            .await?;
        match response.status() {
            StatusCode::CREATED => check_stored_digest(&response, &blob.digest),
            StatusCode::NOT_FOUND => Err(UploadError::SessionLost(
                self.transport.status_error("PUT", &url, response).await,
            )),
            _ => Err(self
                .transport
                .status_error("PUT", &url, response)
                .await
                .into()),
        }
    }
}

/// The digest the registry says it stored the upload under (`Docker-Content-Digest`), when it
/// says one, must be the blob's.
#[expect(
    clippy::result_large_err,
    reason = "an upload's own error type, returned once per blob"
)]
fn check_stored_digest(response: &reqwest::Response, digest: &Digest) -> Result<(), UploadError> {
    match stored_digest(response) {
        Some(actual) if actual != digest.to_string() => Err(UploadError::DigestMismatch { actual }),
        _ => Ok(()),
    }
}

fn stored_digest(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("docker-content-digest")
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim().to_owned())
}

enum Monolithic {
    Done,
    TooLarge,
}

/// Turns a body's sent-byte count into progress events for the whole blob.
fn sent_reporter(
    blob: &BlobSource,
    offset: u64,
    progress: &PushProgress,
) -> crate::transport::SentBytes {
    let progress = Arc::clone(progress);
    let digest = blob.digest.clone();
    let size = blob.size;
    Arc::new(move |sent| {
        progress(&PushEvent::BlobProgress {
            digest: digest.clone(),
            sent: offset + sent,
            size,
        });
    })
}

/// `POST .../blobs/uploads/`: a new upload session's URL.
pub(crate) async fn open_session(
    client: &RegistryClient,
    uploads: &Url,
    access: &Access,
) -> Result<Url, RequestError> {
    let response = client
        .transport
        .send(&Exchange::new(Method::POST, uploads.clone(), access))
        .await?;
    if response.status() != StatusCode::ACCEPTED {
        return Err(client
            .transport
            .status_error("POST", uploads, response)
            .await);
    }
    location(uploads, &response)
}

/// The session URL an upload response points to (`Location`, relative or absolute).
pub(crate) fn location(
    request_url: &Url,
    response: &reqwest::Response,
) -> Result<Url, RequestError> {
    let invalid = |location: &str| RequestError::InvalidLocation {
        url: crate::request_error::display_url(request_url),
        location: location.to_owned(),
    };
    let value = response
        .headers()
        .get(header::LOCATION)
        .ok_or_else(|| invalid(""))?;
    let text = value.to_str().map_err(|_| invalid("<not text>"))?;
    request_url.join(text).map_err(|_| invalid(text))
}

/// `session?...&digest=DIGEST`, keeping the session's own query (its upload state).
pub(crate) fn with_digest(session: &Url, digest: &Digest) -> Url {
    let mut url = session.clone();
    url.query_pairs_mut()
        .append_pair("digest", &digest.to_string());
    url
}

pub(crate) fn join(base: &Url, path: &str) -> Result<Url, RequestError> {
    base.join(path).map_err(|_| RequestError::InvalidLocation {
        url: base.to_string(),
        location: path.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_added_to_the_session_query() {
        let session = Url::parse("http://127.0.0.1:5000/v2/app/blobs/uploads/abc?_state=xyz")
            .expect("valid url");
        let digest = Digest::of(b"");
        assert_eq!(
            with_digest(&session, &digest).as_str(),
            format!(
                "http://127.0.0.1:5000/v2/app/blobs/uploads/abc?_state=xyz&digest=sha256%3A{}",
                digest.hex()
            )
        );
    }
}
