//! Connecting to the engine named by `DOCKER_HOST` (default: the local unix socket).

use std::time::Duration;

use bollard::Docker;

use eider_runtime::{Platform, RuntimeError};

use crate::DockerRuntime;

/// Requests that do not answer within this time are errors, unless the caller chooses another
/// time ([`DockerRuntime::connect_with_timeout`]). Long-running calls (wait, attach, pulls) are
/// not bounded by it: it only covers the time until the engine starts answering.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

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
    /// Connects to the engine named by `DOCKER_HOST` (default `unix:///var/run/docker.sock`):
    /// one cheap request (`/_ping`) to know it answers, and the engine's platform asked in the
    /// background (`/version` makes the engine ask its own components and takes ~10 ms).
    ///
    /// Requests carry no API version, so each engine answers in its own newest one: bollard's
    /// version prefix does not reach the engine (its URL join drops it), which makes a version
    /// negotiation a round trip for nothing. What eider reads exists in every engine it supports
    /// (Docker 20.10 on).
    pub async fn connect() -> Result<Self, ConnectError> {
        Self::connect_with_timeout(DEFAULT_RESPONSE_TIMEOUT).await
    }

    /// [`DockerRuntime::connect`], with requests (and liveness probes) that fail when the engine
    /// has not started answering within `response_timeout` (whole seconds, at least one: the
    /// granularity of the client).
    pub async fn connect_with_timeout(response_timeout: Duration) -> Result<Self, ConnectError> {
        Self::connect_asking(response_timeout, AskPlatform::Now).await
    }

    /// [`DockerRuntime::connect`] for a connection that only handles images (inspects, loads):
    /// the engine's platform is asked only if something needs it. `/version` keeps the engine
    /// busy for ~10 ms, which requests sent beside it wait for.
    pub async fn connect_for_images() -> Result<Self, ConnectError> {
        Self::connect_asking(DEFAULT_RESPONSE_TIMEOUT, AskPlatform::WhenNeeded).await
    }

    async fn connect_asking(
        response_timeout: Duration,
        ask: AskPlatform,
    ) -> Result<Self, ConnectError> {
        let response_timeout = response_timeout.max(Duration::from_secs(1));
        let endpoint = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|host| !host.is_empty())
            .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned());
        let client = Docker::connect_with_host(&endpoint)
            .map_err(|source| match source {
                // A socket that is not there is an engine that does not run.
                bollard::errors::Error::SocketNotFoundError(_) => ConnectError::Unreachable {
                    endpoint: endpoint.clone(),
                    source,
                },
                source => ConnectError::Unsupported {
                    endpoint: endpoint.clone(),
                    source,
                },
            })?
            .with_timeout(response_timeout);
        match tokio::time::timeout(CONNECT_TIMEOUT, client.ping()).await {
            Ok(Ok(_)) => {}
            Ok(Err(source)) => return Err(ConnectError::Unreachable { endpoint, source }),
            Err(_) => return Err(ConnectError::TimedOut { endpoint }),
        }
        let pending = match ask {
            AskPlatform::Now => Some(tokio::spawn(ask_platform(client.clone()))),
            AskPlatform::WhenNeeded => None,
        };
        let host = crate::create_spec::HostSettings {
            network: None,
            socket: Self::socket_path(&endpoint),
        };
        Ok(Self {
            platform: std::sync::Arc::new(PlatformQuery {
                pending: std::sync::Mutex::new(pending),
                client: client.clone(),
                answer: tokio::sync::OnceCell::new(),
            }),
            client,
            endpoint,
            response_timeout,
            host,
            pacer: std::sync::Arc::new(crate::launch_pacer::LaunchPacer::for_this_machine()),
            pull_retry: crate::PullRetry::default(),
        })
    }
}

/// When a connection asks the engine's platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AskPlatform {
    /// At once, in the background: a run needs it before its first container.
    Now,
    /// The first time it is needed.
    WhenNeeded,
}

/// The engine's platform, from `/version`.
async fn ask_platform(client: Docker) -> Result<Platform, String> {
    let version = client.version().await.map_err(|error| error.to_string())?;
    Ok(Platform {
        os: version.os.unwrap_or_else(|| "linux".to_owned()),
        architecture: crate::oci_architecture(version.arch.as_deref().unwrap_or_default()),
    })
}

/// The engine's platform: asked once (in the background, or when first needed), answered to
/// every caller.
#[derive(Debug)]
pub(crate) struct PlatformQuery {
    pending: std::sync::Mutex<Option<tokio::task::JoinHandle<Result<Platform, String>>>>,
    client: Docker,
    answer: tokio::sync::OnceCell<Result<Platform, String>>,
}

impl PlatformQuery {
    /// The answer, waiting for it the first time.
    pub(crate) async fn get(&self) -> Result<Platform, RuntimeError> {
        let answer = self
            .answer
            .get_or_init(|| async {
                let pending = self
                    .pending
                    .lock()
                    .map_or(None, |mut pending| pending.take());
                match pending {
                    Some(query) => query.await.unwrap_or_else(|error| Err(error.to_string())),
                    None => ask_platform(self.client.clone()).await,
                }
            })
            .await;
        answer.clone().map_err(RuntimeError::Other)
    }
}
