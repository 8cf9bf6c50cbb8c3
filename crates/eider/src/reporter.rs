//! Renders a run's events for people: container output on stdout/stderr, one prefixed line per
//! line written (`[job/container] ...`), and status lines on stderr.
//!
//! It runs on its own thread with blocking writes, so a slow reader of eider's output slows the
//! containers down (through the bounded event channel) instead of stalling signal handling or
//! growing memory.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use eider_engine::mask::Masker;
use eider_engine::{Event, EventReceiver, JobOutcome, JobResult, OutputSource, OutputStreamKind};
use owo_colors::OwoColorize;

use crate::cli::ColorChoice;
use crate::live_status::LiveStatus;
use crate::log_limit::Size;
use crate::report::{CapturedOutput, MAX_CAPTURED_OUTPUT};

/// Colors for container prefixes: no red (errors) and no plain white (status lines).
const PALETTE: [u8; 6] = [36, 35, 33, 34, 32, 96];

/// Whether each of the two streams gets color.
#[derive(Debug, Clone, Copy)]
pub struct Colors {
    /// Standard output.
    pub stdout: bool,
    /// Standard error.
    pub stderr: bool,
}

impl Colors {
    /// Decides from the flag, `NO_COLOR` and whether each stream is a terminal.
    pub fn new(choice: ColorChoice) -> Self {
        let allowed = std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
        let decide = |terminal: bool| match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => allowed && terminal,
        };
        Self {
            stdout: decide(io::stdout().is_terminal()),
            stderr: decide(io::stderr().is_terminal()),
        }
    }
}

/// The renderer's state.
pub struct Reporter {
    colors: Colors,
    masker: Arc<Masker>,
    stdout: io::BufWriter<io::Stdout>,
    stderr: io::BufWriter<io::Stderr>,
    prefixes: HashMap<OutputSource, (Vec<u8>, Vec<u8>)>,
    /// Set when stdout is closed (`eider run x | head`): output is then dropped, the run goes on.
    stdout_closed: bool,
    /// Each job's output, kept for reports when they are asked for.
    captured: Option<CapturedOutput>,
    /// The running jobs on the last line, when stderr is a terminal.
    live: Option<LiveStatus>,
}

impl Reporter {
    /// A reporter writing to this process's stdout and stderr.
    pub fn new(colors: Colors, masker: Arc<Masker>) -> Self {
        Self {
            colors,
            masker,
            stdout: io::BufWriter::with_capacity(64 * 1024, io::stdout()),
            stderr: io::BufWriter::with_capacity(16 * 1024, io::stderr()),
            prefixes: HashMap::new(),
            stdout_closed: false,
            captured: None,
            // Drawn with escape codes: only where colors are, so NO_COLOR and `--color never`
            // give plain lines only.
            live: (colors.stderr
                && io::stderr().is_terminal()
                && std::env::var_os("TERM").is_none_or(|term| term != "dumb"))
            .then(LiveStatus::default),
        }
    }

    /// Keeps each job's output (up to [`MAX_CAPTURED_OUTPUT`] bytes) for reports.
    #[must_use]
    pub fn capturing(mut self) -> Self {
        self.captured = Some(CapturedOutput::new());
        self
    }

    /// What was kept for reports (empty unless [`Reporter::capturing`]).
    pub fn take_captured(&mut self) -> CapturedOutput {
        self.captured.take().unwrap_or_default()
    }

    /// Renders events until the engine drops its sender. Writes are flushed whenever no
    /// further event is waiting, so output is prompt when quiet and batched when busy.
    pub fn run(mut self, mut events: EventReceiver) -> Self {
        while let Some(event) = events.blocking_recv() {
            if let Some(live) = &mut self.live {
                live.clear(&mut self.stderr);
            }
            self.handle(event);
            while let Ok(event) = events.try_recv() {
                self.handle(event);
            }
            self.flush();
            if let Some(live) = &mut self.live {
                live.draw(&mut self.stderr);
            }
        }
        if let Some(live) = &mut self.live {
            live.clear(&mut self.stderr);
        }
        self.flush();
        self
    }

    fn flush(&mut self) {
        if self.stdout.flush().is_err() {
            self.stdout_closed = true;
        }
        let _ignored = self.stderr.flush();
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Output {
                source,
                stream,
                lines,
            } => self.output(&source, stream, &lines),
            Event::OutputLimitReached { source, limit } => self.limit_reached(&source, limit),
            Event::RunStarted { .. } | Event::ContainerStarted { .. } => {}
            Event::JobQueued { job } => self.status("Queued", &job),
            Event::JobStarted { job } => {
                if let Some(live) = &mut self.live {
                    live.started(&job);
                }
                self.status("Running", &job);
            }
            Event::PullStarted {
                job,
                container,
                image,
            } => self.status("Pulling", &format!("{image} (for {job}/{container})")),
            Event::PullProgress { image, progress } => {
                // Byte counters tick many times a second; the steps of each layer are enough
                // to see that a pull is alive.
                if progress.bytes.is_none()
                    && !progress.status.starts_with("Waiting")
                    && !progress.status.starts_with("Downloading")
                    && !progress.status.starts_with("Extracting")
                {
                    let layer = progress
                        .layer
                        .map(|layer| format!(" {layer}"))
                        .unwrap_or_default();
                    self.status("", &format!("{image}{layer}: {}", progress.status));
                }
            }
            Event::PullFinished { image, duration } => {
                self.status("Pulled", &format!("{image} in {}", seconds(duration)));
            }
            Event::Warning { job, message } => {
                let text = match job {
                    Some(job) => format!("{job}: {message}"),
                    None => message,
                };
                self.labelled("warning", 33, &text);
            }
            Event::JobFinished {
                job,
                outcome,
                duration,
            } => {
                if let Some(live) = &mut self.live {
                    live.finished(&job);
                }
                self.finished(&job, &outcome, duration);
            }
        }
    }

    fn output(&mut self, source: &OutputSource, stream: OutputStreamKind, lines: &[u8]) {
        if let Some(captured) = &mut self.captured {
            capture(captured, source, lines);
        }
        if stream == OutputStreamKind::Stdout && self.stdout_closed {
            return;
        }
        if !self.prefixes.contains_key(source) {
            let prefixes = (
                prefix(source, self.colors.stdout, &self.masker),
                prefix(source, self.colors.stderr, &self.masker),
            );
            self.prefixes.insert(source.clone(), prefixes);
        }
        let Some((stdout_prefix, stderr_prefix)) = self.prefixes.get(source) else {
            return;
        };
        let (writer, prefix): (&mut dyn Write, &[u8]) = match stream {
            OutputStreamKind::Stdout => (&mut self.stdout, stdout_prefix),
            OutputStreamKind::Stderr => (&mut self.stderr, stderr_prefix),
        };
        let mut start = 0;
        let mut failed = false;
        for end in memchr::memchr_iter(b'\n', lines) {
            if writer.write_all(prefix).is_err() || writer.write_all(&lines[start..=end]).is_err() {
                failed = true;
                break;
            }
            start = end + 1;
        }
        if failed && stream == OutputStreamKind::Stdout {
            self.stdout_closed = true;
        }
    }

    /// The one notice of a job whose output reached the log limit: on stderr, since it is
    /// eider's and not the job's, with the prefix of the container whose line crossed it.
    fn limit_reached(&mut self, source: &OutputSource, limit: u64) {
        let notice = format!(
            "eider: log limit of {} reached; the rest of the job's output is discarded\n",
            Size(limit)
        );
        if let Some(captured) = &mut self.captured {
            capture_notice(captured, source, notice.as_bytes());
        }
        let prefix = prefix(source, self.colors.stderr, &self.masker);
        let _ignored = self.stderr.write_all(&prefix);
        let _ignored = self.stderr.write_all(notice.as_bytes());
    }

    fn finished(&mut self, job: &str, outcome: &JobOutcome, duration: Duration) {
        let took = seconds(duration);
        let description = outcome.description().unwrap_or_default();
        match outcome.result() {
            JobResult::Passed => self.status("Passed", &format!("{job} in {took}")),
            JobResult::Failed => {
                self.failure_status("Failed", &format!("{job} in {took}: {description}"));
            }
            JobResult::TimedOut => {
                self.failure_status("Timed out", &format!("{job}: {description}"));
            }
            JobResult::Interrupted => self.failure_status("Interrupted", job),
            JobResult::Skipped => self.failure_status("Skipped", &format!("{job}: {description}")),
            JobResult::Cancelled => self.failure_status("Cancelled", job),
            JobResult::InfrastructureFailure => {
                self.failure_status(
                    "Infra failed",
                    &format!("{job} in {took}: infrastructure failure, not the job's"),
                );
                self.problem(&description, outcome.hint());
            }
            JobResult::Error => {
                self.failure_status("Failed", &format!("{job} in {took}"));
                self.problem(&description, outcome.hint());
            }
        }
    }

    /// Why a job could not run, and what to do about it.
    fn problem(&mut self, description: &str, hint: Option<&str>) {
        self.labelled("error", 31, description);
        if let Some(hint) = hint {
            self.labelled("hint", 36, hint);
        }
    }

    /// `     Running build`: a right-aligned verb, cargo style.
    fn status(&mut self, verb: &str, text: &str) {
        self.verb_line(verb, text, false);
    }

    fn failure_status(&mut self, verb: &str, text: &str) {
        self.verb_line(verb, text, true);
    }

    fn verb_line(&mut self, verb: &str, text: &str, failure: bool) {
        let text = self.masker.mask_text(text);
        let verb = format!("{verb:>12}");
        let line = match (self.colors.stderr, failure) {
            (true, false) => format!("{} {text}\n", verb.green().bold()),
            (true, true) => format!("{} {text}\n", verb.red().bold()),
            (false, _) => format!("{verb} {text}\n"),
        };
        let _ignored = self.stderr.write_all(line.as_bytes());
    }

    /// `error: ...`, `warning: ...`, `hint: ...`.
    fn labelled(&mut self, label: &str, color: u8, text: &str) {
        let text = self.masker.mask_text(text);
        let line = if self.colors.stderr {
            format!("\x1b[1;{color}m{label}\x1b[0m: {text}\n")
        } else {
            format!("{label}: {text}\n")
        };
        let _ignored = self.stderr.write_all(line.as_bytes());
    }

    /// Writes text to stderr as is (masked), for the summary.
    pub fn write_stderr(&mut self, text: &str) {
        let text = self.masker.mask_text(text);
        let _ignored = self.stderr.write_all(text.as_bytes());
        let _ignored = self.stderr.flush();
    }
}

/// Appends `lines` to the job's captured output, each with its container, up to the cap.
fn capture(captured: &mut CapturedOutput, source: &OutputSource, lines: &[u8]) {
    const CUT: &[u8] = b"[output cut: the report keeps the first 1 MiB of each job]\n";
    let kept = captured
        .entry((source.run_id.clone(), source.job.clone()))
        .or_default();
    if kept.len() >= MAX_CAPTURED_OUTPUT {
        return;
    }
    let prefix = format!("[{}] ", source.container);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', lines) {
        kept.extend_from_slice(prefix.as_bytes());
        kept.extend_from_slice(&lines[start..=end]);
        start = end + 1;
        if kept.len() >= MAX_CAPTURED_OUTPUT {
            kept.extend_from_slice(CUT);
            return;
        }
    }
}

/// Appends the log limit notice to the job's captured output, even past the report's own cap:
/// it comes once per job and says why the output ends.
fn capture_notice(captured: &mut CapturedOutput, source: &OutputSource, notice: &[u8]) {
    let kept = captured
        .entry((source.run_id.clone(), source.job.clone()))
        .or_default();
    kept.extend_from_slice(format!("[{}] ", source.container).as_bytes());
    kept.extend_from_slice(notice);
}

/// `[job/container] `, colored by a stable hash of the name, so a container keeps its color
/// from run to run.
fn prefix(source: &OutputSource, color: bool, masker: &Masker) -> Vec<u8> {
    // Names are the user's; a secret equal to one must still not be printed.
    let label = format!("[{}/{}]", source.job, source.container);
    let label = masker.mask_text(&label);
    if !color {
        return format!("{label} ").into_bytes();
    }
    // FNV-1a: tiny, and stable across Rust versions (the standard hasher is not).
    let hash = label.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    let code = PALETTE[(hash % PALETTE.len() as u64) as usize];
    format!("\x1b[{code}m{label}\x1b[0m ").into_bytes()
}

/// `1.23s`.
pub fn seconds(duration: Duration) -> String {
    format!("{:.2}s", duration.as_secs_f64())
}
