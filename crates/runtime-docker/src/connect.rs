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
    /// one cheap request (`/_ping`) to know it answers, and what the engine says of itself (its
    /// platform, whether it is Podman) asked in the background (`/version` makes the engine ask
    /// its own components and takes ~10 ms).
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
        Self::connect_asking(response_timeout, AskVersion::Now).await
    }

    /// [`DockerRuntime::connect`] for a connection that only handles images (inspects, loads):
    /// what the engine says of itself is asked only if something needs it. `/version` keeps the engine
    /// busy for ~10 ms, which requests sent beside it wait for.
    pub async fn connect_for_images() -> Result<Self, ConnectError> {
        Self::connect_asking(DEFAULT_RESPONSE_TIMEOUT, AskVersion::WhenNeeded).await
    }

    async fn connect_asking(
        response_timeout: Duration,
        ask: AskVersion,
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
            AskVersion::Now => Some(tokio::spawn(ask_version(client.clone()))),
            AskVersion::WhenNeeded => None,
        };
        let host = crate::create_spec::HostSettings {
            network: None,
            socket: Self::socket_path(&endpoint),
        };
        Ok(Self {
            version: std::sync::Arc::new(VersionQuery {
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
