//! Image references resolved to digests, for locks and packages: the local engine's image (its
//! id) or the registry's manifest (its digest).
//!
//! What a resolution gives is what the engine can run with no tag involved, so that a tag that
//! moves afterwards changes nothing: the engine's image id (`sha256:...`, which the engine takes
//! as an image reference) or `REGISTRY/REPOSITORY@sha256:...`.

use std::fmt;

use eider_oci::Digest;
use eider_registry::{ManifestError, Reference, ReferenceError, RegistryClient};
use eider_runtime::RuntimeError;
use eider_runtime_docker::{ConnectError, DockerRuntime};
use serde::{Deserialize, Serialize};

/// What users write for Docker Hub in a reference the engine is given: the engine files
/// `docker.io/library/NAME` under the familiar `NAME`, and mirrors configured for Docker Hub
/// apply to it (neither holds for the API host `registry-1.docker.io`).
const DOCKER_HUB_NAME: &str = "docker.io";

/// Where an image reference is resolved, for a name that is not a registry's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolveFrom {
    /// The local engine when it has the image, else the registry.
    Auto,
    /// The local engine only.
    Daemon,
    /// The registry only.
    Registry,
}

/// Where a resolved image was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageSource {
    /// The local engine: the digest is the image id (the digest of its configuration).
    Daemon,
    /// A registry: the digest is the manifest's (or, for a multi-platform tag, the index's).
    Registry,
}

impl ImageSource {
    /// The source as the lock file and messages spell it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Daemon => "daemon",
            Self::Registry => "registry",
        }
    }
}

impl fmt::Display for ImageSource {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// An image reference resolved to a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// An image of the local engine.
    Daemon {
        /// The image as it was asked for.
        image: String,
        /// The engine's image id (the digest of the image's config).
        id: Digest,
    },
    /// A manifest in a registry.
    Registry {
        /// The reference as it was asked for (its tag kept, for display).
        reference: Reference,
        /// The manifest's (or index's) digest.
        digest: Digest,
    },
}

impl Resolved {
    /// The reference the engine runs: the image id, or `REGISTRY/REPOSITORY@DIGEST`.
    #[must_use]
    pub fn pinned(&self) -> String {
        match self {
            Self::Daemon { id, .. } => id.to_string(),
            Self::Registry { reference, digest } => pinned_reference(reference, digest),
        }
    }

    /// The digest: the image id, or the manifest's digest.
    #[must_use]
    pub fn digest(&self) -> &Digest {
        match self {
            Self::Daemon { id, .. } => id,
            Self::Registry { digest, .. } => digest,
        }
    }

    /// Where the image was found.
    #[must_use]
    pub fn source(&self) -> ImageSource {
        match self {
            Self::Daemon { .. } => ImageSource::Daemon,
            Self::Registry { .. } => ImageSource::Registry,
        }
    }
}

/// Why the local engine did not give an image, when the registry was asked instead.
#[derive(Debug, thiserror::Error)]
pub enum NotLocal {
    /// The engine answered without the image.
    #[error("the local engine does not have it")]
    Absent,
    /// The engine does not answer.
    #[error("the local engine does not answer")]
    NoEngine,
    /// The engine failed to answer.
    #[error("the local engine failed to answer: {0}")]
    Failed(Box<RuntimeError>),
}

/// An image that could not be resolved to a digest.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// An image id was to be resolved in a registry.
    #[error("image `{image}` is an image id of the local engine, which no registry serves")]
    IdInRegistry {
        /// The image id.
        image: String,
    },
    /// The local engine, which alone was to be asked, does not answer; or the configuration
    /// names no usable engine.
    #[error(transparent)]
    EngineUnreachable(ConnectError),
    /// The local engine, which alone can resolve the image, does not answer.
    #[error("cannot resolve image `{image}` in the local engine: the engine does not answer")]
    NoEngine {
        /// The image.
        image: String,
    },
    /// The local engine does not have the image.
    #[error("image `{image}` is not in the local engine ({endpoint})")]
    NotInEngine {
        /// The image.
        image: String,
        /// Where the engine is.
        endpoint: String,
    },
    /// The local engine failed to answer.
    #[error("cannot resolve image `{image}` in the local engine")]
    Engine {
        /// The image.
        image: String,
        /// What failed.
        #[source]
        source: Box<RuntimeError>,
    },
    /// The local engine gave an id that is no digest.
    #[error("the local engine gave image `{image}` the id `{id}`, which is not a sha256 digest")]
    InvalidId {
        /// The image.
        image: String,
        /// The id given.
        id: String,
    },
    /// The image is no registry reference.
    #[error("cannot resolve image `{image}`")]
    Reference {
        /// The image.
        image: String,
        /// Why the local engine was not used, when it was asked first.
        not_local: Option<NotLocal>,
        /// Why the reference does not parse.
        #[source]
        source: Box<ReferenceError>,
    },
    /// The registry did not give the image's digest.
    #[error("cannot resolve image `{image}` in registry {registry}")]
    Registry {
        /// The image.
        image: String,
        /// The registry asked.
        registry: String,
        /// Why the local engine was not used, when it was asked first.
        not_local: Option<NotLocal>,
        /// What the registry answered.
        #[source]
        source: Box<ManifestError>,
    },
}

/// `REGISTRY/REPOSITORY@DIGEST`, with Docker Hub spelled the way the engine files it.
#[must_use]
pub fn pinned_reference(reference: &Reference, digest: &Digest) -> String {
    let repository = reference.repository();
    let registry = if repository.registry() == eider_registry::DOCKER_HUB_REGISTRY {
        DOCKER_HUB_NAME
    } else {
        repository.registry()
    };
    format!("{registry}/{}@{digest}", repository.name())
}

/// The local engine when `from` may use it: `None` under [`ResolveFrom::Registry`], and under
/// `Auto` when the engine does not answer (the registry is asked instead); an error under
/// `Daemon` when it does not answer, and under either when the environment or the docker CLI's
/// configuration names no usable engine (a context that does not exist): asking the registries
/// instead would hide a mistake the user must correct.
pub async fn connect_daemon(from: ResolveFrom) -> Result<Option<DockerRuntime>, ResolveError> {
    match from {
        ResolveFrom::Registry => Ok(None),
        ResolveFrom::Auto => match DockerRuntime::connect().await {
            Ok(daemon) => Ok(Some(daemon)),
            Err(error) if error.is_configuration() => Err(ResolveError::EngineUnreachable(error)),
            Err(_) => Ok(None),
        },
        ResolveFrom::Daemon => DockerRuntime::connect()
            .await
            .map(Some)
            .map_err(ResolveError::EngineUnreachable),
    }
}

/// Resolves `image` to a digest. `Auto`: the local engine's image when the engine answers and
/// has it, else the registry's manifest; `Daemon` and `Registry` ask only that one. A reference
/// already pinned by digest (`NAME@sha256:...`) is its own answer unless the engine is asked
/// for (nothing to look up); an image id (`sha256:...`) only the local engine can resolve.
pub async fn resolve(
    image: &str,
    from: ResolveFrom,
    daemon: Option<&DockerRuntime>,
    registry: &RegistryClient,
) -> Result<Resolved, ResolveError> {
    if is_image_id(image) {
        if from == ResolveFrom::Registry {
            return Err(ResolveError::IdInRegistry {
                image: image.to_owned(),
            });
        }
        return from_daemon(image, daemon).await;
    }
    match from {
        ResolveFrom::Daemon => from_daemon(image, daemon).await,
        ResolveFrom::Registry => from_registry(image, registry, None).await,
        ResolveFrom::Auto => {
            if let Ok(reference) = Reference::parse(image)
                && let Some(digest) = reference.digest()
            {
                let digest = digest.clone();
                return Ok(Resolved::Registry { reference, digest });
            }
            let local = match daemon {
                Some(daemon) => daemon.image_identity(image).await,
                None => Ok(None),
            };
            match local {
                Ok(Some(identity)) => daemon_answer(image, identity.id),
                Ok(None) => {
                    let why = if daemon.is_some() {
                        NotLocal::Absent
                    } else {
                        NotLocal::NoEngine
                    };
                    from_registry(image, registry, Some(why)).await
                }
                // An engine that fails to answer is no reason to fail when the registry can.
                Err(error) => {
                    from_registry(image, registry, Some(NotLocal::Failed(Box::new(error)))).await
                }
            }
        }
    }
}

/// `sha256:<64 hex>`: what the engine calls an image id.
#[must_use]
pub fn is_image_id(image: &str) -> bool {
    Digest::parse(image).is_ok()
}

async fn from_daemon(
    image: &str,
    daemon: Option<&DockerRuntime>,
) -> Result<Resolved, ResolveError> {
    let Some(daemon) = daemon else {
        return Err(ResolveError::NoEngine {
            image: image.to_owned(),
        });
    };
    match daemon.image_identity(image).await {
        Ok(Some(identity)) => daemon_answer(image, identity.id),
        Ok(None) => Err(ResolveError::NotInEngine {
            image: image.to_owned(),
            endpoint: daemon.endpoint().to_string(),
        }),
        Err(source) => Err(ResolveError::Engine {
            image: image.to_owned(),
            source: Box::new(source),
        }),
    }
}

fn daemon_answer(image: &str, id: String) -> Result<Resolved, ResolveError> {
    match Digest::parse(&id) {
        Ok(id) => Ok(Resolved::Daemon {
            image: image.to_owned(),
            id,
        }),
        Err(_) => Err(ResolveError::InvalidId {
            image: image.to_owned(),
            id,
        }),
    }
}

/// The registry's answer; `not_local` says why the local engine was not used, for the error.
async fn from_registry(
    image: &str,
    registry: &RegistryClient,
    not_local: Option<NotLocal>,
) -> Result<Resolved, ResolveError> {
    let reference = match Reference::parse(image) {
        Ok(reference) => reference,
        Err(source) => {
            return Err(ResolveError::Reference {
                image: image.to_owned(),
                not_local,
                source: Box::new(source),
            });
        }
    };
    if let Some(digest) = reference.digest() {
        let digest = digest.clone();
        return Ok(Resolved::Registry { reference, digest });
    }
    match registry.resolve_digest(&reference).await {
        Ok(digest) => Ok(Resolved::Registry { reference, digest }),
        Err(source) => Err(ResolveError::Registry {
            image: image.to_owned(),
            registry: reference.registry().to_owned(),
            not_local,
            source: Box::new(source),
        }),
    }
}

#[cfg(test)]
mod tests {
    use eider_registry::ClientOptions;

    use super::*;
    use crate::{NoObserver, RegistryAccess};

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn digest() -> Digest {
        Digest::parse(DIGEST).expect("a valid digest")
    }

    fn client() -> RegistryClient {
        RegistryAccess::default()
            .client(std::iter::empty::<&str>(), &NoObserver)
            .expect("a client")
    }

    #[test]
    fn a_pinned_registry_image_names_its_repository_and_digest_without_the_tag() {
        let reference = Reference::parse("127.0.0.1:5000/team/tool:v1").expect("valid");
        let resolved = Resolved::Registry {
            reference,
            digest: digest(),
        };
        assert_eq!(
            resolved.pinned(),
            format!("127.0.0.1:5000/team/tool@{DIGEST}")
        );
        assert_eq!(resolved.digest(), &digest());
        assert_eq!(resolved.source(), ImageSource::Registry);
    }

    #[test]
    fn a_docker_hub_image_is_pinned_under_the_name_the_engine_files_it_by() {
        let reference = Reference::parse("alpine:3.20").expect("valid");
        assert_eq!(
            pinned_reference(&reference, &digest()),
            format!("docker.io/library/alpine@{DIGEST}")
        );
    }

    #[test]
    fn a_local_image_is_pinned_by_its_id() {
        let resolved = Resolved::Daemon {
            image: "tool:dev".to_owned(),
            id: digest(),
        };
        assert_eq!(resolved.pinned(), DIGEST);
        assert_eq!(resolved.digest(), &digest());
        assert_eq!(resolved.source(), ImageSource::Daemon);
    }

    #[tokio::test]
    async fn a_reference_pinned_by_digest_resolves_to_itself_without_asking_anyone() {
        // `.invalid` never resolves: a request to it would fail the test.
        let image = format!("registry.invalid/team/tool:v1@{DIGEST}");
        for from in [ResolveFrom::Auto, ResolveFrom::Registry] {
            let resolved = resolve(&image, from, None, &client())
                .await
                .expect("resolved offline");
            assert_eq!(resolved.digest(), &digest());
            assert_eq!(
                resolved.pinned(),
                format!("registry.invalid/team/tool@{DIGEST}")
            );
        }
    }

    #[tokio::test]
    async fn an_image_id_is_not_looked_up_in_a_registry() {
        let error = resolve(DIGEST, ResolveFrom::Registry, None, &client())
            .await
            .expect_err("an id names no registry image");
        assert!(
            matches!(error, ResolveError::IdInRegistry { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("image id of the local engine"));
    }

    #[tokio::test]
    async fn the_local_engine_asked_for_when_it_does_not_answer_is_an_error_naming_the_image() {
        let error = resolve("tool:dev", ResolveFrom::Daemon, None, &client())
            .await
            .expect_err("no engine");
        assert!(matches!(error, ResolveError::NoEngine { .. }), "{error:?}");
        let text = error.to_string();
        assert!(text.contains("`tool:dev`"), "{text}");
        assert!(text.contains("local engine"), "{text}");
    }

    #[tokio::test]
    async fn an_unresolvable_image_error_names_the_image_and_everywhere_it_was_looked_for() {
        // No retries: a host that never resolves is not worth the backoff.
        let client = RegistryClient::new(ClientOptions {
            retry: eider_registry::RetryPolicy::none(),
            ..ClientOptions::default()
        })
        .expect("a client");
        let error = resolve(
            "registry.invalid/team/tool:v1",
            ResolveFrom::Auto,
            None,
            &client,
        )
        .await
        .expect_err("nothing answers");
        let text = error.to_string();
        assert!(
            text.contains("`registry.invalid/team/tool:v1` in registry registry.invalid"),
            "{text}"
        );
        let ResolveError::Registry {
            not_local: Some(not_local),
            ..
        } = &error
        else {
            panic!("not a registry failure after the engine: {error:?}");
        };
        assert_eq!(not_local.to_string(), "the local engine does not answer");
    }
}
