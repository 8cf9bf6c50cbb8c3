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
    samples.sort_unstable();
    let middle = runs / 2;
    if runs % 2 == 1 {
        samples[middle]
    } else {
        (samples[middle - 1] + samples[middle]) / 2
    }
}

/// A duration in milliseconds, for the table.
pub fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::median_time;

    #[test]
    fn calls_the_operation_once_per_run() {
        let mut calls = 0;
        median_time(7, || calls += 1);
        assert_eq!(calls, 7);
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
