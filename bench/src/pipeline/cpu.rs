//! The machine's busy processor time, from `/proc/stat`: what every process and the kernel
//! spent while a command ran (the engine, containerd, the shims and runc do most of a
//! container's work, outside the measured command).

use std::time::Duration;

/// `/proc/stat` counts in `USER_HZ`, which Linux fixes at 100 for every architecture's ABI.
const TICKS_PER_SECOND: u64 = 100;

/// The processor time spent so far by all cores, idle and waiting for I/O left out; `None` where
/// `/proc/stat` cannot be read.
pub fn busy_so_far() -> Option<Duration> {
    let text = fs_err::read_to_string("/proc/stat").ok()?;
    busy_of(&text)
}

/// The busy time on the `cpu` line of a `/proc/stat` text: user, nice, system, irq, softirq and
/// steal (the 1st, 2nd, 3rd, 6th, 7th and 8th numbers).
fn busy_of(text: &str) -> Option<Duration> {
    let line = text.lines().find(|line| line.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map_while(|word| word.parse().ok())
        .collect();
    let busy: u64 = [0, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&index| ticks.get(index))
        .sum();
    Some(Duration::from_millis(busy * 1000 / TICKS_PER_SECOND))
}

/// The busy time between two readings, when both were made.
pub fn spent(before: Option<Duration>, after: Option<Duration>) -> Option<Duration> {
    Some(after?.saturating_sub(before?))
}

/// The cores of this machine.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{busy_of, spent};

    #[test]
    fn idle_and_io_wait_are_not_busy() {
        let text = "cpu  100 5 50 9000 40 3 2 1 0 0\ncpu0 50 2 25 4500 20 1 1 0 0 0\n";
        // 100 + 5 + 50 + 3 + 2 + 1 ticks of 10 ms.
        assert_eq!(busy_of(text), Some(Duration::from_millis(1610)));
        assert_eq!(busy_of("intr 1 2 3\n"), None);
    }

    #[test]
    fn nothing_is_spent_without_both_readings() {
        let second = Some(Duration::from_secs(1));
        assert_eq!(
            spent(second, Some(Duration::from_secs(3))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(spent(None, second), None);
    }
}
