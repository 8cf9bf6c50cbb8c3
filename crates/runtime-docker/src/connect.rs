//! Connecting to the engine named by `DOCKER_HOST` (default: the local unix socket).

use std::time::Duration;

use bollard::Docker;

use crate::DockerRuntime;

/// Requests that do not answer within this time are errors. Long-running calls (wait, attach,
/// pulls) are not bounded by it: it only covers the time until the engine starts answering.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How long to wait for the first answer of an engine before calling it unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The engine cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// `DOCKER_HOST` names something bollard cannot use.
    #[error("DOCKER_HOST={endpoint} is not a supported engine address")]
    Unsupported {
        /// The address.
        endpoint: String,
        /// Why.
        #[source]
        source: bollard::errors::Error,
    },
    /// Nothing answered.
    #[error("cannot reach the Docker Engine at {endpoint}")]
    Unreachable {
        /// The address.
        endpoint: String,
        /// Why.
        #[source]
        source: bollard::errors::Error,
    },
    /// Nothing answered in time.
    #[error("the Docker Engine at {endpoint} did not answer within {} seconds", CONNECT_TIMEOUT.as_secs())]
    TimedOut {
        /// The address.
        endpoint: String,
    },
}

impl DockerRuntime {
    /// Connects to the engine named by `DOCKER_HOST` (default `unix:///var/run/docker.sock`) and
    /// agrees on an API version with it, so that old and new engines both work.
    pub async fn connect() -> Result<Self, ConnectError> {
        let endpoint = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|host| !host.is_empty())
            .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned());
        let client = Docker::connect_with_host(&endpoint)
            .map_err(|source| ConnectError::Unsupported {
                endpoint: endpoint.clone(),
                source,
            })?
            .with_timeout(REQUEST_TIMEOUT);
        let client = match tokio::time::timeout(CONNECT_TIMEOUT, client.negotiate_version()).await {
            Ok(Ok(client)) => client,
            Ok(Err(source)) => return Err(ConnectError::Unreachable { endpoint, source }),
            Err(_) => return Err(ConnectError::TimedOut { endpoint }),
        };
        Ok(Self { client, endpoint })
    }
}
