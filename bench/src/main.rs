//! `eider-bench`: how fast eider reads a large Drakefile, how `eider run` compares with the
//! docker CLI, and how `eider package` compares with tar, docker build and buildah.
//!
//! The parser benchmark generates a 2,000-job Drakefile (10 containers per job, 50 pipelines) in
//! two styles, anchored and expanded, and times three stages on each: iterating the raw YAML
//! events (the floor), building the located tree, and the full parse with validation and
//! normalization.
//!
//! The `eider run` benchmarks (with `--eider PATH`) run small jobs on the Docker Engine and the
//! same containers with the docker CLI, alternating, and compare the medians with targets.
//!
//! The pipeline benchmarks (with `--eider PATH` too) run pipelines at `-c 2`: against the same
//! containers scheduled by hand in two lanes, against the bound that the single job's time
//! gives, and with two jobs printing at once, checking that no line is torn.
//!
//! The run-package benchmark (with `--eider PATH` too) packages a small job once, then runs it
//! from its OCI layout (`eider run oci:DIR`) and from its Drakefile (`eider run JOB`),
//! alternating, and compares the medians with a target.
//!
//! The package benchmark (with `--eider PATH` too) packages a generated 5,000-file, 100 MB tree
//! and compares it with the shell floor (`tar | pigz | sha256sum`), `docker build` and `buildah
//! bud` of the same files, with itself pushing to a loopback registry and with nothing changed,
//! and measures its peak memory on a 1 GB tree.
//!
//! Tables go to stdout; progress goes to stderr.

mod engine;
mod generate;
mod kubernetes;
mod measure;
mod package;
mod pipeline;
mod run_package;
mod stages;
mod table;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser as _;

use crate::engine::{Benchmark, EngineError};
use crate::generate::{Shape, Style};
use crate::measure::median_time;
use crate::stages::CheckError;
use crate::table::Row;

/// Diagnostics shown when a generated Drakefile is invalid; the rest are counted.
const SHOWN_DIAGNOSTICS: usize = 10;

/// Times the Drakefile parser, and `eider run` against the docker CLI.
#[derive(Debug, clap::Parser)]
#[command(name = "eider-bench", version)]
struct Options {
    /// Times each parser stage this many times, and each `eider run` benchmark this many rounds
    /// (one run of eider and one of docker each), and reports the medians.
    #[arg(
        long,
        default_value_t = 21,
        value_parser = clap::value_parser!(u16).range(1..),
        env = "EIDER_BENCH_RUNS"
    )]
    runs: u16,

    /// Measured rounds of each pipeline benchmark, which take seconds each [default: 7, or
    /// --runs when smaller]
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u16).range(1..),
        env = "EIDER_BENCH_PIPELINE_RUNS"
    )]
    pipeline_runs: Option<u16>,

    /// Measured rounds of the package benchmark, each of which runs every command it compares
    /// once [default: 5, or --runs when smaller]
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u16).range(1..),
        env = "EIDER_BENCH_PACKAGE_RUNS"
    )]
    package_runs: Option<u16>,

    /// Runs only this benchmark (repeat for several): `parse`, `no-op`, `sidecar`,
    /// `throughput`, `pipeline-lanes`, `pipeline-dag`, `pipeline-output`, `pipeline` for those
    /// three, `run-package` (`eider run oci:DIR` against `eider run JOB` of the same job from
    /// its Drakefile), `package` (`eider package` against tar | pigz, docker build and buildah,
    /// with a push, with nothing changed, and its peak memory) or `kubernetes` [default: all;
    /// all but `parse` need --eider]
    #[arg(
        long = "benchmark",
        value_name = "NAME",
        value_parser = parse_benchmark,
        env = "EIDER_BENCH_BENCHMARKS",
        value_delimiter = ','
    )]
    benchmarks: Vec<Selected>,

    /// The eider binary whose `eider run` and `eider package` are measured (build it with
    /// `cargo build --release -p eider`); without it, only the parser is measured.
    #[arg(long, value_name = "PATH", env = "EIDER_BENCH_EIDER")]
    eider: Option<PathBuf>,

    /// Lines printed by the throughput job.
    #[arg(
        long,
        default_value_t = 2_000_000,
        value_parser = clap::value_parser!(u64).range(1..),
        env = "EIDER_BENCH_LINES"
    )]
    lines: u64,

    /// The network of each job's first container, for eider (`--network`) and docker alike:
    /// `none`, `default` (what eider uses without `--network`), or a network's name.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "none",
        env = "EIDER_BENCH_NETWORK"
    )]
    network: String,

    /// Measures only this style (repeat for both, the default).
    #[arg(long = "style", value_name = "STYLE", value_parser = parse_style)]
    styles: Vec<Style>,

    /// Also writes the generated Drakefiles into this directory, to inspect or profile them.
    #[arg(long, value_name = "DIRECTORY", env = "EIDER_BENCH_DUMP")]
    dump: Option<PathBuf>,
}

fn parse_style(value: &str) -> Result<Style, String> {
    Style::ALL
        .into_iter()
        .find(|style| style.name() == value)
        .ok_or_else(|| format!("expected `anchored` or `expanded`, found `{value}`"))
}

/// A benchmark chosen with `--benchmark`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Selected {
    /// The Drakefile parser.
    Parse,
    /// One of the `eider run` benchmarks.
    Run(Benchmark),
    /// One of the pipeline benchmarks.
    Pipeline(pipeline::Benchmark),
    /// Every pipeline benchmark.
    Pipelines,
    /// `eider run PACKAGE` against `eider run JOB` from the Drakefile.
    RunPackage,
    /// `eider package`.
    Package,
    /// `eider run --backend kubernetes` against the API double.
    Kubernetes,
}

/// Every name `--benchmark` accepts, for its error message.
const BENCHMARK_NAMES: &str = "`parse`, `no-op`, `sidecar`, `throughput`, `pipeline-lanes`, \
                               `pipeline-dag`, `pipeline-output`, `pipeline`, `run-package`, \
                               `package` or `kubernetes`";

fn parse_benchmark(value: &str) -> Result<Selected, String> {
    match value {
        "parse" => return Ok(Selected::Parse),
        "pipeline" => return Ok(Selected::Pipelines),
        run_package::NAME => return Ok(Selected::RunPackage),
        package::NAME => return Ok(Selected::Package),
        kubernetes::NAME => return Ok(Selected::Kubernetes),
        _ => {}
    }
    let run = Benchmark::ALL
        .into_iter()
        .find(|benchmark| benchmark.name() == value)
        .map(Selected::Run);
    let pipeline = pipeline::Benchmark::ALL
        .into_iter()
        .find(|benchmark| benchmark.name() == value)
        .map(Selected::Pipeline);
    run.or(pipeline)
        .ok_or_else(|| format!("expected {BENCHMARK_NAMES}, found `{value}`"))
}

/// Why the benchmark could not produce its table.
#[derive(Debug, thiserror::Error)]
enum BenchError {
    #[error(transparent)]
    Check(#[from] CheckError),
    #[error("cannot write the generated Drakefile")]
    Dump(#[source] std::io::Error),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("the `eider run`, pipeline and package benchmarks need the eider binary")]
    NoEider,
    #[error(transparent)]
    Kubernetes(#[from] kubernetes::KubernetesError),
    #[error("{0} benchmark(s) failed (see above)")]
    Failed(usize),
}

fn main() -> ExitCode {
    let options = Options::parse();
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            render_error(&error);
            ExitCode::FAILURE
        }
    }
}

fn run(options: &Options) -> Result<(), BenchError> {
    let everything = options.benchmarks.is_empty();
    let selected = |benchmark: Selected| everything || options.benchmarks.contains(&benchmark);
    let run_benchmarks: Vec<Benchmark> = Benchmark::ALL
        .into_iter()
        .filter(|&benchmark| selected(Selected::Run(benchmark)))
        .collect();
    let pipeline_benchmarks: Vec<pipeline::Benchmark> = pipeline::Benchmark::ALL
        .into_iter()
        .filter(|&benchmark| {
            selected(Selected::Pipeline(benchmark)) || selected(Selected::Pipelines)
        })
        .collect();
    let run_package_benchmark = selected(Selected::RunPackage);
    let package_benchmark = selected(Selected::Package);
    let kubernetes_benchmark = selected(Selected::Kubernetes);
    let eider = match &options.eider {
        _ if run_benchmarks.is_empty()
            && pipeline_benchmarks.is_empty()
            && !run_package_benchmark
            && !package_benchmark
            && !kubernetes_benchmark =>
        {
            None
        }
        Some(eider) => Some(eider.clone()),
        None if everything => {
            eprintln!(
                "note: no --eider PATH: the `eider run`, pipeline and package benchmarks are \
                 skipped"
            );
            None
        }
        None => return Err(BenchError::NoEider),
    };
    let mut printed = false;
    let mut failures = 0;
    // Needs no container engine: the double runs its containers as processes.
    if kubernetes_benchmark && let Some(eider) = &eider {
        failures += run_kubernetes(eider)?;
        printed = true;
        if options.benchmarks == [Selected::Kubernetes] {
            return verdict(failures);
        }
    }
    // Checked first: a missing engine should not wait for the parser benchmark to finish.
    let environment = eider.as_deref().map(engine::preflight).transpose()?;
    if selected(Selected::Parse) {
        run_parser(options)?;
        printed = true;
    }
    let (Some(eider), Some(environment)) = (eider, environment) else {
        return Ok(());
    };
    if !run_benchmarks.is_empty() {
        separate(&mut printed);
        let settings = engine::Settings {
            eider: eider.clone(),
            runs: usize::from(options.runs),
            lines: options.lines,
            network: options.network.clone(),
            benchmarks: run_benchmarks,
        };
        failures += run_engine(&settings, &environment)?;
    }
    if run_package_benchmark {
        separate(&mut printed);
        failures += run_from_package(options, &eider, &environment);
    }
    if !pipeline_benchmarks.is_empty() {
        if let Some(directory) = &options.dump {
            let path = directory.join("pipelines.Drakefile.yaml");
            fs_err::create_dir_all(directory).map_err(BenchError::Dump)?;
            fs_err::write(&path, pipeline::drakefile()).map_err(BenchError::Dump)?;
            eprintln!("pipelines: wrote {}", path.display());
        }
        separate(&mut printed);
        let runs = options
            .pipeline_runs
            .unwrap_or(pipeline::DEFAULT_RUNS.min(options.runs));
        let settings = pipeline::Settings {
            eider: eider.clone(),
            runs: usize::from(runs),
            network: options.network.clone(),
            benchmarks: pipeline_benchmarks,
        };
        failures += run_pipelines(&settings, &environment)?;
    }
    if package_benchmark {
        separate(&mut printed);
        let runs = options
            .package_runs
            .unwrap_or(package::DEFAULT_RUNS.min(options.runs));
        let settings = package::Settings {
            eider,
            runs: usize::from(runs),
        };
        failures += run_package(&settings, &environment);
    }
    verdict(failures)
}

fn verdict(failures: usize) -> Result<(), BenchError> {
    if failures > 0 {
        Err(BenchError::Failed(failures))
    } else {
        Ok(())
    }
}

/// Runs the Kubernetes benchmark and prints its table; returns how many targets it missed
/// (none or one).
fn run_kubernetes(eider: &std::path::Path) -> Result<usize, BenchError> {
    let outcome = kubernetes::run(eider)?;
    print!("{}", outcome.table());
    Ok(usize::from(!outcome.passed()))
}

/// Runs the `eider run` benchmarks and prints their table, the verdicts and how busy the
/// machine was; returns how many failed.
fn run_engine(
    settings: &engine::Settings,
    environment: &engine::Environment,
) -> Result<usize, BenchError> {
    let load_before = engine::load_average();
    let outcome = engine::run(settings)?;
    let load_after = engine::load_average();
    println!(
        "eider run vs the docker CLI (engine {}, CLI {}, network {}); medians of {} alternating \
         rounds after {} warm-up",
        environment.engine,
        environment.client,
        settings.network,
        settings.runs,
        engine::WARMUP_ROUNDS
    );
    print_rows(&outcome.rows);
    print_load(load_before, load_after, false);
    Ok(outcome.failures)
}

/// A blank line between the tables: before each one but the first.
fn separate(printed: &mut bool) {
    if *printed {
        println!();
    }
    *printed = true;
}

/// Runs the run-package benchmark and prints its table, the verdict and how busy the machine
/// was; returns how many failed (none or one).
fn run_from_package(
    options: &Options,
    eider: &std::path::Path,
    environment: &engine::Environment,
) -> usize {
    let settings = &run_package::Settings {
        eider: eider.to_owned(),
        runs: usize::from(options.runs),
        network: options.network.clone(),
    };
    let load_before = engine::load_average();
    let outcome = run_package::run(settings);
    let load_after = engine::load_average();
    println!(
        "eider run oci:DIR vs eider run JOB of the same job from its Drakefile (engine {}, CLI \
         {}, network {}); medians of {} alternating rounds after {} warm-up",
        environment.engine,
        environment.client,
        settings.network,
        settings.runs,
        engine::WARMUP_ROUNDS
    );
    print_rows(&outcome.rows);
    print_load(load_before, load_after, false);
    outcome.failures
}

/// Runs the pipeline benchmarks and prints their table, the verdicts, the notes and how busy
/// the machine was; returns how many failed.
fn run_pipelines(
    settings: &pipeline::Settings,
    environment: &engine::Environment,
) -> Result<usize, BenchError> {
    let load_before = engine::load_average();
    let outcome = pipeline::run(settings)?;
    let load_after = engine::load_average();
    let output_check = if settings.benchmarks.contains(&pipeline::Benchmark::Output) {
        format!(" ({} runs of the output check)", settings.runs)
    } else {
        String::new()
    };
    println!(
        "eider run -p NAME -c {} vs the docker CLI by hand and vs bounds (engine {}, CLI {}, \
         network {}); medians of {} rounds after {} warm-up{output_check}",
        pipeline::CONCURRENCY,
        environment.engine,
        environment.client,
        settings.network,
        settings.runs,
        engine::WARMUP_ROUNDS,
    );
    print_rows(&outcome.rows);
    for note in &outcome.notes {
        println!("{note}");
    }
    // Two jobs at once keep the engine's processes runnable: the load after counts them too.
    print_load(load_before, load_after, true);
    Ok(outcome.failures)
}

/// Runs the package benchmark and prints its table, the verdicts, the notes and how busy the
/// machine was; returns how many failed.
fn run_package(settings: &package::Settings, environment: &engine::Environment) -> usize {
    let load_before = engine::load_average();
    let outcome = package::run(settings);
    let load_after = engine::load_average();
    println!(
        "eider package vs tar | pigz, docker build and buildah (engine {}, CLI {}); medians of \
         {} rounds after {} warm-up",
        environment.engine,
        environment.client,
        settings.runs,
        engine::WARMUP_ROUNDS,
    );
    print_rows(&outcome.rows);
    for note in &outcome.notes {
        println!("{note}");
    }
    // Compression keeps both CPUs busy: the load after counts the benchmark itself.
    print_load(load_before, load_after, true);
    outcome.failures
}

/// The table and the count of targets met (rows without a target are not counted).
fn print_rows(rows: &[engine::Row]) {
    let cells: Vec<Vec<String>> = rows.iter().map(engine::Row::cells).collect();
    println!("{}", table::grid(&engine::HEADERS, &cells));
    let targets = rows.iter().filter(|row| row.met.is_some()).count();
    let met = rows.iter().filter(|row| row.met == Some(true)).count();
    println!("targets met: {met} of {targets}");
}

/// The load average before and after, and a warning when other work competed. With
/// `own_load`, the benchmark itself loads the machine, so only the load before counts.
fn print_load(before: Option<f64>, after: Option<f64>, own_load: bool) {
    let cpus = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .try_into()
        .unwrap_or(u32::MAX);
    if let (Some(before), Some(after)) = (before, after) {
        let judged = if own_load { before } else { before.max(after) };
        let busy = if judged > f64::from(cpus) {
            ": other work competed with the benchmark, expect noisy numbers"
        } else {
            ""
        };
        let own = if own_load {
            " (after: with the benchmark's own containers)"
        } else {
            ""
        };
        println!("load average {before:.2} before, {after:.2} after{own}, on {cpus} CPUs{busy}");
    }
}

fn run_parser(options: &Options) -> Result<(), BenchError> {
    let styles = if options.styles.is_empty() {
        Style::ALL.to_vec()
    } else {
        options.styles.clone()
    };
    let shape = Shape::TARGET;
    let runs = usize::from(options.runs);
    let mut rows = Vec::with_capacity(styles.len());
    for style in styles {
        eprintln!("{}: generating", style.name());
        let text = generate::text(style, &shape);
        if let Some(directory) = &options.dump {
            let path = directory.join(format!("{}.Drakefile.yaml", style.name()));
            fs_err::create_dir_all(directory).map_err(BenchError::Dump)?;
            fs_err::write(&path, &text).map_err(BenchError::Dump)?;
            eprintln!("{}: wrote {}", style.name(), path.display());
        }
        eprintln!("{}: checking that every stage accepts it", style.name());
        let warnings = stages::check(style, &text)?;
        if warnings > 0 {
            eprintln!(
                "{}: the full parse reports {warnings} warnings",
                style.name()
            );
        }
        eprintln!("{}: timing {runs} runs of each stage", style.name());
        rows.push(Row {
            style: style.name(),
            bytes: text.len(),
            baseline: median_time(runs, || stages::events(&text)),
            tree: median_time(runs, || stages::tree(&text)),
            parse: median_time(runs, || stages::parse(&text)),
        });
    }
    println!(
        "{} jobs x {} containers, {} pipelines x {} jobs; median of {runs} runs",
        shape.jobs, shape.containers_per_job, shape.pipelines, shape.jobs_per_pipeline
    );
    println!("{}", table::render(&rows));
    let anchored = rows
        .iter()
        .find(|row| row.style == Style::Anchored.name())
        .map(|row| row.parse);
    println!("{}", table::target_line(anchored));
    Ok(())
}

/// Prints `error:` and its causes; for an invalid Drakefile, its first diagnostics.
fn render_error(error: &BenchError) {
    eprintln!("error: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        eprintln!("Caused by: {cause}");
        source = cause.source();
    }
    if let BenchError::Engine(error) = error
        && let Some(hint) = error.hint()
    {
        eprintln!("hint: {hint}");
    }
    if matches!(error, BenchError::NoEider) {
        eprintln!("hint: pass --eider target/release/eider, or run `bash bench/run`");
    }
    if let BenchError::Check(CheckError::Invalid { report, .. }) = error {
        let records = report.records();
        for record in records.iter().take(SHOWN_DIAGNOSTICS) {
            eprintln!(
                "  {}:{}:{}: {}: {}",
                record.file, record.line, record.column, record.field, record.message
            );
        }
        if records.len() > SHOWN_DIAGNOSTICS {
            eprintln!("  … and {} more", records.len() - SHOWN_DIAGNOSTICS);
        }
        eprintln!("hint: run with --dump DIRECTORY to inspect the generated file");
    }
}
