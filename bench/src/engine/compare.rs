//! Runs the two commands of a comparison in alternation (eider, docker, docker, eider, ...), so
//! that a slow minute of a noisy machine hits both sides alike, and summarizes the samples.

use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use crate::engine::sample::{Sample, SampleError};
use crate::engine::scenario::Comparison;
use crate::measure::{median, quantile};

/// Rounds run first and thrown away: the first container of a run pays for cold caches (the
/// image's layers, the binaries) that later ones do not.
pub const WARMUP_ROUNDS: usize = 1;

/// Every sample kept, in round order: `eider[i]` and `baseline[i]` ran back to back.
#[derive(Debug, Default)]
pub struct Samples {
    /// eider's runs.
    pub eider: Vec<Sample>,
    /// The docker CLI's runs.
    pub baseline: Vec<Sample>,
}

/// Runs `runs` rounds after the warm-up. Each round runs both commands once; which goes first
/// alternates from round to round.
pub fn interleaved(
    comparison: &Comparison,
    runs: usize,
    report: &std::path::Path,
) -> Result<Samples, SampleError> {
    let mut samples = Samples {
        eider: Vec::with_capacity(runs),
        baseline: Vec::with_capacity(runs),
    };
    let name = comparison.name;
    let live = std::io::stderr().is_terminal();
    let rounds = WARMUP_ROUNDS + runs;
    for round in 0..rounds {
        if live {
            let shown = if round < WARMUP_ROUNDS {
                "warm-up".to_owned()
            } else {
                format!("round {}/{runs}", round - WARMUP_ROUNDS + 1)
            };
            eprint!("\r{name}: {shown}   ");
            let _ignored = std::io::stderr().flush();
        }
        let eider_first = round % 2 == 0;
        let (first, second) = if eider_first {
            (&comparison.eider, &comparison.baseline)
        } else {
            (&comparison.baseline, &comparison.eider)
        };
        let first = first.measure(report)?;
        let second = second.measure(report)?;
        if round < WARMUP_ROUNDS {
            continue;
        }
        let (eider, baseline) = if eider_first {
            (first, second)
        } else {
            (second, first)
        };
        samples.eider.push(eider);
        samples.baseline.push(baseline);
    }
    if live {
        eprint!("\r");
    }
    Ok(samples)
}

/// The middle and spread of one quantity over a side's runs.
#[derive(Debug, Clone, Copy)]
pub struct Spread {
    /// The median.
    pub median: Duration,
    /// The first quartile.
    pub low: Duration,
    /// The third quartile.
    pub high: Duration,
}

impl Spread {
    /// The spread of `values`.
    pub fn of(values: impl IntoIterator<Item = Duration>) -> Self {
        let mut values: Vec<Duration> = values.into_iter().collect();
        Self {
            median: median(&mut values),
            low: quantile(&mut values, 0.25),
            high: quantile(&mut values, 0.75),
        }
    }
}

impl Samples {
    /// Wall-clock times of eider's runs.
    pub fn eider_wall(&self) -> Spread {
        Spread::of(self.eider.iter().map(|sample| sample.wall))
    }

    /// Wall-clock times of the docker CLI's runs.
    pub fn baseline_wall(&self) -> Spread {
        Spread::of(self.baseline.iter().map(|sample| sample.wall))
    }

    /// CPU times of eider's runs.
    pub fn eider_cpu(&self) -> Spread {
        Spread::of(self.eider.iter().map(|sample| sample.cpu))
    }

    /// CPU times of the docker CLI's runs.
    pub fn baseline_cpu(&self) -> Spread {
        Spread::of(self.baseline.iter().map(|sample| sample.cpu))
    }

    /// The median, over rounds, of eider's wall time divided by the docker CLI's in the same
    /// round: a second estimate of the ratio, insensitive to drifts that span many rounds.
    pub fn paired_wall_ratio(&self) -> f64 {
        let mut ratios: Vec<f64> = self
            .eider
            .iter()
            .zip(&self.baseline)
            .map(|(eider, baseline)| eider.wall.as_secs_f64() / baseline.wall.as_secs_f64())
            .collect();
        ratios.sort_unstable_by(f64::total_cmp);
        let middle = ratios.len() / 2;
        if ratios.len() % 2 == 1 {
            ratios[middle]
        } else {
            f64::midpoint(ratios[middle - 1], ratios[middle])
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Samples;
    use crate::engine::sample::Sample;

    fn sample(milliseconds: u64) -> Sample {
        Sample {
            wall: Duration::from_millis(milliseconds),
            cpu: Duration::ZERO,
            peak_rss_kibibytes: 0,
            stdout_lines: 0,
        }
    }

    #[test]
    fn the_paired_ratio_compares_runs_of_the_same_round() {
        let samples = Samples {
            eider: vec![sample(100), sample(300), sample(90)],
            baseline: vec![sample(200), sample(300), sample(100)],
        };
        assert!((samples.paired_wall_ratio() - 0.9).abs() < 1e-9);
        assert_eq!(samples.eider_wall().median, Duration::from_millis(100));
    }
}
