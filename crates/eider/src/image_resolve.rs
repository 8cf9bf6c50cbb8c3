//! Image references resolved to digests, shared by `eider lock` and `eider package`: the local
//! engine's image (its id) or the registry's manifest (its digest), and the registry client
//! both talk through.
//!
//! What a resolution gives is what the engine can run with no tag involved, so that a tag that
//! moves afterwards changes nothing: the engine's image id (`sha256:...`, which the engine takes
//! as an image reference) or `REGISTRY/REPOSITORY@sha256:...`.

use std::fmt;

use eider_registry::{
    ClientOptions, CredentialSource, Credentials, DockerConfigLocation, Reference, RegistryClient,
};
use eider_runtime_docker::DockerRuntime;
use serde::{Deserialize, Serialize};

use crate::cli::{BaseFrom, RegistryOptions};
use crate::failure::Failure;
use crate::render::Output;

/// What users write for Docker Hub in a reference the engine is given: the engine files
/// `docker.io/library/NAME` under the familiar `NAME`, and mirrors configured for Docker Hub
/// apply to it (neither holds for the API host `registry-1.docker.io`).
const DOCKER_HUB_NAME: &str = "docker.io";

/// The hint for failures that leave an image without a digest.
const RESOLVE_HINT: &str = "check the image name; pull or build the image into the local engine, \
     or give the registry's credentials with `--registry-auth HOST=USER:PASSWORD` or `docker login`";

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
        /// The engine's image id, `sha256:...`.
        id: String,
    },
    /// A manifest in a registry.
    Registry {
        /// The reference as it was asked for (its tag kept, for display).
        reference: Reference,
        /// The manifest's (or index's) digest.
        digest: String,
    },
}

impl Resolved {
    /// The reference the engine runs: the image id, or `REGISTRY/REPOSITORY@DIGEST`.
    pub fn pinned(&self) -> String {
        match self {
            Self::Daemon { id, .. } => id.clone(),
            Self::Registry { reference, digest } => pinned_reference(reference, digest),
        }
    }

    /// The digest: the image id, or the manifest's digest.
    pub fn digest(&self) -> &str {
        match self {
            Self::Daemon { id, .. } => id,
            Self::Registry { digest, .. } => digest,
        }
    }

    /// Where the image was found.
    pub fn source(&self) -> ImageSource {
        match self {
            Self::Daemon { .. } => ImageSource::Daemon,
            Self::Registry { .. } => ImageSource::Registry,
        }
    }
}

/// `REGISTRY/REPOSITORY@DIGEST`, with Docker Hub spelled the way the engine files it.
pub fn pinned_reference(reference: &Reference, digest: &str) -> String {
    let repository = reference.repository();
    let registry = if repository.registry() == eider_registry::DOCKER_HUB_REGISTRY {
        DOCKER_HUB_NAME
    } else {
        repository.registry()
    };
    format!("{registry}/{}@{digest}", repository.name())
}

/// A registry client with the credentials of `--registry-auth` and the Docker configuration,
/// each for its own host only: a Drakefile names any registry it likes, and a registry must
/// never be handed another one's credentials. `HOST=USER:PASSWORD` goes to HOST;
/// `USER:PASSWORD` goes to `destinations` (`HOST[:PORT]`: where the command writes, or the
/// package it was asked to read), and to nothing when there is none (a warning says so).
pub fn registry_client<I, S>(
    options: &RegistryOptions,
    destinations: I,
    output: Output,
) -> Result<RegistryClient, Failure>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut credentials = CredentialSource::docker_config(DockerConfigLocation::Default);
    let mut destinations = destinations.into_iter().peekable();
    let mut unscoped = None;
    for text in options
        .registry_auth
        .iter()
        .filter(|text| !text.trim().is_empty())
    {
        match split_host(text) {
            Some((host, user_password)) => {
                credentials = credentials.with_credentials(host, parse_credentials(user_password)?);
            }
            None => unscoped = Some(parse_credentials(text)?),
        }
    }
    if let Some(parsed) = unscoped {
        if destinations.peek().is_none() {
            // Not an error: the same variable may serve every command of a CI job.
            output.warning(
                "--registry-auth USER:PASSWORD is not used: it names no registry, and this \
                 command writes to none (give it as HOST=USER:PASSWORD for the images it reads)",
            );
        }
        for registry in destinations {
            credentials = credentials.with_credentials(registry.as_ref(), parsed.clone());
        }
    }
    RegistryClient::new(ClientOptions {
        credentials,
        insecure_registries: options.insecure_registries.clone(),
        retry: crate::registry_retry::registry_retry_policy()?,
        ..ClientOptions::default()
    })
    .map_err(|error| Failure::runtime(error.to_string()).with_sources_of(&error))
}

/// `HOST` and `USER:PASSWORD` of `HOST=USER:PASSWORD`; `None` when the text before the first
/// `=` is no registry host (`USER:PASSWORD` whose password holds `=`).
fn split_host(text: &str) -> Option<(&str, &str)> {
    let (host, user_password) = text.split_once('=')?;
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    let is_name = !name.is_empty()
        && name
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || matches!(character, '.' | '-'))
        && !name.starts_with(['.', '-']);
    let is_port = port.is_none_or(|port| {
        !port.is_empty() && port.chars().all(|character| character.is_ascii_digit())
    });
    (is_name && is_port && user_password.contains(':')).then_some((host, user_password))
}

fn parse_credentials(text: &str) -> Result<Credentials, Failure> {
    // The parse error carries nothing of the text, which holds the password.
    Credentials::parse_user_password(text).map_err(|error| {
        Failure::input("invalid --registry-auth")
            .with_cause(error.to_string())
            .with_hint(
                "give them as HOST=USER:PASSWORD or USER:PASSWORD (EIDER_REGISTRY_AUTH keeps \
                 them off the command line)",
            )
    })
}

/// The registry host of an image reference, `None` for what names no registry (an image id, a
/// reference that does not parse).
pub fn registry_of(image: &str) -> Option<String> {
    if is_image_id(image) {
        return None;
    }
    Reference::parse(image)
        .ok()
        .map(|reference| reference.registry().to_owned())
}

/// The local engine when `base_from` may use it: `None` under `--base-from registry`, and under
/// `auto` when the engine does not answer (the registry is asked instead); an error under
/// `--base-from daemon` when it does not answer.
pub async fn connect_daemon(base_from: BaseFrom) -> Result<Option<DockerRuntime>, Failure> {
    match base_from {
        BaseFrom::Registry => Ok(None),
        BaseFrom::Auto => Ok(DockerRuntime::connect().await.ok()),
        BaseFrom::Daemon => DockerRuntime::connect().await.map(Some).map_err(|error| {
            Failure::runtime(error.to_string())
                .with_sources_of(&error)
                .with_hint(
                    "start the Docker Engine or point DOCKER_HOST at one, or resolve images in \
                     their registries with `--base-from registry`",
                )
        }),
    }
}

/// Resolves `image` to a digest. `auto`: the local engine's image when the engine answers and
/// has it, else the registry's manifest; `daemon` and `registry` ask only that one. A reference
/// already pinned by digest (`NAME@sha256:...`) is its own answer unless the engine is asked
/// for (nothing to look up); an image id (`sha256:...`) only the local engine can resolve.
pub async fn resolve(
    image: &str,
    base_from: BaseFrom,
    daemon: Option<&DockerRuntime>,
    registry: &RegistryClient,
) -> Result<Resolved, Failure> {
    if is_image_id(image) {
        if base_from == BaseFrom::Registry {
            return Err(Failure::input(format!(
                "image `{image}` is an image id of the local engine, which no registry serves"
            ))
            .with_hint("resolve it with `--base-from daemon` or `--base-from auto`"));
        }
        return from_daemon(image, daemon).await;
    }
    match base_from {
        BaseFrom::Daemon => from_daemon(image, daemon).await,
        BaseFrom::Registry => from_registry(image, registry, None).await,
        BaseFrom::Auto => {
            if let Ok(reference) = Reference::parse(image)
                && let Some(digest) = reference.digest()
            {
                let digest = digest.to_owned();
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
                        "the local engine does not have it"
                    } else {
                        "the local engine does not answer"
                    };
                    from_registry(image, registry, Some(why.to_owned())).await
                }
                // An engine that fails to answer is no reason to fail when the registry can.
                Err(error) => {
                    from_registry(
                        image,
                        registry,
                        Some(format!("the local engine failed to answer: {error}")),
                    )
                    .await
                }
            }
        }
    }
}

/// `sha256:<64 hex>`: what the engine calls an image id.
pub fn is_image_id(image: &str) -> bool {
    eider_registry::validate_digest(image).is_ok()
}

async fn from_daemon(image: &str, daemon: Option<&DockerRuntime>) -> Result<Resolved, Failure> {
    let Some(daemon) = daemon else {
        return Err(Failure::runtime(format!(
            "cannot resolve image `{image}` in the local engine: the engine does not answer"
        ))
        .with_hint("start the Docker Engine or point DOCKER_HOST at one"));
    };
    match daemon.image_identity(image).await {
        Ok(Some(identity)) => daemon_answer(image, identity.id),
        Ok(None) => Err(Failure::runtime(format!(
            "image `{image}` is not in the local engine ({})",
            daemon.endpoint()
        ))
        .with_hint(
            "pull or build it first, or resolve it in its registry with `--base-from registry` \
             or `--base-from auto`",
        )),
        Err(error) => Err(Failure::runtime(format!(
            "cannot resolve image `{image}` in the local engine"
        ))
        .with_cause(error.to_string())),
    }
}

fn daemon_answer(image: &str, id: String) -> Result<Resolved, Failure> {
    if !is_image_id(&id) {
        return Err(Failure::runtime(format!(
            "the local engine gave image `{image}` the id `{id}`, which is not a sha256 digest"
        )));
    }
    Ok(Resolved::Daemon {
        image: image.to_owned(),
        id,
    })
}

/// The registry's answer; `not_local` says why the local engine was not used, for the error.
async fn from_registry(
    image: &str,
    registry: &RegistryClient,
    not_local: Option<String>,
) -> Result<Resolved, Failure> {
    let reference = Reference::parse(image).map_err(|error| {
        let failure = Failure::input(format!("cannot resolve image `{image}`"));
        let failure = match &not_local {
            Some(why) => failure.with_cause(why.clone()),
            None => failure,
        };
        failure.with_cause(error.to_string())
    })?;
    if let Some(digest) = reference.digest() {
        let digest = digest.to_owned();
        return Ok(Resolved::Registry { reference, digest });
    }
    match registry.resolve_digest(&reference).await {
        Ok(digest) => Ok(Resolved::Registry { reference, digest }),
        Err(error) => {
            let failure = Failure::runtime(format!(
                "cannot resolve image `{image}` in registry {}",
                reference.registry()
            ));
            let failure = match not_local {
                Some(why) => failure.with_cause(why),
                None => failure,
            };
            Err(failure
                .with_cause(error.to_string())
                .with_sources_of(&error)
                .with_hint(RESOLVE_HINT))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn client() -> RegistryClient {
        registry_client(
            &RegistryOptions::default(),
            std::iter::empty::<&str>(),
            Output::new(crate::cli::ColorChoice::Never),
        )
        .expect("a client")
    }

    fn message(failure: &Failure) -> String {
        match failure {
            Failure::Message {
                message, causes, ..
            } => format!("{message}\n{}", causes.join("\n")),
            other => panic!("unexpected failure {other:?}"),
        }
    }

    #[test]
    fn a_pinned_registry_image_names_its_repository_and_digest_without_the_tag() {
        let reference = Reference::parse("127.0.0.1:5000/team/tool:v1").expect("valid");
        let resolved = Resolved::Registry {
            reference,
            digest: DIGEST.to_owned(),
        };
        assert_eq!(
            resolved.pinned(),
            format!("127.0.0.1:5000/team/tool@{DIGEST}")
        );
        assert_eq!(resolved.digest(), DIGEST);
        assert_eq!(resolved.source(), ImageSource::Registry);
    }

    #[test]
    fn a_docker_hub_image_is_pinned_under_the_name_the_engine_files_it_by() {
        let reference = Reference::parse("alpine:3.20").expect("valid");
        assert_eq!(
            pinned_reference(&reference, DIGEST),
            format!("docker.io/library/alpine@{DIGEST}")
        );
    }

    #[test]
    fn a_local_image_is_pinned_by_its_id() {
        let resolved = Resolved::Daemon {
            image: "tool:dev".to_owned(),
            id: DIGEST.to_owned(),
        };
        assert_eq!(resolved.pinned(), DIGEST);
        assert_eq!(resolved.digest(), DIGEST);
        assert_eq!(resolved.source(), ImageSource::Daemon);
    }

    #[tokio::test]
    async fn a_reference_pinned_by_digest_resolves_to_itself_without_asking_anyone() {
        // `.invalid` never resolves: a request to it would fail the test.
        let image = format!("registry.invalid/team/tool:v1@{DIGEST}");
        for base_from in [BaseFrom::Auto, BaseFrom::Registry] {
            let resolved = resolve(&image, base_from, None, &client())
                .await
                .expect("resolved offline");
            assert_eq!(resolved.digest(), DIGEST);
            assert_eq!(
                resolved.pinned(),
                format!("registry.invalid/team/tool@{DIGEST}")
            );
        }
    }

    #[tokio::test]
    async fn an_image_id_is_not_looked_up_in_a_registry() {
        let failure = resolve(DIGEST, BaseFrom::Registry, None, &client())
            .await
            .expect_err("an id names no registry image");
        assert_eq!(failure.exit_code(), crate::exit_code::INVALID_INPUT);
        assert!(message(&failure).contains("image id of the local engine"));
    }

    #[tokio::test]
    async fn the_local_engine_asked_for_when_it_does_not_answer_is_an_error_naming_the_image() {
        let failure = resolve("tool:dev", BaseFrom::Daemon, None, &client())
            .await
            .expect_err("no engine");
        let text = message(&failure);
        assert!(text.contains("`tool:dev`"), "{text}");
        assert!(text.contains("local engine"), "{text}");
        assert_eq!(failure.exit_code(), crate::exit_code::FAILURE);
    }

    #[tokio::test]
    async fn an_unresolvable_image_error_names_the_image_and_everywhere_it_was_looked_for() {
        // No retries: a host that never resolves is not worth the backoff.
        let client = RegistryClient::new(ClientOptions {
            retry: eider_registry::RetryPolicy::none(),
            ..ClientOptions::default()
        })
        .expect("a client");
        let failure = resolve(
            "registry.invalid/team/tool:v1",
            BaseFrom::Auto,
            None,
            &client,
        )
        .await
        .expect_err("nothing answers");
        let text = message(&failure);
        assert!(
            text.contains("`registry.invalid/team/tool:v1` in registry registry.invalid"),
            "{text}"
        );
        assert!(text.contains("the local engine does not answer"), "{text}");
    }

    #[test]
    fn malformed_registry_credentials_are_bad_input_and_never_shown() {
        let Err(failure) = registry_client(
            &RegistryOptions {
                registry_auth: vec!["alice-secret".to_owned()],
                insecure_registries: Vec::new(),
            },
            ["127.0.0.1:5000"],
            Output::new(crate::cli::ColorChoice::Never),
        ) else {
            panic!("credentials without a colon were accepted");
        };
        assert_eq!(failure.exit_code(), crate::exit_code::INVALID_INPUT);
        assert!(!message(&failure).contains("alice-secret"));
    }

    #[test]
    fn credentials_name_their_host_only_before_an_equals_sign_that_follows_a_host() {
        assert_eq!(
            split_host("registry.example:5000=alice:secret"),
            Some(("registry.example:5000", "alice:secret"))
        );
        assert_eq!(
            split_host("127.0.0.1=alice:pa=ss"),
            Some(("127.0.0.1", "alice:pa=ss"))
        );
        // USER:PASSWORD whose password holds `=`: what comes before it is no host.
        assert_eq!(split_host("alice:pa=ss"), None);
        assert_eq!(split_host("alice:123=x"), None);
        assert_eq!(split_host("alice:secret"), None);
        assert_eq!(split_host("=alice:secret"), None);
        assert_eq!(split_host("-host=alice:secret"), None);
    }

    #[test]
    fn the_registry_of_an_image_id_is_none() {
        assert_eq!(registry_of(DIGEST), None);
        assert_eq!(
            registry_of("127.0.0.1:5000/team/tool:v1").as_deref(),
            Some("127.0.0.1:5000")
        );
        assert_eq!(
            registry_of("alpine").as_deref(),
            Some(eider_registry::DOCKER_HUB_REGISTRY)
        );
    }
}
