//! What eider makes of one trigger, its spec, version and config: the one place that both
//! `eider validate` (warnings with lines and columns) and pipeline selection (notes) ask.

use serde_json::Value;

use super::brig::{self, BRIG_SPEC_URI};
use super::github::{ConfigNote, GithubConfigError, GithubTrigger};
use super::{GITHUB_SPEC_URI, SUPPORTED};

/// How eider reads one trigger.
#[derive(Debug)]
pub(super) enum Reading {
    /// A GitHub trigger, matched against events.
    Github(Box<GithubTrigger>),
    /// A trigger of a known spec that never selects a pipeline here (`drakespec-brig`).
    Never,
    /// A spec or version eider does not support, and why.
    Unsupported(String),
}

/// Reads a trigger: how it is matched, and notes about its config (fields ignored, selectors
/// that select nothing, old spellings, events with no git counterpart). A GitHub config that
/// cannot be read is the error.
pub(super) fn read(
    spec_uri: &str,
    spec_version: &str,
    config: Option<&Value>,
) -> Result<(Reading, Vec<ConfigNote>), GithubConfigError> {
    if let Some(reason) = unsupported(spec_uri, spec_version) {
        return Ok((Reading::Unsupported(reason), Vec::new()));
    }
    if spec_uri == BRIG_SPEC_URI {
        return Ok((Reading::Never, brig::read(config)));
    }
    debug_assert_eq!(spec_uri, GITHUB_SPEC_URI);
    let (trigger, notes) = GithubTrigger::parse(config)?;
    Ok((Reading::Github(Box::new(trigger)), notes))
}

/// What `eider validate` says about a trigger: warnings about its config, and the problem that
/// makes `eider run --event` refuse it. Nothing for specs and versions eider does not support
/// (those are noted when an event is matched).
#[derive(Debug, Default)]
pub struct TriggerCheck {
    /// Warnings, in the order of the config.
    pub notes: Vec<ConfigNote>,
    /// Why the config cannot be read, if it cannot.
    pub problem: Option<GithubConfigError>,
}

/// Checks one trigger for `eider validate`.
#[must_use]
pub fn check(spec_uri: &str, spec_version: &str, config: Option<&Value>) -> TriggerCheck {
    match read(spec_uri, spec_version, config) {
        Ok((_, notes)) => TriggerCheck {
            notes,
            problem: None,
        },
        Err(problem) => TriggerCheck {
            notes: Vec::new(),
            problem: Some(problem),
        },
    }
}

/// Why eider skips a trigger of this spec and version, or `None` when it reads them.
fn unsupported(spec_uri: &str, spec_version: &str) -> Option<String> {
    let versions: Vec<&str> = SUPPORTED
        .iter()
        .filter(|(uri, _)| *uri == spec_uri)
        .map(|(_, version)| *version)
        .collect();
    if versions.is_empty() {
        let supported: Vec<String> = SUPPORTED
            .iter()
            .map(|(uri, version)| format!("{uri} {version}"))
            .collect();
        return Some(format!(
            "skipped: trigger spec `{spec_uri}` is not supported (eider supports {})",
            supported.join(", ")
        ));
    }
    if versions.contains(&spec_version) {
        return None;
    }
    Some(format!(
        "skipped: version `{spec_version}` of trigger spec `{spec_uri}` is not supported (eider \
         supports {})",
        versions.join(", ")
    ))
}
