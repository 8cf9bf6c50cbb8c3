//! Connecting to the engine the environment names ([`Endpoint::of_process`]: `DOCKER_HOST`, a
//! Docker context, or the local sockets, as the docker CLI finds it).

use std::time::Duration;

use bollard::Docker;

use eider_runtime::{Platform, RuntimeError};

use crate::DockerRuntime;
use crate::endpoint::{Endpoint, EndpointError, TlsError, Transport};

/// Requests that do not answer within this time are errors, unless the caller chooses another
/// time ([`DockerRuntime::connect_with_timeout`]). Long-running calls (wait, attach, pulls) are
/// not bounded by it: it only covers the time until the engine starts answering.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long to wait for the first answer of an engine before calling it unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The engine cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The environment and the docker CLI's configuration name no engine eider can use.
    #[error(transparent)]
    Endpoint(Box<EndpointError>),
    /// The endpoint's TLS files cannot be used.
    #[error("cannot set up TLS to the Docker Engine at {endpoint} ({})", endpoint.origin)]
    Tls {
        /// The endpoint.
        endpoint: Box<Endpoint>,
        /// Why.
        #[source]
        source: TlsError,
    },
    /// The TLS handshake failed: the engine's certificate is not one the files trust, or the
    /// engine refused eider's.
    #[error("TLS with the Docker Engine at {endpoint} ({}) failed", endpoint.origin)]
    TlsRefused {
        /// The endpoint.
        endpoint: Box<Endpoint>,
        /// Why.
        #[source]
        source: bollard::errors::Error,
    },
    /// Nothing answered.
    #[error("cannot reach the Docker Engine at {endpoint} ({})", endpoint.origin)]
    Unreachable {
        /// The endpoint.
        endpoint: Box<Endpoint>,
        /// Why.
        #[source]
        source: bollard::errors::Error,
    },
    /// Nothing answered in time.
    #[error(
        "the Docker Engine at {endpoint} ({}) did not answer within {} seconds",
        endpoint.origin,
        CONNECT_TIMEOUT.as_secs()
    )]
    TimedOut {
        /// The endpoint.
        endpoint: Box<Endpoint>,
    },
}

impl ConnectError {
    /// Whether the configuration is at fault, not the engine: the environment or the docker
    /// CLI's files name no usable endpoint (a context that does not exist, a broken
    /// `meta.json`, a malformed address, unusable TLS files). An address of a kind eider does
    /// not speak (`ssh://`) is not counted here: it names an engine, which eider cannot use.
    #[must_use]
    pub fn is_configuration(&self) -> bool {
        match self {
            Self::Endpoint(error) => !matches!(**error, EndpointError::UnsupportedScheme { .. }),
            Self::Tls { .. } => true,
            Self::TlsRefused { .. } | Self::Unreachable { .. } | Self::TimedOut { .. } => false,
        }
    }
}

impl From<EndpointError> for ConnectError {
    fn from(error: EndpointError) -> Self {
        Self::Endpoint(Box::new(error))
    }
}

impl DockerRuntime {
    /// Connects to the engine the environment names ([`Endpoint::of_process`]): one cheap
    /// request (`/_ping`) to know it answers, and the engine's platform asked in the
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
        Self::connect_asking(Endpoint::of_process()?, response_timeout, AskPlatform::Now).await
    }

    /// [`DockerRuntime::connect`] for a connection that only handles images (inspects, loads):
    /// the engine's platform is asked only if something needs it. `/version` keeps the engine
    /// busy for ~10 ms, which requests sent beside it wait for.
    pub async fn connect_for_images() -> Result<Self, ConnectError> {
        Self::connect_asking(
            Endpoint::of_process()?,
            DEFAULT_RESPONSE_TIMEOUT,
            AskPlatform::WhenNeeded,
        )
        .await
    }

    async fn connect_asking(
        endpoint: Endpoint,
        response_timeout: Duration,
        ask: AskPlatform,
    ) -> Result<Self, ConnectError> {
        let response_timeout = response_timeout.max(Duration::from_secs(1));
        let transport = match Transport::new(endpoint.clone()) {
            Ok(transport) => transport,
            Err(source) => {
                return Err(ConnectError::Tls {
                    endpoint: Box::new(endpoint),
                    source,
                });
            }
        };
        let failed = |source: bollard::errors::Error| {
            let endpoint = Box::new(transport.endpoint().clone());
            if is_tls_failure(&source) {
                ConnectError::TlsRefused { endpoint, source }
            } else {
                ConnectError::Unreachable { endpoint, source }
            }
        };
        // A socket that is not there is an engine that does not run.
        let client = transport.client(response_timeout).map_err(failed)?;
        match tokio::time::timeout(CONNECT_TIMEOUT, client.ping()).await {
            Ok(Ok(_)) => {}
            Ok(Err(source)) => return Err(failed(source)),
            Err(_) => {
                return Err(ConnectError::TimedOut {
                    endpoint: Box::new(endpoint),
                });
            }
        }
        let pending = match ask {
            AskPlatform::Now => Some(tokio::spawn(ask_platform(client.clone()))),
            AskPlatform::WhenNeeded => None,
        };
        let host = crate::create_spec::HostSettings {
            network: None,
            socket: endpoint.socket_path(),
        };
        Ok(Self {
            platform: std::sync::Arc::new(PlatformQuery {
                pending: std::sync::Mutex::new(pending),
                client: client.clone(),
                answer: tokio::sync::OnceCell::new(),
            }),
            client,
            transport: std::sync::Arc::new(transport),
            response_timeout,
            host,
            pacer: std::sync::Arc::new(crate::launch_pacer::LaunchPacer::for_this_machine()),
            pull_retry: crate::PullRetry::default(),
        })
    }
}

/// Whether TLS is what failed: somewhere in the causes, rustls's error. I/O errors carry it
/// inside, out of reach of `source` (and the connector wraps tokio-rustls's I/O error in one
/// more), so each one's inner error is looked into too.
fn is_tls_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    if error.is::<rustls::Error>() {
        return true;
    }
    if let Some(inner) = error
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
        && is_tls_failure(inner)
    {
        return true;
    }
    error.source().is_some_and(is_tls_failure)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_refused_deep_inside_io_errors_is_a_tls_failure() {
        let refused = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let wrapped = std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            refused,
        ));
        assert!(is_tls_failure(&wrapped));
        let refused_connection = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(!is_tls_failure(&std::io::Error::other(refused_connection)));
    }
}
