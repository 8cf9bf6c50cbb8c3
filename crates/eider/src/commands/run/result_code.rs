//! The exit code of a run that was not interrupted, from its jobs' results.

use eider_engine::JobOutcome;

use crate::exit_code;
use crate::report::RunRecord;

/// 0 when everything succeeded and was cleaned up; 3 when the only failures are the engine's
/// (so that 3 always means "nothing wrong was found in the jobs": running again may succeed);
/// 1 otherwise. A job that failed on its own wins over an engine that failed under another.
pub fn of(records: &[RunRecord]) -> u8 {
    let jobs = || records.iter().flat_map(|record| &record.summary.jobs);
    let succeeded = records
        .iter()
        .all(|record| record.summary.succeeded() && record.summary.cleanup_errors.is_empty());
    let infrastructure = jobs().any(|job| job.outcome.is_infrastructure_failure());
    // Skipped and cancelled jobs are the consequence of another job's result, not a result.
    let own_failure = jobs().any(|job| {
        !matches!(
            job.outcome,
            JobOutcome::Succeeded
                | JobOutcome::InfrastructureFailure { .. }
                | JobOutcome::Skipped
                | JobOutcome::Cancelled
        )
    });
    if succeeded {
        exit_code::SUCCESS
    } else if infrastructure && !own_failure {
        exit_code::INFRASTRUCTURE_FAILURE
    } else {
        exit_code::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use eider_engine::{JobReport, RunSummary};

    use super::*;

    fn record(outcomes: Vec<JobOutcome>, cleanup_errors: Vec<String>) -> RunRecord {
        RunRecord {
            pipeline: None,
            summary: RunSummary {
                run_id: "0123456789".to_owned(),
                jobs: outcomes
                    .into_iter()
                    .enumerate()
                    .map(|(index, outcome)| JobReport {
                        name: format!("job-{index}"),
                        outcome,
                        duration: Duration::from_secs(1),
                        log_limit_reached: false,
                    })
                    .collect(),
                interrupted: false,
                cleanup_errors,
            },
            wall_time: Duration::from_secs(1),
        }
    }

    fn infrastructure() -> JobOutcome {
        JobOutcome::InfrastructureFailure {
            message: "the container engine did not answer".to_owned(),
            hint: None,
        }
    }

    fn failed() -> JobOutcome {
        JobOutcome::Failed {
            container: "main".to_owned(),
            exit_code: 7,
            out_of_memory: false,
        }
    }

    #[test]
    fn an_engine_failure_alone_exits_3_even_with_the_jobs_it_cancelled() {
        let records = [record(
            vec![
                JobOutcome::Succeeded,
                infrastructure(),
                JobOutcome::Cancelled,
            ],
            vec!["container `main` is left to the engine".to_owned()],
        )];
        assert_eq!(of(&records), exit_code::INFRASTRUCTURE_FAILURE);
    }

    #[test]
    fn a_job_that_failed_on_its_own_wins_over_an_engine_failure() {
        let records = [
            record(vec![infrastructure()], Vec::new()),
            record(vec![failed(), JobOutcome::Skipped], Vec::new()),
        ];
        assert_eq!(of(&records), exit_code::FAILURE);
    }

    #[test]
    fn success_and_plain_failure_keep_their_codes() {
        assert_eq!(
            of(&[record(vec![JobOutcome::Succeeded], Vec::new())]),
            exit_code::SUCCESS
        );
        assert_eq!(
            of(&[record(vec![failed()], Vec::new())]),
            exit_code::FAILURE
        );
        assert_eq!(
            of(&[record(vec![JobOutcome::Succeeded], vec!["left".to_owned()])]),
            exit_code::FAILURE
        );
    }
}
