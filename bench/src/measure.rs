//! Times an operation over several runs and keeps the median, which one slow run (a page fault
//! storm, a noisy neighbour) does not move.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// The median wall-clock time of `runs` calls of `operation`.
///
/// Only the call is timed: dropping its output happens after the clock stops, so a large tree's
/// deallocation does not count against the parser.
pub fn median_time<T>(runs: usize, mut operation: impl FnMut() -> T) -> Duration {
    assert!(runs > 0, "at least one run is needed to take a median");
    let mut samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let output = black_box(operation());
            let elapsed = start.elapsed();
            drop(output);
            elapsed
        })
        .collect();
    median(&mut samples)
}

/// The median of `samples` (sorted in place); the mean of the two middle ones when their number
/// is even.
pub fn median(samples: &mut [Duration]) -> Duration {
    assert!(!samples.is_empty(), "a median needs at least one sample");
    samples.sort_unstable();
    let middle = samples.len() / 2;
    if samples.len() % 2 == 1 {
        samples[middle]
    } else {
        (samples[middle - 1] + samples[middle]) / 2
    }
}

/// The value below which a `fraction` (0 to 1) of `samples` lie, nearest rank; sorts in place.
pub fn quantile(samples: &mut [Duration], fraction: f64) -> Duration {
    assert!(!samples.is_empty(), "a quantile needs at least one sample");
    samples.sort_unstable();
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "a rank between 0 and the number of samples, far below 2^52"
    )]
    let rank = ((samples.len() - 1) as f64 * fraction.clamp(0.0, 1.0)).round() as usize;
    samples[rank]
}

/// A duration in milliseconds, for the table.
pub fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{median, median_time, quantile};

    #[test]
    fn calls_the_operation_once_per_run() {
        let mut calls = 0;
        median_time(7, || calls += 1);
        assert_eq!(calls, 7);
    }

    #[test]
    fn quantiles_pick_the_nearest_rank() {
        let mut samples: Vec<Duration> = [5_u64, 1, 4, 2, 3]
            .into_iter()
            .map(Duration::from_millis)
            .collect();
        assert_eq!(quantile(&mut samples, 0.0), Duration::from_millis(1));
        assert_eq!(quantile(&mut samples, 0.25), Duration::from_millis(2));
        assert_eq!(quantile(&mut samples, 1.0), Duration::from_millis(5));
        assert_eq!(median(&mut samples), Duration::from_millis(3));
    }

    #[test]
    fn an_even_number_of_runs_averages_the_two_middle_samples() {
        let mut sleeps = [4_u64, 1, 3, 2].into_iter();
        let median = median_time(4, || {
            std::thread::sleep(Duration::from_millis(sleeps.next().unwrap_or(0) * 5));
        });
        assert!(median >= Duration::from_micros(12_500), "{median:?}");
    }
}
