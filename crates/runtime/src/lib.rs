//! The seam between eider's engine and a container backend.
//!
//! The engine decides *what* runs (containers, their order, mounts, environment); a runtime
//! decides *how* a backend does it. `eider-runtime-docker` implements [`Runtime`] over the Docker
//! Engine API; tests of pure engine logic may implement it with a recording fake.

mod container;
mod error;
mod output;

use std::future::Future;
use std::time::Duration;

pub use container::{
    ContainerId, ContainerSpec, Labels, Mount, MountSource, NetworkMode, Platform, ResourceLimits,
};
pub use error::RuntimeError;

/// The directory that stands for a volume's root in archives uploaded into it. Extracting
/// under a named directory (and not at the volume's root) lets relative symbolic links such as
/// `up -> ..` through, which engines refuse when they point above the extraction root.
pub const VOLUME_ARCHIVE_ROOT: &str = "eider-volume";
pub use output::{
    ArchiveStream, ContainerState, Exit, OutputChunk, OutputStream, PullProgress, StreamKind,
};

/// A container backend. Every method talks to the backend; none of them blocks a thread.
///
/// Names of containers and volumes are chosen by the engine and unique per run; everything a
/// runtime creates carries the labels the engine asks for, so it can always be found again.
pub trait Runtime: Send + Sync + 'static {
    /// The operating system and CPU architecture of the machine that runs the containers,
    /// in OCI terms (`linux`, `amd64`).
    fn platform(&self) -> impl Future<Output = Result<Platform, RuntimeError>> + Send;

    /// Whether the image is present locally.
    fn image_exists(&self, image: &str) -> impl Future<Output = Result<bool, RuntimeError>> + Send;

    /// Pulls the image, reporting progress as it goes.
    fn pull_image(
        &self,
        image: &str,
        progress: &(dyn Fn(PullProgress) + Send + Sync),
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Creates a named volume with labels.
    fn create_volume(
        &self,
        name: &str,
        labels: &Labels,
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Removes a volume; a volume already gone is not an error.
    fn remove_volume(&self, name: &str) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Creates (does not start) a container.
    fn create_container(
        &self,
        spec: &ContainerSpec,
    ) -> impl Future<Output = Result<ContainerId, RuntimeError>> + Send;

    /// Attaches to the container's output. Called before [`Runtime::start`], so that no byte the
    /// main process writes is lost; the stream ends when the container's main process exits.
    fn attach(
        &self,
        id: &ContainerId,
        tty: bool,
    ) -> impl Future<Output = Result<OutputStream, RuntimeError>> + Send;

    /// Starts a created container.
    fn start(&self, id: &ContainerId) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Waits until the container's main process has exited and returns how it ended.
    fn wait(&self, id: &ContainerId) -> impl Future<Output = Result<Exit, RuntimeError>> + Send;

    /// Whether the engine answers at all: a cheap request on a connection of its own, bounded by
    /// the engine's response timeout. Used while a long request (a wait) is pending, which says
    /// nothing about the engine until it ends.
    fn probe(&self) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Whether the engine keeps containers running while it restarts (Docker's live restore):
    /// without it, an engine that stopped has stopped every container too.
    fn keeps_containers_across_restarts(
        &self,
    ) -> impl Future<Output = Result<bool, RuntimeError>> + Send;

    /// Whether a container runs, how it exited, or whether the engine does not know it.
    fn container_state(
        &self,
        id: &ContainerId,
    ) -> impl Future<Output = Result<ContainerState, RuntimeError>> + Send;

    /// Sends SIGTERM, then SIGKILL after `grace`; a container that is not running is not an error.
    fn stop(
        &self,
        id: &ContainerId,
        grace: Duration,
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Sends SIGKILL; a container that is not running is not an error.
    fn kill(&self, id: &ContainerId) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Removes a container, running or not, with its anonymous volumes; a container already gone
    /// is not an error.
    fn remove_container(
        &self,
        id: &ContainerId,
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Containers (running or not) that carry the label `key`, with all their labels.
    fn list_containers(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Vec<(ContainerId, Labels)>, RuntimeError>> + Send;

    /// Containers (running or not) that do not carry the label `key`, by id with their name:
    /// what something other than eider created.
    fn list_containers_without(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Vec<(ContainerId, String)>, RuntimeError>> + Send;

    /// Volumes that carry the label `key`, by name, with all their labels.
    fn list_volumes(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Vec<(String, Labels)>, RuntimeError>> + Send;

    /// Extracts a tar archive into a volume (owners, modes and times as archived), using a
    /// container of `image` that is created for the copy, never started, and removed after
    /// (`image` needs no command of its own). Every entry of the archive lies under
    /// [`VOLUME_ARCHIVE_ROOT`], which stands for the volume's root.
    fn upload_to_volume(
        &self,
        volume: &str,
        image: &str,
        labels: &Labels,
        archive: ArchiveStream,
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;

    /// Copies the whole content of a volume into the local directory `destination`, using a
    /// container of `image` that is created for the copy, never started, and removed after
    /// (`image` needs no command of its own). What lands in `destination` belongs to the user
    /// eider runs as and has no set-user-ID or set-group-ID bit, whatever the volume held.
    fn export_volume(
        &self,
        volume: &str,
        image: &str,
        labels: &Labels,
        destination: &camino::Utf8Path,
    ) -> impl Future<Output = Result<(), RuntimeError>> + Send;
}
