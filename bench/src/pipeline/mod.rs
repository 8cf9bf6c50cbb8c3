//! The pipeline benchmarks: `eider run -p NAME -c 2` on the Docker Engine.
//!
//! - `pipeline-lanes`: 20 short jobs (a chain of 10 beside 10 independent ones) against the
//!   same containers run with the docker CLI by hand in two lanes, in the best order and in
//!   pipeline order.
//! - `pipeline-dag`: 100 no-op jobs in a fixed DAG against the bound that the single no-op
//!   job's time gives (and, for comparison, against as many `docker run` in two lanes by hand),
//!   and the time eider takes to start a job that could start.
//! - `pipeline-output`: two jobs printing 100,000 lines each at once; no line may be torn.
//!
//! These runs take seconds each, so they get fewer rounds than the single-job benchmarks.

mod cpu;
mod graph;
mod lines;
mod report;
mod spec;
mod trace;

use std::io::{IsTerminal as _, Read, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use crate::engine::compare::WARMUP_ROUNDS;
use crate::engine::sample::{Probe, SampleError};
use crate::engine::scenario::{IMAGE, Workspace, path_text};
use crate::engine::{EngineError, Row};
use crate::pipeline::graph::{Graph, LANE_JOBS};
use crate::pipeline::report::{DagSamples, LanesSamples, OutputSamples};
use crate::pipeline::trace::{Change, ReportError};

/// Jobs running at once, for eider (`-c`) and the hand schedules alike.
pub const CONCURRENCY: usize = 2;

/// Measured rounds of each pipeline benchmark unless told otherwise (or fewer when `--runs`
/// asks for fewer).
pub const DEFAULT_RUNS: u16 = 7;

/// Runs of the single no-op job in each round of the DAG benchmark.
const SINGLE_RUNS_PER_ROUND: usize = 3;

/// The pipeline benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Benchmark {
    /// 20 sleeping jobs in two lanes, against the docker CLI by hand.
    Lanes,
    /// 100 no-op jobs in a DAG, against the bound.
    Dag,
    /// Two jobs printing at once: no torn line.
    Output,
}

impl Benchmark {
    /// Every pipeline benchmark, in the order they are reported.
    pub const ALL: [Self; 3] = [Self::Lanes, Self::Dag, Self::Output];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Lanes => "pipeline-lanes",
            Self::Dag => "pipeline-dag",
            Self::Output => "pipeline-output",
        }
    }
}

/// What to measure.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The eider binary.
    pub eider: PathBuf,
    /// Measured rounds of each benchmark (runs of the output benchmark).
    pub runs: usize,
    /// The network of each job's container, on both sides.
    pub network: String,
    /// The benchmarks, in order.
    pub benchmarks: Vec<Benchmark>,
}

/// What the benchmarks produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The table's rows; a benchmark that failed has one row that says so.
    pub rows: Vec<Row>,
    /// How the numbers were obtained, with the details behind them.
    pub notes: Vec<String>,
    /// The failures, already shown on stderr.
    pub failures: usize,
}

/// Why a benchmark could not finish.
#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    /// A command failed.
    #[error(transparent)]
    Run(#[from] SampleError),
    /// eider's report was unreadable.
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// A benchmark that failed, for the messages.
#[derive(Debug, thiserror::Error)]
#[error("benchmark `{benchmark}`")]
struct Failed {
    benchmark: &'static str,
    #[source]
    source: RoundError,
}

/// The Drakefile's workspace and the commands every benchmark shares.
struct Context<'a> {
    settings: &'a Settings,
    workspace: Workspace,
    lanes: Graph,
    dag: Graph,
}

impl Context<'_> {
    /// `eider run` with `arguments` on the benchmark's Drakefile.
    fn eider(&self, arguments: &[&str]) -> Probe {
        let arguments: Vec<String> = arguments.iter().map(|&word| word.to_owned()).collect();
        self.workspace
            .eider_run(&self.settings.eider, &self.settings.network, &arguments)
    }

    /// `eider run -p PIPELINE -c 2`, writing its JSON report to `report`.
    fn eider_pipeline(&self, pipeline: &str, report: Option<&std::path::Path>) -> Probe {
        let concurrency = CONCURRENCY.to_string();
        let report = report.map(|path| format!("json={}", path_text(path)));
        let mut arguments = vec!["-p", pipeline, "-c", &concurrency];
        if let Some(report) = &report {
            arguments.extend(["--report", report]);
        }
        self.eider(&arguments)
    }

    /// A hand schedule: `script` with the image, the network, `count` and the command.
    fn by_hand(&self, script: &str, count: usize, command: &[&str]) -> Probe {
        let mut argv: Vec<String> = ["sh", "-c", script, "sh", IMAGE, &self.settings.network]
            .iter()
            .map(|&word| word.to_owned())
            .collect();
        argv.push(count.to_string());
        argv.extend(command.iter().map(|&word| word.to_owned()));
        Probe {
            argv,
            environment: Vec::new(),
            removed_prefix: None,
            directory: None,
        }
    }
}

/// A hand schedule's command line, on one line, for the progress messages.
fn shown(probe: &Probe) -> String {
    probe
        .argv
        .iter()
        .map(|word| {
            if word.contains([' ', '\n', '$']) {
                format!("'{}'", word.replace('\n', "; "))
            } else {
                word.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The Drakefile of the pipeline benchmarks, to inspect or profile them (`eider run -p dag`).
pub fn drakefile() -> String {
    spec::drakefile(&Graph::lanes(), &Graph::no_op_dag())
}

/// Runs the benchmarks; returns the table's rows and notes. Progress and failures go to stderr;
/// a benchmark that fails is reported and the others still run.
pub fn run(settings: &Settings) -> Result<Outcome, EngineError> {
    let lanes = Graph::lanes();
    let dag = Graph::no_op_dag();
    let workspace = Workspace::with_drakefile("pipelines", &spec::drakefile(&lanes, &dag))
        .map_err(EngineError::Workspace)?;
    let context = Context {
        settings,
        workspace,
        lanes,
        dag,
    };
    let mut outcome = Outcome::default();
    for &benchmark in &settings.benchmarks {
        let result = match benchmark {
            Benchmark::Lanes => lanes_benchmark(&context)
                .map(|samples| (report::lanes_rows(&samples), report::lanes_notes(&samples))),
            Benchmark::Dag => dag_benchmark(&context)
                .map(|samples| (report::dag_rows(&samples), report::dag_notes(&samples))),
            Benchmark::Output => output_benchmark(&context).map(|samples| {
                (
                    report::output_rows(&samples),
                    report::output_notes(&samples),
                )
            }),
        };
        match result {
            Ok((rows, notes)) => {
                for note in &notes {
                    eprintln!("{}: {}", benchmark.name(), note.trim_start());
                }
                outcome.rows.extend(rows);
                outcome.notes.extend(notes);
            }
            Err(source) => {
                let error = Failed {
                    benchmark: benchmark.name(),
                    source,
                };
                eprintln!("error: {error}");
                let mut cause = std::error::Error::source(&error);
                while let Some(error) = cause {
                    eprintln!("Caused by: {error}");
                    cause = error.source();
                }
                outcome.rows.push(Row {
                    benchmark: benchmark.name().to_owned(),
                    eider: "failed".to_owned(),
                    baseline: "-".to_owned(),
                    ratio: "-".to_owned(),
                    target: "-".to_owned(),
                    met: Some(false),
                });
                outcome.failures += 1;
            }
        }
    }
    Ok(outcome)
}

/// Shows which round runs, when stderr is a terminal.
pub fn progress(name: &str, round: usize, runs: usize, warmup: usize) {
    if !std::io::stderr().is_terminal() {
        return;
    }
    let shown = if round < warmup {
        "warm-up".to_owned()
    } else {
        format!("round {}/{runs}", round - warmup + 1)
    };
    eprint!("\r{name}: {shown}   ");
    let _ignored = std::io::stderr().flush();
}

/// Ends the progress line that [`progress`] wrote, when stderr is a terminal.
pub fn end_progress() {
    if std::io::stderr().is_terminal() {
        eprint!("\r");
    }
}

fn drain(reader: &mut dyn Read) -> std::io::Result<u64> {
    std::io::copy(reader, &mut std::io::sink())
}

/// Rounds of eider, the best hand schedule and the one in pipeline order, in an order that
/// rotates from round to round.
fn lanes_benchmark(context: &Context<'_>) -> Result<LanesSamples, RoundError> {
    let name = Benchmark::Lanes.name();
    let runs = context.settings.runs;
    let eider = context.eider_pipeline(spec::LANES_PIPELINE, None);
    let sleep = ["sleep", spec::SLEEP_SECONDS];
    let by_hand = context.by_hand(spec::TWO_LANES_BY_HAND, LANE_JOBS, &sleep);
    let naive = context.by_hand(spec::PIPELINE_ORDER_BY_HAND, LANE_JOBS, &sleep);
    eprintln!(
        "{name}: {WARMUP_ROUNDS} warm-up and {runs} measured rounds of eider and two hand \
         schedules, in rotating order"
    );
    eprintln!("{name}: eider:   {}", eider.display());
    eprintln!("{name}: by hand: {}", shown(&by_hand));
    eprintln!("{name}: pipeline order by hand: {}", shown(&naive));
    let mut samples = LanesSamples::default();
    let sides = [&eider, &by_hand, &naive];
    let rounds = WARMUP_ROUNDS + runs;
    for round in 0..rounds {
        progress(name, round, runs, WARMUP_ROUNDS);
        let mut walls = [Duration::ZERO; 3];
        let mut gaps = Vec::new();
        for turn in 0..sides.len() {
            let side = (round + turn) % sides.len();
            let (trace, _) = trace::run(sides[side], drain)?;
            walls[side] = trace.wall;
            if side == 0 {
                gaps =
                    trace::dispatch_gaps(&trace::marks(&trace.stderr), &context.lanes, CONCURRENCY);
            }
        }
        if round < WARMUP_ROUNDS {
            continue;
        }
        samples.eider.push(walls[0]);
        samples.by_hand.push(walls[1]);
        samples.naive.push(walls[2]);
        samples.gaps.extend(gaps);
    }
    end_progress();
    Ok(samples)
}

/// Rounds of the 100-job pipeline and of the single no-op job, alternately first.
fn dag_benchmark(context: &Context<'_>) -> Result<DagSamples, RoundError> {
    let name = Benchmark::Dag.name();
    let runs = context.settings.runs;
    let report_path = context.workspace.file("report.json");
    let pipeline = context.eider_pipeline(spec::DAG_PIPELINE, Some(&report_path));
    let report_argument = format!("json={}", path_text(&report_path));
    let single = context.eider(&["--report", &report_argument, spec::SINGLE_JOB]);
    let mut sequence_arguments = vec!["--report", &report_argument];
    sequence_arguments.extend([spec::SINGLE_JOB; spec::SEQUENCE_JOBS]);
    let sequence = context.eider(&sequence_arguments);
    let wide_concurrency = spec::WIDE_CONCURRENCY.to_string();
    let wide = context.eider(&["-p", spec::DAG_PIPELINE, "-c", &wide_concurrency]);
    let lane_jobs = context.dag.len().div_ceil(CONCURRENCY);
    let by_hand = context.by_hand(spec::TWO_LANES_BY_HAND, lane_jobs, &["true"]);
    eprintln!(
        "{name}: {WARMUP_ROUNDS} warm-up and {runs} measured rounds of the pipeline, the same \
         at -c {}, {SINGLE_RUNS_PER_ROUND} runs of the single no-op job and two \
         lanes of `docker run` by hand, in rotating order",
        spec::WIDE_CONCURRENCY
    );
    eprintln!("{name}: pipeline: {}", pipeline.display());
    eprintln!("{name}: wide:     {}", wide.display());
    eprintln!("{name}: single:   {}", single.display());
    eprintln!("{name}: sequence: {}", sequence.display());
    eprintln!("{name}: by hand:  {}", shown(&by_hand));
    let mut samples = DagSamples {
        jobs: context.dag.len(),
        critical_path: context.dag.critical_path(),
        steps: context.dag.lower_bound(CONCURRENCY),
        schedule_steps: context.dag.longest_path_first_steps(CONCURRENCY),
        cores: cpu::cores(),
        ..DagSamples::default()
    };
    // Run with its report read back: the trace, the report and the machine's busy time.
    let run_reported = |probe: &Probe| -> Result<ReportedRun, RoundError> {
        // A report left by an earlier run must not pass for this one's.
        let _absent = fs_err::remove_file(&report_path);
        let before = cpu::busy_so_far();
        let (trace, _) = trace::run(probe, drain)?;
        let busy = cpu::spent(before, cpu::busy_so_far());
        let report = trace::read_report(&report_path)?;
        Ok((trace, report, busy))
    };
    let rounds = WARMUP_ROUNDS + runs;
    for round in 0..rounds {
        progress(name, round, runs, WARMUP_ROUNDS);
        let mut singles = Vec::with_capacity(SINGLE_RUNS_PER_ROUND);
        let mut sequence_busy = None;
        let mut measured = None;
        let mut hand_wall = Duration::ZERO;
        let mut wide_wall = Duration::ZERO;
        for turn in 0..4 {
            match (round + turn) % 4 {
                0 => measured = Some(run_reported(&pipeline)?),
                1 => wide_wall = trace::run(&wide, drain)?.0.wall,
                2 => {
                    for _ in 0..SINGLE_RUNS_PER_ROUND {
                        singles.push(run_reported(&single)?);
                    }
                    sequence_busy = run_reported(&sequence)?.2;
                }
                _ => hand_wall = trace::run(&by_hand, drain)?.0.wall,
            }
        }
        if round < WARMUP_ROUNDS {
            continue;
        }
        let Some(measured) = measured else {
            continue;
        };
        add_round(
            &mut samples,
            &context.dag,
            Round {
                measured,
                singles,
                sequence_busy,
                hand_wall,
                wide_wall,
            },
        );
    }
    end_progress();
    Ok(samples)
}

/// A run of `eider run` with its report read back, and the machine's busy time meanwhile.
type ReportedRun = (trace::Trace, trace::JsonReport, Option<Duration>);

/// What one round of the DAG benchmark measured.
struct Round {
    measured: ReportedRun,
    singles: Vec<ReportedRun>,
    sequence_busy: Option<Duration>,
    hand_wall: Duration,
    wide_wall: Duration,
}

/// Adds a measured round to the samples.
fn add_round(samples: &mut DagSamples, dag: &Graph, round: Round) {
    let (trace, report, busy) = round.measured;
    samples.pipeline_busy.extend(busy);
    samples.sequence_busy.extend(round.sequence_busy);
    let marks = trace::marks(&trace.stderr);
    let gaps = trace::dispatch_gaps(&marks, dag, CONCURRENCY);
    let count = u32::try_from(gaps.len()).unwrap_or(u32::MAX).max(1);
    samples
        .mean_gaps
        .push(gaps.iter().sum::<Duration>() / count);
    samples.gaps.extend(gaps);
    samples.first_start.extend(trace::first_start(&marks));
    samples.eider.push(trace.wall);
    samples.wide.push(round.wide_wall);
    samples.by_hand.push(round.hand_wall);
    samples.eider_run.push(report.run);
    samples
        .pipeline_jobs
        .extend(report.jobs.iter().map(|(_, duration)| *duration));
    let mut durations = vec![Duration::ZERO; dag.len()];
    for (job, duration) in &report.jobs {
        if let Some(index) = dag.index(job) {
            durations[index] = *duration;
        }
    }
    samples
        .in_run_bounds
        .push(dag.weighted_lower_bound(&durations, CONCURRENCY));
    for (trace, report, busy) in round.singles {
        samples.single_busy.extend(busy);
        samples.single_wall.push(trace.wall);
        samples
            .single_job
            .extend(report.jobs.iter().map(|(_, duration)| *duration));
    }
}

/// Runs of the two printing jobs, every line of each checked.
fn output_benchmark(context: &Context<'_>) -> Result<OutputSamples, RoundError> {
    let name = Benchmark::Output.name();
    let runs = context.settings.runs;
    let probe = context.eider_pipeline(spec::OUTPUT_PIPELINE, None);
    eprintln!("{name}: {runs} runs, every line of stdout checked");
    eprintln!("{name}: eider: {}", probe.display());
    let mut samples = OutputSamples::default();
    for round in 0..runs {
        progress(name, round, runs, 0);
        let (trace, check) = trace::run(&probe, |reader: &mut dyn Read| lines::check(reader))?;
        let marks = trace::marks(&trace.stderr);
        let second_start = marks
            .iter()
            .filter(|mark| mark.change == Change::Started)
            .nth(1)
            .map(|mark| mark.at);
        let first_end = marks
            .iter()
            .find(|mark| mark.change == Change::Finished)
            .map(|mark| mark.at);
        if let (Some(start), Some(end)) = (second_start, first_end)
            && start < end
        {
            samples.overlapped += 1;
        }
        samples.walls.push(trace.wall);
        samples.checks.push(check);
    }
    end_progress();
    Ok(samples)
}
