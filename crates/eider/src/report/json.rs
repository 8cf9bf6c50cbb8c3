//! The JSON report: every run, every job, its result, duration and exit code. Its shape is a
//! contract (`"version": 1`); new fields may be added, none is removed or renamed.

use serde::Serialize;

use super::RunRecord;
use crate::failure::Failure;
use eider_engine::{JobOutcome, JobReport};

/// The whole report.
#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    runs: Vec<JsonRun<'a>>,
}

/// One run: the named jobs, or one pipeline.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonRun<'a> {
    run_id: &'a str,
    pipeline: Option<&'a str>,
    succeeded: bool,
    interrupted: bool,
    duration_seconds: f64,
    jobs: Vec<JsonJob<'a>>,
}

/// One job; the optional fields are present only where they apply.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonJob<'a> {
    name: &'a str,
    result: &'static str,
    duration_seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_limit_reached: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    container: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    out_of_memory: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

impl<'a> JsonJob<'a> {
    fn of(report: &'a JobReport) -> Self {
        let mut job = JsonJob {
            name: &report.name,
            result: report.outcome.result().as_str(),
            duration_seconds: report.duration.as_secs_f64(),
            // Present only when it happened, like the other optional fields.
            log_limit_reached: report.log_limit_reached.then_some(true),
            container: None,
            exit_code: None,
            out_of_memory: None,
            timeout_seconds: None,
            message: None,
        };
        match &report.outcome {
            JobOutcome::Failed {
                container,
                exit_code,
                out_of_memory,
            } => {
                job.container = Some(container);
                job.exit_code = Some(*exit_code);
                job.out_of_memory = Some(*out_of_memory);
            }
            JobOutcome::TimedOut { after } => job.timeout_seconds = Some(after.as_secs_f64()),
            JobOutcome::Error { message, .. }
            | JobOutcome::InfrastructureFailure { message, .. } => {
                job.message = Some(message);
            }
            _ => {}
        }
        job
    }
}

/// The report's text.
pub fn render(runs: &[RunRecord]) -> Result<String, Failure> {
    let report = JsonReport {
        version: 1,
        runs: runs
            .iter()
            .map(|run| JsonRun {
                run_id: &run.summary.run_id,
                pipeline: run.pipeline.as_deref(),
                succeeded: run.summary.succeeded(),
                interrupted: run.summary.interrupted,
                duration_seconds: run.wall_time.as_secs_f64(),
                jobs: run.summary.jobs.iter().map(JsonJob::of).collect(),
            })
            .collect(),
    };
    crate::commands::json_text(&report)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use eider_engine::{JobOutcome, JobReport, RunSummary};

    use serde_json::{Value, json};

    use super::*;

    /// The schema checked in beside the Drakefile schemas.
    const SCHEMA: &str = include_str!("../../../../schema/eider-report-v1.json");

    fn job(name: &str, outcome: JobOutcome) -> JobReport {
        JobReport {
            name: name.to_owned(),
            outcome,
            duration: Duration::from_millis(1500),
            log_limit_reached: name == "passed",
        }
    }

    /// A run with a job of every result.
    fn every_result() -> [RunRecord; 1] {
        [RunRecord {
            pipeline: Some("ci".to_owned()),
            summary: RunSummary {
                run_id: "0123456789".to_owned(),
                jobs: vec![
                    job("passed", JobOutcome::Succeeded),
                    job(
                        "failed",
                        JobOutcome::Failed {
                            container: "main".to_owned(),
                            exit_code: 3,
                            out_of_memory: false,
                        },
                    ),
                    job(
                        "slow",
                        JobOutcome::TimedOut {
                            after: Duration::from_secs(60),
                        },
                    ),
                    job(
                        "broken",
                        JobOutcome::Error {
                            message: "image missing".to_owned(),
                            hint: None,
                        },
                    ),
                    job(
                        "engine-gone",
                        JobOutcome::InfrastructureFailure {
                            message: "the container engine did not answer".to_owned(),
                            hint: None,
                        },
                    ),
                    job("stopped", JobOutcome::Interrupted),
                    job("later", JobOutcome::Cancelled),
                    job("downstream", JobOutcome::Skipped),
                ],
                interrupted: false,
                cleanup_errors: Vec::new(),
            },
            wall_time: Duration::from_secs(3),
        }]
    }

    #[test]
    fn every_result_matches_the_published_schema() {
        let text = render(&every_result()).expect("renders");
        let report: Value = serde_json::from_str(&text).expect("valid JSON");
        let schema: Value = serde_json::from_str(SCHEMA).expect("the schema is JSON");
        let validator = jsonschema::validator_for(&schema).expect("a valid schema");
        let problems: Vec<String> = validator
            .iter_errors(&report)
            .map(|error| format!("{} at {}", error, error.instance_path()))
            .collect();
        assert!(problems.is_empty(), "{problems:#?}\n{text}");
        let results: Vec<&str> = report["runs"][0]["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .map(|job| job["result"].as_str().expect("result"))
            .collect();
        assert_eq!(
            results,
            [
                "passed",
                "failed",
                "timed-out",
                "error",
                "infrastructure-failure",
                "interrupted",
                "cancelled",
                "skipped"
            ]
        );
    }

    /// The bytes version 1 of the report has always had for [`every_result`]: consumers may
    /// compare reports as text, so the order of fields and the form of numbers are kept too.
    #[test]
    fn the_report_s_bytes_stay_those_of_version_1() {
        let text = render(&every_result()).expect("renders");
        assert_eq!(text, include_str!("testdata/every-result-v1.json"));
    }

    #[test]
    fn a_report_missing_a_required_field_fails_the_schema() {
        let schema: Value = serde_json::from_str(SCHEMA).expect("the schema is JSON");
        let validator = jsonschema::validator_for(&schema).expect("a valid schema");
        let broken = json!({"version": 1, "runs": [{"runId": "0123456789", "pipeline": null,
            "succeeded": true, "interrupted": false, "durationSeconds": 1.0,
            "jobs": [{"name": "a", "result": "failed", "durationSeconds": 1.0}]}]});
        assert!(!validator.is_valid(&broken));
    }
}
