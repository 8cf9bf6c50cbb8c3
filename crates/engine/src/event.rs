//! What the engine reports while it runs: typed events, never text. The command line renders
//! them (terminal, plain, JSON); the engine never prints.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use eider_runtime::PullProgress;
use tokio::sync::mpsc;

use crate::outcome::JobOutcome;

/// Which container wrote some output.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OutputSource {
    /// The run: pipelines selected together run at the same time and may share a job.
    pub run_id: String,
    /// The job.
    pub job: String,
    /// The container.
    pub container: String,
}

/// Which of the container's streams it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStreamKind {
    /// Standard output (and a TTY's merged output).
    Stdout,
    /// Standard error.
    Stderr,
}

/// One event of a run.
#[derive(Debug, Clone)]
pub enum Event {
    /// The run began; everything it creates carries this id.
    RunStarted {
        /// The run id.
        run_id: String,
    },
    /// A job of a pipeline waits for its dependencies and a free slot.
    JobQueued {
        /// The job.
        job: String,
    },
    /// A job began.
    JobStarted {
        /// The job.
        job: String,
    },
    /// An image is being pulled for a container.
    PullStarted {
        /// The job.
        job: String,
        /// The container.
        container: String,
        /// The image reference.
        image: String,
    },
    /// A step of an image pull.
    PullProgress {
        /// The image reference.
        image: String,
        /// What the engine reported.
        progress: PullProgress,
    },
    /// A pull ended successfully.
    PullFinished {
        /// The image reference.
        image: String,
        /// How long it took.
        duration: Duration,
    },
    /// A container was started.
    ContainerStarted {
        /// The job.
        job: String,
        /// The container.
        container: String,
        /// Whether it is the job's primary container.
        primary: bool,
    },
    /// Complete lines of output, already masked, each ending with `\n`.
    Output {
        /// Who wrote them.
        source: Arc<OutputSource>,
        /// Which stream.
        stream: OutputStreamKind,
        /// The lines.
        lines: Bytes,
    },
    /// The job's output reached its log limit: the rest of it is read and discarded. Sent once
    /// per job, after its last [`Event::Output`].
    OutputLimitReached {
        /// The container whose line would have crossed the limit.
        source: Arc<OutputSource>,
        /// The limit in bytes.
        limit: u64,
    },
    /// Something the user should know that does not stop the run.
    Warning {
        /// The job it concerns, if any.
        job: Option<String>,
        /// What happened.
        message: String,
    },
    /// A job ended.
    JobFinished {
        /// The job.
        job: String,
        /// How it ended.
        outcome: JobOutcome,
        /// How long it took.
        duration: Duration,
    },
}

/// Where the engine sends its events. Bounded, so a slow reader slows the containers' output
/// down instead of growing memory.
#[derive(Debug, Clone)]
pub struct EventSender(mpsc::Sender<Event>);

/// The receiving end, for the renderer.
pub type EventReceiver = mpsc::Receiver<Event>;

/// How many events may wait for the renderer.
const EVENT_BUFFER: usize = 64;

/// A new event channel.
#[must_use]
pub fn channel() -> (EventSender, EventReceiver) {
    let (sender, receiver) = mpsc::channel(EVENT_BUFFER);
    (EventSender(sender), receiver)
}

impl EventSender {
    /// Sends an event; a renderer that has gone away is ignored (the run still cleans up).
    pub async fn send(&self, event: Event) {
        let _ignored = self.0.send(event).await;
    }

    /// Sends an event from synchronous code (pull progress callbacks); dropped when the
    /// renderer is behind, which only ever drops progress.
    pub fn try_send(&self, event: Event) {
        let _ignored = self.0.try_send(event);
    }
}
