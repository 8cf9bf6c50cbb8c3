//! The normalized model: one shape for every DrakeSpec version, with the spec's defaults applied.
//!
//! Executors read this model, never the YAML. Fields a version lacks hold the default that eider
//! applies for that version (see the README's "Versions" section); `spec_version` stays available
//! for the few rules that differ by version.

use serde::{Deserialize, Serialize};

use crate::version::SpecVersion;

/// A valid Drakefile.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drakefile {
    /// The version the file declared.
    pub spec_version: SpecVersion,
    /// Jobs in document order.
    pub jobs: Vec<Job>,
    /// Pipelines in document order.
    pub pipelines: Vec<Pipeline>,
}

impl Drakefile {
    /// The job called `name`.
    #[must_use]
    pub fn job(&self, name: &str) -> Option<&Job> {
        self.jobs.iter().find(|job| job.name == name)
    }

    /// The pipeline called `name`.
    #[must_use]
    pub fn pipeline(&self, name: &str) -> Option<&Pipeline> {
        self.pipelines.iter().find(|pipeline| pipeline.name == name)
    }
}

/// A job: containers that run together; the last one is the primary.
///
/// Read back (as packages record it), a field this eider does not know is refused rather than
/// dropped: the job would run differently from the one recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Job {
    /// The job's name (its key under `jobs`).
    pub name: String,
    /// Containers in launch order: sidecars first, the primary last. Empty only for a trivial
    /// seed-draft or v0.1.0 job, which succeeds at once.
    pub containers: Vec<Container>,
    /// How the source is mounted. The seed draft has no field for it; its executors gave
    /// containers a writable view, which eider provides as a copy so the user's tree is untouched.
    pub source_mount_mode: SourceMountMode,
    /// Operating system family of every container (`linux` before v0.5.0).
    pub os_family: OsFamily,
    /// CPU architecture of every container (`amd64` before v0.6.0).
    pub cpu_arch: String,
}

impl Job {
    /// The primary container, whose main process decides the job's result.
    #[must_use]
    pub fn primary(&self) -> Option<&Container> {
        self.containers.last()
    }

    /// The supporting containers, in launch order.
    #[must_use]
    pub fn sidecars(&self) -> &[Container] {
        match self.containers.split_last() {
            Some((_, sidecars)) => sidecars,
            None => &[],
        }
    }
}

/// How a job's containers see the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceMountMode {
    /// Read-only mount of the source (`RO`, the default from v0.1.0).
    #[serde(rename = "RO")]
    ReadOnly,
    /// A private writable copy shared by the job's containers (`COPY`).
    #[serde(rename = "COPY")]
    Copy,
    /// The live source, writable (`RW`); never part of a pipeline.
    #[serde(rename = "RW")]
    ReadWrite,
}

impl SourceMountMode {
    /// The mode as written in a Drakefile.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "RO",
            Self::Copy => "COPY",
            Self::ReadWrite => "RW",
        }
    }
}

/// Operating system family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OsFamily {
    /// Linux containers.
    Linux,
    /// Windows containers.
    Windows,
}

/// When to pull an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PullPolicy {
    /// Pull only when the image is absent (the default, and the rule before v0.4.0).
    IfNotPresent,
    /// Pull before every launch.
    Always,
}

/// One environment variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentVariable {
    /// The name (text before the first `=`).
    pub name: String,
    /// The value (everything after the first `=`; empty when there was none).
    pub value: String,
}

/// A container of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Container {
    /// Unique within the job.
    pub name: String,
    /// The image reference.
    pub image: String,
    /// When to pull the image.
    pub pull_policy: PullPolicy,
    /// Environment variables, in the order written.
    pub environment: Vec<EnvironmentVariable>,
    /// Working directory; `None` leaves it to the image.
    pub working_directory: Option<String>,
    /// Replaces the image's ENTRYPOINT; `None` keeps it. A seed-draft command line becomes the
    /// whole argv here (and `args` stays `None`, so the image's CMD is unused).
    pub command: Option<Vec<String>>,
    /// Replaces the image's CMD; `None` keeps it.
    pub args: Option<Vec<String>>,
    /// Allocate a pseudo-TTY.
    pub tty: bool,
    /// Run privileged (subject to the executor's policy).
    pub privileged: bool,
    /// Mount the host's Docker socket (subject to the executor's policy).
    pub mount_docker_socket: bool,
    /// Where the source goes; `None` means no source in this container.
    pub source_mount_path: Option<String>,
    /// Where the run's shared storage goes; `None` means none.
    pub shared_storage_mount_path: Option<String>,
    /// CPU and memory; `None` before v0.3.0, where no limits apply.
    pub resources: Option<Resources>,
}

/// Where `mountDockerSocket: true` puts the engine's socket in the container: the host's usual
/// path, at the same path.
pub const DOCKER_SOCKET_PATH: &str = "/var/run/docker.sock";

/// CPU and memory requests and limits (v0.3.0+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resources {
    /// Relative CPU weight, in millicores (default 100).
    pub requested_millicores: u32,
    /// CPU limit, in millicores (default 200).
    pub max_millicores: u32,
    /// Memory reservation, in megabytes of 10^6 bytes (default 128).
    pub requested_megabytes: u32,
    /// Memory limit, in megabytes of 10^6 bytes (default 256).
    pub max_megabytes: u32,
}

impl Default for Resources {
    fn default() -> Self {
        Self {
            requested_millicores: 100,
            max_millicores: 200,
            requested_megabytes: 128,
            max_megabytes: 256,
        }
    }
}

/// A pipeline: a DAG of jobs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pipeline {
    /// The pipeline's name (its key under `pipelines`).
    pub name: String,
    /// Triggers, in the order written.
    pub triggers: Vec<Trigger>,
    /// Jobs, in the order written; dependencies always name earlier entries.
    pub jobs: Vec<PipelineJob>,
}

/// A job's place in a pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PipelineJob {
    /// The job, defined under `jobs`.
    pub name: String,
    /// Jobs listed earlier in the same pipeline that must succeed first.
    pub dependencies: Vec<String>,
}

/// A pipeline trigger.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Trigger {
    /// A trigger that names its spec (v0.1.0+).
    #[serde(rename_all = "camelCase")]
    Spec {
        /// The trigger spec, e.g. `github.com/lovethedrake/drakespec-github`.
        spec_uri: String,
        /// The trigger spec's version.
        spec_version: String,
        /// Its configuration, read only by a supported trigger spec.
        config: Option<serde_json::Value>,
    },
    /// A seed-draft trigger: the draft never defined triggers, so none is supported.
    Draft {
        /// What was written.
        content: serde_json::Value,
    },
}
