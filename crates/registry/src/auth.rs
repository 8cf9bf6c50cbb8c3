//! What a client remembers about authenticating to each registry: the scheme it asked for, the
//! credentials found for it (looked up once), and bearer tokens cached per set of scopes until
//! they expire.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::header::HeaderValue;
use serde::Deserialize;

use crate::credentials::{Credentials, Secret};
use crate::docker_config::{CredentialSource, normalize_registry_key};
use crate::request_error::RequestError;

/// What the access to a repository is for; turned into token scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Access {
    pub(crate) registry: String,
    scopes: Vec<String>,
}

impl Access {
    /// Reading `repository`.
    pub(crate) fn pull(registry: &str, repository: &str) -> Self {
        Self {
            registry: registry.to_owned(),
            scopes: vec![format!("repository:{repository}:pull")],
        }
    }

    /// Writing `repository` (pushing needs reading too: HEAD checks and upload sessions).
    pub(crate) fn push(registry: &str, repository: &str) -> Self {
        Self {
            registry: registry.to_owned(),
            scopes: vec![format!("repository:{repository}:pull,push")],
        }
    }

    /// Also reading `repository`, the source of a cross-repository mount.
    pub(crate) fn and_pull(mut self, repository: &str) -> Self {
        let scope = format!("repository:{repository}:pull");
        if !self.scopes.contains(&scope) {
            self.scopes.push(scope);
        }
        self
    }

    /// The scopes, plus the one a challenge named when it is not among them.
    pub(crate) fn scopes_with(&self, challenge_scope: Option<&str>) -> Vec<String> {
        let mut scopes = self.scopes.clone();
        for scope in challenge_scope.into_iter().flat_map(str::split_whitespace) {
            if !scopes.iter().any(|known| known == scope) {
                scopes.push(scope.to_owned());
            }
        }
        scopes
    }

    /// The scopes as one line, for messages.
    pub(crate) fn describe(&self) -> String {
        self.scopes.join(" ")
    }

    fn cache_key(&self) -> TokenKey {
        let mut scopes = self.scopes.clone();
        scopes.sort();
        (self.registry.clone(), scopes.join(" "))
    }
}

/// The scheme a registry asked for in its last challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scheme {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

struct CachedToken {
    header: HeaderValue,
    valid_until: Instant,
}

/// Authentication state shared by every request of one client.
pub(crate) struct Authenticator {
    source: CredentialSource,
    credentials: tokio::sync::Mutex<HashMap<String, Option<Credentials>>>,
    schemes: Mutex<HashMap<String, Scheme>>,
    tokens: Mutex<HashMap<TokenKey, CachedToken>>,
    token_fetches: Mutex<HashMap<TokenKey, FetchLock>>,
}

/// A registry and a sorted, space-joined set of scopes.
type TokenKey = (String, String);
/// Held while one token is fetched, so that concurrent requests wait for it instead.
type FetchLock = Arc<tokio::sync::Mutex<()>>;

impl Authenticator {
    pub(crate) fn new(source: CredentialSource) -> Self {
        Self {
            source,
            credentials: tokio::sync::Mutex::new(HashMap::new()),
            schemes: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
            token_fetches: Mutex::new(HashMap::new()),
        }
    }

    /// The credentials for `registry`, looked up once per client (a helper runs only once).
    pub(crate) async fn credentials(
        &self,
        registry: &str,
    ) -> Result<Option<Credentials>, RequestError> {
        let key = normalize_registry_key(registry);
        let mut known = self.credentials.lock().await;
        if let Some(credentials) = known.get(&key) {
            return Ok(credentials.clone());
        }
        let credentials = self.source.credentials_for(&key).await.map_err(|source| {
            RequestError::Credentials {
                registry: registry.to_owned(),
                source,
            }
        })?;
        known.insert(key, credentials.clone());
        Ok(credentials)
    }

    pub(crate) fn scheme(&self, registry: &str) -> Option<Scheme> {
        lock(&self.schemes).get(registry).cloned()
    }

    pub(crate) fn remember_scheme(&self, registry: &str, scheme: Scheme) {
        lock(&self.schemes).insert(registry.to_owned(), scheme);
    }

    /// A cached bearer token for `access` that has not expired.
    pub(crate) fn cached_token(&self, access: &Access) -> Option<HeaderValue> {
        let tokens = lock(&self.tokens);
        let token = tokens.get(&access.cache_key())?;
        (token.valid_until > Instant::now()).then(|| token.header.clone())
    }

    pub(crate) fn cache_token(&self, access: &Access, header: HeaderValue, lifetime: Duration) {
        lock(&self.tokens).insert(
            access.cache_key(),
            CachedToken {
                header,
                valid_until: Instant::now() + lifetime,
            },
        );
    }

    /// The lock held while a token for `access` is fetched.
    pub(crate) fn token_lock(&self, access: &Access) -> FetchLock {
        Arc::clone(
            lock(&self.token_fetches)
                .entry(access.cache_key())
                .or_default(),
        )
    }

    pub(crate) fn forget_token(&self, access: &Access) {
        lock(&self.tokens).remove(&access.cache_key());
    }
}

/// The maps hold plain data that no panic can leave half-written, so a poisoned lock is used as is.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `Authorization: Basic base64(user:password)`, marked sensitive so it is never logged.
pub(crate) fn basic_header(username: &str, password: &Secret) -> Option<HeaderValue> {
    let encoded = base64::engine::general_purpose::STANDARD
        .encode(format!("{username}:{}", password.expose()));
    sensitive_header(&format!("Basic {encoded}"))
}

/// `Authorization: Bearer TOKEN`, marked sensitive.
pub(crate) fn bearer_header(token: &Secret) -> Option<HeaderValue> {
    sensitive_header(&format!("Bearer {}", token.expose()))
}

fn sensitive_header(value: &str) -> Option<HeaderValue> {
    let mut header = HeaderValue::from_str(value).ok()?;
    header.set_sensitive(true);
    Some(header)
}

/// The smallest lifetime the token spec lets a client assume.
const MIN_TOKEN_LIFETIME: Duration = Duration::from_secs(60);
/// Tokens are dropped this long before they expire, so one never runs out mid-request.
const TOKEN_EXPIRY_MARGIN: Duration = Duration::from_secs(10);

/// A token server's answer. Deliberately without `Debug`: it holds the token.
#[derive(Deserialize)]
struct TokenAnswer {
    token: Option<String>,
    access_token: Option<String>,
    expires_in: Option<u64>,
}

/// The token and how long to cache it, from a token server's JSON answer.
pub(crate) fn parse_token_answer(body: &[u8]) -> Option<(Secret, Duration)> {
    let answer: TokenAnswer = serde_json::from_slice(body).ok()?;
    let token = answer
        .token
        .filter(|token| !token.is_empty())
        .or(answer.access_token.filter(|token| !token.is_empty()))?;
    let lifetime = answer
        .expires_in
        .map_or(MIN_TOKEN_LIFETIME, Duration::from_secs)
        .max(MIN_TOKEN_LIFETIME);
    Some((
        Secret::new(token),
        lifetime.saturating_sub(TOKEN_EXPIRY_MARGIN),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_access_asks_for_pull_and_push_and_the_mount_source() {
        let access = Access::push("r.example", "team/app").and_pull("library/base");
        assert_eq!(
            access.describe(),
            "repository:team/app:pull,push repository:library/base:pull"
        );
    }

    #[test]
    fn a_challenge_scope_is_added_once() {
        let access = Access::pull("r.example", "app");
        assert_eq!(
            access.scopes_with(Some("repository:app:pull repository:other:pull")),
            vec!["repository:app:pull", "repository:other:pull"]
        );
        assert_eq!(access.scopes_with(None), vec!["repository:app:pull"]);
    }

    #[test]
    fn tokens_are_cached_per_scope_set_and_expire() {
        let authenticator = Authenticator::new(CredentialSource::anonymous());
        let pull = Access::pull("r.example", "app");
        let push = Access::push("r.example", "app");
        let header = bearer_header(&Secret::new("t1")).expect("valid header");
        authenticator.cache_token(&pull, header.clone(), Duration::from_secs(50));
        assert_eq!(authenticator.cached_token(&pull), Some(header));
        assert_eq!(authenticator.cached_token(&push), None);
        authenticator.cache_token(&push, HeaderValue::from_static("x"), Duration::ZERO);
        assert_eq!(authenticator.cached_token(&push), None);
        authenticator.forget_token(&pull);
        assert_eq!(authenticator.cached_token(&pull), None);
    }

    #[test]
    fn token_answers_accept_either_field_and_a_floor_lifetime() {
        let (token, lifetime) =
            parse_token_answer(br#"{"token":"abc","expires_in":300}"#).expect("a token");
        assert_eq!(token.expose(), "abc");
        assert_eq!(lifetime, Duration::from_secs(290));
        let (token, lifetime) =
            parse_token_answer(br#"{"access_token":"def","expires_in":5}"#).expect("a token");
        assert_eq!(token.expose(), "def");
        assert_eq!(lifetime, Duration::from_secs(50));
        assert!(parse_token_answer(br#"{"token":""}"#).is_none());
        assert!(parse_token_answer(b"not json").is_none());
    }

    #[test]
    fn authorization_headers_are_sensitive() {
        let header = basic_header("alice", &Secret::new("pw")).expect("valid header");
        assert!(header.is_sensitive());
        assert_eq!(header.to_str().ok(), Some("Basic YWxpY2U6cHc="));
        assert!(format!("{header:?}").contains("Sensitive"));
    }
}
