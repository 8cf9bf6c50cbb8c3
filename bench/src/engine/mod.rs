//! The `eider run` benchmarks: eider against the docker CLI doing the same work by hand, on the
//! same Docker Engine, run in alternation and compared by their medians.

pub mod compare;
mod report;
pub mod sample;
pub mod scenario;

use std::path::{Path, PathBuf};
use std::process::Command;

pub use compare::WARMUP_ROUNDS;
pub use report::{HEADERS, Row, group_thousands};
pub use scenario::{Benchmark, IMAGE};

use crate::engine::sample::{GNU_TIME, SampleError};
use crate::engine::scenario::Workspace;

/// What to measure.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The eider binary.
    pub eider: PathBuf,
    /// Measured rounds per benchmark, after the warm-up.
    pub runs: usize,
    /// Lines the throughput job prints.
    pub lines: u64,
    /// The network of each job's first container, on both sides.
    pub network: String,
    /// The benchmarks, in order.
    pub benchmarks: Vec<Benchmark>,
}

/// What the benchmarks were run against, for the table's title.
#[derive(Debug, Clone)]
pub struct Environment {
    /// The engine's version.
    pub engine: String,
    /// The docker CLI's version.
    pub client: String,
}

/// Why the `eider run` benchmarks could not produce their rows.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Something they need is missing.
    #[error("{what}")]
    Missing {
        /// What is missing.
        what: String,
        /// How to get it.
        hint: &'static str,
    },
    /// The private directory could not be written.
    #[error("cannot prepare the benchmark's directory")]
    Workspace(#[source] std::io::Error),
    /// A run failed.
    #[error("benchmark `{benchmark}`")]
    Run {
        /// The benchmark.
        benchmark: &'static str,
        /// Why.
        #[source]
        source: SampleError,
    },
}

impl EngineError {
    /// How to fix it, when known.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Missing { hint, .. } => Some(hint),
            Self::Workspace(_) | Self::Run { .. } => None,
        }
    }
}

const TEST_ENVIRONMENT_HINT: &str = "run `bash scripts/test-env.sh` (it starts dockerd and builds \
                                     the test images)";

/// Checks that everything the benchmarks need is there; returns the engine's and the CLI's
/// versions.
pub fn preflight(eider: &Path) -> Result<Environment, EngineError> {
    if !eider.is_file() {
        return Err(EngineError::Missing {
            what: format!("no eider binary at {}", eider.display()),
            hint: "build it with `cargo build --release -p eider`",
        });
    }
    if !Path::new(GNU_TIME).is_file() {
        return Err(EngineError::Missing {
            what: format!("{GNU_TIME} is missing"),
            hint: "install GNU time (`apt-get install time`)",
        });
    }
    let version = |format: &str| {
        Command::new("docker")
            .args(["version", "--format", format])
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let Some(engine) = version("{{.Server.Version}}") else {
        return Err(EngineError::Missing {
            what: "no Docker Engine answers the docker CLI".to_owned(),
            hint: TEST_ENVIRONMENT_HINT,
        });
    };
    let client = version("{{.Client.Version}}").unwrap_or_else(|| "unknown".to_owned());
    let image_present = Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}", IMAGE])
        .output()
        .is_ok_and(|output| output.status.success());
    if !image_present {
        return Err(EngineError::Missing {
            what: format!("the engine has no image {IMAGE}"),
            hint: TEST_ENVIRONMENT_HINT,
        });
    }
    Ok(Environment { engine, client })
}

/// What the benchmarks produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The table's rows; a benchmark that failed has one row that says so.
    pub rows: Vec<Row>,
    /// The failures, already shown on stderr.
    pub failures: usize,
}

/// Runs the benchmarks; returns the table's rows. Progress and details go to stderr. A
/// benchmark whose run fails is reported and skipped, so that the others still produce their
/// numbers.
pub fn run(settings: &Settings) -> Result<Outcome, EngineError> {
    let workspace = Workspace::create(settings.lines).map_err(EngineError::Workspace)?;
    let mut outcome = Outcome::default();
    for &benchmark in &settings.benchmarks {
        eprintln!(
            "{}: {} warm-up and {} measured rounds of eider and docker, alternating",
            benchmark.name(),
            compare::WARMUP_ROUNDS,
            settings.runs
        );
        let comparison = workspace.comparison(
            benchmark,
            &settings.eider,
            settings.lines,
            &settings.network,
        );
        eprintln!(
            "{}: eider:    {}",
            benchmark.name(),
            comparison.eider.display()
        );
        eprintln!(
            "{}: baseline: {}",
            benchmark.name(),
            comparison.baseline.display().replace('\n', "; ")
        );
        match compare::interleaved(&comparison, settings.runs, &workspace.report()) {
            Ok(samples) => {
                eprintln!("{}", report::detail(benchmark, &samples));
                outcome
                    .rows
                    .extend(report::rows(benchmark, &samples, settings.lines));
            }
            Err(source) => {
                let error = EngineError::Run {
                    benchmark: benchmark.name(),
                    source,
                };
                eprintln!("error: {error}");
                let mut cause = std::error::Error::source(&error);
                while let Some(error) = cause {
                    eprintln!("Caused by: {error}");
                    cause = error.source();
                }
                outcome.rows.push(report::failed(benchmark));
                outcome.failures += 1;
            }
        }
    }
    Ok(outcome)
}

/// The 1-minute load average, from `/proc/loadavg`: above the number of CPUs, other work
/// competed with the benchmark and its numbers are noisy.
pub fn load_average() -> Option<f64> {
    let text = fs_err::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}
