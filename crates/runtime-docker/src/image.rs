//! Images: presence checks and pulls with progress.

use std::time::Duration;

use bollard::query_parameters::CreateImageOptions;
use eider_runtime::{PullProgress, RuntimeError};
use futures_util::StreamExt;

use crate::DockerRuntime;
use crate::error::from_bollard;
use crate::pull_retry::is_transient_pull_failure;

/// A pull that reports nothing for this long is stalled: an unreachable registry must be an
/// error, never a hang.
const PULL_STALL_TIMEOUT: Duration = Duration::from_secs(60);

/// What to check when an image cannot be pulled.
const UNAVAILABLE_HINT: &str = "check the image name and that its registry is reachable; images \
                                built locally must be present in the engine (`docker images`)";

impl DockerRuntime {
    pub(crate) async fn image_present(&self, image: &str) -> Result<bool, RuntimeError> {
        match self.client.inspect_image(image).await {
            Ok(_) => Ok(true),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(false),
            Err(error) => Err(from_bollard(error)),
        }
    }

    /// Pulls `image`, trying again after a transient failure (see [`crate::PullRetry`]); the
    /// error of the last try says how many there were.
    pub(crate) async fn pull(
        &self,
        image: &str,
        progress: &(dyn Fn(PullProgress) + Send + Sync),
    ) -> Result<(), RuntimeError> {
        let retry = &self.pull_retry;
        let mut failed_attempts = 0;
        loop {
            let error = match self.pull_once(image, progress).await {
                Ok(()) => return Ok(()),
                Err(error) => error,
            };
            failed_attempts += 1;
            let RuntimeError::ImageUnavailable { message, .. } = &error else {
                return Err(error);
            };
            if !is_transient_pull_failure(message) {
                return Err(error);
            }
            if failed_attempts >= retry.max_attempts.max(1) {
                return Err(RuntimeError::ImageUnavailable {
                    image: image.to_owned(),
                    message: format!("{message} (tried {failed_attempts} times)"),
                    hint: Some(UNAVAILABLE_HINT.to_owned()),
                });
            }
            let delay = (retry.delay)(failed_attempts);
            progress(PullProgress {
                layer: None,
                status: format!(
                    "Retrying in {}ms after a transient failure: {message}",
                    delay.as_millis()
                ),
                bytes: None,
            });
            tokio::time::sleep(delay).await;
        }
    }

    async fn pull_once(
        &self,
        image: &str,
        progress: &(dyn Fn(PullProgress) + Send + Sync),
    ) -> Result<(), RuntimeError> {
        let options = CreateImageOptions {
            from_image: Some(with_tag(image)),
            ..CreateImageOptions::default()
        };
        let unavailable = |message: String| RuntimeError::ImageUnavailable {
            image: image.to_owned(),
            message,
            hint: Some(UNAVAILABLE_HINT.to_owned()),
        };
        let mut stream = self.client.create_image(Some(options), None, None);
        loop {
            let item = match tokio::time::timeout(PULL_STALL_TIMEOUT, stream.next()).await {
                Ok(Some(item)) => item,
                Ok(None) => return Ok(()),
                Err(_) => {
                    return Err(unavailable(format!(
                        "the pull made no progress for {} seconds",
                        PULL_STALL_TIMEOUT.as_secs()
                    )));
                }
            };
            let info = item.map_err(|error| match from_bollard(error) {
                RuntimeError::Refused { message, .. } => unavailable(message),
                other => other,
            })?;
            if let Some(detail) = info.error_detail {
                return Err(unavailable(detail.message.unwrap_or_default()));
            }
            if let Some(status) = info.status {
                let bytes = info.progress_detail.and_then(|detail| {
                    let current = u64::try_from(detail.current?).ok()?;
                    let total = u64::try_from(detail.total?).ok()?;
                    Some((current, total))
                });
                progress(PullProgress {
                    layer: info.id,
                    status,
                    bytes,
                });
            }
        }
    }
}

/// The reference with an explicit tag: without one, the engine would pull every tag of the
/// repository.
fn with_tag(image: &str) -> String {
    if image.contains('@') {
        return image.to_owned();
    }
    let last_component = image.rsplit('/').next().unwrap_or(image);
    if last_component.contains(':') {
        image.to_owned()
    } else {
        format!("{image}:latest")
    }
}

#[cfg(test)]
mod tests {
    use super::with_tag;

    #[test]
    fn a_reference_without_a_tag_pulls_latest_only() {
        assert_eq!(with_tag("busybox"), "busybox:latest");
        assert_eq!(with_tag("127.0.0.1:5000/a/b"), "127.0.0.1:5000/a/b:latest");
        assert_eq!(with_tag("127.0.0.1:5000/a/b:1"), "127.0.0.1:5000/a/b:1");
        assert_eq!(with_tag("a@sha256:00"), "a@sha256:00");
    }
}

/// What the engine says identifies a local image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageIdentity {
    /// The image id: the digest of its configuration (`sha256:...`).
    pub id: String,
    /// `repository@sha256:...` for each registry it was pulled from or pushed to.
    pub repo_digests: Vec<String>,
}

/// Images as archives, for packaging: what `docker save` and `docker load` do.
impl DockerRuntime {
    /// The id and registry digests of a local image; `None` when the engine does not have it.
    pub async fn image_identity(&self, image: &str) -> Result<Option<ImageIdentity>, RuntimeError> {
        match self.client.inspect_image(image).await {
            Ok(inspect) => Ok(Some(ImageIdentity {
                id: inspect.id.unwrap_or_default(),
                repo_digests: inspect.repo_digests.unwrap_or_default(),
            })),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(error) => Err(from_bollard(error)),
        }
    }

    /// A local image as a Docker archive (the format of `docker save`), streamed.
    #[must_use]
    pub fn export_image(&self, image: &str) -> crate::ArchiveStream {
        Box::pin(
            self.client
                .export_image(image)
                .map(|chunk| chunk.map_err(std::io::Error::other)),
        )
    }

    /// Loads a Docker archive into the engine (what `docker load` does), streamed.
    pub async fn load_image(&self, archive: crate::ArchiveStream) -> Result<(), RuntimeError> {
        let options = bollard::query_parameters::ImportImageOptions {
            quiet: true,
            ..Default::default()
        };
        let mut answers = self.client.import_image_stream(options, archive, None);
        while let Some(answer) = answers.next().await {
            let info = answer.map_err(from_bollard)?;
            if let Some(detail) = info.error_detail {
                return Err(RuntimeError::Other(format!(
                    "the engine refused the image: {}",
                    detail.message.unwrap_or_default()
                )));
            }
        }
        Ok(())
    }
}
