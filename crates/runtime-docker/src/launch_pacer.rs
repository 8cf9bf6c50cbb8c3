//! Launch pacing: container launches take turns when the jobs run long enough for it.
//!
//! Starting a container keeps the engine busy on about one core for a fifth of a second (runc,
//! the engine's network setup, the shim). When a pipeline's concurrent jobs all launch at once,
//! their launches compete for those cores and each takes longer, and then the engine idles while
//! all their containers run. Launched in turns instead, each launch has the engine to itself
//! while the other jobs run, and the jobs stay out of step from then on: every job starts
//! sooner, and a chain of jobs (the critical path) finishes sooner.
//!
//! Turns only pay when the others' running time can hide a launch: with `slots` jobs at once
//! and `turns` launches at a time, a slot never waits for its turn when each job runs at least
//! `slots / turns - 1` launches' time. Jobs that run for less (no-op jobs, say) gain more from
//! launching together, since the engine then works on several at once: pacing stays off for
//! them. The engine learns which case it is in from the jobs that finished last; until one has,
//! nothing is paced.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// How many finished jobs the decision looks back on.
const RECENT_JOBS: usize = 8;

/// How long a finished job took to launch and then to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JobTiming {
    /// From its first container's create to its primary's start, as it would have been with
    /// the engine to itself (see [`JobClock`]).
    pub launch: Duration,
    /// From its primary's start to its exit.
    pub run: Duration,
}

/// Times one job's launch and run for the pacer.
#[derive(Debug, Default)]
pub(crate) struct JobClock {
    began: Option<Instant>,
    /// The most launches seen going on at once with this one, itself included.
    launches_at_once: usize,
    primary_started: Option<Instant>,
}

impl JobClock {
    /// The job's launch begins, with `launching` launches going on now (this one included).
    pub(crate) fn launch_began(&mut self, launching: usize) {
        self.began = Some(Instant::now());
        self.launches_at_once = launching.max(1);
    }

    /// The job's primary has started, with `launching` launches going on now.
    pub(crate) fn primary_started(&mut self, launching: usize) {
        self.primary_started = Some(Instant::now());
        self.launches_at_once = self.launches_at_once.max(launching);
    }

    /// How the job launched and ran, once its primary has exited. Launches that went on
    /// together shared the engine, and each took longer for it: the launch counts as its share,
    /// so that jobs launched together (before any pacing) are judged by what a launch of
    /// their own would take, which is what a paced launch takes.
    pub(crate) fn timing(&self) -> Option<JobTiming> {
        let (began, started) = (self.began?, self.primary_started?);
        let shared_by = u32::try_from(self.launches_at_once.max(1)).unwrap_or(u32::MAX);
        Some(JobTiming {
            launch: started.saturating_duration_since(began) / shared_by,
            run: started.elapsed(),
        })
    }
}

/// Decides whether a run's launches take turns, and hands out the turns.
#[derive(Debug)]
pub(crate) struct LaunchPacer {
    turns: Semaphore,
    turn_count: usize,
    /// Launches going on now, paced or not.
    launching: AtomicUsize,
    state: Mutex<PacerState>,
}

/// One job's launch, counted as going on (and holding its turn, when paced) while this lives.
#[derive(Debug)]
pub(crate) struct Launch<'pacer> {
    pacer: &'pacer LaunchPacer,
    _turn: Option<SemaphorePermit<'pacer>>,
}

impl Launch<'_> {
    /// Launches going on now, this one included.
    pub(crate) fn at_once(&self) -> usize {
        self.pacer.launching.load(Ordering::Relaxed)
    }
}

impl Drop for Launch<'_> {
    fn drop(&mut self) {
        self.pacer.launching.fetch_sub(1, Ordering::Relaxed);
    }
}

#[derive(Debug, Default)]
struct PacerState {
    /// Jobs that may run at once.
    slots: usize,
    /// The latest finished jobs, oldest first.
    recent: VecDeque<JobTiming>,
}

impl LaunchPacer {
    /// A pacer letting `turns` launches (at least one) go at once.
    pub(crate) fn new(turns: usize) -> Self {
        let turns = turns.max(1);
        Self {
            turns: Semaphore::new(turns),
            turn_count: turns,
            launching: AtomicUsize::new(0),
            state: Mutex::new(PacerState {
                slots: 1,
                recent: VecDeque::with_capacity(RECENT_JOBS),
            }),
        }
    }

    /// One launch at a time per two cores of this machine: a launch keeps about one busy.
    pub(crate) fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self::new(cores / 2)
    }

    /// Sets how many jobs may run at once.
    pub(crate) fn set_slots(&self, slots: usize) {
        if let Ok(mut state) = self.state.lock() {
            state.slots = slots.max(1);
        }
    }

    /// Records how a job whose primary exited on its own launched and ran.
    pub(crate) fn record(&self, timing: JobTiming) {
        if let Ok(mut state) = self.state.lock() {
            if state.recent.len() == RECENT_JOBS {
                state.recent.pop_front();
            }
            state.recent.push_back(timing);
        }
    }

    /// Whether launches take turns now: the latest jobs ran long enough to hide the others'
    /// launches.
    pub(crate) fn is_pacing(&self) -> bool {
        let Ok(state) = self.state.lock() else {
            return false;
        };
        if state.slots <= self.turn_count {
            return false;
        }
        if state.recent.is_empty() {
            return false;
        }
        let launch: Duration = state.recent.iter().map(|timing| timing.launch).sum();
        let run: Duration = state.recent.iter().map(|timing| timing.run).sum();
        // run >= (slots / turns - 1) * launch, without dividing.
        let turns = u32::try_from(self.turn_count).unwrap_or(u32::MAX);
        let others = u32::try_from(state.slots - self.turn_count).unwrap_or(u32::MAX);
        run.saturating_mul(turns) >= launch.saturating_mul(others)
    }

    /// Begins a launch, once it is its turn when launches take turns.
    pub(crate) async fn launch(&self) -> Launch<'_> {
        // The semaphore is never closed.
        let turn = if self.is_pacing() {
            self.turns.acquire().await.ok()
        } else {
            None
        };
        self.launching.fetch_add(1, Ordering::Relaxed);
        Launch {
            pacer: self,
            _turn: turn,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{JobTiming, LaunchPacer};

    fn timing(launch_ms: u64, run_ms: u64) -> JobTiming {
        JobTiming {
            launch: Duration::from_millis(launch_ms),
            run: Duration::from_millis(run_ms),
        }
    }

    #[test]
    fn nothing_is_paced_before_a_job_has_finished() {
        let pacer = LaunchPacer::new(1);
        pacer.set_slots(2);
        assert!(!pacer.is_pacing());
    }

    #[test]
    fn two_slots_take_turns_once_jobs_run_as_long_as_they_launch() {
        let pacer = LaunchPacer::new(1);
        pacer.set_slots(2);
        pacer.record(timing(200, 230));
        assert!(pacer.is_pacing());
        let pacer = LaunchPacer::new(1);
        pacer.set_slots(2);
        pacer.record(timing(200, 35));
        assert!(!pacer.is_pacing(), "no-op jobs launch together");
    }

    #[test]
    fn more_slots_per_turn_need_longer_jobs() {
        let pacer = LaunchPacer::new(1);
        pacer.set_slots(4);
        pacer.record(timing(200, 500));
        assert!(!pacer.is_pacing(), "three others' launches take 600 ms");
        pacer.record(timing(200, 700));
        assert!(
            pacer.is_pacing(),
            "1200 ms of running against 1200 ms of launches"
        );
    }

    #[test]
    fn as_many_turns_as_slots_never_pace() {
        let pacer = LaunchPacer::new(2);
        pacer.set_slots(2);
        pacer.record(timing(200, 10_000));
        assert!(!pacer.is_pacing());
    }

    #[test]
    fn the_decision_follows_the_latest_jobs() {
        let pacer = LaunchPacer::new(1);
        pacer.set_slots(2);
        pacer.record(timing(200, 5_000));
        assert!(pacer.is_pacing());
        for _ in 0..super::RECENT_JOBS {
            pacer.record(timing(200, 30));
        }
        assert!(!pacer.is_pacing(), "the long job has left the window");
    }

    #[tokio::test(start_paused = true)]
    async fn a_launch_shared_with_others_counts_as_its_share() {
        let mut clock = super::JobClock::default();
        assert_eq!(clock.timing(), None, "nothing launched yet");
        clock.launch_began(1);
        tokio::time::advance(Duration::from_millis(300)).await;
        clock.primary_started(2);
        tokio::time::advance(Duration::from_millis(250)).await;
        assert_eq!(clock.timing(), Some(timing(150, 250)));
    }

    #[tokio::test]
    async fn launches_go_together_until_pacing_then_take_turns() {
        let pacer = LaunchPacer::new(1);
        pacer.set_slots(2);
        let first = pacer.launch().await;
        let second = pacer.launch().await;
        assert_eq!(second.at_once(), 2, "not pacing: both go at once");
        drop((first, second));
        pacer.record(timing(100, 100));
        let first = pacer.launch().await;
        assert_eq!(first.at_once(), 1);
        let second = tokio::time::timeout(Duration::from_millis(50), pacer.launch()).await;
        assert!(second.is_err(), "the second launch waits for the first");
        drop(first);
        let second = tokio::time::timeout(Duration::from_secs(5), pacer.launch()).await;
        assert_eq!(second.map(|launch| launch.at_once()).ok(), Some(1));
    }
}
