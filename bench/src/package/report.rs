//! The targets of the `package` benchmark, its table rows, and the notes that say how each
//! number was obtained.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::engine::compare::Spread;
use crate::engine::sample::Usage;
use crate::engine::{Row, group_thousands};
use crate::measure::median;
use crate::package::tree::{TreeShape, Written};

/// `eider package` (gzip, empty cache) may take at most this multiple of the shell floor.
pub const GZIP_MAX_FLOOR_RATIO: f64 = 0.8;
/// `eider package --compression zstd` (empty cache) may take at most this multiple of the floor.
pub const ZSTD_MAX_FLOOR_RATIO: f64 = 0.4;
/// `eider package` (gzip, empty cache) may take at most this multiple of `docker build`.
pub const DOCKER_BUILD_MAX_RATIO: f64 = 0.3;
/// Packaging and pushing to a loopback registry may take at most this multiple of packaging.
pub const PUSH_MAX_RATIO: f64 = 1.5;
/// Packaging again with nothing changed must take less than this.
pub const UNCHANGED_MAX: Duration = Duration::from_millis(200);
/// Peak resident memory while packaging the 1 GB tree stays under this many bytes (64 MB).
pub const PEAK_RSS_MAX_BYTES: u64 = 64_000_000;

/// The runs of one command.
#[derive(Debug, Clone, Default)]
pub struct Runs {
    /// Wall-clock times.
    pub walls: Vec<Duration>,
    /// CPU times (user + system, the whole process tree).
    pub cpus: Vec<Duration>,
}

impl Runs {
    /// Adds one run.
    pub fn push(&mut self, usage: &Usage) {
        self.walls.push(usage.wall);
        self.cpus.push(usage.cpu);
    }

    /// The median wall time; zero without runs.
    pub fn median(&self) -> Duration {
        if self.walls.is_empty() {
            return Duration::ZERO;
        }
        median(&mut self.walls.clone())
    }

    /// `median [quartiles] wall, CPU median`, for the notes.
    fn summary(&self) -> String {
        if self.walls.is_empty() {
            return "no runs".to_owned();
        }
        let wall = Spread::of(self.walls.iter().copied());
        let cpu = Spread::of(self.cpus.iter().copied());
        format!(
            "wall {} [{}-{}], CPU {}",
            seconds(wall.median),
            seconds(wall.low),
            seconds(wall.high),
            seconds(cpu.median)
        )
    }
}

/// A comparison that may not have been possible here.
#[derive(Debug, Clone)]
pub enum Optional {
    /// Measured.
    Measured(Runs),
    /// Not measured, and why.
    Skipped(String),
}

impl Default for Optional {
    fn default() -> Self {
        Self::Skipped("not run".to_owned())
    }
}

/// Everything the benchmark measured, and what it noticed on the way.
#[derive(Debug, Clone, Default)]
pub struct PackageSamples {
    /// Measured rounds.
    pub runs: usize,
    /// The generated files of the timed tree.
    pub tree: Written,
    /// The shell floor: tar | pigz | sha256sum.
    pub floor: Runs,
    /// The size of the floor's compressed tar.
    pub floor_bytes: u64,
    /// `eider package`, gzip, empty cache.
    pub gzip: Runs,
    /// `eider package --compression zstd`, empty cache.
    pub zstd: Runs,
    /// `docker build --no-cache`.
    pub docker: Runs,
    /// Which builder `docker build` used.
    pub docker_builder: String,
    /// `buildah bud --timestamp 0`.
    pub buildah: Optional,
    /// `eider package` to a fresh repository of a loopback registry, empty cache.
    pub push: Optional,
    /// `eider package` again with nothing changed.
    pub unchanged: Runs,
    /// The digests of each kind of eider run: cold gzip, cold zstd, pushed, unchanged.
    pub digests: Digests,
    /// The compressed size of the source layer, gzip and zstd.
    pub layer_bytes: (u64, u64),
    /// Blobs uploaded by each push.
    pub uploaded_blobs: Vec<u64>,
    /// Image IDs `docker build` printed.
    pub docker_images: BTreeSet<String>,
    /// Image IDs `buildah bud` printed.
    pub buildah_images: BTreeSet<String>,
    /// The generated files of the large tree.
    pub large_tree: Written,
    /// Peak resident memory of each `eider package` run on the large tree, in bytes.
    pub peak_rss: Vec<u64>,
    /// Those runs.
    pub large: Runs,
}

/// Digests eider printed, by kind of run.
#[derive(Debug, Clone, Default)]
pub struct Digests {
    /// Gzip, empty cache.
    pub gzip: BTreeSet<String>,
    /// Zstd, empty cache.
    pub zstd: BTreeSet<String>,
    /// Pushed (gzip, empty cache).
    pub push: BTreeSet<String>,
    /// Gzip, warm cache.
    pub unchanged: BTreeSet<String>,
}

fn seconds(value: Duration) -> String {
    format!("{:.2} s", value.as_secs_f64())
}

fn ratio(numerator: Duration, denominator: Duration) -> f64 {
    numerator.as_secs_f64() / denominator.as_secs_f64()
}

#[expect(clippy::cast_precision_loss, reason = "sizes are far below 2^52 bytes")]
fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

fn kilobytes(bytes: u64) -> f64 {
    megabytes(bytes) * 1_000.0
}

fn ratio_row(name: &str, eider: Duration, baseline: Duration, max_ratio: Option<f64>) -> Row {
    let value = ratio(eider, baseline);
    Row {
        benchmark: name.to_owned(),
        eider: seconds(eider),
        baseline: seconds(baseline),
        ratio: format!("{value:.2}x"),
        target: max_ratio.map_or_else(|| "-".to_owned(), |max| format!("<= {max:.2}x")),
        met: max_ratio.map(|max| value <= max),
    }
}

fn skipped_row(name: &str, eider: Duration, has_target: bool) -> Row {
    Row {
        benchmark: name.to_owned(),
        eider: seconds(eider),
        baseline: "skipped".to_owned(),
        ratio: "-".to_owned(),
        target: "-".to_owned(),
        // A target that could not be measured is not met.
        met: has_target.then_some(false),
    }
}

/// The table's rows.
pub fn rows(samples: &PackageSamples) -> Vec<Row> {
    let gzip = samples.gzip.median();
    let mut rows = vec![
        ratio_row(
            "package gzip vs shell floor (wall)",
            gzip,
            samples.floor.median(),
            Some(GZIP_MAX_FLOOR_RATIO),
        ),
        ratio_row(
            "package zstd vs shell floor (wall)",
            samples.zstd.median(),
            samples.floor.median(),
            Some(ZSTD_MAX_FLOOR_RATIO),
        ),
        ratio_row(
            "package gzip vs docker build (wall)",
            gzip,
            samples.docker.median(),
            Some(DOCKER_BUILD_MAX_RATIO),
        ),
    ];
    let buildah_name = "package gzip vs buildah bud (wall)";
    rows.push(match &samples.buildah {
        Optional::Measured(buildah) => ratio_row(buildah_name, gzip, buildah.median(), None),
        Optional::Skipped(_) => skipped_row(buildah_name, gzip, false),
    });
    let push_name = "package + push vs package alone (wall)";
    rows.push(match &samples.push {
        Optional::Measured(push) => ratio_row(push_name, push.median(), gzip, Some(PUSH_MAX_RATIO)),
        Optional::Skipped(_) => Row {
            eider: "skipped".to_owned(),
            baseline: seconds(gzip),
            ..skipped_row(push_name, gzip, true)
        },
    });
    let unchanged = samples.unchanged.median();
    rows.push(Row {
        benchmark: "package again, nothing changed (wall)".to_owned(),
        eider: format!("{:.3} s", unchanged.as_secs_f64()),
        baseline: "-".to_owned(),
        ratio: "-".to_owned(),
        target: format!("< {:.2} s", UNCHANGED_MAX.as_secs_f64()),
        met: Some(!samples.unchanged.walls.is_empty() && unchanged < UNCHANGED_MAX),
    });
    let peak = samples.peak_rss.iter().copied().max();
    rows.push(Row {
        benchmark: format!(
            "peak RSS, {:.0} GB tree",
            megabytes(samples.large_tree.bytes) / 1_000.0
        ),
        eider: peak.map_or_else(
            || "-".to_owned(),
            |peak| format!("{:.1} MB", megabytes(peak)),
        ),
        baseline: "-".to_owned(),
        ratio: "-".to_owned(),
        target: format!("< {:.0} MB", megabytes(PEAK_RSS_MAX_BYTES)),
        met: Some(peak.is_some_and(|peak| peak < PEAK_RSS_MAX_BYTES)),
    });
    rows
}

/// `1 distinct digest over 5 runs (sha256:0123456789ab…)`.
fn distinct(digests: &BTreeSet<String>, runs: usize) -> String {
    let shown = match digests.iter().next() {
        Some(first) if digests.len() == 1 => {
            let end = first.len().min("sha256:".len() + 12);
            format!(" ({}…)", &first[..end])
        }
        _ => String::new(),
    };
    format!("{} distinct over {runs} runs{shown}", digests.len())
}

/// How the numbers were obtained.
pub fn notes(samples: &PackageSamples, settings: &NoteSettings<'_>) -> Vec<String> {
    let runs = samples.runs;
    let tree = &samples.tree;
    let mut notes = vec![
        format!(
            "Tree: {} generated files in {} directories, {:.1} MB ({:.1} MB of text lines, the \
             rest random bytes; sizes {}, seed {:#x}), plus README, Drakefile.yaml and \
             .dockerignore (`.git`), committed to git. Every command reads it from the page \
             cache (a warm-up round runs first); times are medians [quartiles] of {runs} \
             rounds, the commands in an order that rotates from round to round.",
            group_thousands(tree.files as u64),
            tree.directories,
            megabytes(tree.bytes),
            megabytes(tree.text_bytes),
            settings.sizes,
            settings.seed,
        ),
        format!(
            "  floor: `{}` in the tree (bash, pipefail): {}; compressed tar {:.1} MB",
            settings.floor_command,
            samples.floor.summary(),
            megabytes(samples.floor_bytes),
        ),
        format!(
            "  eider: `{}` (SOURCE_DATE_EPOCH=0, XDG_CACHE_HOME a new empty directory per run, \
             the layout removed after each run): gzip {}, layer {:.1} MB, digests {}; zstd \
             (`--compression zstd`) {}, layer {:.1} MB, digests {}",
            settings.eider_command,
            samples.gzip.summary(),
            megabytes(samples.layer_bytes.0),
            distinct(&samples.digests.gzip, samples.gzip.walls.len()),
            samples.zstd.summary(),
            megabytes(samples.layer_bytes.1),
            distinct(&samples.digests.zstd, samples.zstd.walls.len()),
        ),
        format!(
            "  docker build: `{}` ({}): {} (the CLI's CPU alone: the daemon does the work); \
             image IDs {} (removed after each run)",
            settings.docker_command,
            samples.docker_builder,
            samples.docker.summary(),
            distinct(&samples.docker_images, samples.docker.walls.len()),
        ),
    ];
    notes.push(match &samples.buildah {
        Optional::Measured(buildah) => format!(
            "  buildah: `{}`: {}; image IDs {} (removed after each run)",
            settings.buildah_command,
            buildah.summary(),
            distinct(&samples.buildah_images, buildah.walls.len()),
        ),
        Optional::Skipped(reason) => format!("  buildah: skipped: {reason}"),
    });
    notes.push(match &samples.push {
        Optional::Measured(push) => format!(
            "  push: `{}` (a new repository per run, empty cache, own docker-registry on \
             loopback, plain HTTP): {}; blobs uploaded per run: {}; digests {}",
            settings.push_command,
            push.summary(),
            samples
                .uploaded_blobs
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            distinct(&samples.digests.push, push.walls.len()),
        ),
        Optional::Skipped(reason) => format!("  push: skipped: {reason}"),
    });
    let same_digest = samples.digests.unchanged == samples.digests.gzip;
    notes.push(format!(
        "  nothing changed: the gzip command again, with the cache and the layout of a priming \
         run kept: {}; every layer reused in each run, digests {}{}",
        samples.unchanged.summary(),
        distinct(&samples.digests.unchanged, samples.unchanged.walls.len()),
        if same_digest {
            ", the same as the cold runs'"
        } else {
            ", NOT the cold runs'"
        },
    ));
    let large = &samples.large_tree;
    let throughput = megabytes(large.bytes) / samples.large.median().as_secs_f64().max(1e-9);
    notes.push(format!(
        "  peak RSS: the gzip command, empty cache, on a second tree of {} files of {:.1} MB \
         ({:.1} GB, half random, not in git): the largest of {} runs' maximum resident set \
         (GNU time `%M`, getrusage of the child); {} ({throughput:.0} MB/s)",
        group_thousands(large.files as u64),
        megabytes(large.bytes / (large.files.max(1) as u64)),
        megabytes(large.bytes) / 1_000.0,
        samples.peak_rss.len(),
        samples.large.summary(),
    ));
    notes
}

/// The command lines and constants the notes quote.
#[derive(Debug, Clone)]
pub struct NoteSettings<'a> {
    /// How file sizes are chosen.
    pub sizes: &'a str,
    /// The tree's seed.
    pub seed: u64,
    /// The floor's pipeline.
    pub floor_command: &'a str,
    /// eider's command line (gzip).
    pub eider_command: &'a str,
    /// `docker build`'s.
    pub docker_command: &'a str,
    /// `buildah bud`'s.
    pub buildah_command: &'a str,
    /// The push's.
    pub push_command: &'a str,
}

/// How the sizes of a shape's files are chosen, for the notes.
pub fn sizes_text(shape: &TreeShape) -> String {
    let mean = kilobytes(shape.mean_size());
    if shape.varied_sizes {
        format!(
            "{:.1}-{:.1} KB, mean {mean:.1} KB",
            mean / 4.0,
            mean * 7.0 / 4.0
        )
    } else {
        format!("all {mean:.0} KB")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use super::{Optional, PackageSamples, Runs, distinct, rows};

    fn runs(milliseconds: &[u64]) -> Runs {
        Runs {
            walls: milliseconds
                .iter()
                .copied()
                .map(Duration::from_millis)
                .collect(),
            cpus: vec![Duration::ZERO; milliseconds.len()],
        }
    }

    fn samples() -> PackageSamples {
        let mut samples = PackageSamples {
            runs: 3,
            floor: runs(&[1_300, 1_250, 1_400]),
            gzip: runs(&[900, 1_000, 950]),
            zstd: runs(&[500, 480, 520]),
            docker: runs(&[3_800, 4_000, 3_900]),
            buildah: Optional::Measured(runs(&[2_800, 2_900, 2_850])),
            push: Optional::Measured(runs(&[1_500, 1_400, 1_450])),
            unchanged: runs(&[50, 60, 55]),
            peak_rss: vec![40_000_000, 42_000_000],
            ..PackageSamples::default()
        };
        samples.large_tree.bytes = 1_000_000_000;
        samples
    }

    #[test]
    fn every_target_is_checked_against_its_baseline() {
        let rows = rows(&samples());
        let cells: Vec<(&str, &str, &str, &str, Option<bool>)> = rows
            .iter()
            .map(|row| {
                (
                    row.eider.as_str(),
                    row.baseline.as_str(),
                    row.ratio.as_str(),
                    row.target.as_str(),
                    row.met,
                )
            })
            .collect();
        assert_eq!(
            cells,
            [
                ("0.95 s", "1.30 s", "0.73x", "<= 0.80x", Some(true)),
                ("0.50 s", "1.30 s", "0.38x", "<= 0.40x", Some(true)),
                ("0.95 s", "3.90 s", "0.24x", "<= 0.30x", Some(true)),
                ("0.95 s", "2.85 s", "0.33x", "-", None),
                ("1.45 s", "0.95 s", "1.53x", "<= 1.50x", Some(false)),
                ("0.055 s", "-", "-", "< 0.20 s", Some(true)),
                ("42.0 MB", "-", "-", "< 64 MB", Some(true)),
            ]
        );
        assert_eq!(rows[6].benchmark, "peak RSS, 1 GB tree");
    }

    #[test]
    fn a_skipped_comparison_has_no_ratio_and_an_unmeasured_target_is_missed() {
        let samples = PackageSamples {
            buildah: Optional::Skipped("buildah is not installed".to_owned()),
            push: Optional::Skipped("docker-registry is not installed".to_owned()),
            unchanged: Runs::default(),
            peak_rss: Vec::new(),
            ..samples()
        };
        let rows = rows(&samples);
        assert_eq!((rows[3].baseline.as_str(), rows[3].met), ("skipped", None));
        assert_eq!(
            (rows[4].eider.as_str(), rows[4].met),
            ("skipped", Some(false))
        );
        assert_eq!(rows[5].met, Some(false));
        assert_eq!((rows[6].eider.as_str(), rows[6].met), ("-", Some(false)));
    }

    #[test]
    fn one_digest_is_shown_shortened() {
        let one: BTreeSet<String> = [format!("sha256:{}", "ab".repeat(32))].into();
        assert_eq!(
            distinct(&one, 5),
            "1 distinct over 5 runs (sha256:abababababab…)"
        );
        let two: BTreeSet<String> = ["sha256:a".to_owned(), "sha256:b".to_owned()].into();
        assert_eq!(distinct(&two, 2), "2 distinct over 2 runs");
    }
}
