//! The Docker Engine's own terms: containers joined by network mode, bind mounts and volumes,
//! limits in cgroup units. The job-level seam is turned into these by `create_spec`.

use std::fmt;
use std::pin::Pin;

use bytes::Bytes;
use camino::Utf8PathBuf;
use eider_runtime::{Exit, Labels};
use futures_util::Stream;

/// The engine's identifier of a container.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ContainerId(pub String);

impl fmt::Display for ContainerId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Docker ids are 64 hex digits; the first 12 are what people see everywhere else.
        let shown = self.0.get(..12).unwrap_or(&self.0);
        formatter.write_str(shown)
    }
}

/// One container to create.
#[derive(Debug, Clone, Default)]
pub(crate) struct CreateSpec {
    /// The engine-side name, unique among everything that exists.
    pub name: String,
    /// The image reference.
    pub image: String,
    /// Replaces the image's ENTRYPOINT when set.
    pub entrypoint: Option<Vec<String>>,
    /// Replaces the image's CMD when set.
    pub command: Option<Vec<String>>,
    /// `NAME=value` pairs in order, without duplicate names.
    pub environment: Vec<(String, String)>,
    /// The working directory of the main process; the image's when unset.
    pub working_directory: Option<String>,
    /// Whether to allocate a pseudo-TTY.
    pub tty: bool,
    /// Whether to run privileged.
    pub privileged: bool,
    /// Which network namespace the container gets.
    pub network: NetworkMode,
    /// Bind mounts and volumes.
    pub mounts: Vec<VolumeMount>,
    /// CPU and memory limits; none when unset.
    pub resources: Option<ResourceLimits>,
    /// Labels on the container.
    pub labels: Labels,
}

/// The network namespace of a container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum NetworkMode {
    /// The engine's default network.
    #[default]
    Default,
    /// A named network.
    Named(String),
    /// The network namespace of another container (`container:<id>`).
    Join(ContainerId),
}

/// A mount into a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VolumeMount {
    /// What is mounted.
    pub source: MountSource,
    /// The absolute path inside the container.
    pub target: String,
    /// Whether the container sees it read-only.
    pub read_only: bool,
}

/// The origin of a mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MountSource {
    /// A path on the machine that runs the engine.
    Host(Utf8PathBuf),
    /// A named volume.
    Volume(String),
}

/// Limits in the engine's units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResourceLimits {
    /// Relative CPU weight (1024 = one CPU's worth).
    pub cpu_shares: i64,
    /// The CPU quota period in microseconds.
    pub cpu_period: i64,
    /// The CPU time allowed per period in microseconds.
    pub cpu_quota: i64,
    /// The hard memory limit in bytes.
    pub memory_bytes: i64,
    /// The soft memory reservation in bytes.
    pub memory_reservation_bytes: i64,
}

/// What the engine says of a container it was asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContainerState {
    /// Created or running: its main process has not exited.
    Running,
    /// Its main process has exited.
    Exited(Exit),
    /// The engine does not know it (removed, or lost with the engine's state).
    Missing,
}

/// A tar archive, streamed.
pub type ArchiveStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// The directory that stands for a volume's root in archives uploaded into it. Extracting
/// under a named directory (and not at the volume's root) lets relative symbolic links such as
/// `up -> ..` through, which engines refuse when they point above the extraction root.
pub(crate) const VOLUME_ARCHIVE_ROOT: &str = "eider-volume";
