//! Credentials from Docker's client configuration (`$DOCKER_CONFIG/config.json`, else
//! `~/.docker/config.json`): inline `auths` entries, `credHelpers` per registry and the default
//! `credsStore`, with the same precedence as the Docker CLI for the cases that matter: a registry's
//! own helper first, then an inline entry, then the default store.
//!
//! The `docker_credential` crate reads the same file, but its errors drop the path, its helper
//! call blocks without a time limit, and its credential type prints passwords in `Debug`; this
//! module keeps to the crate's rules instead.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::time::Duration;

use base64::Engine as _;
use camino::{Utf8Path, Utf8PathBuf};
use serde::Deserialize;

use crate::credential_helper::{HelperError, run_helper};
use crate::credentials::{Credentials, Secret};
use crate::reference::DOCKER_HUB_REGISTRY;

/// The key `docker login` writes for Docker Hub, and the address its helpers are asked for.
const DOCKER_HUB_CONFIG_KEY: &str = "https://index.docker.io/v1/";

/// How long a credential helper may take before it is given up (a desktop keychain may ask
/// the user first, so this is generous).
const DEFAULT_HELPER_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the Docker client configuration is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerConfigLocation {
    /// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
    Default,
    /// `DIR/config.json`.
    Directory(Utf8PathBuf),
    /// No configuration: only explicit credentials are used.
    Disabled,
}

/// Where a client finds credentials: explicit ones per registry (the CLI's `--registry-auth`),
/// which win, then the Docker configuration.
#[derive(Debug, Clone)]
pub struct CredentialSource {
    explicit: BTreeMap<String, Credentials>,
    docker_config: DockerConfigLocation,
    helper_search_path: Option<OsString>,
    helper_timeout: Duration,
}

impl Default for CredentialSource {
    fn default() -> Self {
        Self::docker_config(DockerConfigLocation::Default)
    }
}

impl CredentialSource {
    /// Credentials from the Docker configuration at `location`.
    #[must_use]
    pub fn docker_config(location: DockerConfigLocation) -> Self {
        Self {
            explicit: BTreeMap::new(),
            docker_config: location,
            helper_search_path: None,
            helper_timeout: DEFAULT_HELPER_TIMEOUT,
        }
    }

    /// No credentials at all: every request is anonymous unless explicit ones are added.
    #[must_use]
    pub fn anonymous() -> Self {
        Self::docker_config(DockerConfigLocation::Disabled)
    }

    /// Uses `credentials` for `registry` (`HOST[:PORT]`; Docker Hub under any of its names),
    /// whatever the Docker configuration says.
    #[must_use]
    pub fn with_credentials(mut self, registry: &str, credentials: Credentials) -> Self {
        self.explicit
            .insert(normalize_registry_key(registry), credentials);
        self
    }

    /// Looks credential helpers (`docker-credential-NAME`) up in `search_path` (a `PATH`-style
    /// list) instead of the process's `PATH`.
    #[must_use]
    pub fn with_helper_search_path(mut self, search_path: impl Into<OsString>) -> Self {
        self.helper_search_path = Some(search_path.into());
        self
    }

    /// Gives credential helpers `timeout` to answer.
    #[must_use]
    pub fn with_helper_timeout(mut self, timeout: Duration) -> Self {
        self.helper_timeout = timeout;
        self
    }

    /// The credentials for `registry`, or `None` when nothing is configured for it.
    pub async fn credentials_for(
        &self,
        registry: &str,
    ) -> Result<Option<Credentials>, CredentialError> {
        let key = normalize_registry_key(registry);
        if let Some(credentials) = self.explicit.get(&key) {
            return Ok(Some(credentials.clone()));
        }
        let Some(path) = self.config_path() else {
            return Ok(None);
        };
        let Some(config) = DockerConfig::read(&path).await? else {
            return Ok(None);
        };
        config
            .credentials_for(
                &key,
                &path,
                self.helper_search_path.as_deref(),
                self.helper_timeout,
            )
            .await
    }

    fn config_path(&self) -> Option<Utf8PathBuf> {
        let directory = match &self.docker_config {
            DockerConfigLocation::Disabled => return None,
            DockerConfigLocation::Directory(directory) => directory.clone(),
            DockerConfigLocation::Default => default_config_directory()?,
        };
        Some(directory.join("config.json"))
    }
}

fn default_config_directory() -> Option<Utf8PathBuf> {
    if let Some(directory) = std::env::var_os("DOCKER_CONFIG").filter(|value| !value.is_empty()) {
        return Utf8PathBuf::from_path_buf(directory.into()).ok();
    }
    let home = std::env::var_os("HOME").filter(|value| !value.is_empty())?;
    Utf8PathBuf::from_path_buf(std::path::PathBuf::from(home).join(".docker")).ok()
}

/// The parts of `config.json` that concern credentials; every other key is ignored.
#[derive(Deserialize, Default)]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(rename = "credsStore")]
    credentials_store: Option<String>,
    #[serde(rename = "credHelpers", default)]
    credential_helpers: BTreeMap<String, String>,
}

/// One `auths` entry. Deliberately without `Debug`: it holds passwords.
#[derive(Deserialize, Default)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    #[serde(rename = "identitytoken")]
    identity_token: Option<String>,
}

impl DockerConfig {
    /// Reads and parses `path`; `None` when the file does not exist.
    async fn read(path: &Utf8Path) -> Result<Option<Self>, CredentialError> {
        let bytes = match tokio::fs::read(path).await {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(CredentialError::ReadConfig {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        Self::parse(&bytes, path).map(Some)
    }

    fn parse(bytes: &[u8], path: &Utf8Path) -> Result<Self, CredentialError> {
        serde_json::from_slice(bytes).map_err(|source| CredentialError::ParseConfig {
            path: path.to_owned(),
            source,
        })
    }

    async fn credentials_for(
        &self,
        registry_key: &str,
        path: &Utf8Path,
        helper_search_path: Option<&std::ffi::OsStr>,
        helper_timeout: Duration,
    ) -> Result<Option<Credentials>, CredentialError> {
        let helper = self
            .credential_helpers
            .iter()
            .find(|(key, _)| normalize_registry_key(key) == registry_key)
            .map(|(_, helper)| helper)
            .filter(|helper| !helper.is_empty());
        if let Some(helper) = helper {
            return self
                .ask_helper(helper, registry_key, helper_search_path, helper_timeout)
                .await;
        }
        if let Some(credentials) = self.inline_credentials(registry_key, path)? {
            return Ok(Some(credentials));
        }
        match self
            .credentials_store
            .as_deref()
            .filter(|store| !store.is_empty())
        {
            Some(store) => {
                self.ask_helper(store, registry_key, helper_search_path, helper_timeout)
                    .await
            }
            None => Ok(None),
        }
    }

    async fn ask_helper(
        &self,
        helper: &str,
        registry_key: &str,
        helper_search_path: Option<&std::ffi::OsStr>,
        helper_timeout: Duration,
    ) -> Result<Option<Credentials>, CredentialError> {
        let server = helper_server_address(registry_key);
        run_helper(helper, &server, helper_search_path, helper_timeout)
            .await
            .map_err(|source| CredentialError::Helper {
                registry: registry_key.to_owned(),
                source,
            })
    }

    fn inline_credentials(
        &self,
        registry_key: &str,
        path: &Utf8Path,
    ) -> Result<Option<Credentials>, CredentialError> {
        // An exact key wins over one that only normalizes to the registry.
        let entry = self
            .auths
            .get(registry_key)
            .map(|entry| (registry_key, entry))
            .or_else(|| {
                self.auths
                    .iter()
                    .find(|(key, _)| normalize_registry_key(key) == registry_key)
                    .map(|(key, entry)| (key.as_str(), entry))
            });
        let Some((key, entry)) = entry else {
            return Ok(None);
        };
        if let Some(token) = entry
            .identity_token
            .as_deref()
            .filter(|token| !token.is_empty())
        {
            return Ok(Some(Credentials::IdentityToken(Secret::new(token))));
        }
        if let Some(auth) = entry.auth.as_deref().filter(|auth| !auth.is_empty()) {
            return decode_auth(auth)
                .map(Some)
                .ok_or_else(|| CredentialError::InvalidAuth {
                    path: path.to_owned(),
                    key: key.to_owned(),
                });
        }
        match (&entry.username, &entry.password) {
            (Some(username), Some(password)) if !username.is_empty() => {
                Ok(Some(Credentials::user_password(username, password)))
            }
            _ => Ok(None),
        }
    }
}

/// Decodes an `auth` value: base64 of `USER:PASSWORD` (padding optional, as Docker writes it
/// both ways).
fn decode_auth(auth: &str) -> Option<Credentials> {
    let trimmed = auth.trim().trim_end_matches('=');
    let decoded = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (username, password) = decoded.split_once(':')?;
    (!username.is_empty()).then(|| Credentials::user_password(username, password))
}

/// Maps a config key or registry name to the registry it stands for: scheme and path dropped,
/// Docker Hub's aliases merged (`https://index.docker.io/v1/` is Docker Hub).
pub(crate) fn normalize_registry_key(key: &str) -> String {
    let without_scheme = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = without_scheme
        .split_once('/')
        .map_or(without_scheme, |(host, _)| host);
    match host {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB_REGISTRY.to_owned(),
        _ => host.to_owned(),
    }
}

/// The server address credential helpers know a registry by.
fn helper_server_address(registry_key: &str) -> String {
    if registry_key == DOCKER_HUB_REGISTRY {
        DOCKER_HUB_CONFIG_KEY.to_owned()
    } else {
        registry_key.to_owned()
    }
}

/// Credentials that could not be read from the Docker configuration.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The configuration file exists but cannot be read.
    #[error("cannot read docker config {path}")]
    ReadConfig {
        /// The file.
        path: Utf8PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration file is not the JSON Docker writes.
    #[error("docker config {path} is not valid")]
    ParseConfig {
        /// The file.
        path: Utf8PathBuf,
        /// What the parser found (positions only, never values).
        #[source]
        source: serde_json::Error,
    },
    /// An `auth` entry is not base64 of `USER:PASSWORD`.
    #[error("the `auth` entry for `{key}` in docker config {path} is not base64 of USER:PASSWORD")]
    InvalidAuth {
        /// The file.
        path: Utf8PathBuf,
        /// The `auths` key.
        key: String,
    },
    /// A credential helper did not give credentials.
    #[error("cannot get credentials for {registry} from the docker credential helper")]
    Helper {
        /// The registry asked for.
        registry: String,
        /// What went wrong with the helper.
        #[source]
        source: HelperError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> DockerConfig {
        DockerConfig::parse(json.as_bytes(), Utf8Path::new("config.json")).expect("valid config")
    }

    fn inline(config: &DockerConfig, registry: &str) -> Option<Credentials> {
        config
            .inline_credentials(
                &normalize_registry_key(registry),
                Utf8Path::new("config.json"),
            )
            .expect("valid entry")
    }

    #[test]
    fn auth_entries_decode_base64_user_password() {
        // "alice:s3cret:with-colon"
        let config =
            parse(r#"{"auths":{"127.0.0.1:5000":{"auth":"YWxpY2U6czNjcmV0OndpdGgtY29sb24="}}}"#);
        assert_eq!(
            inline(&config, "127.0.0.1:5000"),
            Some(Credentials::user_password("alice", "s3cret:with-colon"))
        );
        assert_eq!(inline(&config, "127.0.0.1:5001"), None);
    }

    #[test]
    fn unpadded_auth_and_username_password_entries_are_read() {
        let config = parse(
            r#"{"auths":{
                "a.example":{"auth":"Ym9iOnB3"},
                "b.example":{"username":"carol","password":"pw2"}
            }}"#,
        );
        assert_eq!(
            inline(&config, "a.example"),
            Some(Credentials::user_password("bob", "pw"))
        );
        assert_eq!(
            inline(&config, "b.example"),
            Some(Credentials::user_password("carol", "pw2"))
        );
    }

    #[test]
    fn identity_tokens_are_used_when_present() {
        let config =
            parse(r#"{"auths":{"a.example":{"auth":"Ym9iOnB3","identitytoken":"refresh"}}}"#);
        assert_eq!(
            inline(&config, "a.example"),
            Some(Credentials::IdentityToken(Secret::new("refresh")))
        );
    }

    #[test]
    fn docker_hub_is_found_under_the_key_docker_login_writes() {
        let config = parse(r#"{"auths":{"https://index.docker.io/v1/":{"auth":"Ym9iOnB3"}}}"#);
        for registry in ["registry-1.docker.io", "docker.io", "index.docker.io"] {
            assert_eq!(
                inline(&config, registry),
                Some(Credentials::user_password("bob", "pw")),
                "{registry}"
            );
        }
    }

    #[test]
    fn keys_with_a_scheme_or_a_path_match_their_host() {
        let config =
            parse(r#"{"auths":{"https://registry.example:5000/v2/":{"auth":"Ym9iOnB3"}}}"#);
        assert!(inline(&config, "registry.example:5000").is_some());
    }

    #[test]
    fn a_malformed_auth_entry_is_an_error_naming_the_key_and_file_not_the_value() {
        let config = parse(r#"{"auths":{"a.example":{"auth":"!!!not-base64-secret"}}}"#);
        let Err(error) =
            config.inline_credentials("a.example", Utf8Path::new("/home/x/.docker/config.json"))
        else {
            panic!("a malformed auth entry must be an error");
        };
        let message = error.to_string();
        assert_eq!(
            message,
            "the `auth` entry for `a.example` in docker config /home/x/.docker/config.json is not \
             base64 of USER:PASSWORD"
        );
        assert!(!message.contains("secret"));
    }

    #[test]
    fn malformed_json_names_the_file() {
        let Err(error) = DockerConfig::parse(b"{\"auths\": [", Utf8Path::new("/tmp/d/config.json"))
        else {
            panic!("malformed json must be an error");
        };
        assert_eq!(
            error.to_string(),
            "docker config /tmp/d/config.json is not valid"
        );
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let config = parse(r#"{"psFormat":"table","HttpHeaders":{"X":"y"},"auths":{}}"#);
        assert!(config.auths.is_empty());
    }

    #[tokio::test]
    async fn explicit_credentials_win_over_the_config() {
        let directory = tempfile::tempdir().expect("temp dir");
        let path = directory.path().join("config.json");
        std::fs::write(&path, r#"{"auths":{"127.0.0.1:5000":{"auth":"Ym9iOnB3"}}}"#)
            .expect("write config");
        let directory_path =
            Utf8PathBuf::from_path_buf(directory.path().to_owned()).expect("utf-8");
        let source =
            CredentialSource::docker_config(DockerConfigLocation::Directory(directory_path));
        assert_eq!(
            source
                .credentials_for("127.0.0.1:5000")
                .await
                .expect("lookup"),
            Some(Credentials::user_password("bob", "pw"))
        );
        let source =
            source.with_credentials("127.0.0.1:5000", Credentials::user_password("u", "p"));
        assert_eq!(
            source
                .credentials_for("127.0.0.1:5000")
                .await
                .expect("lookup"),
            Some(Credentials::user_password("u", "p"))
        );
    }

    #[tokio::test]
    async fn a_missing_config_file_means_no_credentials() {
        let directory = tempfile::tempdir().expect("temp dir");
        let directory_path =
            Utf8PathBuf::from_path_buf(directory.path().to_owned()).expect("utf-8");
        let source =
            CredentialSource::docker_config(DockerConfigLocation::Directory(directory_path));
        assert_eq!(
            source.credentials_for("a.example").await.expect("lookup"),
            None
        );
    }
}
