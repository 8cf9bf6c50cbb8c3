//! How an operation reaches registries: the credentials it was given, each for its own host
//! only, the registries it may talk plain HTTP to, and how patiently it retries; and the
//! registry client made of them.

use eider_registry::{
    ClientOptions, CredentialSource, Credentials, CredentialsFormatError, DockerConfigLocation,
    Reference, RegistryClient, RetryPolicy,
};

use super::image::is_image_id;
use crate::progress::{Event, Observer};

/// What a registry client is made of.
#[derive(Clone, Default)]
pub struct RegistryAccess {
    /// Credentials as given: `HOST=USER:PASSWORD` for HOST, or `USER:PASSWORD` for where the
    /// operation writes (or the package it reads). Blank entries are ignored.
    pub credentials: Vec<String>,
    /// Registries (`HOST[:PORT]`) spoken to in plain HTTP; loopback registries always may be.
    pub insecure_registries: Vec<String>,
    /// Tries after a transient failure.
    pub retry: RetryPolicy,
}

impl std::fmt::Debug for RegistryAccess {
    // The credentials hold passwords: only their number is shown.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RegistryAccess")
            .field("credentials", &self.credentials.len())
            .field("insecure_registries", &self.insecure_registries)
            .field("retry", &self.retry)
            .finish()
    }
}

/// A registry client that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// Credentials that are not `[HOST=]USER:PASSWORD` (the error carries nothing of them).
    #[error("invalid registry credentials")]
    Credentials(#[source] CredentialsFormatError),
    /// The client itself.
    #[error(transparent)]
    Client(eider_registry::ClientError),
}

impl RegistryAccess {
    /// A registry client with the credentials given and the Docker configuration, each for its
    /// own host only: a Drakefile names any registry it likes, and a registry must never be
    /// handed another one's credentials. `HOST=USER:PASSWORD` goes to HOST; `USER:PASSWORD`
    /// goes to `destinations` (`HOST[:PORT]`: where the operation writes, or the package it was
    /// asked to read), and to nothing when there is none ([`Event::UnscopedCredentialsUnused`]
    /// says so).
    pub fn client<I, S>(
        &self,
        destinations: I,
        observer: &dyn Observer,
    ) -> Result<RegistryClient, AccessError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut credentials = CredentialSource::docker_config(DockerConfigLocation::Default);
        let mut destinations = destinations.into_iter().peekable();
        let mut unscoped = None;
        for text in self
            .credentials
            .iter()
            .filter(|text| !text.trim().is_empty())
        {
            match split_host(text) {
                Some((host, user_password)) => {
                    credentials =
                        credentials.with_credentials(host, parse_credentials(user_password)?);
                }
                None => unscoped = Some(parse_credentials(text)?),
            }
        }
        if let Some(parsed) = unscoped {
            if destinations.peek().is_none() {
                // Not an error: the same variable may serve every command of a CI job.
                observer.event(&Event::UnscopedCredentialsUnused);
            }
            for registry in destinations {
                credentials = credentials.with_credentials(registry.as_ref(), parsed.clone());
            }
        }
        RegistryClient::new(ClientOptions {
            credentials,
            insecure_registries: self.insecure_registries.clone(),
            retry: self.retry.clone(),
            ..ClientOptions::default()
        })
        .map_err(AccessError::Client)
    }
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

fn parse_credentials(text: &str) -> Result<Credentials, AccessError> {
    // The parse error carries nothing of the text, which holds the password.
    Credentials::parse_user_password(text).map_err(AccessError::Credentials)
}

/// The registry host of an image reference, `None` for what names no registry (an image id, a
/// reference that does not parse).
#[must_use]
pub fn registry_of(image: &str) -> Option<String> {
    if is_image_id(image) {
        return None;
    }
    Reference::parse(image)
        .ok()
        .map(|reference| reference.registry().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NoObserver;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn malformed_registry_credentials_are_refused_and_never_shown() {
        let access = RegistryAccess {
            credentials: vec!["alice-secret".to_owned()],
            ..RegistryAccess::default()
        };
        let Err(error) = access.client(["127.0.0.1:5000"], &NoObserver) else {
            panic!("credentials without a colon were accepted");
        };
        assert!(matches!(error, AccessError::Credentials(_)), "{error:?}");
        assert!(!eider_error_chain::chain_text(&error).contains("alice-secret"));
        assert!(!format!("{access:?}").contains("alice-secret"));
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
