//! eider's Docker Engine backend: [`eider_runtime::Runtime`] over the Engine API (bollard), on the
//! engine found as the docker CLI finds it (`endpoint/`: `DOCKER_HOST`, Docker contexts, the
//! local sockets; TLS).

mod archive;
mod connect;
mod container;
mod create_spec;
mod endpoint;
mod engine_answer;
mod error;
mod helper;
mod image;
mod job;
mod launch_pacer;
mod liveness;
mod model;
mod out_of_memory;
mod passing_states;
mod pull_retry;
mod removal_order;
mod socket_watch;
mod source_archive;
mod storage;
mod terminal_attach;
mod volume;

use std::time::Duration;

use bollard::Docker;
use camino::Utf8Path;
use drakefile::PullPolicy;
use eider_runtime::{
    CopyReport, JobObserver, JobSpec, Labels, LaunchControl, LaunchError, Platform, PullProgress,
    Resource, RuntimeError, Storage, StorageRequest,
};

pub use connect::{ConnectError, DEFAULT_RESPONSE_TIMEOUT};
pub use endpoint::{
    ContextChoice, Endpoint, EndpointError, EndpointOrigin, EngineAddress, EngineEnvironment,
    TlsError, TlsSettings,
};
pub use image::ImageIdentity;
pub use job::DockerJob;
pub use model::ArchiveStream;
pub use pull_retry::{PullRetry, is_transient_pull_failure};

use crate::create_spec::HostSettings;

/// A connection to one Docker Engine.
#[derive(Debug, Clone)]
pub struct DockerRuntime {
    client: Docker,
    /// The engine, and what each new connection to it takes.
    transport: std::sync::Arc<endpoint::Transport>,
    /// How long a request may go unanswered before it fails; probes use it too, and it bounds
    /// how long a job waits for an engine that went away to come back.
    response_timeout: Duration,
    /// What the engine says of itself (its platform, whether it is Podman): asked once, in the
    /// background from the moment of connecting: the engine takes a while to answer it, and
    /// nothing needs it before the first copy of the source or container.
    version: std::sync::Arc<connect::VersionQuery>,
    /// How pulls that fail for a transient reason are tried again.
    pull_retry: PullRetry,
    /// The network of each job's first container, and the socket bound for containers allowed
    /// to mount it.
    host: HostSettings,
    /// Whether launches take turns, and the turns: shared by every job on this engine, whose
    /// launches all compete for its processors.
    pacer: std::sync::Arc<launch_pacer::LaunchPacer>,
}

impl DockerRuntime {
    /// The same connection, with pulls retried as `retry` says.
    #[must_use]
    pub fn with_pull_retry(mut self, retry: PullRetry) -> Self {
        self.pull_retry = retry;
        self
    }

    /// The same connection, with each job's first container on `network` (the engine's
    /// default network when `None`): the others join its namespace.
    #[must_use]
    pub fn with_job_network(mut self, network: Option<String>) -> Self {
        self.host.network = network;
        self
    }

    /// The engine connected to, and what named it.
    #[must_use]
    pub fn endpoint(&self) -> &Endpoint {
        self.transport.endpoint()
    }
}

impl eider_runtime::Runtime for DockerRuntime {
    type Job = DockerJob;

    async fn platform(&self) -> Result<Option<Platform>, RuntimeError> {
        self.version
            .get()
            .await
            .map(|version| Some(version.platform))
    }

    async fn needs_pull(&self, image: &str, policy: PullPolicy) -> Result<bool, RuntimeError> {
        match policy {
            PullPolicy::Always => Ok(true),
            PullPolicy::IfNotPresent => Ok(!self.image_present(image).await?),
        }
    }

    async fn pull_image(
        &self,
        image: &str,
        progress: &(dyn Fn(PullProgress) + Send + Sync),
    ) -> Result<(), RuntimeError> {
        self.pull(image, progress).await
    }

    async fn probe(&self) -> Result<(), RuntimeError> {
        self.ping_fresh().await
    }

    async fn create_shared_storage(
        &self,
        request: StorageRequest<'_>,
    ) -> Result<Storage, RuntimeError> {
        self.new_shared_storage(request).await
    }

    async fn copy_source(
        &self,
        request: StorageRequest<'_>,
        root: &Utf8Path,
    ) -> Result<(Storage, CopyReport), RuntimeError> {
        self.new_source_copy(request, root).await
    }

    async fn export_storage(
        &self,
        storage: &Storage,
        labels: &Labels,
        destination: &Utf8Path,
    ) -> Result<(), RuntimeError> {
        self.export_volume(storage, labels, destination).await
    }

    async fn remove_storage(&self, storage: &Storage) -> Result<(), RuntimeError> {
        self.remove_named_volume(&storage.name).await
    }

    async fn launch(
        &self,
        spec: JobSpec,
        observer: &dyn JobObserver,
        control: LaunchControl<'_>,
    ) -> (DockerJob, Result<(), LaunchError>) {
        self.launch_job(spec, observer, control).await
    }

    async fn list_labelled(&self, selector: &str) -> Result<Vec<Resource>, RuntimeError> {
        self.labelled_resources(selector).await
    }

    async fn remove_resource(&self, resource: &Resource) -> Result<(), RuntimeError> {
        self.remove_labelled(resource).await
    }

    async fn finish_run(&self, _run_id: &str) -> Vec<String> {
        // The engine's containers and volumes are all a run has here.
        Vec::new()
    }
}

/// The engine may report the kernel's machine name (`x86_64`); DrakeSpec and OCI say `amd64`.
fn oci_architecture(machine: &str) -> String {
    match machine {
        "x86_64" | "amd64" => "amd64",
        "aarch64" | "arm64" => "arm64",
        "armv7l" | "armhf" | "arm" => "arm",
        "i386" | "i686" | "386" => "386",
        "ppc64le" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
    .to_owned()
}
