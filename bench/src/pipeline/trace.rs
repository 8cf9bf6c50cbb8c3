//! One run of a command with every line of its stderr timed as it arrives, and what eider's
//! status lines and JSON report say about a pipeline run: when each job started and finished,
//! how long a job that could start waited for it, how long each job took.
//!
//! eider prints `Running JOB` when a job starts and `Passed JOB in ...` when it has finished
//! (its containers removed), both on stderr through the same channel and thread, flushed as
//! soon as nothing else is waiting; the benchmark reads them as they come, so the time between
//! two of them is the time between the two events in eider, give or take the same small delay.

use std::io::{BufRead as _, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use drakefile::yaml::{Node, Value};

use crate::engine::sample::{Probe, SHOWN_STDERR_BYTES, SampleError};
use crate::pipeline::graph::Graph;

/// A finished run: its wall time and its stderr, line by line.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// From spawning the command to its exit, with its stdout and stderr drained.
    pub wall: Duration,
    /// Each line of stderr, without its newline, with the time it was read (since the spawn).
    pub stderr: Vec<(Duration, String)>,
}

/// Runs `probe` once, hands its stdout to `read_stdout` and times each stderr line.
pub fn run<T>(
    probe: &Probe,
    read_stdout: impl FnOnce(&mut dyn Read) -> std::io::Result<T>,
) -> Result<(Trace, T), SampleError> {
    let command_line = probe.display();
    let (program, arguments) = probe.argv.split_first().expect("a probe names its program");
    let mut command = Command::new(program);
    command
        .args(arguments)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    probe.apply_environment(&mut command);
    let io_error = |source| SampleError::Io {
        command: command_line.clone(),
        source,
    };
    let started = Instant::now();
    let mut child = command.spawn().map_err(|source| SampleError::Spawn {
        command: command_line.clone(),
        source,
    })?;
    let stderr_pipe = child.stderr.take().expect("stderr is piped");
    let stderr_reader = std::thread::spawn(move || read_timed_lines(stderr_pipe, started));
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let read = read_stdout(&mut stdout);
    // Whatever the reader left is drained, so that the command never blocks on a full pipe.
    let drained = std::io::copy(&mut stdout, &mut std::io::sink());
    let status = child.wait().map_err(io_error)?;
    let wall = started.elapsed();
    let stderr = stderr_reader
        .join()
        .unwrap_or_else(|_| Ok(vec![(wall, "(the stderr reader panicked)".to_owned())]))
        .map_err(io_error)?;
    if !status.success() {
        let text: Vec<&str> = stderr.iter().map(|(_, line)| line.as_str()).collect();
        let text = text.join("\n");
        let start = text.len().saturating_sub(SHOWN_STDERR_BYTES);
        let start = (start..text.len())
            .find(|&index| text.is_char_boundary(index))
            .unwrap_or(text.len());
        return Err(SampleError::Failed {
            command: command_line,
            status,
            stderr: text[start..].to_owned(),
        });
    }
    let value = read.map_err(io_error)?;
    drained.map_err(io_error)?;
    Ok((Trace { wall, stderr }, value))
}

fn read_timed_lines(pipe: impl Read, started: Instant) -> std::io::Result<Vec<(Duration, String)>> {
    let mut reader = BufReader::new(pipe);
    let mut lines = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(lines);
        }
        let at = started.elapsed();
        let text = String::from_utf8_lossy(&line);
        lines.push((at, text.trim_end_matches(['\n', '\r']).to_owned()));
    }
}

/// What a status line says happened to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// `Running JOB`.
    Started,
    /// `Passed JOB in ...` or `Failed JOB ...`.
    Finished,
}

/// One status line about a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// When it was read, since the spawn.
    pub at: Duration,
    /// The job.
    pub job: String,
    /// Started or finished.
    pub change: Change,
}

/// The job status lines of a run's stderr, in order; other lines are left out.
pub fn marks(stderr: &[(Duration, String)]) -> Vec<Mark> {
    stderr
        .iter()
        .filter_map(|(at, line)| {
            let (verb, rest) = line.trim_start().split_once(' ')?;
            let change = match verb {
                "Running" => Change::Started,
                "Passed" | "Failed" => Change::Finished,
                _ => return None,
            };
            let job = rest.split(' ').next()?.trim_end_matches(':');
            Some(Mark {
                at: *at,
                job: job.to_owned(),
                change,
            })
        })
        .collect()
}

/// When the first job started, since the spawn: eider's start-up (reading the Drakefile,
/// reaching the engine) as the run saw it.
pub fn first_start(marks: &[Mark]) -> Option<Duration> {
    marks
        .iter()
        .find(|mark| mark.change == Change::Started)
        .map(|mark| mark.at)
}

/// For each job that started after some job had finished: how long it waited, from the moment
/// it could have started (its last dependency finished and one of `lanes` lanes was free,
/// whichever came later) to its start. Jobs that could start at launch are left out: their wait
/// is eider's start-up, not its scheduling.
pub fn dispatch_gaps(marks: &[Mark], graph: &Graph, lanes: usize) -> Vec<Duration> {
    let mut finished: Vec<Option<Duration>> = vec![None; graph.len()];
    let mut running = 0_usize;
    // Since when a lane has been free; `None` while that is since launch.
    let mut free_since: Option<Duration> = None;
    let mut gaps = Vec::new();
    for mark in marks {
        let Some(job) = graph.index(&mark.job) else {
            continue;
        };
        match mark.change {
            Change::Started => {
                // `None` (launch) sorts before any time, so `max` picks the later condition.
                let ready_at = graph.nodes[job]
                    .dependencies
                    .iter()
                    .map(|&dependency| finished[dependency])
                    .max()
                    .flatten();
                let lane_at = if running < lanes {
                    free_since
                } else {
                    Some(mark.at)
                };
                if let Some(enabled) = ready_at.max(lane_at) {
                    gaps.push(mark.at.saturating_sub(enabled));
                }
                running += 1;
            }
            Change::Finished => {
                finished[job] = Some(mark.at);
                if running == lanes {
                    free_since = Some(mark.at);
                }
                running = running.saturating_sub(1);
            }
        }
    }
    gaps
}

/// What eider's JSON report says about one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsonReport {
    /// The run's own duration (`runs[0].durationSeconds`).
    pub run: Duration,
    /// Each job's duration, from its start to the removal of its containers.
    pub jobs: Vec<(String, Duration)>,
}

/// Why a report could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read eider's JSON report {}: {message}", path.display())]
pub struct ReportError {
    /// The report's path.
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
}

/// Reads the report eider wrote at `path` (`--report json=PATH`); JSON is YAML, so the
/// Drakefile's own loader reads it.
pub fn read_report(path: &Path) -> Result<JsonReport, ReportError> {
    let error = |message: String| ReportError {
        path: path.to_owned(),
        message,
    };
    let text = fs_err::read_to_string(path).map_err(|source| error(source.to_string()))?;
    parse_report(&text).map_err(error)
}

fn parse_report(text: &str) -> Result<JsonReport, String> {
    let root = drakefile::yaml::load(text)
        .map_err(|syntax| syntax.message)?
        .ok_or("empty report")?;
    let run = field(&root, "runs")
        .and_then(|runs| runs.as_sequence()?.first().map(|item| item.node.clone()))
        .ok_or("no run")?;
    let seconds = |node: &Node| match node.value {
        Value::Float(value) if value.is_finite() && value >= 0.0 => {
            Some(Duration::from_secs_f64(value))
        }
        Value::Integer(value) => u64::try_from(value).ok().map(Duration::from_secs),
        _ => None,
    };
    let run_duration = field(&run, "durationSeconds")
        .and_then(|node| seconds(&node))
        .ok_or("no run duration")?;
    let jobs = field(&run, "jobs")
        .and_then(|jobs| {
            jobs.as_sequence()?
                .iter()
                .map(|item| {
                    let name = field(&item.node, "name")?.as_str()?.to_owned();
                    let duration =
                        field(&item.node, "durationSeconds").and_then(|node| seconds(&node))?;
                    Some((name, duration))
                })
                .collect::<Option<Vec<_>>>()
        })
        .ok_or("no job durations")?;
    Ok(JsonReport {
        run: run_duration,
        jobs,
    })
}

fn field(node: &Node, name: &str) -> Option<std::rc::Rc<Node>> {
    node.as_mapping()?
        .iter()
        .find(|entry| entry.key_text() == Some(name))
        .map(|entry| entry.value.clone())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Change, Mark, dispatch_gaps, first_start, marks, parse_report};
    use crate::pipeline::graph::Graph;

    fn ms(value: u64) -> Duration {
        Duration::from_millis(value)
    }

    fn lines(text: &[(u64, &str)]) -> Vec<(Duration, String)> {
        text.iter()
            .map(|&(at, line)| (ms(at), line.to_owned()))
            .collect()
    }

    #[test]
    fn status_lines_become_marks() {
        let stderr = lines(&[
            (1, "      Queued chain-01"),
            (5, "     Running chain-01"),
            (9, "      Passed chain-01 in 0.60s"),
            (10, "[chain-01/main] Running late"),
            (
                11,
                "      Failed chain-02 in 0.10s: container `main` exited with code 1",
            ),
            (12, "        PASS chain-01     0.60s"),
        ]);
        let found = marks(&stderr);
        assert_eq!(
            found,
            [
                Mark {
                    at: ms(5),
                    job: "chain-01".to_owned(),
                    change: Change::Started
                },
                Mark {
                    at: ms(9),
                    job: "chain-01".to_owned(),
                    change: Change::Finished
                },
                Mark {
                    at: ms(11),
                    job: "chain-02".to_owned(),
                    change: Change::Finished
                },
            ]
        );
        assert_eq!(first_start(&found), Some(ms(5)));
    }

    #[test]
    fn a_gap_runs_from_the_later_of_a_free_lane_and_the_last_dependency() {
        // Two lanes: chain-01 and independent-01 start at launch (no gap); independent-01 ends
        // at 100, freeing a lane, and independent-02 starts 2 ms later; chain-01 ends at 150
        // and chain-02 starts 1 ms later (a lane was free, its dependency was the later event);
        // independent-02 ends at 200 and independent-03 starts 3 ms later.
        let stderr = lines(&[
            (10, "     Running chain-01"),
            (11, "     Running independent-01"),
            (100, "      Passed independent-01 in 0.09s"),
            (102, "     Running independent-02"),
            (150, "      Passed chain-01 in 0.14s"),
            (151, "     Running chain-02"),
            (200, "      Passed independent-02 in 0.1s"),
            (203, "     Running independent-03"),
        ]);
        let gaps = dispatch_gaps(&marks(&stderr), &Graph::lanes(), 2);
        assert_eq!(gaps, [ms(2), ms(1), ms(3)]);
    }

    #[test]
    fn a_lane_free_since_earlier_does_not_count_as_waiting() {
        // One lane stays free from 100 on; chain-02 waits for chain-01 (ends at 300) only.
        let stderr = lines(&[
            (10, "     Running chain-01"),
            (11, "     Running independent-01"),
            (100, "      Passed independent-01 in 0.09s"),
            (300, "      Passed chain-01 in 0.29s"),
            (304, "     Running chain-02"),
        ]);
        assert_eq!(dispatch_gaps(&marks(&stderr), &Graph::lanes(), 2), [ms(4)]);
    }

    #[test]
    fn the_report_gives_the_run_and_job_durations() {
        let text = r#"{
  "version": 1,
  "runs": [
    {
      "runId": "0137e4c4bf",
      "pipeline": "dag",
      "succeeded": true,
      "durationSeconds": 6.5,
      "jobs": [
        { "name": "setup-1", "result": "passed", "durationSeconds": 0.25 },
        { "name": "setup-2", "result": "passed", "durationSeconds": 1 }
      ]
    }
  ]
}"#;
        let report = parse_report(text).expect("a valid report");
        assert_eq!(report.run, ms(6_500));
        assert_eq!(
            report.jobs,
            [
                ("setup-1".to_owned(), ms(250)),
                ("setup-2".to_owned(), ms(1_000))
            ]
        );
        assert!(parse_report("{}").is_err());
    }
}
