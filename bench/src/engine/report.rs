//! The targets of the `eider run` benchmarks and the table rows that say whether each was met.

use std::time::Duration;

use crate::engine::compare::{Samples, Spread};
use crate::engine::scenario::Benchmark;
use crate::measure::milliseconds;

/// eider's no-op job may take at most this multiple of `docker run`'s time.
pub const NO_OP_MAX_RATIO: f64 = 1.0;
/// eider's sidecar job may take at most this multiple of the docker CLI's time by hand.
pub const SIDECAR_MAX_RATIO: f64 = 0.95;
/// eider must deliver lines at least this fraction as fast as `docker run` attached.
pub const THROUGHPUT_MIN_RATIO: f64 = 0.9;
/// eider's CPU time (user + system) may be at most this multiple of the docker CLI's.
pub const CPU_MAX_RATIO: f64 = 2.0;
/// eider's peak resident memory while relaying the lines stays under this many bytes (30 MB).
pub const PEAK_RSS_MAX_BYTES: u64 = 30_000_000;

/// The table's columns.
pub const HEADERS: [&str; 6] = [
    "benchmark",
    "eider (median)",
    "baseline (median)",
    "ratio",
    "target",
    "met?",
];

/// One line of the table (of the `eider run` benchmarks and of the pipeline benchmarks).
#[derive(Debug, Clone)]
pub struct Row {
    /// What is measured.
    pub benchmark: String,
    /// eider's value.
    pub eider: String,
    /// The docker CLI's value.
    pub baseline: String,
    /// eider's value over the docker CLI's.
    pub ratio: String,
    /// The target, as text.
    pub target: String,
    /// Whether this run met it; `None` for a row shown for comparison only, without a target.
    pub met: Option<bool>,
}

impl Row {
    /// The cells, in the order of [`HEADERS`].
    pub fn cells(&self) -> Vec<String> {
        vec![
            self.benchmark.clone(),
            self.eider.clone(),
            self.baseline.clone(),
            self.ratio.clone(),
            self.target.clone(),
            match self.met {
                Some(true) => "met",
                Some(false) => "MISSED",
                None => "-",
            }
            .to_owned(),
        ]
    }
}

/// The rows of one benchmark: its wall time, and for the throughput benchmark also its rate,
/// CPU time, memory and completeness.
pub fn rows(benchmark: Benchmark, samples: &Samples, lines: u64) -> Vec<Row> {
    let eider = samples.eider_wall();
    let baseline = samples.baseline_wall();
    match benchmark {
        Benchmark::NoOp => vec![time_row(
            "no-op job (wall)",
            eider,
            baseline,
            NO_OP_MAX_RATIO,
        )],
        Benchmark::Sidecar => vec![time_row(
            "sidecar job (wall)",
            eider,
            baseline,
            SIDECAR_MAX_RATIO,
        )],
        Benchmark::Throughput => throughput_rows(samples, lines),
    }
}

/// The row of a benchmark that could not be measured.
pub fn failed(benchmark: Benchmark) -> Row {
    Row {
        benchmark: benchmark.name().to_owned(),
        eider: "failed".to_owned(),
        baseline: "-".to_owned(),
        ratio: "-".to_owned(),
        target: "-".to_owned(),
        met: Some(false),
    }
}

fn time_row(name: &str, eider: Spread, baseline: Spread, max_ratio: f64) -> Row {
    let ratio = ratio(eider.median, baseline.median);
    Row {
        benchmark: name.to_owned(),
        eider: format!("{:.1} ms", milliseconds(eider.median)),
        baseline: format!("{:.1} ms", milliseconds(baseline.median)),
        ratio: format!("{ratio:.2}x"),
        target: format!("<= {max_ratio:.2}x"),
        met: Some(ratio <= max_ratio),
    }
}

fn throughput_rows(samples: &Samples, lines: u64) -> Vec<Row> {
    let name = format!("{} lines", group_thousands(lines));
    let eider_wall = samples.eider_wall().median;
    let baseline_wall = samples.baseline_wall().median;
    // Lines per second over the median run: the rate ratio is the inverse of the time ratio.
    let rate = |wall: Duration| lines_as_f64(lines) / wall.as_secs_f64();
    let rate_ratio = ratio(baseline_wall, eider_wall);
    let eider_cpu = samples.eider_cpu().median;
    let baseline_cpu = samples.baseline_cpu().median;
    let cpu_ratio = ratio(eider_cpu, baseline_cpu);
    let peak = |side: &[crate::engine::sample::Sample]| {
        side.iter()
            .map(|sample| sample.peak_rss_kibibytes * 1024)
            .max()
            .unwrap_or(0)
    };
    let eider_peak = peak(&samples.eider);
    let baseline_peak = peak(&samples.baseline);
    let complete = |side: &[crate::engine::sample::Sample]| {
        side.iter()
            .filter(|sample| sample.stdout_lines == lines)
            .count()
    };
    let runs = samples.eider.len();
    let eider_complete = complete(&samples.eider);
    let baseline_complete = complete(&samples.baseline);
    vec![
        Row {
            benchmark: format!("{name}: rate"),
            eider: format!(
                "{:.2} M/s ({:.2} s)",
                rate(eider_wall) / 1e6,
                eider_wall.as_secs_f64()
            ),
            baseline: format!(
                "{:.2} M/s ({:.2} s)",
                rate(baseline_wall) / 1e6,
                baseline_wall.as_secs_f64()
            ),
            ratio: format!("{rate_ratio:.2}x"),
            target: format!(">= {THROUGHPUT_MIN_RATIO:.2}x"),
            met: Some(rate_ratio >= THROUGHPUT_MIN_RATIO),
        },
        Row {
            benchmark: format!("{name}: every line delivered"),
            eider: format!("{eider_complete}/{runs} runs"),
            baseline: format!("{baseline_complete}/{runs} runs"),
            ratio: "-".to_owned(),
            target: "all runs".to_owned(),
            met: Some(eider_complete == runs),
        },
        Row {
            benchmark: format!("{name}: client CPU (user+sys)"),
            eider: format!("{:.2} s", eider_cpu.as_secs_f64()),
            baseline: format!("{:.2} s", baseline_cpu.as_secs_f64()),
            ratio: format!("{cpu_ratio:.2}x"),
            target: format!("<= {CPU_MAX_RATIO:.2}x"),
            met: Some(cpu_ratio <= CPU_MAX_RATIO),
        },
        Row {
            benchmark: format!("{name}: client peak RSS (max)"),
            eider: format!("{:.1} MB", megabytes(eider_peak)),
            baseline: format!("{:.1} MB", megabytes(baseline_peak)),
            ratio: format!("{:.2}x", ratio_of_counts(eider_peak, baseline_peak)),
            target: format!("< {:.0} MB", megabytes(PEAK_RSS_MAX_BYTES)),
            met: Some(eider_peak < PEAK_RSS_MAX_BYTES),
        },
    ]
}

/// One line of detail on stderr: quartiles, CPU and the paired ratio, to judge the noise.
pub fn detail(benchmark: Benchmark, samples: &Samples) -> String {
    let spread = |spread: Spread| {
        format!(
            "{:.1} ms [{:.1}-{:.1}]",
            milliseconds(spread.median),
            milliseconds(spread.low),
            milliseconds(spread.high)
        )
    };
    format!(
        "{}: wall median [quartiles] eider {}, docker {}; median of per-round ratios {:.2}x; \
         CPU eider {:.0} ms, docker {:.0} ms",
        benchmark.name(),
        spread(samples.eider_wall()),
        spread(samples.baseline_wall()),
        samples.paired_wall_ratio(),
        milliseconds(samples.eider_cpu().median),
        milliseconds(samples.baseline_cpu().median),
    )
}

fn ratio(numerator: Duration, denominator: Duration) -> f64 {
    numerator.as_secs_f64() / denominator.as_secs_f64()
}

#[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
fn ratio_of_counts(numerator: u64, denominator: u64) -> f64 {
    numerator as f64 / denominator as f64
}

#[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
fn lines_as_f64(lines: u64) -> f64 {
    lines as f64
}

#[expect(clippy::cast_precision_loss, reason = "sizes far below 2^52 bytes")]
fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

/// `2000000` as `2,000,000`.
pub fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Row, group_thousands, rows};
    use crate::engine::compare::Samples;
    use crate::engine::sample::Sample;
    use crate::engine::scenario::Benchmark;

    fn sample(milliseconds: u64, lines: u64) -> Sample {
        Sample {
            wall: Duration::from_millis(milliseconds),
            cpu: Duration::from_millis(milliseconds / 10),
            peak_rss_kibibytes: 10_000,
            stdout_lines: lines,
        }
    }

    fn verdicts(rows: &[Row]) -> Vec<(String, Option<bool>)> {
        rows.iter()
            .map(|row| (row.benchmark.clone(), row.met))
            .collect()
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group_thousands(2_000_000), "2,000,000");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1_000), "1,000");
    }

    #[test]
    fn a_slower_no_op_misses_its_target() {
        let samples = Samples {
            eider: vec![sample(110, 0)],
            baseline: vec![sample(100, 0)],
        };
        let table = rows(Benchmark::NoOp, &samples, 0);
        assert_eq!(table[0].ratio, "1.10x");
        assert_eq!(table[0].met, Some(false));
    }

    #[test]
    fn a_missing_line_is_reported() {
        let samples = Samples {
            eider: vec![sample(100, 10), sample(100, 9)],
            baseline: vec![sample(100, 10), sample(100, 10)],
        };
        let table = rows(Benchmark::Throughput, &samples, 10);
        assert_eq!(
            verdicts(&table),
            [
                ("10 lines: rate".to_owned(), Some(true)),
                ("10 lines: every line delivered".to_owned(), Some(false)),
                ("10 lines: client CPU (user+sys)".to_owned(), Some(true)),
                ("10 lines: client peak RSS (max)".to_owned(), Some(true)),
            ]
        );
        assert_eq!(table[1].eider, "1/2 runs");
    }
}
