//! What can go wrong in one HTTP exchange with a registry, shared as the cause (`#[source]`) of
//! every operation's error; and the registry's JSON error body (`{"errors": [{code, message}]}`).

use std::fmt;
use std::time::Duration;

use camino::Utf8PathBuf;
use serde::Deserialize;

use crate::docker_config::CredentialError;

/// One entry of the distribution API's error body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RegistryErrorEntry {
    /// The error code (`MANIFEST_UNKNOWN`, `BLOB_UPLOAD_INVALID`, `UNAUTHORIZED`, ...).
    #[serde(default)]
    pub code: String,
    /// The registry's message.
    #[serde(default)]
    pub message: String,
}

/// The error entries of a registry's JSON error body, or none when the body is not one.
pub(crate) fn parse_error_body(body: &[u8]) -> Vec<RegistryErrorEntry> {
    #[derive(Deserialize)]
    struct ErrorBody {
        #[serde(default)]
        errors: Vec<RegistryErrorEntry>,
    }
    serde_json::from_slice::<ErrorBody>(body)
        .map(|body| body.errors)
        .unwrap_or_default()
}

/// The registry's errors as `: CODE: message; CODE: message`, or nothing.
struct RegistryErrors<'a>(&'a [RegistryErrorEntry]);

impl fmt::Display for RegistryErrors<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, entry) in self.0.iter().enumerate() {
            formatter.write_str(if index == 0 { ": " } else { "; " })?;
            match (entry.code.is_empty(), entry.message.is_empty()) {
                (false, false) => write!(formatter, "{}: {}", entry.code, entry.message)?,
                (false, true) => formatter.write_str(&entry.code)?,
                (true, _) => formatter.write_str(&entry.message)?,
            }
        }
        Ok(())
    }
}

fn registry_errors(entries: &[RegistryErrorEntry]) -> RegistryErrors<'_> {
    RegistryErrors(entries)
}

/// An HTTP exchange with a registry that failed. URLs are shown without their query, which may
/// carry upload state or signed storage parameters.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// No connection could be made.
    #[error("cannot connect to {url}")]
    Connect {
        /// The URL asked for.
        url: String,
        /// The client's error.
        #[source]
        source: reqwest::Error,
    },
    /// The connection broke while sending the request or reading the answer.
    #[error("{method} {url} failed")]
    Transport {
        /// The HTTP method.
        method: String,
        /// The URL asked for.
        url: String,
        /// The client's error.
        #[source]
        source: reqwest::Error,
    },
    /// Nothing moved, in either direction, for the stall timeout.
    #[error("{method} {url} stalled: nothing sent or received for {}s", timeout.as_secs())]
    Stalled {
        /// The HTTP method.
        method: String,
        /// The URL asked for.
        url: String,
        /// The stall timeout.
        timeout: Duration,
    },
    /// The registry answered with an unexpected status.
    #[error("{method} {url} answered {status}{}", registry_errors(errors))]
    Status {
        /// The HTTP method.
        method: String,
        /// The URL asked for.
        url: String,
        /// The status.
        status: reqwest::StatusCode,
        /// The registry's error entries, when its body had some.
        errors: Vec<RegistryErrorEntry>,
        /// How long the registry asked to wait (`Retry-After`), when it did.
        retry_after: Option<Duration>,
    },
    /// A body produced while it was sent cannot be sent again (after a refusal that a retry
    /// would otherwise answer).
    #[error("{method} {url}: the streamed body was already sent once")]
    StreamSpent {
        /// The method.
        method: String,
        /// The URL.
        url: String,
    },
    /// The registry wants credentials and none are configured for it.
    #[error(
        "{registry} requires authentication and no credentials are configured for it \
         ({status}{})",
        registry_errors(errors)
    )]
    CredentialsRequired {
        /// The registry.
        registry: String,
        /// The status.
        status: reqwest::StatusCode,
        /// The registry's error entries.
        errors: Vec<RegistryErrorEntry>,
    },
    /// The registry (or its token server) refused the credentials, or they lack the access.
    #[error(
        "{registry} refused the credentials for {scope} ({status}{})",
        registry_errors(errors)
    )]
    Unauthorized {
        /// The registry.
        registry: String,
        /// The access asked for (`repository:NAME:pull,push`).
        scope: String,
        /// The status.
        status: reqwest::StatusCode,
        /// The registry's error entries.
        errors: Vec<RegistryErrorEntry>,
    },
    /// The credentials could not be looked up.
    #[error("cannot look up credentials for {registry}")]
    Credentials {
        /// The registry.
        registry: String,
        /// Why.
        #[source]
        source: CredentialError,
    },
    /// The registry's authentication challenge is not one this client can answer.
    #[error("{registry} asks for authentication this client cannot answer: `{challenge}`")]
    UnsupportedChallenge {
        /// The registry.
        registry: String,
        /// The `WWW-Authenticate` header.
        challenge: String,
    },
    /// A bearer token server answered without a usable token.
    #[error("token server {realm} for {registry} gave no usable token")]
    InvalidToken {
        /// The registry.
        registry: String,
        /// The token server.
        realm: String,
    },
    /// Credentials would have gone to a token server over plain HTTP.
    #[error(
        "refusing to send credentials for {registry} to token server {realm} over plain http \
         (name the host as an insecure registry to allow it)"
    )]
    InsecureTokenServer {
        /// The registry.
        registry: String,
        /// The token server.
        realm: String,
    },
    /// A local file to send could not be read.
    #[error("cannot read {path}")]
    ReadFile {
        /// The file.
        path: Utf8PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The registry answered with a body larger than this client accepts.
    #[error("{url} sent more than {limit} bytes")]
    BodyTooLarge {
        /// The URL asked for.
        url: String,
        /// The limit.
        limit: u64,
    },
    /// The registry sent a `Location` header that is not a URL.
    #[error("{url} answered with an invalid location `{location}`")]
    InvalidLocation {
        /// The URL asked for.
        url: String,
        /// The header as sent.
        location: String,
    },
}

impl RequestError {
    /// Whether trying again may succeed: connection failures, stalls, and the statuses that
    /// mean "not now" (408, 429, 500, 502, 503, 504).
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Connect { .. } | Self::Transport { .. } | Self::Stalled { .. } => true,
            Self::Status { status, .. } => is_transient_status(*status),
            _ => false,
        }
    }

    /// How long the registry asked to wait before the next try.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status, when the registry answered.
    #[must_use]
    pub fn status(&self) -> Option<reqwest::StatusCode> {
        match self {
            Self::Status { status, .. }
            | Self::CredentialsRequired { status, .. }
            | Self::Unauthorized { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The registry's error entries, when it sent some.
    #[must_use]
    pub fn registry_errors(&self) -> &[RegistryErrorEntry] {
        match self {
            Self::Status { errors, .. }
            | Self::CredentialsRequired { errors, .. }
            | Self::Unauthorized { errors, .. } => errors,
            _ => &[],
        }
    }
}

/// The statuses that mean "try again later".
pub(crate) fn is_transient_status(status: reqwest::StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

/// A URL without its query and fragment, for messages.
pub(crate) fn display_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    // Credentials in a URL never come from this client, but a redirect could carry some.
    let _ignored = shown.set_username("");
    let _ignored = shown.set_password(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_error_bodies_are_shown_with_code_and_message() {
        let errors = parse_error_body(
            br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}},
                          {"code":"DENIED","message":""}]}"#,
        );
        let error = RequestError::Status {
            method: "GET".to_owned(),
            url: "http://127.0.0.1:5000/v2/app/manifests/x".to_owned(),
            status: reqwest::StatusCode::NOT_FOUND,
            errors,
            retry_after: None,
        };
        assert_eq!(
            error.to_string(),
            "GET http://127.0.0.1:5000/v2/app/manifests/x answered 404 Not Found: \
             MANIFEST_UNKNOWN: manifest unknown; DENIED"
        );
        assert!(!error.is_transient());
    }

    #[test]
    fn bodies_that_are_not_registry_errors_give_no_entries() {
        assert!(parse_error_body(b"<html>bad gateway</html>").is_empty());
        assert!(parse_error_body(b"{}").is_empty());
    }

    #[test]
    fn transient_statuses_are_the_retryable_ones() {
        for code in [408, 429, 500, 502, 503, 504] {
            let status = reqwest::StatusCode::from_u16(code).expect("valid status");
            assert!(is_transient_status(status), "{code}");
        }
        for code in [400, 401, 403, 404, 405, 413, 416, 501] {
            let status = reqwest::StatusCode::from_u16(code).expect("valid status");
            assert!(!is_transient_status(status), "{code}");
        }
    }

    #[test]
    fn urls_are_shown_without_query_or_user_info() {
        let url = reqwest::Url::parse(
            "https://user:pw@storage.example/blobs/x?X-Amz-Signature=abc&_state=def",
        )
        .expect("valid url");
        assert_eq!(display_url(&url), "https://storage.example/blobs/x");
    }
}
