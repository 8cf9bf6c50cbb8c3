//! The closing table of a run: each job, its result and duration, and for a pipeline its wall
//! time against its critical path.

use drakefile::Drakefile;
use eider_engine::JobOutcome;
use eider_engine::schedule::Dag;

use crate::report::RunRecord;
use crate::reporter::seconds;

/// The closing table: each job, its result and duration.
pub fn summary_text(record: &RunRecord, drakefile: &Drakefile) -> String {
    use std::fmt::Write;
    let summary = &record.summary;
    let width = summary
        .jobs
        .iter()
        .map(|job| job.name.chars().count())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    let passed = summary
        .jobs
        .iter()
        .filter(|job| job.outcome.succeeded())
        .count();
    let timing = record
        .pipeline
        .as_deref()
        .and_then(|name| drakefile.pipeline(name))
        .map(|pipeline| {
            // The critical path with the durations measured in this run: the wall time a
            // pipeline could reach with unlimited slots.
            let dag = Dag::from_pipeline(pipeline);
            let weights: Vec<f64> = (0..dag.len())
                .map(|index| {
                    summary
                        .jobs
                        .iter()
                        .find(|job| job.name == dag.name(index))
                        .map_or(0.0, |job| job.duration.as_secs_f64())
                })
                .collect();
            let (length, path) = dag.critical_path(&weights);
            let names: Vec<&str> = path.iter().map(|&index| dag.name(index)).collect();
            format!(
                "pipeline {} in {}, critical path {} ({}); ",
                pipeline.name,
                seconds(record.wall_time),
                seconds(std::time::Duration::from_secs_f64(length.max(0.0))),
                names.join(" -> ")
            )
        })
        .unwrap_or_default();
    let _ = writeln!(
        text,
        "{:>12} {timing}{passed} of {} job{} passed (run {})",
        "Summary",
        summary.jobs.len(),
        if summary.jobs.len() == 1 { "" } else { "s" },
        summary.run_id
    );
    for job in &summary.jobs {
        let (label, detail) = match &job.outcome {
            JobOutcome::Succeeded => ("PASS", String::new()),
            JobOutcome::Failed {
                container,
                exit_code,
                out_of_memory,
            } => (
                "FAIL",
                if *out_of_memory {
                    format!("out of memory in `{container}` (exit code {exit_code})")
                } else {
                    format!("exit code {exit_code} in `{container}`")
                },
            ),
            JobOutcome::TimedOut { after } => (
                "TIMEOUT",
                format!("timed out after {}", humantime::format_duration(*after)),
            ),
            JobOutcome::Interrupted => ("INTERRUPTED", String::new()),
            JobOutcome::Skipped => ("SKIP", "not run".to_owned()),
            JobOutcome::Cancelled => ("CANCELLED", "not run".to_owned()),
            JobOutcome::Error { .. } => ("ERROR", "could not run (see above)".to_owned()),
            JobOutcome::InfrastructureFailure { .. } => (
                "INFRA",
                "infrastructure failure: the container engine failed (see above)".to_owned(),
            ),
        };
        let duration = if matches!(job.outcome, JobOutcome::Skipped | JobOutcome::Cancelled) {
            String::new()
        } else {
            seconds(job.duration)
        };
        let _ = writeln!(
            text,
            "{label:>12} {:<width$}  {duration:>8}  {detail}",
            job.name
        );
    }
    for error in &summary.cleanup_errors {
        let _ = writeln!(text, "warning: cleanup: {error}");
    }
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}
