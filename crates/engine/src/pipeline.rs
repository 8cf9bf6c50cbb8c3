//! A pipeline run: its jobs as a DAG, started as soon as their dependencies succeeded, the
//! longest remaining path first, at most `concurrency` at once, with the spec's failure rule:
//! the first failure cancels every pending job, running ones finish.

use std::time::Duration;

use drakefile::{Drakefile, Pipeline};
use eider_runtime::Runtime;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use crate::event::Event;
use crate::outcome::JobOutcome;
use crate::run::{JobReport, Run, RunSummary};
use crate::schedule::{Dag, FailurePolicy, JobState, Scheduler};

impl<R: Runtime> Run<R> {
    /// Runs every job of `pipeline` and cleans up everything the run created. A concurrency of
    /// 0 is taken as 1 (the command line refuses it before). Stopping at the first failure, a
    /// job that asks for what is not allowed refuses the pipeline before any job starts.
    pub async fn run_pipeline(
        &self,
        drakefile: &Drakefile,
        pipeline: &Pipeline,
        concurrency: usize,
        policy: FailurePolicy,
    ) -> RunSummary {
        self.events
            .send(Event::RunStarted {
                run_id: self.id.clone(),
            })
            .await;
        self.parallel_jobs
            .store(concurrency.max(1), std::sync::atomic::Ordering::Relaxed);
        let dag = Dag::from_pipeline(pipeline);
        let names: Vec<String> = (0..dag.len())
            .map(|index| dag.name(index).to_owned())
            .collect();
        for name in &names {
            self.events
                .send(Event::JobQueued { job: name.clone() })
                .await;
        }
        if policy == FailurePolicy::FailFast {
            let refusals = self.refusals(names.iter().filter_map(|name| drakefile.job(name)));
            if refusals.len() == names.len() && refusals.iter().any(Option::is_some) {
                let what = format!("pipeline `{}`", pipeline.name);
                return self.refuse_up_front(&what, &names, refusals).await;
            }
        }
        let mut reports: Vec<Option<JobReport>> = vec![None; names.len()];
        let mut scheduler = match Scheduler::new(dag, concurrency.max(1), policy, None) {
            Ok(scheduler) => scheduler,
            Err(error) => {
                // Not reachable with a concurrency of at least 1; reported rather than assumed.
                self.events
                    .send(Event::Warning {
                        job: None,
                        message: format!("cannot schedule pipeline `{}`: {error}", pipeline.name),
                    })
                    .await;
                return self.summary(&names, reports).await;
            }
        };
        let mut running = FuturesUnordered::new();
        let mut interrupted = false;
        loop {
            if !interrupted && self.cancellation.graceful.is_cancelled() {
                interrupted = true;
                let cancelled = scheduler.cancel_pending();
                self.record_unstarted(&names, &cancelled, &scheduler, &mut reports)
                    .await;
            }
            while let Some(index) = scheduler.start_next() {
                let Some(job) = drakefile.job(&names[index]) else {
                    // Validation guarantees every pipeline job exists; a finished placeholder
                    // keeps the scheduler consistent if it ever did not.
                    scheduler.finish(index, false);
                    continue;
                };
                running.push(async move { (index, self.run_job(job).await) });
            }
            if running.is_empty() {
                break;
            }
            tokio::select! {
                Some((index, report)) = running.next() => {
                    let succeeded = report.outcome.succeeded();
                    reports[index] = Some(report);
                    let ended = scheduler.finish(index, succeeded);
                    self.record_unstarted(&names, &ended, &scheduler, &mut reports).await;
                }
                () = self.cancellation.graceful.cancelled(), if !interrupted => {}
            }
        }
        self.summary(&names, reports).await
    }

    /// Reports jobs that will never start: cancelled (fail-fast, interrupt) or skipped (a
    /// dependency did not succeed, with `--keep-going`).
    async fn record_unstarted(
        &self,
        names: &[String],
        jobs: &[usize],
        scheduler: &Scheduler,
        reports: &mut [Option<JobReport>],
    ) {
        for &index in jobs {
            let outcome = match scheduler.state(index) {
                JobState::Skipped => JobOutcome::Skipped,
                _ => JobOutcome::Cancelled,
            };
            self.events
                .send(Event::JobFinished {
                    job: names[index].clone(),
                    outcome: outcome.clone(),
                    duration: Duration::ZERO,
                })
                .await;
            reports[index] = Some(JobReport {
                name: names[index].clone(),
                outcome,
                duration: Duration::ZERO,
                log_limit_reached: false,
            });
        }
    }

    async fn summary(&self, names: &[String], reports: Vec<Option<JobReport>>) -> RunSummary {
        let jobs = names
            .iter()
            .zip(reports)
            .map(|(name, report)| {
                report.unwrap_or_else(|| JobReport {
                    name: name.clone(),
                    outcome: JobOutcome::Cancelled,
                    duration: Duration::ZERO,
                    log_limit_reached: false,
                })
            })
            .collect();
        let cleanup_errors = self.finish().await;
        RunSummary {
            run_id: self.id.clone(),
            jobs,
            interrupted: self.cancellation.graceful.is_cancelled(),
            cleanup_errors,
        }
    }
}
