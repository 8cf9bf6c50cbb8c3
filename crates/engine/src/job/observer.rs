//! What a backend reports while it launches and follows a job: each container's output is
//! forwarded as events (whole lines, masked, within the job's output budget), and starts and
//! warnings become events of the job.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use drakefile::Job;
use eider_runtime::{BoxFuture, JobObserver, OutputStream, Runtime, RuntimeError};
use tokio::task::JoinHandle;

use crate::event::{Event, EventSender, OutputSource};
use crate::mask::Masker;
use crate::output_budget::OutputBudget;
use crate::run::Run;

/// How long a container's output may keep flowing after it was killed before eider stops
/// reading it (the backend closes the stream on exit; this only guards against a stuck one).
const OUTPUT_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The forwarding of one output stream to the events.
type Forwarding = JoinHandle<Result<(), RuntimeError>>;

/// The output and events of one job.
pub(super) struct JobOutput {
    events: EventSender,
    masker: Arc<Masker>,
    budget: Arc<OutputBudget>,
    run_id: String,
    job: String,
    /// The forwarding of each stream the backend handed over, and whether it is the primary's.
    forwarding: Mutex<Vec<(bool, Forwarding)>>,
}

impl JobOutput {
    pub(super) fn new<R: Runtime>(run: &Run<R>, job: &Job, budget: Arc<OutputBudget>) -> Self {
        Self {
            events: run.events.clone(),
            masker: Arc::clone(&run.masker),
            budget,
            run_id: run.id.clone(),
            job: job.name.clone(),
            forwarding: Mutex::new(Vec::new()),
        }
    }

    /// Waits for the primary's output to end (it ends with its process), giving up after a
    /// while: printed before anything else once the primary has exited.
    pub(super) async fn drain_primary(&self) {
        for handle in self.take(|primary| primary) {
            drain(handle).await;
        }
    }

    /// Waits for every output still flowing to end, giving up after a while.
    pub(super) async fn drain_all(&self) {
        for handle in self.take(|_| true) {
            drain(handle).await;
        }
    }

    /// Stops reading every output: the backend is gone.
    pub(super) fn abort_all(&self) {
        for handle in self.take(|_| true) {
            handle.abort();
        }
    }

    fn take(&self, wanted: impl Fn(bool) -> bool) -> Vec<Forwarding> {
        let Ok(mut forwarding) = self.forwarding.lock() else {
            return Vec::new();
        };
        let (taken, kept) = std::mem::take(&mut *forwarding)
            .into_iter()
            .partition(|(primary, _)| wanted(*primary));
        *forwarding = kept;
        taken.into_iter().map(|(_, handle)| handle).collect()
    }
}

impl JobObserver for JobOutput {
    fn output(&self, container: &str, primary: bool, stream: OutputStream) {
        let source = Arc::new(OutputSource {
            run_id: self.run_id.clone(),
            job: self.job.clone(),
            container: container.to_owned(),
        });
        let handle = tokio::spawn(crate::output::forward(
            stream,
            source,
            Arc::clone(&self.masker),
            Arc::clone(&self.budget),
            self.events.clone(),
        ));
        if let Ok(mut forwarding) = self.forwarding.lock() {
            forwarding.push((primary, handle));
        }
    }

    fn started<'a>(&'a self, container: &'a str, primary: bool) -> BoxFuture<'a, ()> {
        Box::pin(self.events.send(Event::ContainerStarted {
            job: self.job.clone(),
            container: container.to_owned(),
            primary,
        }))
    }

    fn warning(&self, message: String) -> BoxFuture<'_, ()> {
        Box::pin(self.events.send(Event::Warning {
            job: Some(self.job.clone()),
            message,
        }))
    }
}

/// Waits for an output task to finish, giving up after a while.
async fn drain(output: Forwarding) {
    let abort = output.abort_handle();
    if tokio::time::timeout(OUTPUT_DRAIN_TIMEOUT, output)
        .await
        .is_err()
    {
        abort.abort();
    }
}
