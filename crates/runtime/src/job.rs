//! What the engine asks a backend to run: one job, in the DrakeSpec's own terms.

use camino::Utf8PathBuf;
use drakefile::{PullPolicy, Resources};

use crate::Storage;

/// Labels, in the order given (backends that store maps sort them anyway).
pub type Labels = Vec<(String, String)>;

/// One execution of a job: its containers in launch order (sidecars in the Drakefile's order,
/// then the primary, last), which share one network namespace (localhost) for as long as the
/// job runs. How that namespace is made is the backend's affair.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// The run it belongs to.
    pub run_id: String,
    /// The job's name in the Drakefile.
    pub job: String,
    /// Which execution of the job in the run this is: a run may execute the same job more than
    /// once (`eider run test test`), and the resources of one may still be being removed.
    pub execution: usize,
    /// The containers, sidecars first, the primary last.
    pub containers: Vec<ContainerSpec>,
    /// The operating system and CPU architecture the job asks for, when its DrakeSpec version
    /// has the fields.
    pub platform: PlatformRequest,
    /// How many jobs of the run may run at once, this one included: a backend that shares the
    /// machine's processors with its jobs may pace launches by it.
    pub parallel_jobs: usize,
    /// How long the job may run: the engine ends it then, and a backend that can may have the
    /// machines enforce it too, should eider itself be gone.
    pub timeout: std::time::Duration,
    /// Time between SIGTERM and SIGKILL when the job's containers are stopped.
    pub grace_period: std::time::Duration,
}

impl JobSpec {
    /// The primary container: the last one.
    #[must_use]
    pub fn primary(&self) -> Option<&ContainerSpec> {
        self.containers.last()
    }
}

/// One container of a job.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    /// Its name in the Drakefile.
    pub name: String,
    /// The image reference.
    pub image: String,
    /// When the image is pulled.
    pub pull_policy: PullPolicy,
    /// Replaces the image's entrypoint when set.
    pub command: Option<Vec<String>>,
    /// Replaces the image's arguments (its `CMD`) when set.
    pub args: Option<Vec<String>>,
    /// Variables in order, without duplicate names.
    pub environment: Vec<EnvironmentVariable>,
    /// The working directory of the main process; the image's when unset.
    pub working_directory: Option<String>,
    /// Whether to allocate a pseudo-terminal.
    pub tty: bool,
    /// Whether it runs privileged (already allowed by the user).
    pub privileged: bool,
    /// Whether the host's container engine socket is mounted (already allowed by the user).
    pub engine_socket: bool,
    /// What is mounted where, as intents the backend fulfils.
    pub mounts: Vec<Mount>,
    /// CPU and memory, in the spec's units.
    pub resources: Option<Resources>,
    /// Labels on everything made for it.
    pub labels: Labels,
}

impl ContainerSpec {
    /// A Drakefile container, with what the engine decided around it: the merged environment,
    /// the mounts and the labels.
    #[must_use]
    pub fn of(
        container: &drakefile::Container,
        environment: Vec<EnvironmentVariable>,
        mounts: Vec<Mount>,
        labels: Labels,
    ) -> Self {
        Self {
            name: container.name.clone(),
            image: container.image.clone(),
            pull_policy: container.pull_policy,
            command: container.command.clone(),
            args: container.args.clone(),
            environment,
            working_directory: container.working_directory.clone(),
            tty: container.tty,
            privileged: container.privileged,
            engine_socket: container.mount_docker_socket,
            mounts,
            resources: container.resources,
            labels,
        }
    }
}

/// One environment variable of a container.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvironmentVariable {
    /// The name.
    pub name: String,
    /// The value.
    pub value: String,
    /// Whether the value came from the secrets file: a backend keeps such values out of any
    /// spec it writes in plain text (a Kubernetes Secret rather than a Pod's `env`).
    pub secret: bool,
}

impl std::fmt::Debug for EnvironmentVariable {
    /// Never the value: it may be a secret.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("EnvironmentVariable")
            .field("name", &self.name)
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

/// A mount into a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The absolute path inside the container.
    pub target: String,
    /// What is seen there.
    pub content: MountContent,
}

/// What a mount shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountContent {
    /// The project's source, as the job's source mode says.
    Source(SourceView),
    /// The run's shared storage, writable, shared by every job of the run that mounts it.
    SharedStorage(Storage),
}

/// How a job sees the project's source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceView {
    /// The live tree on this machine, read-only.
    LiveReadOnly(Utf8PathBuf),
    /// The live tree on this machine, writable.
    LiveWritable(Utf8PathBuf),
    /// A writable copy made for this job alone, removed with it.
    PrivateCopy(Storage),
    /// A writable copy made once for the run and shared by its jobs.
    RunCopy(Storage),
}

/// The platform a job asks for; `None` where its DrakeSpec version has no such field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlatformRequest {
    /// `linux`, `windows`.
    pub os: Option<String>,
    /// `amd64`, `arm64`, ...
    pub architecture: Option<String>,
}

/// An operating system and CPU architecture, in OCI terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// `linux`, `windows`.
    pub os: String,
    /// `amd64`, `arm64`, ...
    pub architecture: String,
}
