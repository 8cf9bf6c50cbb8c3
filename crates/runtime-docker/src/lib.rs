//! eider's Docker Engine backend: [`eider_runtime::Runtime`] over the Engine API (bollard), on the
//! unix socket or whatever `DOCKER_HOST` names.

mod archive;
mod connect;
mod container;
mod engine_answer;
mod error;
mod helper;
mod image;
mod liveness;
mod pull_retry;
mod terminal_attach;
mod volume;

use std::time::Duration;

use bollard::Docker;
use eider_runtime::{
    ArchiveStream, ContainerId, ContainerSpec, ContainerState, Exit, Labels, OutputStream,
    Platform, PullProgress, RuntimeError,
};

pub use connect::{ConnectError, DEFAULT_RESPONSE_TIMEOUT};
pub use image::ImageIdentity;
pub use pull_retry::{PullRetry, is_transient_pull_failure};

/// A connection to one Docker Engine.
#[derive(Debug, Clone)]
pub struct DockerRuntime {
    client: Docker,
    endpoint: String,
    /// How long a request may go unanswered before it fails; probes use it too.
    response_timeout: Duration,
    /// Asked once, in the background from the moment of connecting: the engine takes a while to
    /// answer it, and nothing needs it before the first container starts.
    platform: std::sync::Arc<connect::PlatformQuery>,
    /// How pulls that fail for a transient reason are tried again.
    pull_retry: PullRetry,
}

impl DockerRuntime {
    /// The same connection, with pulls retried as `retry` says.
    #[must_use]
    pub fn with_pull_retry(mut self, retry: PullRetry) -> Self {
        self.pull_retry = retry;
        self
    }

    /// Where the engine is reached, as `DOCKER_HOST` would name it.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl eider_runtime::Runtime for DockerRuntime {
    async fn platform(&self) -> Result<Platform, RuntimeError> {
        self.platform.get().await
    }

    async fn image_exists(&self, image: &str) -> Result<bool, RuntimeError> {
        self.image_present(image).await
    }

    async fn pull_image(
        &self,
        image: &str,
        progress: &(dyn Fn(PullProgress) + Send + Sync),
    ) -> Result<(), RuntimeError> {
        self.pull(image, progress).await
    }

    async fn create_volume(&self, name: &str, labels: &Labels) -> Result<(), RuntimeError> {
        self.create_named_volume(name, labels).await
    }

    async fn remove_volume(&self, name: &str) -> Result<(), RuntimeError> {
        self.remove_named_volume(name).await
    }

    async fn create_container(&self, spec: &ContainerSpec) -> Result<ContainerId, RuntimeError> {
        self.create(spec).await
    }

    async fn attach(&self, id: &ContainerId, tty: bool) -> Result<OutputStream, RuntimeError> {
        self.attach_output(id, tty).await
    }

    async fn start(&self, id: &ContainerId) -> Result<(), RuntimeError> {
        self.start_container(id).await
    }

    async fn wait(&self, id: &ContainerId) -> Result<Exit, RuntimeError> {
        self.wait_container(id).await
    }

    async fn probe(&self) -> Result<(), RuntimeError> {
        self.ping_fresh().await
    }

    async fn keeps_containers_across_restarts(&self) -> Result<bool, RuntimeError> {
        self.live_restore_enabled().await
    }

    async fn container_state(&self, id: &ContainerId) -> Result<ContainerState, RuntimeError> {
        self.state_of(id).await
    }

    async fn stop(&self, id: &ContainerId, grace: Duration) -> Result<(), RuntimeError> {
        self.stop_container(id, grace).await
    }

    async fn kill(&self, id: &ContainerId) -> Result<(), RuntimeError> {
        self.kill_container(id).await
    }

    async fn remove_container(&self, id: &ContainerId) -> Result<(), RuntimeError> {
        self.remove(id).await
    }

    async fn list_containers(&self, key: &str) -> Result<Vec<(ContainerId, Labels)>, RuntimeError> {
        self.list_labelled(key).await
    }

    async fn list_containers_without(
        &self,
        key: &str,
    ) -> Result<Vec<(ContainerId, String)>, RuntimeError> {
        self.list_unlabelled(key).await
    }

    async fn list_volumes(&self, key: &str) -> Result<Vec<(String, Labels)>, RuntimeError> {
        self.list_labelled_volumes(key).await
    }

    async fn upload_to_volume(
        &self,
        volume: &str,
        image: &str,
        labels: &Labels,
        archive: ArchiveStream,
    ) -> Result<(), RuntimeError> {
        self.upload(volume, image, labels, archive).await
    }

    async fn export_volume(
        &self,
        volume: &str,
        image: &str,
        labels: &Labels,
        destination: &camino::Utf8Path,
    ) -> Result<(), RuntimeError> {
        self.export(volume, image, labels, destination).await
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
