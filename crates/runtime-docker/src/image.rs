//! Images: presence checks and pulls with progress.

use std::time::Duration;

use bollard::query_parameters::CreateImageOptions;
use eider_runtime::{PullProgress, RuntimeError};
use futures_util::StreamExt;

use crate::DockerRuntime;
use crate::error::from_bollard;

/// A pull that reports nothing for this long is stalled: an unreachable registry must be an
/// error, never a hang.
const PULL_STALL_TIMEOUT: Duration = Duration::from_secs(60);

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

    pub(crate) async fn pull(
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
