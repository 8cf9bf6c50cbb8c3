//! The seam between eider's engine and a backend that runs containers.
//!
//! The engine decides *what* runs and *when*: scheduling, timeouts, cancellation, masking, the
//! output budget and reporting. A backend decides *how*: it launches a whole job (its containers
//! in order, sharing localhost), follows its primary to the end, ends and removes it, and keeps
//! the run's storage. The seam speaks the DrakeSpec's terms (mount intents, millicores and
//! megabytes, platforms), never a backend's. `eider-runtime-docker` implements it over the
//! Docker Engine API; the engine's own tests use the scripted fake of the `fake` feature.

mod error;
#[cfg(feature = "fake")]
pub mod fake;
mod job;
pub mod labels;
mod output;
mod storage;

use std::future::Future;
use std::pin::Pin;

use camino::Utf8Path;
use drakefile::PullPolicy;

pub use error::{LaunchError, RuntimeError};
pub use job::{
    ContainerSpec, EnvironmentVariable, JobSpec, Labels, Mount, MountContent, Platform,
    PlatformRequest, SourceView,
};
pub use output::{
    Ending, Exit, JobEnd, OutputChunk, OutputStream, PrimaryEnd, PullProgress, StreamKind,
};
pub use storage::{
    CopyReport, DEFAULT_HELPER_IMAGE, Resource, ResourceKind, SOURCE_PATH_IN_IMAGE, Storage,
    StorageRequest,
};

/// A boxed future, for the methods of [`JobObserver`] (a trait object).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A backend. Every method talks to the backend; none of them blocks a thread.
///
/// Everything a backend creates carries the labels the engine gives, so that it can always be
/// found again by [`Runtime::list_labelled`].
pub trait Runtime: Send + Sync + 'static {
    /// A launched job.
    type Job: LaunchedJob;

    /// The operating system and CPU architecture of the machines that run the containers, in
    /// OCI terms (`linux`, `amd64`); none for a backend that places each job on a machine of the
    /// platform it asks for (a cluster of several kinds of nodes).
    fn platform(&self) -> impl Future<Output = Result<Option<Platform>, RuntimeError>> + Send;

    /// Whether `image` must be pulled before a job can use it under `policy`. A backend whose
    /// machines pull at launch (a cluster) says no and applies the policy itself.
    fn needs_pull(
        &self,
        image: &str,
        policy: PullPolicy,
    ) -> impl Future<Output = Result<bool, RuntimeError>> + Send;

    /// Pulls the image, reporting progress as it goes.
    fn pull_image(
        &self,
        image: &str,
        progress: &(dyn Fn(PullProgress) + Send + Sync),
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Whether the backend answers at all: a cheap request, bounded by the backend's response
    /// timeout.
    fn probe(&self) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Creates the run's shared storage, empty.
    fn create_shared_storage(
        &self,
        request: StorageRequest<'_>,
    ) -> impl Future<Output = Result<Storage, RuntimeError>> + Send;

    /// Makes an exact copy of the tree at `root` (modes, owners, times, symbolic links as links)
    /// for a job or a run. May be abandoned half-way: what it created carries the request's
    /// labels.
    fn copy_source(
        &self,
        request: StorageRequest<'_>,
        root: &Utf8Path,
    ) -> impl Future<Output = Result<(Storage, CopyReport), RuntimeError>> + Send;

    /// Copies the whole content of `storage` into the local directory `destination`. What lands
    /// there belongs to the user eider runs as and has no set-user-ID or set-group-ID bit.
    fn export_storage(
        &self,
        storage: &Storage,
        labels: &Labels,
        destination: &Utf8Path,
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Removes storage; storage already gone is not an error.
    fn remove_storage(
        &self,
        storage: &Storage,
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Launches a job: every container in order, each one's output handed to `observer` before
    /// it starts (no byte is lost), sharing one network namespace, under `control`. A step under
    /// way always completes (a request abandoned half-way could create something eider never
    /// hears of). The job comes back whatever happened, holding what was created, so that it can
    /// be ended and removed.
    fn launch(
        &self,
        spec: JobSpec,
        observer: &dyn JobObserver,
        control: LaunchControl<'_>,
    ) -> impl Future<Output = (Self::Job, Result<(), LaunchError>)> + Send;

    /// Everything (running or not) that carries the label `selector` (`key`, or `key=value`),
    /// with all its labels: workloads first, then storage, in an order that removes each
    /// workload before any other it depends on (a container before the one whose network
    /// namespace it joined), so that removing them one after the other always succeeds.
    fn list_labelled(
        &self,
        selector: &str,
    ) -> impl Future<Output = Result<Vec<Resource>, RuntimeError>> + Send;

    /// Removes one thing found by [`Runtime::list_labelled`], running or not; a thing already
    /// gone is not an error.
    fn remove_resource(
        &self,
        resource: &Resource,
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// The run is over (its jobs ended and removed, its storage removed): the backend removes
    /// what it kept for the run as a whole and stops following it. Returns what could not be
    /// removed.
    fn finish_run(&self, run_id: &str) -> impl Future<Output = Vec<String>> + Send;
}

/// What the engine keeps in hand while a backend launches a job.
pub struct LaunchControl<'a> {
    /// Whether to stop (an interrupt, the job's deadline): asked between steps, and awaited
    /// beside anything the backend waits for before a step (a turn to launch, say).
    pub stop: &'a dyn StopSignal,
    /// The engine's last checks (whether the backend's platform runs the job), awaited once
    /// before anything of the job starts and, where the backend can, while its first container
    /// is being created: the answer may take the backend a while. `false` ends the launch with
    /// [`LaunchError::NotAdmitted`].
    pub admit: BoxFuture<'a, bool>,
}

/// The engine's request to stop launching a job.
pub trait StopSignal: Send + Sync {
    /// Whether the engine asks to stop now.
    fn is_requested(&self) -> bool;

    /// Ends once the engine asks to stop.
    fn requested(&self) -> BoxFuture<'_, ()>;
}

/// A job a backend launched, whole or in part.
pub trait LaunchedJob: Send + Sync + 'static {
    /// Waits until the primary ends and says how, following the backend through restarts it
    /// survives. Only called after a launch that succeeded.
    fn wait_primary(
        &mut self,
        observer: &dyn JobObserver,
    ) -> impl Future<Output = PrimaryEnd> + Send;

    /// Ends what still runs, as `ending` says. Called once, before [`LaunchedJob::remove`].
    fn end(&mut self, ending: Ending) -> impl Future<Output = JobEnd> + Send;

    /// Removes everything the job created (a private copy of the source included); returns what
    /// could not be removed.
    fn remove(self) -> impl Future<Output = Vec<String>> + Send + 'static;

    /// Leaves everything to a backend that no longer answers (each request would wait its whole
    /// timeout); returns what is left, for the user. The labels let `eider clean` find it later.
    fn abandon(self) -> Vec<String>;
}

/// Where a backend reports what happens while it launches and follows a job.
pub trait JobObserver: Send + Sync {
    /// A container's output, from before it starts until its main process exits. Called again
    /// with a new stream when the backend had to attach anew.
    fn output(&self, container: &str, primary: bool, stream: OutputStream);

    /// A container has started.
    fn started<'a>(&'a self, container: &'a str, primary: bool) -> BoxFuture<'a, ()>;

    /// Something the user should know while the job runs.
    fn warning(&self, message: String) -> BoxFuture<'_, ()>;
}
