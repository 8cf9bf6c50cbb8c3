//! One measured run of a command: its wall-clock time, the CPU time and peak memory of its
//! process tree (from GNU time), and the number of lines it wrote on stdout.
//!
//! The benchmark reads the command's stdout itself, as `wc -l` would: both sides of a
//! comparison write into the same kind of pipe, drained by the same reader.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// GNU time, which reports what `getrusage(RUSAGE_CHILDREN)` says about the command.
pub const GNU_TIME: &str = "/usr/bin/time";

/// The fields GNU time writes: elapsed seconds, user seconds, system seconds, peak RSS in KiB.
const TIME_FORMAT: &str = "%e %U %S %M";

/// How much of a failed command's stderr is shown.
pub const SHOWN_STDERR_BYTES: usize = 2_000;

/// What one run measured.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// From spawning the command to its exit, with its stdout drained.
    pub wall: Duration,
    /// User plus system CPU time of the command and every descendant it waited for.
    pub cpu: Duration,
    /// The largest resident set of any single process of the command, in KiB.
    pub peak_rss_kibibytes: u64,
    /// Newlines read from the command's stdout.
    pub stdout_lines: u64,
}

/// What GNU time and the clock say about one run, whatever its stdout held.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// From spawning the command to its exit, with its stdout read.
    pub wall: Duration,
    /// User plus system CPU time of the command and every descendant it waited for.
    pub cpu: Duration,
    /// The largest resident set of any single process of the command, in KiB.
    pub peak_rss_kibibytes: u64,
}

/// A command to measure: a program and its arguments, run with extra environment variables
/// and without the variables named by `removed_prefix`.
#[derive(Debug, Clone)]
pub struct Probe {
    /// The program, then its arguments.
    pub argv: Vec<String>,
    /// Variables set for the command.
    pub environment: Vec<(String, String)>,
    /// Variables of the benchmark's own environment whose names start with this are not passed
    /// on (so that a user's `EIDER_*` settings do not change what is measured).
    pub removed_prefix: Option<&'static str>,
    /// The directory it runs in; the benchmark's own when `None`.
    pub directory: Option<PathBuf>,
}

/// Why a run could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// The command could not be started.
    #[error("cannot start `{command}`")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Reading its output or waiting for it failed.
    #[error("lost track of `{command}`")]
    Io {
        /// The command line.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It exited unsuccessfully.
    #[error("`{command}` failed ({status}); its stderr ends with:\n{stderr}")]
    Failed {
        /// The command line.
        command: String,
        /// How it exited.
        status: std::process::ExitStatus,
        /// The end of what it wrote on stderr.
        stderr: String,
    },
    /// GNU time's report was missing or unreadable.
    #[error("cannot read GNU time's report {}: `{report}`", path.display())]
    Report {
        /// The report file.
        path: PathBuf,
        /// What it contained.
        report: String,
    },
}

impl Probe {
    /// The command line, for messages.
    pub fn display(&self) -> String {
        self.argv.join(" ")
    }

    /// Sets the probe's variables on `command` and removes those it keeps out.
    pub fn apply_environment(&self, command: &mut Command) {
        if let Some(prefix) = self.removed_prefix {
            for (name, _) in std::env::vars_os() {
                if name.to_string_lossy().starts_with(prefix) {
                    command.env_remove(name);
                }
            }
        }
        command.envs(self.environment.iter().map(|(name, value)| (name, value)));
    }

    /// Runs the command once under GNU time, which writes its report to `report_path`.
    pub fn measure(&self, report_path: &Path) -> Result<Sample, SampleError> {
        let (usage, stdout_lines) = self.measure_reading(report_path, count_lines)?;
        Ok(Sample {
            wall: usage.wall,
            cpu: usage.cpu,
            peak_rss_kibibytes: usage.peak_rss_kibibytes,
            stdout_lines,
        })
    }

    /// Runs the command once under GNU time, which writes its report to `report_path`, and hands
    /// its stdout to `read_stdout` (which must read it to its end, or the command may block on a
    /// full pipe).
    pub fn measure_reading<T>(
        &self,
        report_path: &Path,
        read_stdout: impl FnOnce(&mut ChildStdout) -> std::io::Result<T>,
    ) -> Result<(Usage, T), SampleError> {
        let command_line = self.display();
        let mut command = Command::new(GNU_TIME);
        command
            .arg("--format")
            .arg(TIME_FORMAT)
            .arg("--output")
            .arg(report_path)
            .arg("--")
            .args(&self.argv)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        self.apply_environment(&mut command);
        if let Some(directory) = &self.directory {
            command.current_dir(directory);
        }
        let io_error = |source| SampleError::Io {
            command: command_line.clone(),
            source,
        };
        let started = Instant::now();
        let mut child = command.spawn().map_err(|source| SampleError::Spawn {
            command: command_line.clone(),
            source,
        })?;
        // stderr is drained on its own thread so that neither pipe can fill up and block the
        // command while the other is read.
        let mut stderr_pipe = child.stderr.take().expect("stderr is piped");
        let stderr_reader = std::thread::spawn(move || {
            let mut stderr = Vec::new();
            stderr_pipe.read_to_end(&mut stderr).map(|_| stderr)
        });
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let read = read_stdout(&mut stdout);
        let status = child.wait().map_err(io_error)?;
        let wall = started.elapsed();
        let stderr = stderr_reader
            .join()
            .unwrap_or_else(|_| Ok(b"(the stderr reader panicked)".to_vec()))
            .map_err(io_error)?;
        if !status.success() {
            let start = stderr.len().saturating_sub(SHOWN_STDERR_BYTES);
            return Err(SampleError::Failed {
                command: command_line,
                status,
                stderr: String::from_utf8_lossy(&stderr[start..]).into_owned(),
            });
        }
        let value = read.map_err(io_error)?;
        let report = fs_err::read_to_string(report_path).unwrap_or_default();
        let (cpu, peak_rss_kibibytes) =
            parse_report(&report).ok_or_else(|| SampleError::Report {
                path: report_path.to_owned(),
                report: report.trim().to_owned(),
            })?;
        let usage = Usage {
            wall,
            cpu,
            peak_rss_kibibytes,
        };
        Ok((usage, value))
    }
}

/// Reads `reader` to its end and counts the newlines.
fn count_lines(reader: &mut impl std::io::Read) -> std::io::Result<u64> {
    let mut buffer = vec![0_u8; 256 * 1024];
    let mut lines = 0_u64;
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => return Ok(lines),
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        #[expect(
            clippy::naive_bytecount,
            reason = "this loop counts gigabytes per second, far more than a container writes; \
                      not worth a dependency"
        )]
        let newlines = buffer[..read].iter().filter(|&&byte| byte == b'\n').count();
        lines += newlines as u64;
    }
}

/// CPU time (user + system) and peak RSS from the last line of GNU time's report. Earlier lines
/// may hold notes such as "Command exited with non-zero status 1".
fn parse_report(report: &str) -> Option<(Duration, u64)> {
    let line = report.lines().rev().find(|line| !line.trim().is_empty())?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [_elapsed, user, system, peak_rss] = fields.as_slice() else {
        return None;
    };
    let seconds = |text: &str| {
        text.parse::<f64>()
            .ok()
            .filter(|value| value.is_finite() && *value >= 0.0)
            .map(Duration::from_secs_f64)
    };
    Some((seconds(user)? + seconds(system)?, peak_rss.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{count_lines, parse_report};

    #[test]
    fn the_report_gives_cpu_time_and_peak_memory() {
        assert_eq!(
            parse_report("3.81 0.12 0.09 14072\n"),
            Some((Duration::from_millis(210), 14_072))
        );
        assert_eq!(
            parse_report("Command exited with non-zero status 1\n0.50 0.01 0.00 9000\n"),
            Some((Duration::from_millis(10), 9_000))
        );
        assert_eq!(parse_report(""), None);
        assert_eq!(parse_report("0.1 0.2 0.3"), None);
    }

    #[test]
    fn every_newline_is_counted() {
        let text = "a\nbb\n\nccc".repeat(100_000);
        assert_eq!(count_lines(&mut text.as_bytes()).ok(), Some(300_000));
    }
}
