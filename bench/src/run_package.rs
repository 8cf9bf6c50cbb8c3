//! The `run-package` benchmark: `eider run oci:DIR` of a packaged job against `eider run JOB` of
//! the same job from its Drakefile, on the same engine, run in alternation.
//!
//! The job is packaged once, untimed, into an OCI layout. Both sides then run with the same
//! environment (an empty config file, the same cache and state directories, the same network)
//! from the same empty directory; the warm-up round pays for what the first run of a package
//! does once (loading it into the engine). What remains is the per-run cost of a package: it is
//! opened, verified and checked to be in the engine on every run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::engine::compare::{self, Samples, Spread};
use crate::engine::sample::{Probe, SampleError};
use crate::engine::scenario::{Comparison, path_text};
use crate::engine::{IMAGE, Row};
use crate::measure::milliseconds;
use crate::package::commands::{commit, run_untimed};

/// The benchmark's name, on the command line and in its messages.
pub const NAME: &str = "run-package";

/// The packaged job; its package is loaded into the engine as `eider-verified/JOB:...`.
const JOB: &str = "eider-bench-run-package";

/// `eider run PACKAGE` may take at most this multiple of the Drakefile run's time.
pub const MAX_RATIO: f64 = 1.05;

/// What to measure.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The eider binary.
    pub eider: PathBuf,
    /// Measured rounds, after the warm-up.
    pub runs: usize,
    /// The network of the job's container, on both sides.
    pub network: String,
}

/// What the benchmark produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The table's rows; when the benchmark failed, one row that says so.
    pub rows: Vec<Row>,
    /// The failures, already shown on stderr.
    pub failures: usize,
}

/// Why the benchmark could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum RunPackageError {
    /// Its directory could not be written.
    #[error("cannot prepare the benchmark's directory")]
    Workspace(#[source] std::io::Error),
    /// Packaging the job, or a run, failed.
    #[error(transparent)]
    Run(#[from] SampleError),
}

/// The Drakefile: a small job whose primary reads the source (mounted from the tree on one
/// side, in the package's image on the other).
fn drakefile() -> String {
    format!(
        "specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  {JOB}:
    primaryContainer:
      name: main
      image: {IMAGE}
      imagePullPolicy: IfNotPresent
      sourceMountPath: /src
      command: [cat, /src/README]
"
    )
}

/// The benchmark's private directory, removed when dropped with the images its runs loaded:
/// the project, the layout, the cache and state of the runs, an empty directory they run in and
/// GNU time's reports.
#[derive(Debug)]
struct Workspace {
    root: PathBuf,
}

impl Workspace {
    fn create() -> std::io::Result<Self> {
        let root = std::env::temp_dir().join(format!("eider-bench-{NAME}-{}", std::process::id()));
        if root.exists() {
            fs_err::remove_dir_all(&root)?;
        }
        let workspace = Self { root };
        for directory in ["project", "cache", "state", "empty"] {
            fs_err::create_dir_all(workspace.root.join(directory))?;
        }
        fs_err::write(workspace.drakefile(), drakefile())?;
        fs_err::write(
            workspace.project().join("README"),
            "A job packaged by eider-bench to measure `eider run PACKAGE`.\n",
        )?;
        fs_err::write(workspace.config(), "")?;
        Ok(workspace)
    }

    fn project(&self) -> PathBuf {
        self.root.join("project")
    }

    fn drakefile(&self) -> PathBuf {
        self.project().join("Drakefile.yaml")
    }

    fn config(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    fn report(&self) -> PathBuf {
        self.root.join("time-report")
    }

    /// The package, as `eider run` takes it.
    fn package(&self) -> String {
        format!("oci:{}:{JOB}", path_text(&self.root.join("layout")))
    }

    /// The environment of every eider command: the cache and state of the workspace.
    fn environment(&self) -> Vec<(String, String)> {
        vec![
            (
                "XDG_CACHE_HOME".to_owned(),
                path_text(&self.root.join("cache")),
            ),
            (
                "EIDER_STATE_DIR".to_owned(),
                path_text(&self.root.join("state")),
            ),
        ]
    }

    /// Packages the job into the layout, untimed.
    fn package_job(&self, eider: &Path) -> Result<(), SampleError> {
        commit(&self.project())?;
        let eider = path_text(eider);
        let drakefile = path_text(&self.drakefile());
        let package = self.package();
        let mut environment = self.environment();
        environment.push(("SOURCE_DATE_EPOCH".to_owned(), "0".to_owned()));
        let environment: Vec<(&str, &str)> = environment
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        run_untimed(
            &[
                &eider, "--color", "never", "--file", &drakefile, "package", JOB, "--output",
                &package, "--tag", "bench",
            ],
            &environment,
        )?;
        Ok(())
    }

    /// `eider run` with `before` (global flags) and `after` (the job or package), the empty
    /// config file and the network, from the empty directory.
    fn eider_run(&self, settings: &Settings, before: &[String], after: &str) -> Probe {
        let mut argv = vec![path_text(&settings.eider)];
        argv.extend(before.iter().cloned());
        argv.extend(
            [
                "--color",
                "never",
                "run",
                "--config",
                &path_text(&self.config()),
                "--network",
                &settings.network,
                after,
            ]
            .map(str::to_owned),
        );
        Probe {
            argv,
            environment: self.environment(),
            removed_prefix: Some("EIDER_"),
            directory: Some(self.root.join("empty")),
        }
    }

    /// The package run against the Drakefile run of the same job.
    fn comparison(&self, settings: &Settings) -> Comparison {
        Comparison {
            name: NAME,
            eider: self.eider_run(settings, &[], &self.package()),
            baseline: self.eider_run(
                settings,
                &["--file".to_owned(), path_text(&self.drakefile())],
                JOB,
            ),
        }
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        // The runs loaded the package into the engine under this repository.
        let repository = format!("eider-verified/{JOB}");
        if let Ok(images) = run_untimed(
            &[
                "docker",
                "images",
                "--format",
                "{{.Repository}}:{{.Tag}}",
                &repository,
            ],
            &[],
        ) {
            for image in images.lines() {
                let _ignored = run_untimed(&["docker", "image", "rm", "--force", image], &[]);
            }
        }
        let _ignored = fs_err::remove_dir_all(&self.root);
    }
}

/// Runs the benchmark; returns its rows. Progress and failures go to stderr.
pub fn run(settings: &Settings) -> Outcome {
    match measure(settings) {
        Ok(samples) => {
            eprintln!("{}", detail(&samples));
            Outcome {
                rows: rows(&samples),
                failures: 0,
            }
        }
        Err(error) => {
            eprintln!("error: benchmark `{NAME}`");
            let mut cause = std::error::Error::source(&error);
            eprintln!("Caused by: {error}");
            while let Some(error) = cause {
                eprintln!("Caused by: {error}");
                cause = error.source();
            }
            Outcome {
                rows: vec![Row {
                    benchmark: NAME.to_owned(),
                    eider: "failed".to_owned(),
                    baseline: "-".to_owned(),
                    ratio: "-".to_owned(),
                    target: "-".to_owned(),
                    met: Some(false),
                }],
                failures: 1,
            }
        }
    }
}

fn measure(settings: &Settings) -> Result<Samples, RunPackageError> {
    let workspace = Workspace::create().map_err(RunPackageError::Workspace)?;
    eprintln!("{NAME}: packaging the job into {}", workspace.package());
    workspace.package_job(&settings.eider)?;
    let comparison = workspace.comparison(settings);
    eprintln!(
        "{NAME}: {} warm-up and {} measured rounds of the package and the Drakefile, \
         alternating",
        compare::WARMUP_ROUNDS,
        settings.runs
    );
    eprintln!("{NAME}: package:   {}", comparison.eider.display());
    eprintln!("{NAME}: Drakefile: {}", comparison.baseline.display());
    Ok(compare::interleaved(
        &comparison,
        settings.runs,
        &workspace.report(),
    )?)
}

/// The wall-time row, with its target, and the CPU row, for comparison only.
fn rows(samples: &Samples) -> Vec<Row> {
    let ratio = |eider: Duration, baseline: Duration| eider.as_secs_f64() / baseline.as_secs_f64();
    let wall = ratio(samples.eider_wall().median, samples.baseline_wall().median);
    let cpu = ratio(samples.eider_cpu().median, samples.baseline_cpu().median);
    vec![
        Row {
            benchmark: "package vs Drakefile run (wall)".to_owned(),
            eider: format!("{:.1} ms", milliseconds(samples.eider_wall().median)),
            baseline: format!("{:.1} ms", milliseconds(samples.baseline_wall().median)),
            ratio: format!("{wall:.2}x"),
            target: format!("<= {MAX_RATIO:.2}x"),
            met: Some(wall <= MAX_RATIO),
        },
        Row {
            benchmark: "package vs Drakefile run: client CPU (user+sys)".to_owned(),
            eider: format!("{:.1} ms", milliseconds(samples.eider_cpu().median)),
            baseline: format!("{:.1} ms", milliseconds(samples.baseline_cpu().median)),
            // GNU time counts in hundredths of a second: a side may count none.
            ratio: if cpu.is_finite() {
                format!("{cpu:.2}x")
            } else {
                "-".to_owned()
            },
            target: "-".to_owned(),
            met: None,
        },
    ]
}

/// One line of detail on stderr: quartiles, CPU and the paired ratio, to judge the noise.
fn detail(samples: &Samples) -> String {
    let spread = |spread: Spread| {
        format!(
            "{:.1} ms [{:.1}-{:.1}]",
            milliseconds(spread.median),
            milliseconds(spread.low),
            milliseconds(spread.high)
        )
    };
    format!(
        "{NAME}: wall median [quartiles] package {}, Drakefile {}; median of per-round ratios \
         {:.2}x; CPU package {:.0} ms, Drakefile {:.0} ms",
        spread(samples.eider_wall()),
        spread(samples.baseline_wall()),
        samples.paired_wall_ratio(),
        milliseconds(samples.eider_cpu().median),
        milliseconds(samples.baseline_cpu().median),
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{JOB, drakefile, rows};
    use crate::engine::compare::Samples;
    use crate::engine::sample::Sample;

    fn sample(milliseconds: u64) -> Sample {
        Sample {
            wall: Duration::from_millis(milliseconds),
            cpu: Duration::from_millis(milliseconds / 10),
            peak_rss_kibibytes: 0,
            stdout_lines: 1,
        }
    }

    #[test]
    fn the_drakefile_is_valid_and_has_the_job() {
        let parsed = match drakefile::parse("Drakefile.yaml", &drakefile()) {
            Ok(parsed) => parsed,
            Err(report) => panic!("invalid: {:?}", report.records()),
        };
        assert!(parsed.drakefile.job(JOB).is_some());
        assert_eq!(parsed.warnings.warning_count(), 0);
    }

    #[test]
    fn a_package_run_more_than_5_percent_slower_misses_the_target() {
        let slow = Samples {
            eider: vec![sample(106)],
            baseline: vec![sample(100)],
        };
        assert_eq!(rows(&slow)[0].ratio, "1.06x");
        assert_eq!(rows(&slow)[0].met, Some(false));
        let fast = Samples {
            eider: vec![sample(104)],
            baseline: vec![sample(100)],
        };
        assert_eq!(rows(&fast)[0].met, Some(true));
        assert_eq!(rows(&fast)[1].met, None);
    }
}
