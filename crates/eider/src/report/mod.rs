//! Reports of a run for CI systems and dashboards: `--report junit=FILE` (one test case per job,
//! its output in `system-out`, failures with their exit codes) and `--report json=FILE`.

mod json;
mod junit;

use std::collections::BTreeMap;
use std::time::Duration;

use camino::Utf8PathBuf;
use eider_engine::RunSummary;

use crate::failure::Failure;
use crate::whole_file::write_whole;

/// At most this much of each job's output goes into a report; the rest is cut with a marker,
/// so that a job printing gigabytes cannot make a report of gigabytes.
pub const MAX_CAPTURED_OUTPUT: usize = 1024 * 1024;

/// A report to write, as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportTarget {
    /// JUnit XML.
    Junit(Utf8PathBuf),
    /// eider's JSON.
    Json(Utf8PathBuf),
}

/// Parses `junit=FILE` or `json=FILE`.
pub fn parse_target(text: &str) -> Result<ReportTarget, String> {
    match text.split_once('=') {
        Some(("junit", path)) if !path.is_empty() => Ok(ReportTarget::Junit(path.into())),
        Some(("json", path)) if !path.is_empty() => Ok(ReportTarget::Json(path.into())),
        _ => Err("expected junit=FILE or json=FILE".to_owned()),
    }
}

/// One run (a pipeline, or jobs named on the command line) as reports show it.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// The pipeline, when the run is one.
    pub pipeline: Option<String>,
    /// What happened.
    pub summary: RunSummary,
    /// Wall time of the run.
    pub wall_time: Duration,
}

/// What every job printed, by run id and job name (pipelines selected together may share a
/// job), cut at [`MAX_CAPTURED_OUTPUT`].
pub type CapturedOutput = BTreeMap<(String, String), Vec<u8>>;

/// Writes every report asked for.
pub fn write_all(
    targets: &[ReportTarget],
    runs: &[RunRecord],
    output: &CapturedOutput,
) -> Result<(), Failure> {
    for target in targets {
        let (path, text) = match target {
            ReportTarget::Junit(path) => (path, junit::render(runs, output)?),
            ReportTarget::Json(path) => (path, json::render(runs)?),
        };
        // A crash or a full disk leaves the previous report (or none), never a truncated one.
        write_whole(path, text.as_bytes(), ".eider-report-").map_err(|error| {
            Failure::runtime(format!("cannot write the report {path}")).with_error(&error)
        })?;
    }
    Ok(())
}
