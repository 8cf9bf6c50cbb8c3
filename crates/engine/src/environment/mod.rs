//! The environment sources besides the Drakefile: the secrets file, `--env-file` files and `-e`
//! arguments, and how they merge with a container's own `environment`.
//!
//! DrakeSpec: the Drakefile's `environment` supersedes every other source. The external sources
//! apply in this order, a later one replacing the value of an earlier one: the secrets file, then
//! each `--env-file` in order, then each `-e` in order. See [`merge`] for where each key ends up.
//!
//! No error or `Debug` output of this module contains a variable's value: values may be secrets.

mod env_file;
mod merge;
mod secrets_file;

pub use env_file::{load_env_file, parse_env_argument, parse_env_file};
pub use merge::merge;
pub use secrets_file::{SecretsFile, load_secrets_file, parse_secrets};

use camino::Utf8PathBuf;

/// Environment variables as `(name, value)` pairs, in order.
pub type Variables = Vec<(String, String)>;

/// Why an environment source cannot be used. Messages name the file, the line (and the column
/// for the secrets file) and the variable, never its value.
#[derive(Debug, thiserror::Error)]
pub enum EnvironmentError {
    /// The file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not UTF-8 text.
    #[error("{file}:{line}: the file is not UTF-8 text")]
    NotText {
        /// How the file is shown.
        file: String,
        /// The line of the first invalid byte.
        line: usize,
    },
    /// The secrets file is not valid YAML.
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        /// How the file is shown.
        file: String,
        /// Where.
        line: usize,
        /// Where, in characters.
        column: usize,
        /// What the YAML parser said (never quoting a value).
        message: String,
    },
    /// The secrets file is not a mapping.
    #[error(
        "{file}:{line}:{column}: a secrets file is a mapping of names to values, found {found}"
    )]
    NotAMapping {
        /// How the file is shown.
        file: String,
        /// Where.
        line: usize,
        /// Where, in characters.
        column: usize,
        /// What was found instead: "a list", "a string", ...
        found: &'static str,
    },
    /// A key of the secrets file is not a usable variable name.
    #[error("{file}:{line}:{column}: {problem}")]
    InvalidName {
        /// How the file is shown.
        file: String,
        /// Where.
        line: usize,
        /// Where, in characters.
        column: usize,
        /// What is wrong with the name.
        problem: String,
    },
    /// A secret's value cannot become an environment variable's value.
    #[error("{file}:{line}:{column}: secret `{name}` {problem}")]
    InvalidValue {
        /// How the file is shown.
        file: String,
        /// Where.
        line: usize,
        /// Where, in characters.
        column: usize,
        /// The secret's name.
        name: String,
        /// What is wrong, such as "must be a string, found a mapping".
        problem: String,
    },
    /// A `${` in a secret's value is not followed by a variable name and `}`.
    #[error(
        "{file}:{line}:{column}: secret `{name}`: {problem}; write `${{NAME}}` to use a variable of eider's environment, or `$$` for a literal `$`"
    )]
    InvalidReference {
        /// How the file is shown.
        file: String,
        /// Where the `${` is.
        line: usize,
        /// Where, in characters.
        column: usize,
        /// The secret's name.
        name: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// A line of an `--env-file` is not `KEY=VALUE` or `KEY`.
    #[error("{file}:{line}: {problem}")]
    InvalidLine {
        /// How the file is shown.
        file: String,
        /// Where.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// A `-e` argument is not `KEY=VALUE` or `KEY`.
    #[error("invalid `-e` argument: {problem}")]
    InvalidArgument {
        /// What is wrong.
        problem: String,
    },
}

/// What is wrong with a variable name, if anything: the container runtime cannot carry an
/// empty name, one with `=` (where the value starts) or one with a NUL byte.
fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.contains('=') {
        Some("contains `=`")
    } else if name.contains('\0') {
        Some("contains a NUL byte")
    } else {
        None
    }
}

/// Decodes `bytes` as UTF-8, or names the line of the first invalid byte.
fn decode(file: &str, bytes: Vec<u8>) -> Result<String, EnvironmentError> {
    String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        EnvironmentError::NotText {
            file: file.to_owned(),
            line: memchr::memchr_iter(b'\n', valid).count() + 1,
        }
    })
}

/// Reads the file at `path` as UTF-8 text. A secrets file may be the repository's: anything but
/// a regular file of a sane size is refused unread, never waited on.
fn read_text(path: &camino::Utf8Path) -> Result<String, EnvironmentError> {
    let bytes = eider_regular_file::read_regular(path, eider_regular_file::MAX_PROJECT_FILE)
        .map_err(|source| EnvironmentError::Read {
            path: path.to_owned(),
            source,
        })?;
    decode(path.as_str(), bytes)
}
