//! The scheduling state machine: which job starts next, how many run at once, and what a failure
//! or an interrupt cancels.
//!
//! As the DrakeSpec says, a job starts only after every dependency succeeded. Among ready jobs the
//! one with the longest remaining path starts first (ties in pipeline order), so the jobs on the
//! critical path never wait behind shorter work and the wall time approaches the critical path.
//! On a failure, fail-fast cancels every pending job at once while running ones finish;
//! keep-going runs everything whose dependencies succeeded and skips what lies downstream of a
//! failure.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::dag::Dag;

/// Where a job stands in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Not started yet.
    Pending,
    /// Started and not finished.
    Running,
    /// Finished successfully.
    Succeeded,
    /// Finished unsuccessfully: failed, timed out or could not run.
    Failed,
    /// Never started: a failure elsewhere (fail-fast) or an interrupt cancelled it.
    Cancelled,
    /// Never started: a job it depends on, directly or not, failed (keep-going).
    Skipped,
}

impl JobState {
    /// Whether the job will not change state any more.
    #[must_use]
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Pending | Self::Running)
    }
}

/// What a job's failure does to the rest of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Cancel every pending job at the first failure; running jobs finish (the default).
    FailFast,
    /// Run every job whose dependencies all succeeded; skip the jobs downstream of a failure.
    KeepGoing,
}

/// Why a scheduler cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScheduleError {
    /// The concurrency cap was zero, so no job could ever start.
    #[error("concurrency must be at least 1")]
    ZeroConcurrency,
    /// The weights did not give one estimate per job.
    #[error("expected {expected} weights, one per job, found {found}")]
    WeightCount {
        /// The number of jobs.
        expected: usize,
        /// The number of weights given.
        found: usize,
    },
    /// A weight was negative, infinite or not a number.
    #[error("weight {weight} of job `{job}` is not a finite non-negative number")]
    InvalidWeight {
        /// The job's name.
        job: String,
        /// The weight given.
        weight: f64,
    },
}

/// A ready job in the queue, ordered so that the heap's maximum starts next: the longest
/// remaining path first, then the earlier job in pipeline order.
#[derive(Debug, Clone, Copy)]
struct ReadyJob {
    /// The job's longest remaining path.
    priority: f64,
    /// The job's index in pipeline order.
    job: usize,
}

impl Ord for ReadyJob {
    fn cmp(&self, other: &Self) -> Ordering {
        // `total_cmp` makes floats totally ordered; the reversed index puts earlier jobs on top.
        self.priority
            .total_cmp(&other.priority)
            .then_with(|| other.job.cmp(&self.job))
    }
}

impl PartialOrd for ReadyJob {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ReadyJob {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for ReadyJob {}

/// Decides when each job of a pipeline runs. Pure and synchronous: the caller starts the jobs it
/// hands out and reports each end.
#[derive(Debug, Clone)]
pub struct Scheduler {
    /// The pipeline's graph.
    dag: Dag,
    /// The most jobs running at once.
    concurrency: usize,
    /// What a failure does.
    policy: FailurePolicy,
    /// Each job's longest remaining path, its priority when ready.
    remaining_path: Vec<f64>,
    /// Each job's state.
    states: Vec<JobState>,
    /// For each job, how many of its dependencies have not succeeded yet.
    unmet: Vec<usize>,
    /// Pending jobs whose dependencies all succeeded.
    ready: BinaryHeap<ReadyJob>,
    /// How many jobs are running.
    running: usize,
}

impl Scheduler {
    /// A scheduler for `dag` running at most `concurrency` jobs at once. `weights` holds one
    /// estimated duration per job in pipeline order; without it every job weighs 1.
    pub fn new(
        dag: Dag,
        concurrency: usize,
        policy: FailurePolicy,
        weights: Option<Vec<f64>>,
    ) -> Result<Scheduler, ScheduleError> {
        if concurrency == 0 {
            return Err(ScheduleError::ZeroConcurrency);
        }
        let weights = match weights {
            Some(weights) => {
                check_weights(&dag, &weights)?;
                weights
            }
            None => vec![1.0; dag.len()],
        };
        let remaining_path = dag.remaining_path(&weights);
        let unmet: Vec<usize> = (0..dag.len())
            .map(|job| dag.dependencies(job).len())
            .collect();
        let ready = (0..dag.len())
            .filter(|&job| unmet[job] == 0)
            .map(|job| ReadyJob {
                priority: remaining_path[job],
                job,
            })
            .collect();
        Ok(Scheduler {
            states: vec![JobState::Pending; dag.len()],
            dag,
            concurrency,
            policy,
            remaining_path,
            unmet,
            ready,
            running: 0,
        })
    }

    /// The next job to start now, marked running; `None` when the cap is reached or no job is
    /// ready.
    pub fn start_next(&mut self) -> Option<usize> {
        if self.running >= self.concurrency {
            return None;
        }
        let ReadyJob { job, .. } = self.ready.pop()?;
        debug_assert_eq!(
            self.states[job],
            JobState::Pending,
            "only pending jobs are ready"
        );
        self.states[job] = JobState::Running;
        self.running += 1;
        Some(job)
    }

    /// Records the end of a running job and returns the jobs this cancelled (fail-fast) or
    /// skipped (keep-going), in pipeline order, so the caller can report them. A job that is not
    /// running is left as it is.
    pub fn finish(&mut self, job: usize, succeeded: bool) -> Vec<usize> {
        if self.states[job] != JobState::Running {
            return Vec::new();
        }
        self.running -= 1;
        if succeeded {
            self.states[job] = JobState::Succeeded;
            self.release_dependents(job);
            return Vec::new();
        }
        self.states[job] = JobState::Failed;
        match self.policy {
            FailurePolicy::FailFast => self.cancel_pending(),
            FailurePolicy::KeepGoing => self.skip_downstream(job),
        }
    }

    /// Cancels every pending job (an interrupt) and returns them in pipeline order. Running jobs
    /// are left to finish.
    pub fn cancel_pending(&mut self) -> Vec<usize> {
        self.ready.clear();
        let mut cancelled = Vec::new();
        for (job, state) in self.states.iter_mut().enumerate() {
            if *state == JobState::Pending {
                *state = JobState::Cancelled;
                cancelled.push(job);
            }
        }
        cancelled
    }

    /// The state of `job`.
    #[must_use]
    pub fn state(&self, job: usize) -> JobState {
        self.states[job]
    }

    /// How many jobs are running.
    #[must_use]
    pub fn running(&self) -> usize {
        self.running
    }

    /// Whether nothing runs and nothing more can start. Every job is then in a terminal state:
    /// a pending job that is not ready waits on a pending or running job, since a failure skips
    /// or cancels what waits on it.
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.running == 0 && self.ready.is_empty()
    }

    /// The pipeline's graph.
    #[must_use]
    pub fn dag(&self) -> &Dag {
        &self.dag
    }

    /// Counts the success of `job` towards its dependents and queues those now ready.
    fn release_dependents(&mut self, job: usize) {
        for &dependent in self.dag.dependents(job) {
            self.unmet[dependent] -= 1;
            if self.unmet[dependent] == 0 && self.states[dependent] == JobState::Pending {
                self.ready.push(ReadyJob {
                    priority: self.remaining_path[dependent],
                    job: dependent,
                });
            }
        }
    }

    /// Skips every pending job downstream of the failed `job` and returns them in pipeline
    /// order. None of them is ready or running: each waits on `job`, directly or not.
    fn skip_downstream(&mut self, job: usize) -> Vec<usize> {
        let mut skipped = Vec::new();
        let mut to_visit = vec![job];
        while let Some(current) = to_visit.pop() {
            for &dependent in self.dag.dependents(current) {
                // A job already skipped had its own dependents skipped with it.
                if self.states[dependent] == JobState::Pending {
                    self.states[dependent] = JobState::Skipped;
                    skipped.push(dependent);
                    to_visit.push(dependent);
                }
            }
        }
        skipped.sort_unstable();
        skipped
    }
}

/// Checks that `weights` holds one finite, non-negative estimate per job.
fn check_weights(dag: &Dag, weights: &[f64]) -> Result<(), ScheduleError> {
    if weights.len() != dag.len() {
        return Err(ScheduleError::WeightCount {
            expected: dag.len(),
            found: weights.len(),
        });
    }
    match weights
        .iter()
        .position(|weight| !weight.is_finite() || *weight < 0.0)
    {
        Some(job) => Err(ScheduleError::InvalidWeight {
            job: dag.name(job).to_owned(),
            weight: weights[job],
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use proptest::prelude::*;

    use super::super::dag::test_pipeline;
    use super::*;

    fn dag(jobs: &[(&str, &[&str])]) -> Dag {
        Dag::from_pipeline(&test_pipeline(jobs))
    }

    fn scheduler(jobs: &[(&str, &[&str])], concurrency: usize, policy: FailurePolicy) -> Scheduler {
        Scheduler::new(dag(jobs), concurrency, policy, None).expect("the arguments are valid")
    }

    /// A graph given as each job's dependency indices, every one lower than the job's own.
    fn dag_from_indices(dependencies: &[Vec<usize>]) -> Dag {
        let names: Vec<String> = (0..dependencies.len())
            .map(|job| format!("job-{job}"))
            .collect();
        let jobs: Vec<(&str, Vec<&str>)> = dependencies
            .iter()
            .enumerate()
            .map(|(job, needed)| {
                let needed = needed.iter().map(|&other| names[other].as_str()).collect();
                (names[job].as_str(), needed)
            })
            .collect();
        let borrowed: Vec<(&str, &[&str])> = jobs
            .iter()
            .map(|(name, needed)| (*name, needed.as_slice()))
            .collect();
        dag(&borrowed)
    }

    /// Ten independent jobs listed first, then a chain of ten.
    fn independents_then_chain() -> Dag {
        let dependencies: Vec<Vec<usize>> = (0..20)
            .map(|job| if job > 10 { vec![job - 1] } else { Vec::new() })
            .collect();
        dag_from_indices(&dependencies)
    }

    /// Runs every job to success against a fake clock, each taking its duration, and returns
    /// the wall time and the order in which jobs started.
    fn run_with_clock(scheduler: &mut Scheduler, durations: &[f64]) -> (f64, Vec<usize>) {
        let mut now = 0.0;
        let mut running: Vec<(f64, usize)> = Vec::new();
        let mut started = Vec::new();
        loop {
            while let Some(job) = scheduler.start_next() {
                running.push((now + durations[job], job));
                started.push(job);
            }
            let Some(next) = (0..running.len()).min_by(|&left, &right| {
                running[left]
                    .0
                    .total_cmp(&running[right].0)
                    .then(running[left].1.cmp(&running[right].1))
            }) else {
                break;
            };
            let (end, job) = running.swap_remove(next);
            now = end;
            scheduler.finish(job, true);
        }
        assert!(scheduler.is_done());
        (now, started)
    }

    #[test]
    fn zero_concurrency_is_an_error() {
        let error = Scheduler::new(dag(&[("a", &[])]), 0, FailurePolicy::FailFast, None)
            .expect_err("zero concurrency is refused");
        assert_eq!(error, ScheduleError::ZeroConcurrency);
        assert_eq!(error.to_string(), "concurrency must be at least 1");
    }

    #[test]
    fn weights_must_match_the_jobs() {
        let error = Scheduler::new(
            dag(&[("a", &[]), ("b", &[])]),
            1,
            FailurePolicy::FailFast,
            Some(vec![1.0]),
        )
        .expect_err("one weight for two jobs is refused");
        assert_eq!(
            error,
            ScheduleError::WeightCount {
                expected: 2,
                found: 1
            }
        );
    }

    #[test]
    fn weights_must_be_finite_and_non_negative() {
        for weight in [-1.0, f64::INFINITY, f64::NAN] {
            let error = Scheduler::new(
                dag(&[("a", &[]), ("b", &[])]),
                1,
                FailurePolicy::FailFast,
                Some(vec![1.0, weight]),
            )
            .expect_err("the weight is refused");
            assert!(
                matches!(&error, ScheduleError::InvalidWeight { job, .. } if job == "b"),
                "{error:?}"
            );
        }
    }

    #[test]
    fn an_empty_pipeline_is_done_at_once() {
        let mut scheduler = scheduler(&[], 1, FailurePolicy::FailFast);
        assert!(scheduler.is_done());
        assert_eq!(scheduler.start_next(), None);
        assert!(scheduler.dag().is_empty());
    }

    #[test]
    fn the_head_of_the_chain_starts_first() {
        let mut scheduler =
            Scheduler::new(independents_then_chain(), 2, FailurePolicy::FailFast, None)
                .expect("the arguments are valid");
        assert_eq!(scheduler.start_next(), Some(10));
        assert_eq!(scheduler.start_next(), Some(0));
        assert_eq!(scheduler.start_next(), None);
        assert_eq!(scheduler.running(), 2);
    }

    #[test]
    fn the_wall_time_matches_the_critical_path() {
        // Taking the independent jobs first, in pipeline order, would take 15 units.
        let dag = independents_then_chain();
        let (critical, _) = dag.critical_path(&[1.0; 20]);
        let mut scheduler =
            Scheduler::new(dag, 2, FailurePolicy::FailFast, None).expect("the arguments are valid");
        let (wall_time, started) = run_with_clock(&mut scheduler, &[1.0; 20]);
        assert!((wall_time - 10.0).abs() < 1e-9, "wall time {wall_time}");
        assert!((critical - 10.0).abs() < 1e-9, "critical path {critical}");
        assert_eq!(started.len(), 20);
    }

    #[test]
    fn weights_change_which_ready_job_starts_first() {
        let mut scheduler = Scheduler::new(
            dag(&[("quick", &[]), ("slow", &[]), ("after-quick", &["quick"])]),
            1,
            FailurePolicy::FailFast,
            Some(vec![1.0, 5.0, 1.0]),
        )
        .expect("the arguments are valid");
        assert_eq!(scheduler.start_next(), Some(1));
    }

    #[test]
    fn ties_go_to_pipeline_order() {
        let mut scheduler = scheduler(
            &[("a", &[]), ("b", &[]), ("c", &[])],
            3,
            FailurePolicy::FailFast,
        );
        assert_eq!(scheduler.start_next(), Some(0));
        assert_eq!(scheduler.start_next(), Some(1));
        assert_eq!(scheduler.start_next(), Some(2));
    }

    #[test]
    fn a_job_waits_for_every_dependency() {
        let mut scheduler = scheduler(
            &[("a", &[]), ("b", &[]), ("c", &["a", "b"])],
            3,
            FailurePolicy::FailFast,
        );
        assert_eq!(scheduler.start_next(), Some(0));
        assert_eq!(scheduler.start_next(), Some(1));
        assert_eq!(scheduler.start_next(), None);
        assert!(scheduler.finish(0, true).is_empty());
        assert_eq!(scheduler.start_next(), None);
        assert!(scheduler.finish(1, true).is_empty());
        assert_eq!(scheduler.start_next(), Some(2));
        assert!(scheduler.finish(2, true).is_empty());
        assert!(scheduler.is_done());
    }

    #[test]
    fn fail_fast_cancels_unrelated_pending_jobs_and_lets_running_ones_finish() {
        let mut scheduler = scheduler(
            &[("a", &[]), ("b", &[]), ("c", &[]), ("d", &["a"])],
            2,
            FailurePolicy::FailFast,
        );
        assert_eq!(scheduler.start_next(), Some(0));
        assert_eq!(scheduler.start_next(), Some(1));
        assert_eq!(scheduler.finish(1, false), vec![2, 3]);
        assert_eq!(scheduler.state(1), JobState::Failed);
        assert_eq!(scheduler.state(2), JobState::Cancelled);
        assert_eq!(scheduler.state(0), JobState::Running);
        assert!(!scheduler.is_done());
        assert_eq!(scheduler.start_next(), None);
        assert!(scheduler.finish(0, true).is_empty());
        assert_eq!(scheduler.state(3), JobState::Cancelled);
        assert_eq!(scheduler.start_next(), None);
        assert!(scheduler.is_done());
    }

    #[test]
    fn keep_going_skips_only_what_lies_downstream() {
        let mut scheduler = scheduler(
            &[
                ("a", &[]),
                ("b", &["a"]),
                ("c", &["b"]),
                ("lone", &[]),
                ("d", &["lone", "c"]),
            ],
            1,
            FailurePolicy::KeepGoing,
        );
        assert_eq!(scheduler.start_next(), Some(0));
        assert_eq!(scheduler.finish(0, false), vec![1, 2, 4]);
        assert_eq!(scheduler.state(4), JobState::Skipped);
        assert_eq!(scheduler.start_next(), Some(3));
        assert!(scheduler.finish(3, true).is_empty());
        assert_eq!(scheduler.start_next(), None);
        assert!(scheduler.is_done());
        assert_eq!(scheduler.state(3), JobState::Succeeded);
    }

    #[test]
    fn cancel_pending_leaves_running_jobs_to_finish() {
        let mut scheduler = scheduler(
            &[("a", &[]), ("b", &["a"]), ("c", &[])],
            1,
            FailurePolicy::KeepGoing,
        );
        assert_eq!(scheduler.start_next(), Some(0));
        assert_eq!(scheduler.cancel_pending(), vec![1, 2]);
        assert_eq!(scheduler.start_next(), None);
        assert!(!scheduler.is_done());
        assert!(scheduler.finish(0, true).is_empty());
        assert_eq!(scheduler.start_next(), None);
        assert!(scheduler.is_done());
        assert_eq!(scheduler.state(1), JobState::Cancelled);
    }

    #[test]
    fn finishing_a_job_that_is_not_running_changes_nothing() {
        let mut scheduler = scheduler(&[("a", &[]), ("b", &["a"])], 1, FailurePolicy::FailFast);
        assert!(scheduler.finish(1, false).is_empty());
        assert_eq!(scheduler.state(1), JobState::Pending);
        assert_eq!(scheduler.start_next(), Some(0));
        assert!(scheduler.finish(0, true).is_empty());
        assert!(scheduler.finish(0, false).is_empty());
        assert_eq!(scheduler.state(0), JobState::Succeeded);
        assert_eq!(scheduler.running(), 0);
    }

    #[test]
    fn a_thousand_jobs_schedule_in_well_under_a_millisecond_each() {
        const JOBS: usize = 1_000;
        // A fixed xorshift sequence keeps the graph the same on every run.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            usize::try_from(seed % 1_000_000).expect("the value fits")
        };
        let dependencies: Vec<Vec<usize>> = (0..JOBS)
            .map(|job| match job {
                0 => Vec::new(),
                _ => (0..next() % 5).map(|_| next() % job).collect(),
            })
            .collect();
        let dag = dag_from_indices(&dependencies);
        let started_at = Instant::now();
        let mut scheduler =
            Scheduler::new(dag, 4, FailurePolicy::FailFast, None).expect("the arguments are valid");
        let mut running = std::collections::VecDeque::new();
        let mut finished = 0;
        loop {
            while let Some(job) = scheduler.start_next() {
                running.push_back(job);
            }
            let Some(job) = running.pop_front() else {
                break;
            };
            scheduler.finish(job, true);
            finished += 1;
        }
        let elapsed = started_at.elapsed();
        assert_eq!(finished, JOBS);
        assert!(
            elapsed < Duration::from_millis(1) * u32::try_from(JOBS).expect("the count fits"),
            "took {elapsed:?}"
        );
    }

    /// A random pipeline and a random way to run it.
    #[derive(Debug, Clone)]
    struct Case {
        /// Each job's dependencies, all lower indices.
        dependencies: Vec<Vec<usize>>,
        concurrency: usize,
        policy: FailurePolicy,
        weights: Option<Vec<f64>>,
        /// Whether each job succeeds when it runs.
        outcomes: Vec<bool>,
        /// Which running job finishes at each step, modulo the number running.
        picks: Vec<usize>,
        /// After how many finished jobs an interrupt arrives, if one does.
        interrupt_after: Option<usize>,
    }

    fn case_strategy() -> impl Strategy<Value = Case> {
        (0usize..=24).prop_flat_map(|count| {
            (
                // A quarter of the earlier jobs, on average, become dependencies.
                proptest::collection::vec(proptest::collection::vec(0u8..4, count), count),
                1usize..=4,
                prop_oneof![
                    Just(FailurePolicy::FailFast),
                    Just(FailurePolicy::KeepGoing)
                ],
                proptest::option::of(proptest::collection::vec(0.0..10.0f64, count)),
                proptest::collection::vec(proptest::bool::weighted(0.8), count),
                proptest::collection::vec(any::<usize>(), count),
                proptest::option::weighted(0.2, 0..=count),
            )
                .prop_map(
                    |(matrix, concurrency, policy, weights, outcomes, picks, interrupt_after)| {
                        let dependencies = matrix
                            .iter()
                            .enumerate()
                            .map(|(job, row)| (0..job).filter(|&other| row[other] == 0).collect())
                            .collect();
                        Case {
                            dependencies,
                            concurrency,
                            policy,
                            weights,
                            outcomes,
                            picks,
                            interrupt_after,
                        }
                    },
                )
        })
    }

    /// Whether every dependency of `job` succeeded.
    fn dependencies_succeeded(scheduler: &Scheduler, job: usize) -> bool {
        scheduler
            .dag()
            .dependencies(job)
            .iter()
            .all(|&dependency| scheduler.state(dependency) == JobState::Succeeded)
    }

    /// Drives a scheduler with a fake runner (start all it allows, then finish one running job
    /// at random) and checks the invariants at every step and at the end.
    #[expect(
        clippy::too_many_lines,
        reason = "one simulation with its checks in order"
    )]
    fn check_run(case: &Case) -> Result<(), TestCaseError> {
        let count = case.dependencies.len();
        let mut scheduler = Scheduler::new(
            dag_from_indices(&case.dependencies),
            case.concurrency,
            case.policy,
            case.weights.clone(),
        )
        .expect("the arguments are valid");
        let mut running: Vec<usize> = Vec::new();
        let mut started = vec![false; count];
        let mut failed = false;
        let mut interrupted = false;
        let mut finished = 0;
        loop {
            while let Some(job) = scheduler.start_next() {
                prop_assert!(!started[job], "job {} started twice", job);
                prop_assert!(dependencies_succeeded(&scheduler, job));
                prop_assert!(!interrupted, "job {} started after the interrupt", job);
                prop_assert!(
                    !(failed && case.policy == FailurePolicy::FailFast),
                    "job {} started after a failure",
                    job
                );
                prop_assert_eq!(scheduler.state(job), JobState::Running);
                started[job] = true;
                running.push(job);
                prop_assert_eq!(scheduler.running(), running.len());
                prop_assert!(scheduler.running() <= case.concurrency);
            }
            // Below the cap, nothing ready may be left waiting.
            if scheduler.running() < case.concurrency {
                for job in 0..count {
                    prop_assert!(
                        !(scheduler.state(job) == JobState::Pending
                            && dependencies_succeeded(&scheduler, job)),
                        "job {} is ready but was not started",
                        job
                    );
                }
            }
            prop_assert_eq!(scheduler.is_done(), running.is_empty());
            if running.is_empty() {
                break;
            }
            if !interrupted && case.interrupt_after == Some(finished) {
                interrupted = true;
                for job in scheduler.cancel_pending() {
                    prop_assert!(!started[job]);
                    prop_assert_eq!(scheduler.state(job), JobState::Cancelled);
                }
                for job in 0..count {
                    prop_assert_ne!(scheduler.state(job), JobState::Pending);
                }
            }
            let job = running.swap_remove(case.picks[finished] % running.len());
            finished += 1;
            let succeeded = case.outcomes[job];
            let ended = scheduler.finish(job, succeeded);
            prop_assert_eq!(
                scheduler.state(job),
                if succeeded {
                    JobState::Succeeded
                } else {
                    JobState::Failed
                }
            );
            prop_assert!(!succeeded || ended.is_empty());
            for &other in &ended {
                prop_assert!(!started[other]);
                let expected = match case.policy {
                    FailurePolicy::FailFast => JobState::Cancelled,
                    FailurePolicy::KeepGoing => JobState::Skipped,
                };
                prop_assert_eq!(scheduler.state(other), expected);
            }
            if !succeeded {
                failed = true;
                if case.policy == FailurePolicy::FailFast {
                    for job in 0..count {
                        prop_assert_ne!(scheduler.state(job), JobState::Pending);
                    }
                }
            }
        }
        // The run drained: every job ended, and ran exactly when the policy allows.
        for (job, &was_started) in started.iter().enumerate() {
            let state = scheduler.state(job);
            prop_assert!(state.is_terminal(), "job {} ended {:?}", job, state);
            let ran = matches!(state, JobState::Succeeded | JobState::Failed);
            prop_assert_eq!(ran, was_started);
            if ran {
                prop_assert_eq!(state == JobState::Succeeded, case.outcomes[job]);
            }
            if interrupted {
                continue;
            }
            match case.policy {
                FailurePolicy::FailFast if !ran => {
                    prop_assert!(failed);
                    prop_assert_eq!(state, JobState::Cancelled);
                }
                FailurePolicy::FailFast => {}
                FailurePolicy::KeepGoing => {
                    prop_assert_eq!(ran, dependencies_succeeded(&scheduler, job));
                    if !ran {
                        prop_assert_eq!(state, JobState::Skipped);
                    }
                }
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn every_run_keeps_the_invariants_and_drains(case in case_strategy()) {
            check_run(&case)?;
        }
    }
}
