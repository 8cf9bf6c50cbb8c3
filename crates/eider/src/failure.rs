//! Failures of a command, rendered once at the edge as `error:` + `Caused by:` + `hint:`.

use drakefile::{LoadError, Report};

use crate::exit_code;

/// Why a command did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// The Drakefile is invalid: its diagnostics.
    Invalid(Report),
    /// Diagnostics of a Drakefile that are not about its validity (what an upgrade cannot
    /// convert), closed by a summary of their own. Bad input: exit code 2.
    Diagnostics(Box<Explained>),
    /// Already reported in full (e.g. as JSON on stdout); only the exit code remains.
    Reported {
        /// The exit code.
        exit_code: u8,
    },
    /// Anything else.
    Message {
        /// What went wrong.
        message: String,
        /// The chain of causes, outermost first.
        causes: Vec<String>,
        /// What to do about it.
        hint: Option<String>,
        /// The exit code.
        exit_code: u8,
    },
}

/// Diagnostics and what they mean for the command.
#[derive(Debug)]
pub struct Explained {
    /// The diagnostics.
    pub report: Report,
    /// One line after them, saying what they mean for the command.
    pub summary: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Failure {
    /// A failure caused by bad input (exit code 2).
    pub fn input(message: impl Into<String>) -> Self {
        Self::Message {
            message: message.into(),
            causes: Vec::new(),
            hint: None,
            exit_code: exit_code::INVALID_INPUT,
        }
    }

    /// A failure of something eider relies on, such as the engine (exit code 1).
    pub fn runtime(message: impl Into<String>) -> Self {
        Self::Message {
            message: message.into(),
            causes: Vec::new(),
            hint: None,
            exit_code: exit_code::FAILURE,
        }
    }

    /// The container engine could not be reached or failed: nothing is known to be wrong with
    /// what was asked, and running again may succeed.
    pub fn infrastructure(message: impl Into<String>) -> Self {
        Self::Message {
            message: message.into(),
            causes: Vec::new(),
            hint: None,
            exit_code: exit_code::INFRASTRUCTURE_FAILURE,
        }
    }

    /// Adds a cause.
    #[must_use]
    pub fn with_cause(mut self, cause: impl Into<String>) -> Self {
        let cause = cause.into();
        if let Self::Message { causes, .. } = &mut self
            && !cause.is_empty()
        {
            causes.push(cause);
        }
        self
    }

    /// Adds every cause in the source chain of `error`, outermost first (not `error` itself,
    /// which is usually the message).
    #[must_use]
    pub fn with_sources_of(mut self, error: &(dyn std::error::Error + 'static)) -> Self {
        let mut source = error.source();
        while let Some(cause) = source {
            self = self.with_cause(cause.to_string());
            source = cause.source();
        }
        self
    }

    /// Adds `error` and every cause in its source chain, so that the last cause says what the
    /// system answered (`No space left on device`). A full file system also gets a hint.
    #[must_use]
    pub fn with_error(self, error: &(dyn std::error::Error + 'static)) -> Self {
        let mut failure = self.with_cause(error.to_string()).with_sources_of(error);
        let mut cause = Some(error);
        while let Some(current) = cause {
            if current
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::StorageFull)
            {
                failure = failure.with_hint(
                    "the file system is full: free some space there, or choose another \
                     location (the cache follows XDG_CACHE_HOME)",
                );
                break;
            }
            cause = current.source();
        }
        failure
    }

    /// Adds a hint.
    #[must_use]
    pub fn with_hint(mut self, text: impl Into<String>) -> Self {
        if let Self::Message { hint, .. } = &mut self {
            *hint = Some(text.into());
        }
        self
    }

    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Invalid(_) | Self::Diagnostics(_) => exit_code::INVALID_INPUT,
            Self::Message { exit_code, .. } | Self::Reported { exit_code } => *exit_code,
        }
    }
}

impl From<LoadError> for Failure {
    fn from(error: LoadError) -> Self {
        match error {
            LoadError::Invalid(report) => Self::Invalid(report),
            LoadError::Read { path, source } => {
                let hint = (source.kind() == std::io::ErrorKind::NotFound).then(|| {
                    "check the path, or run `eider init` to write a starter Drakefile".to_owned()
                });
                let failure =
                    Self::input(format!("cannot read {path}")).with_cause(source.to_string());
                match hint {
                    Some(hint) => failure.with_hint(hint),
                    None => failure,
                }
            }
            LoadError::IsDirectory { path } => {
                Self::input(format!("{path} is a directory, not a Drakefile")).with_hint(format!(
                    "pass the file: `--file {}`",
                    path.join(crate::discover::DRAKEFILE_NAME)
                ))
            }
            other @ LoadError::TooLarge { .. } => Self::input(other.to_string())
                .with_hint("a Drakefile this large is almost certainly not one; check the path"),
            other @ (LoadError::NotAFile { .. } | LoadError::NotText { .. }) => {
                Self::input(other.to_string()).with_hint("a Drakefile is a UTF-8 YAML text file")
            }
        }
    }
}
