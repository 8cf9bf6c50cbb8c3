//! Registry credentials, and the one type that holds a secret: its `Debug` never shows the value,
//! so a credential cannot leak into an error, a log line or a panic message.

use std::fmt;

/// A secret string (a password, an identity token, a bearer token) that prints as `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value, for the one place that must send it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("<redacted>")
    }
}

/// How to authenticate to one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A user name and a password (or a personal access token used as one).
    UserPassword {
        /// The user name; not secret, shown in `Debug`.
        username: String,
        /// The password.
        password: Secret,
    },
    /// An `OAuth2` refresh token that a token server exchanges for bearer tokens (what
    /// `docker login` stores as `identitytoken`, and helpers return under the user `<token>`).
    IdentityToken(Secret),
}

impl Credentials {
    /// Credentials from a user name and a password.
    #[must_use]
    pub fn user_password(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self::UserPassword {
            username: username.into(),
            password: Secret::new(password),
        }
    }

    /// Parses `USER:PASSWORD` (the CLI's `--registry-auth`, or the first line of the file it
    /// names). The password may contain `:`; a trailing newline is ignored.
    pub fn parse_user_password(text: &str) -> Result<Self, CredentialsFormatError> {
        let text = text.strip_suffix('\n').unwrap_or(text);
        let text = text.strip_suffix('\r').unwrap_or(text);
        match text.split_once(':') {
            Some((username, password)) if !username.is_empty() && !password.is_empty() => {
                Ok(Self::user_password(username, password))
            }
            // The text holds the password: the error must not repeat it.
            _ => Err(CredentialsFormatError),
        }
    }
}

/// Credentials text that is not `USER:PASSWORD`. Carries nothing of the text, which may hold
/// a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("registry credentials must be given as USER:PASSWORD, both non-empty")]
pub struct CredentialsFormatError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_a_secret() {
        let credentials = Credentials::user_password("alice", "hunter2-secret");
        let shown = format!("{credentials:?}");
        assert!(shown.contains("alice"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        let token = Credentials::IdentityToken(Secret::new("refresh-token-value"));
        assert!(!format!("{token:?}").contains("refresh-token-value"));
    }

    #[test]
    fn user_password_text_splits_at_the_first_colon() {
        let credentials = Credentials::parse_user_password("alice:pa:ss\n").expect("valid");
        assert_eq!(credentials, Credentials::user_password("alice", "pa:ss"));
    }

    #[test]
    fn malformed_user_password_text_is_refused_without_echoing_it() {
        for text in ["alice", ":secret-one", "alice:", ""] {
            let error = Credentials::parse_user_password(text).expect_err(text);
            let message = error.to_string();
            assert!(!message.contains("secret-one"), "{message}");
            assert!(!message.contains("alice"), "{message}");
        }
    }
}
