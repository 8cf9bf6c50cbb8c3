//! The Drake DSL: reads a `Drakefile.yaml` of any DrakeSpec version (the seed draft and v0.1.0 to
//! v0.6.0), reports every problem at once with its file, line, column and field path, and turns a
//! valid file into one normalized [`Drakefile`] model.
//!
//! It also rewrites a Drakefile to a newer version in place ([`upgrade()`]), keeping what the
//! conversion does not have to change.
//!
//! This crate does no I/O beyond reading the file it is asked to read.

mod command_line;
mod diagnostic;
pub mod fields;
mod image_reference;
mod model;
mod path;
mod permissions;
mod recorded;
pub mod schema;
mod source;
mod suggest;
pub mod triggers;
mod upgrade;
mod validate;
mod version;
pub mod yaml;

use std::sync::Arc;

pub use command_line::{CommandLineError, split_command_line};
pub use diagnostic::{
    Code, Diagnostic, DiagnosticRecord, Related, RenderableDiagnostic, Report, Severity,
};
pub use model::{
    Container, DOCKER_SOCKET_PATH, Drakefile, EnvironmentVariable, Job, OsFamily, Pipeline,
    PipelineJob, PullPolicy, Resources, SourceMountMode, Trigger,
};
pub use permissions::{Permissions, Refusal, check_permissions};
pub use recorded::{RecordedJobError, read_recorded_job};
pub use source::{LoadError, MAX_FILE_SIZE, read_source};
pub use upgrade::{Change, Upgrade, UpgradeError, upgrade};
pub use version::{SPEC_URI, SpecVersion};

/// A valid Drakefile and the warnings it produced.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The normalized model.
    pub drakefile: Drakefile,
    /// Warnings (no errors); empty when there are none.
    pub warnings: Report,
}

/// Parses and validates the text of a Drakefile. `name` is how the file is shown in diagnostics.
///
/// Returns the model and its warnings, or every diagnostic (at least one error) when the file is
/// invalid.
pub fn parse(name: &str, text: &str) -> Result<Parsed, Report> {
    let shared: Arc<str> = Arc::from(text);
    let (drakefile, diagnostics) = validate::validate(text);
    let report = Report::new(name, shared, diagnostics);
    match drakefile {
        Some(drakefile) if report.error_count() == 0 => Ok(Parsed {
            drakefile,
            warnings: report,
        }),
        _ => Err(report),
    }
}

/// Reads, parses and validates the Drakefile at `path`.
pub fn load(path: &camino::Utf8Path) -> Result<Parsed, LoadError> {
    let text = read_source(path)?;
    parse(path.as_str(), &text).map_err(LoadError::Invalid)
}
