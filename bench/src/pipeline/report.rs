//! The targets of the pipeline benchmarks, their table rows, and the notes that say how each
//! number was obtained.

use std::time::Duration;

use crate::engine::Row;
use crate::engine::compare::Spread;
use crate::measure::{median, milliseconds};
use crate::pipeline::lines::LineCheck;
use crate::pipeline::spec::{OUTPUT_LINES, SEQUENCE_JOBS, SLEEP_SECONDS, WIDE_CONCURRENCY};

/// eider's two-lane pipeline may take at most this multiple of the best hand schedule.
pub const LANES_MAX_RATIO: f64 = 0.95;
/// eider's 100-job DAG may take at most this multiple of the bound.
pub const DAG_MAX_RATIO: f64 = 1.05;
/// What scheduling may cost per job.
pub const OVERHEAD_MAX: Duration = Duration::from_millis(5);

/// The rounds of the two-lane benchmark.
#[derive(Debug, Clone, Default)]
pub struct LanesSamples {
    /// eider's wall times.
    pub eider: Vec<Duration>,
    /// The best hand schedule's.
    pub by_hand: Vec<Duration>,
    /// The hand schedule in pipeline order's.
    pub naive: Vec<Duration>,
    /// Every wait of a job that could start, over every eider run.
    pub gaps: Vec<Duration>,
}

/// The rounds of the 100-job DAG benchmark.
#[derive(Debug, Clone, Default)]
pub struct DagSamples {
    /// The DAG's jobs.
    pub jobs: usize,
    /// Its critical path, in jobs.
    pub critical_path: usize,
    /// No schedule on two lanes takes fewer steps: the larger of the critical path and half
    /// the jobs.
    pub steps: usize,
    /// The steps of the longest-path-first schedule, eider's rule, every job taking one step.
    pub schedule_steps: usize,
    /// eider's wall times for the whole pipeline.
    pub eider: Vec<Duration>,
    /// Wall times of as many `docker run --rm` no-op containers in two lanes by hand.
    pub by_hand: Vec<Duration>,
    /// eider's wall times for the pipeline with many more jobs at once: what the engine can do.
    pub wide: Vec<Duration>,
    /// The pipeline's own duration in eider's report.
    pub eider_run: Vec<Duration>,
    /// Every job's duration in the pipeline runs, from the reports.
    pub pipeline_jobs: Vec<Duration>,
    /// Per pipeline run, the bound its own job durations give (before the fixed cost).
    pub in_run_bounds: Vec<Duration>,
    /// The single no-op job's duration in its report.
    pub single_job: Vec<Duration>,
    /// The single no-op job run's wall time.
    pub single_wall: Vec<Duration>,
    /// From the spawn to the first job's start, per pipeline run.
    pub first_start: Vec<Duration>,
    /// Each pipeline run's mean wait of a job that could start.
    pub mean_gaps: Vec<Duration>,
    /// Every such wait, over every run.
    pub gaps: Vec<Duration>,
    /// The machine's busy processor time during each pipeline run.
    pub pipeline_busy: Vec<Duration>,
    /// The same during each run of the single no-op job.
    pub single_busy: Vec<Duration>,
    /// The same during each run of the no-op job [`SEQUENCE_JOBS`] times in a row.
    pub sequence_busy: Vec<Duration>,
    /// The machine's cores.
    pub cores: usize,
}

/// The runs of the output benchmark.
#[derive(Debug, Clone, Default)]
pub struct OutputSamples {
    /// Each run's check.
    pub checks: Vec<LineCheck>,
    /// Each run's wall time.
    pub walls: Vec<Duration>,
    /// Runs in which the second job started before the first finished.
    pub overlapped: usize,
}

/// Medians of what the DAG benchmark needs for its bound.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    /// The single no-op job's duration.
    pub job: Duration,
    /// What an eider run costs besides its jobs: start-up, reaching the engine, exit.
    pub fixed: Duration,
    /// `fixed + steps × job`.
    pub total: Duration,
}

/// What the machine's processors allow: the bound assumes that two no-op jobs at once each run
/// as fast as one alone, which takes twice the cores one keeps busy.
#[derive(Debug, Clone, Copy)]
pub struct Capacity {
    /// The processor time one more no-op job costs the machine (engine, containerd, shims,
    /// runc, kernel and eider together).
    pub job_cpu: Duration,
    /// The cores a no-op job alone keeps busy: its processor time over its duration.
    pub cores_per_job: f64,
    /// The bound with the jobs' processor time shared out on every core as a floor:
    /// `fixed + max(steps × job, jobs × job_cpu / cores)`.
    pub total: Duration,
    /// The share of the machine's processor time the pipeline runs used.
    pub pipeline_use: f64,
}

impl DagSamples {
    /// The bound: the time of the best two-lane schedule if every job took as long as the
    /// single no-op job alone, plus eider's fixed cost.
    pub fn bound(&self) -> Bound {
        let job = median_of(&self.single_job);
        let wall = median_of(&self.single_wall);
        let fixed = wall.saturating_sub(job);
        let steps = u32::try_from(self.steps).unwrap_or(u32::MAX);
        Bound {
            job,
            fixed,
            total: fixed + job * steps,
        }
    }
}

impl DagSamples {
    /// The capacity bound, when the machine's busy time could be read.
    pub fn capacity(&self) -> Option<Capacity> {
        if self.single_busy.is_empty() || self.sequence_busy.is_empty() || self.eider.is_empty() {
            return None;
        }
        let bound = self.bound();
        let more_jobs = u32::try_from(SEQUENCE_JOBS - 1).unwrap_or(u32::MAX).max(1);
        let job_cpu =
            median_of(&self.sequence_busy).saturating_sub(median_of(&self.single_busy)) / more_jobs;
        let cores = u32::try_from(self.cores.max(1)).unwrap_or(u32::MAX);
        let jobs = u32::try_from(self.jobs).unwrap_or(u32::MAX);
        let shared_out = job_cpu * jobs / cores;
        let wall = median_of(&self.eider);
        Some(Capacity {
            job_cpu,
            cores_per_job: ratio(job_cpu, bound.job),
            total: bound.fixed + bound.total.saturating_sub(bound.fixed).max(shared_out),
            pipeline_use: ratio(median_of(&self.pipeline_busy), wall) / f64::from(cores),
        })
    }
}

fn median_of(values: &[Duration]) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    median(&mut values.to_vec())
}

fn mean_of(values: &[Duration]) -> Duration {
    let count = u32::try_from(values.len()).unwrap_or(u32::MAX).max(1);
    values.iter().sum::<Duration>() / count
}

fn max_of(values: &[Duration]) -> Duration {
    values.iter().copied().max().unwrap_or_default()
}

fn seconds(value: Duration) -> String {
    format!("{:.2} s", value.as_secs_f64())
}

fn ratio(numerator: Duration, denominator: Duration) -> f64 {
    numerator.as_secs_f64() / denominator.as_secs_f64()
}

/// The rows of the two-lane benchmark: against the best hand schedule (the target) and
/// against the one in pipeline order (for comparison).
pub fn lanes_rows(samples: &LanesSamples) -> Vec<Row> {
    let eider = median_of(&samples.eider);
    let by_hand = median_of(&samples.by_hand);
    let naive = median_of(&samples.naive);
    let best = ratio(eider, by_hand);
    vec![
        Row {
            benchmark: "20 jobs -c 2 vs 2 lanes by hand (wall)".to_owned(),
            eider: seconds(eider),
            baseline: seconds(by_hand),
            ratio: format!("{best:.2}x"),
            target: format!("<= {LANES_MAX_RATIO:.2}x"),
            met: Some(best <= LANES_MAX_RATIO),
        },
        Row {
            benchmark: "20 jobs -c 2 vs pipeline order by hand".to_owned(),
            eider: seconds(eider),
            baseline: seconds(naive),
            ratio: format!("{:.2}x", ratio(eider, naive)),
            target: "-".to_owned(),
            met: None,
        },
    ]
}

/// The rows of the DAG benchmark: wall time against the bound, and the scheduling cost per job.
pub fn dag_rows(samples: &DagSamples) -> Vec<Row> {
    let eider = median_of(&samples.eider);
    let bound = samples.bound();
    let against_bound = ratio(eider, bound.total);
    // The same bound with the durations the jobs had in the pipeline runs, two at a time: what
    // the schedule could reach on this engine, so the ratio measures the scheduling alone.
    let in_run_bound = bound.fixed + median_of(&samples.in_run_bounds);
    let against_in_run_bound = ratio(eider, in_run_bound);
    let overhead = median_of(&samples.mean_gaps);
    let mut rows = vec![
        Row {
            benchmark: format!("{} no-op DAG -c 2 vs bound (wall)", samples.jobs),
            eider: seconds(eider),
            baseline: seconds(bound.total),
            ratio: format!("{against_bound:.2}x"),
            target: format!("<= {DAG_MAX_RATIO:.2}x"),
            met: Some(against_bound <= DAG_MAX_RATIO),
        },
        Row {
            benchmark: format!(
                "{} no-op DAG -c 2 vs bound from its own job times",
                samples.jobs
            ),
            eider: seconds(eider),
            baseline: seconds(in_run_bound),
            ratio: format!("{against_in_run_bound:.2}x"),
            target: format!("<= {DAG_MAX_RATIO:.2}x"),
            met: Some(against_in_run_bound <= DAG_MAX_RATIO),
        },
        Row {
            benchmark: format!(
                "{} no-op DAG -c 2 vs -c {} (the engine's pace)",
                samples.jobs, WIDE_CONCURRENCY
            ),
            eider: seconds(eider),
            baseline: seconds(median_of(&samples.wide)),
            ratio: format!("{:.2}x", ratio(eider, median_of(&samples.wide))),
            target: "-".to_owned(),
            met: None,
        },
        Row {
            benchmark: format!("{} no-op DAG -c 2 vs 2 lanes of docker run", samples.jobs),
            eider: seconds(eider),
            baseline: seconds(median_of(&samples.by_hand)),
            ratio: format!("{:.2}x", ratio(eider, median_of(&samples.by_hand))),
            target: "-".to_owned(),
            met: None,
        },
        Row {
            benchmark: format!("{} no-op DAG: scheduling per job", samples.jobs),
            eider: format!("{:.2} ms", milliseconds(overhead)),
            baseline: "-".to_owned(),
            ratio: "-".to_owned(),
            target: format!("< {:.0} ms", milliseconds(OVERHEAD_MAX)),
            met: Some(overhead < OVERHEAD_MAX),
        },
    ];
    if let Some(capacity) = samples.capacity() {
        // Beside the bound it qualifies: what no executor could beat on these processors.
        rows.insert(
            1,
            Row {
                benchmark: format!(
                    "{} no-op DAG -c 2 vs the processor time its jobs need",
                    samples.jobs
                ),
                eider: seconds(eider),
                baseline: seconds(capacity.total),
                ratio: format!("{:.2}x", ratio(eider, capacity.total)),
                target: "-".to_owned(),
                met: None,
            },
        );
    }
    rows
}

/// The row of the output benchmark.
pub fn output_rows(samples: &OutputSamples) -> Vec<Row> {
    let runs = samples.checks.len();
    let intact = samples.checks.iter().filter(|check| check.intact()).count();
    vec![Row {
        benchmark: format!("2 jobs x {OUTPUT_LINES} lines -c 2: no torn line"),
        eider: format!("{intact}/{runs} runs intact"),
        baseline: "-".to_owned(),
        ratio: "-".to_owned(),
        target: "all runs".to_owned(),
        met: Some(runs > 0 && intact == runs),
    }]
}

/// How the two-lane numbers were obtained.
pub fn lanes_notes(samples: &LanesSamples) -> Vec<String> {
    let spread = |values: &[Duration]| {
        let spread = Spread::of(values.iter().copied());
        format!(
            "{} [{}-{}]",
            seconds(spread.median),
            seconds(spread.low),
            seconds(spread.high)
        )
    };
    vec![
        format!(
            "20 jobs: 10 independent + a chain of 10, each `sleep {SLEEP_SECONDS}` in its own \
             container. By hand: `docker run --rm` in two shell lanes, the chain in one and the \
             independent jobs in the other (the best schedule); in pipeline order, the \
             independent jobs 5 per lane, then the chain alone."
        ),
        format!(
            "  wall median [quartiles]: eider {}, by hand {}, pipeline order by hand {}; \
             eider's wait for a free lane or a dependency: mean {:.2} ms, max {:.2} ms over {} \
             starts",
            spread(&samples.eider),
            spread(&samples.by_hand),
            spread(&samples.naive),
            milliseconds(mean_of(&samples.gaps)),
            milliseconds(max_of(&samples.gaps)),
            samples.gaps.len()
        ),
    ]
}

/// How the DAG numbers were obtained.
pub fn dag_notes(samples: &DagSamples) -> Vec<String> {
    let bound = samples.bound();
    let eider = median_of(&samples.eider);
    let jobs = u32::try_from(samples.jobs).unwrap_or(u32::MAX).max(1);
    let excess = eider.saturating_sub(bound.total) / jobs;
    let pipeline_job = median_of(&samples.pipeline_jobs);
    let mut notes = vec![
        format!(
            "{} no-op jobs (`true`): 4 setup jobs, a spine chain of 40, fan-outs (root, 8 \
             leaves, join) and chains of 4 hanging off every 5th spine job; critical path {} \
             jobs, {} jobs / 2 lanes = {} steps; the longest-path-first schedule takes {} steps \
             when every job takes one.",
            samples.jobs,
            samples.critical_path,
            samples.jobs,
            samples.jobs.div_ceil(2),
            samples.schedule_steps
        ),
        format!(
            "  bound = start-up and exit {:.0} ms (wall of `eider run {}` minus its job's \
             durationSeconds in --report json) + {} steps x single no-op job {:.1} ms (median of \
             {} runs) = {}",
            milliseconds(bound.fixed),
            crate::pipeline::spec::SINGLE_JOB,
            samples.steps,
            milliseconds(bound.job),
            samples.single_job.len(),
            seconds(bound.total)
        ),
        format!(
            "  bound from its own job times = start-up and exit + the larger of the heaviest \
             chain and half the total, with each job's durationSeconds from that run's report \
             (median over runs {})",
            seconds(bound.fixed + median_of(&samples.in_run_bounds))
        ),
        format!(
            "  scheduling per job = the wait of each job that could start (its last \
             dependency's `Passed` line or a lane freed by one, whichever came later) until its \
             `Running` line, on eider's stderr as it arrives; mean per run, median of {} runs \
             (largest single wait {:.1} ms). First job started {:.0} ms after launch.",
            samples.mean_gaps.len(),
            milliseconds(max_of(&samples.gaps)),
            milliseconds(median_of(&samples.first_start)),
        ),
        format!(
            "  whole-run excess (wall - bound) / {} jobs = {:.1} ms per job; a job takes {:.1} \
             ms in the pipeline (median of the report's durations, 2 at a time) against {:.1} \
             ms alone ({:.2}x).",
            samples.jobs,
            milliseconds(excess),
            milliseconds(pipeline_job),
            milliseconds(bound.job),
            ratio(pipeline_job, bound.job)
        ),
        format!(
            "  by hand: {} `docker run --rm ... true` in each of two shell lanes, the best \
             packing of the DAG's jobs with its dependencies ignored, for comparison: {} per \
             container per lane.",
            samples.jobs.div_ceil(2),
            seconds(
                median_of(&samples.by_hand)
                    / u32::try_from(samples.jobs.div_ceil(2))
                        .unwrap_or(u32::MAX)
                        .max(1)
            )
        ),
    ];
    notes.push(format!(
        "  the engine's pace: the same pipeline at -c {WIDE_CONCURRENCY} takes {}: more jobs at \
         once get no more no-op jobs through the engine, which is busy with the ones it has.",
        seconds(median_of(&samples.wide))
    ));
    if let Some(capacity) = samples.capacity() {
        notes.push(format!(
            "  processor time: one more no-op job costs the machine {:.1} ms of processor time \
             (its busy time, /proc/stat, over `eider run` of the job {SEQUENCE_JOBS} times in a \
             row minus once, / {}): alone, a no-op job keeps {:.2} cores busy, so two at once \
             at the single-job speed the bound assumes need {:.2} of the {} cores. With that \
             time shared out on every core as a floor, the bound becomes {}; the pipeline runs \
             kept {:.0}% of the machine busy.",
            milliseconds(capacity.job_cpu),
            SEQUENCE_JOBS - 1,
            capacity.cores_per_job,
            2.0 * capacity.cores_per_job,
            samples.cores,
            seconds(capacity.total),
            100.0 * capacity.pipeline_use
        ));
    }
    notes
}

/// How the output check was made.
pub fn output_notes(samples: &OutputSamples) -> Vec<String> {
    let runs = samples.checks.len();
    let torn: u64 = samples.checks.iter().map(|check| check.torn).sum();
    let out_of_order: u64 = samples.checks.iter().map(|check| check.out_of_order).sum();
    let switches = samples
        .checks
        .iter()
        .map(|check| check.switches)
        .min()
        .unwrap_or(0);
    let mut notes = vec![format!(
        "2 jobs each print {OUTPUT_LINES} numbered lines of their own letter (awk), at the \
         same time: every line of eider's stdout must be `[JOB/main] ` and a whole line of that \
         job, each job's lines all there and in order. Over {runs} runs: {torn} torn or foreign \
         lines, {out_of_order} out of order; the jobs overlapped in {}/{runs} runs and their \
         lines alternated at least {switches} times per run; wall median {}.",
        samples.overlapped,
        seconds(median_of(&samples.walls))
    )];
    if let Some(first) = samples
        .checks
        .iter()
        .find_map(|check| check.first_torn.as_ref())
    {
        notes.push(format!("  first torn line: {first:?}"));
    }
    notes
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{DagSamples, LanesSamples, dag_rows, lanes_rows};

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().copied().map(Duration::from_millis).collect()
    }

    #[test]
    fn the_lanes_target_is_a_ratio_to_the_best_hand_schedule() {
        let samples = LanesSamples {
            eider: ms(&[900, 950, 1_000]),
            by_hand: ms(&[1_000, 1_000, 1_100]),
            naive: ms(&[1_500]),
            gaps: ms(&[1]),
        };
        let rows = lanes_rows(&samples);
        assert_eq!(rows[0].ratio, "0.95x");
        assert_eq!(rows[0].met, Some(true));
        assert_eq!(rows[1].met, None);
    }

    #[test]
    fn the_bound_adds_the_fixed_cost_to_the_steps() {
        let samples = DagSamples {
            jobs: 100,
            critical_path: 40,
            steps: 50,
            schedule_steps: 50,
            eider: ms(&[15_500]),
            by_hand: ms(&[16_000]),
            wide: ms(&[14_000]),
            single_job: ms(&[290, 300, 310]),
            single_wall: ms(&[350]),
            mean_gaps: ms(&[1, 2, 6]),
            in_run_bounds: ms(&[15_000, 16_000, 14_000]),
            ..DagSamples::default()
        };
        let bound = samples.bound();
        assert_eq!(bound.fixed, Duration::from_millis(50));
        assert_eq!(bound.total, Duration::from_millis(15_050));
        let rows = dag_rows(&samples);
        assert_eq!(rows[0].ratio, "1.03x");
        assert_eq!(rows[0].met, Some(true));
        // 15.5 s against 50 ms + 15 s.
        assert_eq!(rows[1].ratio, "1.03x");
        assert_eq!(rows[1].met, Some(true));
        // Against -c 8.
        assert_eq!(rows[2].ratio, "1.11x");
        assert_eq!(rows[2].met, None);
        assert_eq!(rows[3].ratio, "0.97x");
        assert_eq!(rows[3].met, None);
        assert_eq!(rows[4].eider, "2.00 ms");
        assert_eq!(rows[4].met, Some(true));
        assert!(samples.capacity().is_none(), "no busy time was read");
    }

    #[test]
    fn the_capacity_bound_shares_the_jobs_processor_time_out_on_every_core() {
        let samples = DagSamples {
            jobs: 100,
            steps: 50,
            cores: 2,
            eider: ms(&[17_000]),
            single_job: ms(&[300]),
            single_wall: ms(&[350]),
            // One more job costs (1290 - 300) / 3 = 330 ms of processor time.
            single_busy: ms(&[300, 310, 290]),
            sequence_busy: ms(&[1_290]),
            pipeline_busy: ms(&[30_600]),
            ..DagSamples::default()
        };
        let capacity = samples.capacity().expect("busy times were read");
        assert_eq!(capacity.job_cpu, Duration::from_millis(330));
        assert!((capacity.cores_per_job - 1.1).abs() < 1e-9);
        // 50 ms + the larger of 50 x 300 ms and 100 x 330 ms / 2 cores.
        assert_eq!(capacity.total, Duration::from_millis(16_550));
        assert!((capacity.pipeline_use - 0.9).abs() < 1e-9);
        let rows = dag_rows(&samples);
        assert_eq!(rows[1].baseline, "16.55 s");
        assert_eq!(rows[1].ratio, "1.03x");
        assert_eq!(rows[1].met, None);
    }
}
