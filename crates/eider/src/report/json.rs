//! The JSON report: every run, every job, its result, duration and exit code. Its shape is a
//! contract (`"version": 1`); new fields may be added, none is removed or renamed.

use serde_json::{Value, json};

use super::{RunRecord, result_word};
use crate::failure::Failure;
use eider_engine::JobOutcome;

/// The report's text.
pub fn render(runs: &[RunRecord]) -> Result<String, Failure> {
    let runs: Vec<Value> = runs
        .iter()
        .map(|run| {
            let jobs: Vec<Value> = run
                .summary
                .jobs
                .iter()
                .map(|job| {
                    let mut record = json!({
                        "name": job.name,
                        "result": result_word(&job.outcome),
                        "durationSeconds": job.duration.as_secs_f64(),
                    });
                    // Present only when it happened, like the other optional fields.
                    if job.log_limit_reached {
                        record["logLimitReached"] = json!(true);
                    }
                    match &job.outcome {
                        JobOutcome::Failed {
                            container,
                            exit_code,
                            out_of_memory,
                        } => {
                            record["container"] = json!(container);
                            record["exitCode"] = json!(exit_code);
                            record["outOfMemory"] = json!(out_of_memory);
                        }
                        JobOutcome::TimedOut { after } => {
                            record["timeoutSeconds"] = json!(after.as_secs_f64());
                        }
                        JobOutcome::Error { message, .. }
                        | JobOutcome::InfrastructureFailure { message, .. } => {
                            record["message"] = json!(message);
                        }
                        _ => {}
                    }
                    record
                })
                .collect();
            json!({
                "runId": run.summary.run_id,
                "pipeline": run.pipeline,
                "succeeded": run.summary.succeeded(),
                "interrupted": run.summary.interrupted,
                "durationSeconds": run.wall_time.as_secs_f64(),
                "jobs": jobs,
            })
        })
        .collect();
    let report = json!({ "version": 1, "runs": runs });
    crate::commands::json_text(&report)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use eider_engine::{JobOutcome, JobReport, RunSummary};

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

    #[test]
    fn every_result_matches_the_published_schema() {
        let runs = [RunRecord {
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
        }];
        let text = render(&runs).expect("renders");
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
