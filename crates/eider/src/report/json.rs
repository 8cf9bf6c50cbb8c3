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
                        JobOutcome::Error { message, .. } => record["message"] = json!(message),
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
