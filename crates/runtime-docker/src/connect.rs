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
    /// request (`/_ping`) to know it answers, and what the engine says of itself (its platform,
    /// whether it is Podman) asked in the background (`/version` makes the engine ask its own
    /// components and takes ~10 ms).
    ///
    /// Requests carry no API version, so each engine answers in its own newest one: bollard's
    /// version prefix does not reach the engine (its URL join drops it), which makes a version
    /// negotiation a round trip for nothing. What eider reads exists in every engine it supports
    /// (Docker 20.10 on; Podman 4.3 on, which serves the same paths without a version prefix).
    pub async fn connect() -> Result<Self, ConnectError> {
        Self::connect_with_timeout(DEFAULT_RESPONSE_TIMEOUT).await
    }

    /// [`DockerRuntime::connect`], with requests (and liveness probes) that fail when the engine
    /// has not started answering within `response_timeout` (whole seconds, at least one: the
    /// granularity of the client).
    pub async fn connect_with_timeout(response_timeout: Duration) -> Result<Self, ConnectError> {
        Self::connect_asking(Endpoint::of_process()?, response_timeout, AskVersion::Now).await
    }

    /// [`DockerRuntime::connect`] for a connection that only handles images (inspects, loads):
    /// what the engine says of itself is asked only if something needs it. `/version` keeps the engine
    /// busy for ~10 ms, which requests sent beside it wait for.
    pub async fn connect_for_images() -> Result<Self, ConnectError> {
        Self::connect_asking(
            Endpoint::of_process()?,
            DEFAULT_RESPONSE_TIMEOUT,
            AskVersion::WhenNeeded,
        )
        .await
    }

    async fn connect_asking(
        endpoint: Endpoint,
        response_timeout: Duration,
        ask: AskVersion,
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
            AskVersion::Now => Some(tokio::spawn(ask_version(client.clone()))),
            AskVersion::WhenNeeded => None,
        };
        let host = crate::create_spec::HostSettings {
            network: None,
            socket: endpoint.socket_path(),
        };
        Ok(Self {
            version: std::sync::Arc::new(VersionQuery {
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

/// When a connection asks what the engine says of itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AskVersion {
    /// At once, in the background: a run needs it before its first container.
    Now,
    /// The first time it is needed.
    WhenNeeded,
}

/// What the engine says of itself in `/version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EngineVersion {
    /// Where its containers run.
    pub platform: Platform,
    /// Which implementation of the Engine API it is.
    pub kind: EngineKind,
}

/// Which implementation of the Engine API answers: they differ in the few places
/// `docs/podman.md` lists, which the backend asks this about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EngineKind {
    /// The Docker Engine (or anything else that does not say it is Podman).
    Docker,
    /// Podman's Docker-compatible API (`podman system service`).
    Podman,
}

impl EngineVersion {
    /// Reads `/version`'s answer. Podman names itself among the components ("Podman
    /// Engine"); the Docker Engine names its own ("Engine", "containerd", "runc").
    fn of(version: bollard::models::SystemVersion) -> Self {
        let podman = version
            .components
            .iter()
            .flatten()
            .any(|component| component.name.starts_with("Podman"));
        Self {
            platform: Platform {
                os: version.os.unwrap_or_else(|| "linux".to_owned()),
                architecture: crate::oci_architecture(version.arch.as_deref().unwrap_or_default()),
            },
            kind: if podman {
                EngineKind::Podman
            } else {
                EngineKind::Docker
            },
        }
    }
}

/// What the engine says of itself, from `/version`.
async fn ask_version(client: Docker) -> Result<EngineVersion, String> {
    let version = client.version().await.map_err(|error| error.to_string())?;
    Ok(EngineVersion::of(version))
}

/// What the engine says of itself: asked once (in the background, or when first needed),
/// answered to every caller.
#[derive(Debug)]
pub(crate) struct VersionQuery {
    pending: std::sync::Mutex<Option<tokio::task::JoinHandle<Result<EngineVersion, String>>>>,
    client: Docker,
    answer: tokio::sync::OnceCell<Result<EngineVersion, String>>,
}

impl VersionQuery {
    /// The answer, waiting for it the first time.
    pub(crate) async fn get(&self) -> Result<EngineVersion, RuntimeError> {
        let answer = self
            .answer
            .get_or_init(|| async {
                let pending = self
                    .pending
                    .lock()
                    .map_or(None, |mut pending| pending.take());
                match pending {
                    Some(query) => query.await.unwrap_or_else(|error| Err(error.to_string())),
                    // Boxed: asked from inside launches, whose futures it would enlarge.
                    None => Box::pin(ask_version(self.client.clone())).await,
                }
            })
            .await;
        answer.clone().map_err(RuntimeError::Other)
    }
}

#[cfg(test)]
mod tests {
    use bollard::models::{SystemVersion, SystemVersionComponents};

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

    fn version(components: &[&str]) -> SystemVersion {
        SystemVersion {
            os: Some("linux".to_owned()),
            arch: Some("x86_64".to_owned()),
            components: Some(
                components
                    .iter()
                    .map(|name| SystemVersionComponents {
                        name: (*name).to_owned(),
                        version: "1".to_owned(),
                        details: None,
                    })
                    .collect(),
            ),
            ..SystemVersion::default()
        }
    }

    #[test]
    fn podman_is_told_apart_by_its_component_and_both_give_the_platform() {
        let podman = EngineVersion::of(version(&["Podman Engine", "Conmon", "OCI Runtime (runc)"]));
        let docker = EngineVersion::of(version(&["Engine", "containerd", "runc", "docker-init"]));
        assert_eq!(podman.kind, EngineKind::Podman);
        assert_eq!(docker.kind, EngineKind::Docker);
        for platform in [podman.platform, docker.platform] {
            assert_eq!(
                (platform.os.as_str(), platform.architecture.as_str()),
                ("linux", "amd64")
            );
        }
    }
}
