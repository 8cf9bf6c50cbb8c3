//! A run refused before any job starts. A job that asks for what the user did not allow
//! (`privileged`, the Docker socket) can never run, so a run that stops at the first failure is
//! refused at once, naming every such job, instead of after minutes of the jobs before it.
//! With `--keep-going` the other jobs run and the refused ones fail when their turn comes,
//! without being created (the spec's rule is per job).

use std::time::Duration;

use drakefile::{Job, Refusal};
use eider_runtime::Runtime;

use crate::event::Event;
use crate::outcome::JobOutcome;
use crate::run::{JobReport, Run, RunSummary};

impl<R: Runtime> Run<R> {
    /// Each job's refusal, in the order of `jobs`: `None` for a job that may run.
    pub(crate) fn refusals<'job>(
        &self,
        jobs: impl IntoIterator<Item = &'job Job>,
    ) -> Vec<Option<Refusal>> {
        jobs.into_iter()
            .map(|job| drakefile::check_permissions(job, self.options.permissions).err())
            .collect()
    }

    /// Ends a run of the jobs `names` before any of them starts: each refused job fails with
    /// its refusal, every other one is cancelled. Nothing is created.
    pub(crate) async fn refuse_up_front(
        &self,
        what: &str,
        names: &[String],
        refusals: Vec<Option<Refusal>>,
    ) -> RunSummary {
        let refused = refusals.iter().flatten().count();
        self.events
            .send(Event::Warning {
                job: None,
                message: format!(
                    "{what} is refused before any job starts: {refused} of its {} job{} {} for \
                     what is not allowed",
                    names.len(),
                    if names.len() == 1 { "" } else { "s" },
                    if refused == 1 { "asks" } else { "ask" },
                ),
            })
            .await;
        let mut jobs = Vec::with_capacity(names.len());
        for (name, refusal) in names.iter().zip(refusals) {
            let outcome = match refusal {
                Some(refusal) => JobOutcome::Error {
                    message: refusal.message,
                    hint: refusal.hint,
                },
                None => JobOutcome::Cancelled,
            };
            self.events
                .send(Event::JobFinished {
                    job: name.clone(),
                    outcome: outcome.clone(),
                    duration: Duration::ZERO,
                })
                .await;
            jobs.push(JobReport {
                name: name.clone(),
                outcome,
                duration: Duration::ZERO,
                log_limit_reached: false,
            });
        }
        RunSummary {
            run_id: self.id.clone(),
            jobs,
            interrupted: false,
            cleanup_errors: Vec::new(),
        }
    }
}
