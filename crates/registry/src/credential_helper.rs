//! The Docker credential helper protocol: `docker-credential-NAME get` reads a server address on
//! stdin and prints `{"ServerURL", "Username", "Secret"}`, or fails with "credentials not found".

use std::ffi::OsStr;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use serde::Deserialize;
use tokio::io::AsyncWriteExt as _;

use crate::credentials::{Credentials, Secret};

/// The message every helper built on docker-credential-helpers prints when it has nothing for a
/// server; the Docker CLI treats it as "no credentials", not as a failure.
const NOT_FOUND_MESSAGE: &str = "credentials not found in native keychain";

/// The user name helpers give when the secret is an identity token.
const IDENTITY_TOKEN_USER: &str = "<token>";

/// At most this much of a failing helper's message is kept in the error.
const MAX_MESSAGE_LENGTH: usize = 300;

/// A helper's answer. Deliberately without `Debug`: it holds a secret.
#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// Runs `docker-credential-HELPER get` for `server`, looked up in `search_path` when given.
pub(crate) async fn run_helper(
    helper: &str,
    server: &str,
    search_path: Option<&OsStr>,
    timeout: Duration,
) -> Result<Option<Credentials>, HelperError> {
    let program = format!("docker-credential-{helper}");
    let mut command = tokio::process::Command::new(&program);
    command
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(search_path) = search_path {
        // std looks the program up in the child's PATH when it is set on the command.
        command.env("PATH", search_path);
    }
    let mut child = command.spawn().map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            HelperError::NotFound {
                program: program.clone(),
            }
        } else {
            HelperError::Start {
                program: program.clone(),
                source,
            }
        }
    })?;
    let exchange = async {
        if let Some(mut stdin) = child.stdin.take() {
            // A helper that exits without reading its input is judged by its output instead.
            let _ignored = stdin.write_all(server.as_bytes()).await;
        }
        child.wait_with_output().await
    };
    let output = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| HelperError::TimedOut {
            program: program.clone(),
            seconds: timeout.as_secs(),
        })?
        .map_err(|source| HelperError::Start {
            program: program.clone(),
            source,
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        if stdout.trim() == NOT_FOUND_MESSAGE {
            return Ok(None);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let message = if stderr.trim().is_empty() {
            stdout.trim()
        } else {
            stderr.trim()
        };
        return Err(HelperError::Failed {
            program,
            status: output.status,
            message: shorten(message),
        });
    }
    let answer: HelperAnswer = serde_json::from_slice(&output.stdout)
        .map_err(|source| HelperError::Output { program, source })?;
    if answer.secret.is_empty() {
        return Ok(None);
    }
    if answer.username == IDENTITY_TOKEN_USER {
        return Ok(Some(Credentials::IdentityToken(Secret::new(answer.secret))));
    }
    Ok(Some(Credentials::user_password(
        answer.username,
        answer.secret,
    )))
}

fn shorten(message: &str) -> String {
    match message.char_indices().nth(MAX_MESSAGE_LENGTH) {
        Some((index, _)) => format!("{}...", &message[..index]),
        None => message.to_owned(),
    }
}

/// A credential helper that did not answer.
#[derive(Debug, thiserror::Error)]
pub enum HelperError {
    /// The helper program is not on the search path.
    #[error("credential helper `{program}` is not installed (not found on PATH)")]
    NotFound {
        /// The program looked for.
        program: String,
    },
    /// The helper could not be started or waited for.
    #[error("cannot run credential helper `{program}`")]
    Start {
        /// The program.
        program: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The helper did not finish in time.
    #[error("credential helper `{program}` did not answer within {seconds}s")]
    TimedOut {
        /// The program.
        program: String,
        /// The time limit.
        seconds: u64,
    },
    /// The helper failed.
    #[error("credential helper `{program}` failed ({status}): {message}")]
    Failed {
        /// The program.
        program: String,
        /// Its exit status.
        status: ExitStatus,
        /// What it printed, shortened.
        message: String,
    },
    /// The helper printed something other than the protocol's JSON.
    #[error(
        "credential helper `{program}` printed an answer that is not the helper protocol's JSON"
    )]
    Output {
        /// The program.
        program: String,
        /// What the parser found (positions only, never values).
        #[source]
        source: serde_json::Error,
    },
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use camino::Utf8PathBuf;

    use super::*;
    use crate::docker_config::{CredentialError, CredentialSource, DockerConfigLocation};

    /// A temp directory holding `docker-credential-NAME` scripts and a `config.json`.
    struct HelperFixture {
        directory: tempfile::TempDir,
    }

    impl HelperFixture {
        fn new() -> Self {
            Self {
                directory: tempfile::tempdir().expect("temp dir"),
            }
        }

        fn path(&self) -> Utf8PathBuf {
            Utf8PathBuf::from_path_buf(self.directory.path().to_owned()).expect("utf-8 temp dir")
        }

        /// A helper whose `get` runs `body` (a shell script) with the server on stdin.
        fn helper(&self, name: &str, body: &str) {
            let path = self
                .directory
                .path()
                .join(format!("docker-credential-{name}"));
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write helper");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .expect("make helper executable");
        }

        fn config(&self, json: &str) {
            std::fs::write(self.directory.path().join("config.json"), json).expect("write config");
        }

        /// Helpers are found in the fixture first; the system's tools (`sleep`, `dirname`)
        /// after it.
        fn source(&self) -> CredentialSource {
            let mut search_path = std::ffi::OsString::from(self.path().as_str());
            if let Some(system) = std::env::var_os("PATH") {
                search_path.push(":");
                search_path.push(system);
            }
            CredentialSource::docker_config(DockerConfigLocation::Directory(self.path()))
                .with_helper_search_path(search_path)
                .with_helper_timeout(Duration::from_secs(5))
        }
    }

    /// A helper that answers only for `server`, the way real helpers do, and records what it
    /// was asked in `asked`.
    const ECHO_HELPER: &str = r#"read -r server || true
printf '%s' "$server" > "$(dirname "$0")/asked"
if [ "$server" = "$EXPECTED" ] || [ -z "$EXPECTED" ]; then
  printf '{"ServerURL":"%s","Username":"helper-user","Secret":"helper-secret"}' "$server"
else
  echo "credentials not found in native keychain"; exit 1
fi"#;

    #[tokio::test]
    async fn the_default_store_is_asked_with_the_protocol() {
        let fixture = HelperFixture::new();
        fixture.helper(
            "teststore",
            &ECHO_HELPER.replace("$EXPECTED", "127.0.0.1:5000"),
        );
        fixture.config(r#"{"auths":{"127.0.0.1:5000":{}},"credsStore":"teststore"}"#);
        let credentials = fixture
            .source()
            .credentials_for("127.0.0.1:5000")
            .await
            .expect("helper answers");
        assert_eq!(
            credentials,
            Some(Credentials::user_password("helper-user", "helper-secret"))
        );
        let asked = std::fs::read_to_string(fixture.directory.path().join("asked")).expect("asked");
        assert_eq!(asked, "127.0.0.1:5000");
    }

    #[tokio::test]
    async fn not_found_from_the_helper_means_no_credentials() {
        let fixture = HelperFixture::new();
        fixture.helper("teststore", &ECHO_HELPER.replace("$EXPECTED", "elsewhere"));
        fixture.config(r#"{"credsStore":"teststore"}"#);
        let credentials = fixture
            .source()
            .credentials_for("127.0.0.1:5000")
            .await
            .expect("not found is no error");
        assert_eq!(credentials, None);
    }

    #[tokio::test]
    async fn a_registry_helper_wins_over_inline_entries_and_the_store() {
        let fixture = HelperFixture::new();
        fixture.helper("perhost", &ECHO_HELPER.replace("$EXPECTED", ""));
        fixture.helper(
            "teststore",
            r#"printf '{"Username":"store-user","Secret":"store-secret"}'"#,
        );
        fixture.config(
            r#"{"auths":{"a.example":{"auth":"Ym9iOnB3"}},
                "credsStore":"teststore","credHelpers":{"a.example":"perhost"}}"#,
        );
        let source = fixture.source();
        assert_eq!(
            source.credentials_for("a.example").await.expect("lookup"),
            Some(Credentials::user_password("helper-user", "helper-secret"))
        );
        // Another registry falls through to the store.
        assert_eq!(
            source.credentials_for("b.example").await.expect("lookup"),
            Some(Credentials::user_password("store-user", "store-secret"))
        );
    }

    #[tokio::test]
    async fn docker_hub_is_asked_for_by_its_index_address() {
        let fixture = HelperFixture::new();
        fixture.helper("teststore", &ECHO_HELPER.replace("$EXPECTED", ""));
        fixture.config(r#"{"credsStore":"teststore"}"#);
        fixture
            .source()
            .credentials_for("registry-1.docker.io")
            .await
            .expect("lookup");
        let asked = std::fs::read_to_string(fixture.directory.path().join("asked")).expect("asked");
        assert_eq!(asked, "https://index.docker.io/v1/");
    }

    #[tokio::test]
    async fn the_token_user_means_an_identity_token() {
        let fixture = HelperFixture::new();
        fixture.helper(
            "teststore",
            r#"printf '{"Username":"<token>","Secret":"refresh-token"}'"#,
        );
        fixture.config(r#"{"credsStore":"teststore"}"#);
        assert_eq!(
            fixture
                .source()
                .credentials_for("a.example")
                .await
                .expect("lookup"),
            Some(Credentials::IdentityToken(Secret::new("refresh-token")))
        );
    }

    fn helper_error(error: CredentialError) -> HelperError {
        match error {
            CredentialError::Helper { source, .. } => source,
            other => panic!("expected a helper error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_failing_helper_is_reported_with_its_message() {
        let fixture = HelperFixture::new();
        fixture.helper("teststore", "echo 'keychain is locked' >&2; exit 3");
        fixture.config(r#"{"credsStore":"teststore"}"#);
        let error = fixture
            .source()
            .credentials_for("a.example")
            .await
            .expect_err("the helper fails");
        assert_eq!(
            error.to_string(),
            "cannot get credentials for a.example from the docker credential helper"
        );
        let source = helper_error(error);
        assert_eq!(
            source.to_string(),
            "credential helper `docker-credential-teststore` failed (exit status: 3): keychain is \
             locked"
        );
    }

    #[tokio::test]
    async fn a_missing_helper_is_named() {
        let fixture = HelperFixture::new();
        fixture.config(r#"{"credsStore":"absent"}"#);
        let error = fixture
            .source()
            .credentials_for("a.example")
            .await
            .expect_err("no such helper");
        assert_eq!(
            helper_error(error).to_string(),
            "credential helper `docker-credential-absent` is not installed (not found on PATH)"
        );
    }

    #[tokio::test]
    async fn a_hanging_helper_is_given_up() {
        let fixture = HelperFixture::new();
        fixture.helper("teststore", "sleep 30");
        fixture.config(r#"{"credsStore":"teststore"}"#);
        let source = fixture
            .source()
            .with_helper_timeout(Duration::from_millis(300));
        let error = source
            .credentials_for("a.example")
            .await
            .expect_err("the helper hangs");
        assert!(matches!(helper_error(error), HelperError::TimedOut { .. }));
    }

    #[tokio::test]
    async fn unreadable_helper_output_does_not_echo_it() {
        let fixture = HelperFixture::new();
        fixture.helper("teststore", "echo 'Secret: plain-text-secret'");
        fixture.config(r#"{"credsStore":"teststore"}"#);
        let error = fixture
            .source()
            .credentials_for("a.example")
            .await
            .expect_err("bad output");
        let source = helper_error(error);
        let mut chain = source.to_string();
        if let Some(cause) = std::error::Error::source(&source) {
            chain.push_str(&cause.to_string());
        }
        assert!(!chain.contains("plain-text-secret"), "{chain}");
    }
}
