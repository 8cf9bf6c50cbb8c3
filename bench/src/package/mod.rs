//! The `package` benchmark: `eider package` of a generated 5,000-file, 100 MB tree against what
//! else makes an image of the same files, and against itself.
//!
//! In the same rounds, in an order that rotates from round to round: the shell floor (`tar |
//! pigz -1 | sha256sum`), eider to an OCI layout with an empty cache (gzip, then zstd), `docker
//! build` and `buildah bud` of `FROM base` + `COPY . /src` without cache, eider pushing to a
//! fresh repository of a loopback registry of its own, and eider again with nothing changed.
//! Then eider's peak memory on a 1 GB tree. Every run's output is checked (an empty cache built
//! its layers, a warm one reused them, a push uploaded its blobs), and everything the runs made
//! (trees, caches, layouts, images, the registry) is removed.

pub mod commands;
mod description;
mod registry;
mod report;
mod tree;

use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::engine::sample::{Probe, SampleError, Usage};
use crate::engine::scenario::path_text;
use crate::engine::{WARMUP_ROUNDS, group_thousands};
use crate::package::commands::{BuildahBase, JOB, Workspace};
use crate::package::description::Description;
use crate::package::registry::Registry;
use crate::package::report::{NoteSettings, Optional, PackageSamples, Runs};
use crate::package::tree::TreeShape;
use crate::pipeline::{end_progress, progress};

/// The benchmark's name, on the command line and in its messages.
pub const NAME: &str = "package";

/// Measured rounds unless told otherwise (or fewer when `--runs` asks for fewer).
pub const DEFAULT_RUNS: u16 = 5;

/// Runs of eider on the 1 GB tree; the largest peak is reported.
const PEAK_RSS_RUNS: usize = 2;

/// What to measure.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The eider binary.
    pub eider: PathBuf,
    /// Measured rounds.
    pub runs: usize,
}

/// What the benchmark produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The table's rows; when the benchmark failed, one row that says so.
    pub rows: Vec<crate::engine::Row>,
    /// How the numbers were obtained.
    pub notes: Vec<String>,
    /// The failures, already shown on stderr.
    pub failures: usize,
}

/// Why the benchmark could not finish.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// A program it needs is not installed.
    #[error("`{program}` is not installed")]
    Missing {
        /// The program.
        program: &'static str,
    },
    /// Its directory could not be written.
    #[error("cannot prepare the benchmark's directory")]
    Workspace(#[source] std::io::Error),
    /// A tree could not be written.
    #[error("cannot generate the tree in {}", path.display())]
    Generate {
        /// The tree's directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A command failed.
    #[error(transparent)]
    Run(#[from] SampleError),
    /// A command succeeded but did not do what the benchmark measures.
    #[error("`{command}`: {problem}")]
    Unexpected {
        /// The command line.
        command: String,
        /// What was wrong.
        problem: String,
    },
}

/// Runs the benchmark; returns its rows and notes. Progress and failures go to stderr.
pub fn run(settings: &Settings) -> Outcome {
    match measure(settings) {
        Ok(samples) => {
            let sizes = report::sizes_text(&TreeShape::SOURCE);
            let notes = report::notes(&samples, &note_settings(&sizes));
            for note in &notes {
                eprintln!("{NAME}: {}", note.trim_start());
            }
            Outcome {
                rows: report::rows(&samples),
                notes,
                failures: 0,
            }
        }
        Err(error) => {
            eprintln!("error: benchmark `{NAME}`");
            eprintln!("Caused by: {}", chain(&error, "\nCaused by: "));
            if let PackageError::Missing { .. } = error {
                eprintln!(
                    "hint: `bash bench/run` installs it when run as root, or `apt-get install \
                     pigz buildah`"
                );
            }
            Outcome {
                rows: vec![crate::engine::Row {
                    benchmark: NAME.to_owned(),
                    eider: "failed".to_owned(),
                    baseline: "-".to_owned(),
                    ratio: "-".to_owned(),
                    target: "-".to_owned(),
                    met: Some(false),
                }],
                notes: Vec::new(),
                failures: 1,
            }
        }
    }
}

/// An error and its causes on one line (or joined by `separator`).
fn chain(error: &dyn std::error::Error, separator: &str) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        text.push_str(separator);
        text.push_str(&error.to_string());
        cause = error.source();
    }
    text
}

fn note_settings(sizes: &str) -> NoteSettings<'_> {
    NoteSettings {
        sizes,
        seed: tree::SEED,
        floor_command: commands::FLOOR,
        eider_command: "eider package app --output oci:DIR:app --tag bench --json",
        docker_command: "docker build --quiet --no-cache --force-rm --network none --file \
                         Containerfile --tag TAG TREE",
        buildah_command: "buildah bud --quiet --timestamp 0 --pull=never --no-cache --network \
                          none --file Containerfile --tag TAG TREE",
        push_command: "eider package app --output 127.0.0.1:PORT/package-round-N:app --tag \
                       bench --json",
    }
}

/// The commands of a round, in their order in the first round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Floor,
    Gzip,
    Zstd,
    DockerBuild,
    Buildah,
    Push,
    Unchanged,
}

impl Side {
    const ALL: [Self; 7] = [
        Self::Floor,
        Self::Gzip,
        Self::Zstd,
        Self::DockerBuild,
        Self::Buildah,
        Self::Push,
        Self::Unchanged,
    ];
}

/// What every round uses.
struct Bench<'a> {
    settings: &'a Settings,
    workspace: &'a Workspace,
    registry: Option<&'a Registry>,
    buildkit: bool,
    samples: PackageSamples,
}

fn measure(settings: &Settings) -> Result<PackageSamples, PackageError> {
    for program in ["bash", "tar", "pigz", "sha256sum", "git"] {
        if !commands::installed(program) {
            return Err(PackageError::Missing { program });
        }
    }
    let workspace = Workspace::create().map_err(PackageError::Workspace)?;
    let mut samples = PackageSamples {
        runs: settings.runs,
        ..PackageSamples::default()
    };
    let tree = workspace.tree();
    let shape = TreeShape::SOURCE;
    eprintln!(
        "{NAME}: generating {} files, {} MB, in {}",
        group_thousands(shape.files as u64),
        shape.bytes / 1_000_000,
        tree.display()
    );
    samples.tree =
        commands::write_project(&tree, &shape).map_err(|source| PackageError::Generate {
            path: tree.clone(),
            source,
        })?;
    eprintln!("{NAME}: committing the tree to git");
    commands::commit(&tree)?;
    samples.floor_bytes = commands::floor_bytes(&tree)?;

    let registry = match Registry::start(&workspace.registry()) {
        Ok(registry) => {
            eprintln!(
                "{NAME}: {} listening on {}",
                registry::PROGRAM,
                registry.address()
            );
            samples.push = Optional::Measured(Runs::default());
            Some(registry)
        }
        Err(error) => {
            let reason = chain(&error, ": ");
            eprintln!("{NAME}: warning: no registry, the push is skipped: {reason}");
            samples.push = Optional::Skipped(reason);
            None
        }
    };
    let _buildah_base = if commands::installed("buildah") {
        match BuildahBase::import() {
            Ok(base) => {
                if base.imported() {
                    eprintln!(
                        "{NAME}: copied {} into buildah's storage (removed at the end)",
                        crate::engine::IMAGE
                    );
                }
                samples.buildah = Optional::Measured(Runs::default());
                Some(base)
            }
            Err(error) => {
                let reason = format!(
                    "cannot give buildah the base image: {}",
                    chain(&error, ": ")
                );
                eprintln!("{NAME}: warning: {reason}");
                samples.buildah = Optional::Skipped(reason);
                None
            }
        }
    } else {
        samples.buildah = Optional::Skipped(
            "buildah is not installed (`bash bench/run` installs it when run as root)".to_owned(),
        );
        None
    };
    let buildkit = commands::docker_has_buildkit();
    samples.docker_builder = if buildkit {
        "BuildKit".to_owned()
    } else {
        "legacy builder, DOCKER_BUILDKIT=0: this docker CLI has no buildx plugin".to_owned()
    };

    let mut bench = Bench {
        settings,
        workspace: &workspace,
        registry: registry.as_ref(),
        buildkit,
        samples,
    };
    eprintln!("{NAME}: priming the cache of the nothing-changed runs");
    bench.run_side(Side::Unchanged, "priming", false)?;
    bench.rounds()?;
    bench.peak_memory()?;
    Ok(bench.samples)
}

impl Bench<'_> {
    fn rounds(&mut self) -> Result<(), PackageError> {
        let runs = self.settings.runs;
        eprintln!(
            "{NAME}: {WARMUP_ROUNDS} warm-up and {runs} measured rounds of the floor, eider \
             (gzip, zstd), docker build, buildah, eider with a push and eider with nothing \
             changed, in rotating order"
        );
        let rounds = WARMUP_ROUNDS + runs;
        for round in 0..rounds {
            progress(NAME, round, runs, WARMUP_ROUNDS);
            let measured = round >= WARMUP_ROUNDS;
            let label = if measured {
                format!("round-{}", round - WARMUP_ROUNDS + 1)
            } else {
                "warm-up".to_owned()
            };
            for turn in 0..Side::ALL.len() {
                let side = Side::ALL[(round + turn) % Side::ALL.len()];
                self.run_side(side, &label, measured)?;
            }
        }
        end_progress();
        Ok(())
    }

    /// One timed run of a command, its stdout kept.
    fn timed(&self, probe: &Probe) -> Result<(Usage, Vec<u8>), SampleError> {
        probe.measure_reading(&self.workspace.report(), |stdout| {
            let mut bytes = Vec::new();
            stdout.read_to_end(&mut bytes)?;
            Ok(bytes)
        })
    }

    /// `eider package` into `output` with the cache in `cache`; the description it printed.
    fn eider(
        &self,
        tree: &Path,
        cache: &Path,
        output: &str,
        compression: &str,
    ) -> Result<(Usage, Description, String), PackageError> {
        let probe = commands::eider_package(&self.settings.eider, tree, cache, output, compression);
        let (usage, stdout) = self.timed(&probe)?;
        let description =
            Description::parse(&stdout).map_err(|problem| PackageError::Unexpected {
                command: probe.display(),
                problem,
            })?;
        Ok((usage, description, probe.display()))
    }

    /// `eider package` with an empty cache, which must build every layer; the cache (and the
    /// layout, when the output is one) are removed afterwards.
    fn eider_cold(
        &self,
        tree: &Path,
        output: &str,
        compression: &str,
    ) -> Result<(Usage, Description), PackageError> {
        let cache = self.workspace.scratch("cold-cache");
        let layout = self.workspace.scratch("cold-layout");
        let output = output.replace("{layout}", &path_text(&layout));
        let result = self.eider(tree, &cache, &output, compression);
        remove(&cache);
        remove(&layout);
        let (usage, description, command) = result?;
        if !description.none_reused() {
            return Err(PackageError::Unexpected {
                command,
                problem: "reused a layer with an empty cache".to_owned(),
            });
        }
        Ok((usage, description))
    }

    fn run_side(&mut self, side: Side, round: &str, measured: bool) -> Result<(), PackageError> {
        let tree = self.workspace.tree();
        let layout_output = format!("oci:{{layout}}:{JOB}");
        match side {
            Side::Floor => {
                let probe = commands::floor(&tree);
                let (usage, stdout) = self.timed(&probe)?;
                if !is_sha256sum_line(&stdout) {
                    return Err(PackageError::Unexpected {
                        command: probe.display(),
                        problem: format!(
                            "printed {:?}, not a digest",
                            String::from_utf8_lossy(&stdout)
                        ),
                    });
                }
                if measured {
                    self.samples.floor.push(&usage);
                }
            }
            Side::Gzip | Side::Zstd => {
                let zstd = side == Side::Zstd;
                let compression = if zstd { "zstd" } else { "gzip" };
                let (usage, description) = self.eider_cold(&tree, &layout_output, compression)?;
                if measured {
                    let samples = &mut self.samples;
                    if zstd {
                        samples.zstd.push(&usage);
                        samples.digests.zstd.insert(description.digest.clone());
                        samples.layer_bytes.1 = description.layer_bytes();
                    } else {
                        samples.gzip.push(&usage);
                        samples.digests.gzip.insert(description.digest.clone());
                        samples.layer_bytes.0 = description.layer_bytes();
                    }
                }
            }
            Side::DockerBuild => self.docker_build(&tree, round, measured)?,
            Side::Buildah => self.buildah(&tree, round, measured),
            Side::Push => {
                let Some(registry) = self.registry else {
                    return Ok(());
                };
                let output = format!("{}/package-{round}:{JOB}", registry.address());
                let (usage, description) = self.eider_cold(&tree, &output, "gzip")?;
                let uploaded = description.uploaded_blobs.unwrap_or(0);
                if uploaded == 0 {
                    return Err(PackageError::Unexpected {
                        command: format!("eider package {JOB} --output {output}"),
                        problem: "uploaded no blob to an empty repository".to_owned(),
                    });
                }
                if measured {
                    if let Optional::Measured(runs) = &mut self.samples.push {
                        runs.push(&usage);
                    }
                    self.samples.uploaded_blobs.push(uploaded);
                    self.samples.digests.push.insert(description.digest);
                }
            }
            Side::Unchanged => {
                let cache = self.workspace.scratch("warm-cache");
                let layout = self.workspace.scratch("warm-layout");
                let output = format!("oci:{}:{JOB}", path_text(&layout));
                let (usage, description, command) = self.eider(&tree, &cache, &output, "gzip")?;
                // The priming run builds the layers; every later one must reuse them.
                if round != "priming" && !description.all_reused() {
                    return Err(PackageError::Unexpected {
                        command,
                        problem: "built a layer again although nothing changed".to_owned(),
                    });
                }
                if measured {
                    self.samples.unchanged.push(&usage);
                    self.samples.digests.unchanged.insert(description.digest);
                }
            }
        }
        Ok(())
    }

    fn docker_build(
        &mut self,
        tree: &Path,
        round: &str,
        measured: bool,
    ) -> Result<(), PackageError> {
        let tag = format!("eider-bench-package:{}-{round}", std::process::id());
        let probe =
            commands::docker_build(&self.workspace.containerfile(), tree, &tag, self.buildkit);
        let result = self.timed(&probe);
        let removed = commands::run_untimed(&["docker", "image", "rm", "--force", &tag], &[]);
        let (usage, stdout) = result?;
        removed?;
        let image = String::from_utf8_lossy(&stdout).trim().to_owned();
        if image.is_empty() {
            return Err(PackageError::Unexpected {
                command: probe.display(),
                problem: "printed no image ID".to_owned(),
            });
        }
        if measured {
            self.samples.docker.push(&usage);
            self.samples.docker_images.insert(image);
        }
        Ok(())
    }

    /// buildah's row is for comparison only: when it fails, it is skipped with a note and the
    /// benchmark goes on.
    fn buildah(&mut self, tree: &Path, round: &str, measured: bool) {
        if !matches!(self.samples.buildah, Optional::Measured(_)) {
            return;
        }
        let tag = format!(
            "localhost/eider-bench-package:{}-{round}",
            std::process::id()
        );
        let probe = commands::buildah_bud(&self.workspace.containerfile(), tree, &tag);
        let result = self.timed(&probe);
        let _removed = commands::run_untimed(&["buildah", "rmi", "--force", &tag], &[]);
        match result {
            Ok((usage, stdout)) => {
                if measured && let Optional::Measured(runs) = &mut self.samples.buildah {
                    runs.push(&usage);
                    let image = String::from_utf8_lossy(&stdout).trim().to_owned();
                    self.samples.buildah_images.insert(image);
                }
            }
            Err(error) => {
                let reason = format!("`buildah bud` failed: {}", chain(&error, ": "));
                eprintln!("\n{NAME}: warning: {reason}");
                self.samples.buildah = Optional::Skipped(reason);
            }
        }
    }

    /// eider's peak memory on the 1 GB tree, generated now and removed afterwards.
    fn peak_memory(&mut self) -> Result<(), PackageError> {
        let tree = self.workspace.large_tree();
        let shape = TreeShape::LARGE;
        eprintln!(
            "{NAME}: generating {} files of {} MB in {}",
            group_thousands(shape.files as u64),
            shape.mean_size() / 1_000_000,
            tree.display()
        );
        self.samples.large_tree =
            commands::write_project(&tree, &shape).map_err(|source| PackageError::Generate {
                path: tree.clone(),
                source,
            })?;
        eprintln!("{NAME}: {PEAK_RSS_RUNS} runs of eider on it, for its peak memory");
        for _ in 0..PEAK_RSS_RUNS {
            let (usage, _) = self.eider_cold(&tree, &format!("oci:{{layout}}:{JOB}"), "gzip")?;
            self.samples.large.push(&usage);
            self.samples
                .peak_rss
                .push(usage.peak_rss_kibibytes.saturating_mul(1_024));
        }
        remove(&tree);
        Ok(())
    }
}

/// `<64 hex digits>  -` and a newline.
fn is_sha256sum_line(stdout: &[u8]) -> bool {
    let text = String::from_utf8_lossy(stdout);
    let mut words = text.split_whitespace();
    let digest = words.next().unwrap_or_default();
    digest.len() == 64
        && digest.bytes().all(|byte| byte.is_ascii_hexdigit())
        && words.next() == Some("-")
        && words.next().is_none()
}

/// Removes a run's directory, if it wrote one.
fn remove(path: &Path) {
    if path.is_dir() {
        let _ignored = fs_err::remove_dir_all(path);
    } else if path.exists() {
        let _ignored = fs_err::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::is_sha256sum_line;

    #[test]
    fn the_floor_prints_one_digest() {
        let digest = "ab".repeat(32);
        assert!(is_sha256sum_line(format!("{digest}  -\n").as_bytes()));
        assert!(!is_sha256sum_line(b"\n"));
        assert!(!is_sha256sum_line(format!("{digest}  file\n").as_bytes()));
    }
}
