//! A blob uploaded while it is being produced: a layer can go to the registry as it is
//! compressed, instead of after. Its bytes arrive over a channel and go out in one streamed
//! `PATCH`; its digest, known only at the end, finishes the session with a `PUT`. Nothing is
//! retried (the bytes are gone once sent): a failure only means the caller pushes the blob the
//! ordinary way afterwards, which finds it present if the streamed upload did complete.

use bytes::Bytes;
use eider_oci_types::Digest;
use futures_util::StreamExt as _;
use reqwest::header::{self, HeaderValue};
use reqwest::{Method, StatusCode};
use tokio::sync::{mpsc, oneshot};

use crate::auth::Access;
use crate::blob_upload::{join, location, open_session, with_digest};
use crate::client::RegistryClient;
use crate::push::PushError;
use crate::reference::Repository;
use crate::request_error::RequestError;
use crate::transport::{ByteStream, Exchange, RequestBody};

impl RegistryClient {
    /// Uploads the bytes received on `chunks` as one blob of `repository`, finishing with the
    /// digest received on `digest` once `chunks` has ended. Returns the digest uploaded, or
    /// `None` when nothing was produced (no chunk, or `digest` dropped: the producer gave up or
    /// found the blob already built) and nothing was left open.
    pub async fn upload_while_produced(
        &self,
        repository: &Repository,
        mut chunks: mpsc::Receiver<Bytes>,
        digest: oneshot::Receiver<Digest>,
    ) -> Result<Option<Digest>, PushError> {
        let Some(first) = chunks.recv().await else {
            return Ok(None);
        };
        let failed = |source: RequestError| PushError::Blob {
            repository: repository.to_string(),
            digest: "(streamed)".to_owned(),
            source,
        };
        let access = Access::push(repository.registry(), repository.name());
        let base = self
            .transport
            .api_base(repository.registry())
            .map_err(failed)?;
        let uploads =
            join(&base, &format!("{}/blobs/uploads/", repository.name())).map_err(failed)?;
        // The session is opened with an ordinary request, which settles authentication: the
        // streamed PATCH then goes out with a token and is never refused for want of one.
        let session = open_session(self, &uploads, &access)
            .await
            .map_err(failed)?;
        let rest = futures_util::stream::unfold(chunks, |mut chunks| async move {
            chunks.recv().await.map(|chunk| (Ok(chunk), chunks))
        });
        let stream: ByteStream = futures_util::stream::once(async move { Ok(first) })
            .chain(rest)
            .boxed();
        let exchange = Exchange::new(Method::PATCH, session.clone(), &access)
            .header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            )
            .body(RequestBody::Stream(std::sync::Mutex::new(Some(stream))));
        let response = self.transport.send(&exchange).await.map_err(failed)?;
        if !matches!(
            response.status(),
            StatusCode::ACCEPTED | StatusCode::NO_CONTENT
        ) {
            return Err(failed(
                self.transport
                    .status_error("PATCH", &session, response)
                    .await,
            ));
        }
        let session = location(&session, &response).map_err(failed)?;
        let Ok(digest) = digest.await else {
            return Ok(None);
        };
        let url = with_digest(&session, &digest);
        let response = self
            .transport
            .send(&Exchange::new(Method::PUT, url.clone(), &access))
            .await
            .map_err(failed)?;
        if response.status() != StatusCode::CREATED {
            return Err(failed(
                self.transport.status_error("PUT", &url, response).await,
            ));
        }
        Ok(Some(digest))
    }
}
