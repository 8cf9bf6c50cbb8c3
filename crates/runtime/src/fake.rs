//! A scripted backend that records what it was asked, for tests of the engine's orchestration:
//! each job plays its script (output, how long its primary runs, how it ends, where it fails),
//! and the record says what was launched, ended and removed, in which order and how many at once.
//!
//! Time is tokio's, so tests may run with the clock paused.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use camino::Utf8Path;
use drakefile::PullPolicy;
use futures_util::StreamExt;
use tokio::time::Instant;

use crate::{
    CopyReport, Ending, Exit, JobEnd, JobObserver, JobSpec, LaunchControl, LaunchError,
    LaunchedJob, MountContent, OutputChunk, Platform, PrimaryEnd, PullProgress, Resource, Runtime,
    RuntimeError, SourceView, Storage, StorageRequest, StreamKind,
};

/// What one job does when launched.
#[derive(Debug, Clone)]
pub struct JobScript {
    /// Lines each container writes to stdout at once, by container name.
    pub output: Vec<(String, String)>,
    /// How long the primary runs before it exits.
    pub runs_for: Duration,
    /// The primary's exit code.
    pub exit_code: i64,
    /// Whether the primary is ended by the out-of-memory killer.
    pub out_of_memory: bool,
    /// How long the launch takes.
    pub launch_takes: Duration,
    /// The launch fails at the primary, with this error.
    pub launch_fails: Option<String>,
    /// The backend fails while the primary runs, with this message.
    pub backend_fails: Option<String>,
    /// How long a graceful stop takes (a container that ignores SIGTERM takes the whole grace).
    pub stop_takes: Duration,
}

impl Default for JobScript {
    fn default() -> Self {
        Self {
            output: Vec::new(),
            runs_for: Duration::from_millis(100),
            exit_code: 0,
            out_of_memory: false,
            launch_takes: Duration::ZERO,
            launch_fails: None,
            backend_fails: None,
            stop_takes: Duration::ZERO,
        }
    }
}

/// One thing the fake was asked, with when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// A job's launch began.
    Launch(String),
    /// A job was ended.
    End(String, Ending),
    /// A job was removed.
    Remove(String),
    /// A job was left to a backend that was lost.
    Abandon(String),
    /// An image was pulled.
    Pull(String),
    /// Storage was created (shared storage, or a copy of the source).
    CreateStorage(String),
    /// Storage was removed.
    RemoveStorage(String),
}

/// The scripted backend.
#[derive(Debug, Clone, Default)]
pub struct FakeRuntime {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    scripts: HashMap<String, JobScript>,
    calls: Vec<(Instant, Call)>,
    /// Jobs launched and not yet ended.
    running: usize,
    most_running: usize,
    storage: Vec<String>,
}

impl FakeRuntime {
    /// A fake where every job succeeds after 100 ms, unless scripted otherwise.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Gives `job` a script.
    #[must_use]
    pub fn script(self, job: &str, script: JobScript) -> Self {
        self.state().scripts.insert(job.to_owned(), script);
        self
    }

    /// Everything asked so far, in order, with when.
    #[must_use]
    pub fn calls(&self) -> Vec<(Instant, Call)> {
        self.state().calls.clone()
    }

    /// The most jobs that ran at the same time (launched and not yet ended).
    #[must_use]
    pub fn most_running(&self) -> usize {
        self.state().most_running
    }

    /// The storage that exists now.
    #[must_use]
    pub fn storage(&self) -> Vec<String> {
        self.state().storage.clone()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock has failed already.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn record(&self, call: Call) {
        self.state().calls.push((Instant::now(), call));
    }
}

impl Runtime for FakeRuntime {
    type Job = FakeJob;

    async fn platform(&self) -> Result<Option<Platform>, RuntimeError> {
        Ok(Some(Platform {
            os: "linux".to_owned(),
            architecture: "amd64".to_owned(),
        }))
    }

    async fn needs_pull(&self, _image: &str, policy: PullPolicy) -> Result<bool, RuntimeError> {
        Ok(policy == PullPolicy::Always)
    }

    async fn pull_image(
        &self,
        image: &str,
        _progress: &(dyn Fn(PullProgress) + Send + Sync),
    ) -> Result<(), RuntimeError> {
        self.record(Call::Pull(image.to_owned()));
        Ok(())
    }

    async fn probe(&self) -> Result<(), RuntimeError> {
        Ok(())
    }

    async fn create_shared_storage(
        &self,
        request: StorageRequest<'_>,
    ) -> Result<Storage, RuntimeError> {
        Ok(self.new_storage(request, "shared"))
    }

    async fn copy_source(
        &self,
        request: StorageRequest<'_>,
        _root: &Utf8Path,
    ) -> Result<(Storage, CopyReport), RuntimeError> {
        Ok((self.new_storage(request, "source"), CopyReport::default()))
    }

    async fn export_storage(
        &self,
        _storage: &Storage,
        _labels: &crate::Labels,
        _destination: &Utf8Path,
    ) -> Result<(), RuntimeError> {
        Ok(())
    }

    async fn remove_storage(&self, storage: &Storage) -> Result<(), RuntimeError> {
        self.state().storage.retain(|name| name != &storage.name);
        self.record(Call::RemoveStorage(storage.name.clone()));
        Ok(())
    }

    async fn launch(
        &self,
        spec: JobSpec,
        observer: &dyn JobObserver,
        control: LaunchControl<'_>,
    ) -> (FakeJob, Result<(), LaunchError>) {
        let script = self
            .state()
            .scripts
            .get(&spec.job)
            .cloned()
            .unwrap_or_default();
        self.record(Call::Launch(spec.job.clone()));
        {
            let mut state = self.state();
            state.running += 1;
            state.most_running = state.most_running.max(state.running);
        }
        let private_copy = spec
            .containers
            .iter()
            .flat_map(|container| &container.mounts)
            .find_map(|mount| match &mount.content {
                MountContent::Source(SourceView::PrivateCopy(storage)) => {
                    Some(storage.name.clone())
                }
                _ => None,
            });
        let job = FakeJob {
            runtime: self.clone(),
            name: spec.job.clone(),
            script: script.clone(),
            ended: false,
            private_copy,
        };
        tokio::time::sleep(script.launch_takes).await;
        if !control.admit.await {
            return (job, Err(LaunchError::NotAdmitted));
        }
        let count = spec.containers.len();
        for (index, container) in spec.containers.iter().enumerate() {
            if control.stop.is_requested() {
                return (job, Err(LaunchError::Stopped));
            }
            let primary = index + 1 == count;
            if primary && let Some(message) = &script.launch_fails {
                return (
                    job,
                    Err(LaunchError::Failed {
                        container: Some(container.name.clone()),
                        what: "cannot start the container".to_owned(),
                        error: RuntimeError::Other(message.clone()),
                        hint: None,
                    }),
                );
            }
            let chunks: Vec<Result<OutputChunk, RuntimeError>> = script
                .output
                .iter()
                .filter(|(name, _)| name == &container.name)
                .map(|(_, line)| {
                    Ok(OutputChunk {
                        stream: StreamKind::Stdout,
                        bytes: Bytes::from(format!("{line}\n")),
                    })
                })
                .collect();
            observer.output(
                &container.name,
                primary,
                futures_util::stream::iter(chunks).boxed(),
            );
            observer.started(&container.name, primary).await;
        }
        (job, Ok(()))
    }

    async fn list_labelled(&self, _selector: &str) -> Result<Vec<Resource>, RuntimeError> {
        Ok(Vec::new())
    }

    async fn remove_resource(&self, _resource: &Resource) -> Result<(), RuntimeError> {
        Ok(())
    }

    async fn finish_run(&self, _run_id: &str) -> Vec<String> {
        Vec::new()
    }
}

impl FakeRuntime {
    fn new_storage(&self, request: StorageRequest<'_>, what: &str) -> Storage {
        let name = match request.job {
            Some((job, execution)) => format!("{}-{execution}-{job}-{what}", request.run_id),
            None => format!("{}-{what}", request.run_id),
        };
        self.state().storage.push(name.clone());
        self.record(Call::CreateStorage(name.clone()));
        Storage {
            name,
            image: request.image.to_owned(),
        }
    }
}

/// A job the fake launched.
#[derive(Debug)]
pub struct FakeJob {
    runtime: FakeRuntime,
    name: String,
    script: JobScript,
    ended: bool,
    /// The copy of the source made for this job alone, removed with it.
    private_copy: Option<String>,
}

impl LaunchedJob for FakeJob {
    async fn wait_primary(&mut self, _observer: &dyn JobObserver) -> PrimaryEnd {
        tokio::time::sleep(self.script.runs_for).await;
        if let Some(message) = &self.script.backend_fails {
            return PrimaryEnd::BackendFailed {
                message: message.clone(),
                lost: false,
            };
        }
        PrimaryEnd::Exited(Exit {
            code: self.script.exit_code,
            out_of_memory: self.script.out_of_memory,
        })
    }

    async fn end(&mut self, ending: Ending) -> JobEnd {
        if !self.ended {
            self.ended = true;
            self.runtime.state().running -= 1;
        }
        self.runtime.record(Call::End(self.name.clone(), ending));
        if let Ending::Stop(_) = ending {
            tokio::time::sleep(self.script.stop_takes).await;
        }
        JobEnd::default()
    }

    fn remove(self) -> impl Future<Output = Vec<String>> + Send + 'static {
        self.runtime.record(Call::Remove(self.name.clone()));
        if let Some(copy) = &self.private_copy {
            self.runtime.state().storage.retain(|name| name != copy);
        }
        std::future::ready(Vec::new())
    }

    fn abandon(self) -> Vec<String> {
        self.runtime.record(Call::Abandon(self.name.clone()));
        Vec::new()
    }
}
