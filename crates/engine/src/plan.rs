//! From a Drakefile job to the job spec a backend runs: environment, mount intents and labels,
//! exactly as the DrakeSpec maps them. Pure: no I/O.

use drakefile::{Container, Job, OsFamily, SourceMountMode, SpecVersion};
use eider_runtime::{
    ContainerSpec, EnvironmentVariable, JobSpec, Mount, MountContent, PlatformRequest, SourceView,
    Storage, labels,
};

use crate::environment;
use crate::options::{RunSettings, SeedSourceMode};

/// What a job's spec depends on besides the job itself.
#[derive(Debug, Clone, Copy)]
pub struct PlanContext<'a> {
    /// The run id.
    pub run_id: &'a str,
    /// Which execution of a job in the run this is: a run may execute the same job more than
    /// once (`eider run test test`), and the containers of one may still be being removed.
    pub execution: usize,
    /// The DrakeSpec version of the file.
    pub spec_version: SpecVersion,
    /// The options of the run.
    pub options: &'a RunSettings,
    /// How the job sees the source, when some container of it mounts the source.
    pub source: Option<&'a SourceView>,
    /// The run's shared storage, when some container of the job mounts it.
    pub shared_storage: Option<&'a Storage>,
    /// How many jobs of the run may run at once.
    pub parallel_jobs: usize,
}

/// Whether some container of the job mounts the source.
#[must_use]
pub fn wants_source(job: &Job) -> bool {
    job.containers
        .iter()
        .any(|container| non_empty(container.source_mount_path.as_deref()).is_some())
}

/// How a job sees the source, before any copy exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceNeed {
    /// The live tree, read-only or writable.
    Live(SourceView),
    /// A copy for this job execution alone.
    JobCopy,
    /// The run's one copy, shared by its jobs (the seed draft's way).
    RunCopy,
}

/// How `job` sees the source, as its DrakeSpec version and source mode (or, for the seed draft,
/// the run's) say; `None` when no container mounts it.
#[must_use]
pub fn source_need(job: &Job, version: SpecVersion, options: &RunSettings) -> Option<SourceNeed> {
    if !wants_source(job) {
        return None;
    }
    let root = options.source_root.clone();
    Some(if version.is_seed() {
        match options.seed_source_mode {
            SeedSourceMode::ReadWrite => SourceNeed::Live(SourceView::LiveWritable(root)),
            SeedSourceMode::Copy => SourceNeed::RunCopy,
        }
    } else {
        match job.source_mount_mode {
            SourceMountMode::ReadOnly => SourceNeed::Live(SourceView::LiveReadOnly(root)),
            SourceMountMode::ReadWrite => SourceNeed::Live(SourceView::LiveWritable(root)),
            SourceMountMode::Copy => SourceNeed::JobCopy,
        }
    })
}

/// Whether some container of the job mounts the shared storage.
#[must_use]
pub fn wants_shared_storage(job: &Job) -> bool {
    job.containers
        .iter()
        .any(|container| non_empty(container.shared_storage_mount_path.as_deref()).is_some())
}

/// The job as a backend runs it: its containers in launch order (sidecars, then the primary).
#[must_use]
pub fn job_spec(job: &Job, context: PlanContext<'_>) -> JobSpec {
    JobSpec {
        run_id: context.run_id.to_owned(),
        job: job.name.clone(),
        execution: context.execution,
        containers: job
            .containers
            .iter()
            .map(|container| container_spec(job, container, context))
            .collect(),
        platform: platform_request(job, context.spec_version),
        parallel_jobs: context.parallel_jobs,
        timeout: context.options.timeout,
        grace_period: context.options.grace_period,
    }
}

fn container_spec(job: &Job, container: &Container, context: PlanContext<'_>) -> ContainerSpec {
    let options = context.options;
    let environment = environment::merge(&options.environment, &container.environment)
        .into_iter()
        .map(|(name, value)| {
            // A value is a secret while it is the secrets file's own: `-e` or the Drakefile may
            // have replaced it.
            let secret = options
                .secrets
                .iter()
                .any(|(secret_name, secret_value)| secret_name == &name && secret_value == &value);
            EnvironmentVariable {
                name,
                value,
                secret,
            }
        })
        .collect();
    ContainerSpec::of(
        container,
        environment,
        mounts(container, context),
        labels::for_container(context.run_id, &job.name, &container.name),
    )
}

fn mounts(container: &Container, context: PlanContext<'_>) -> Vec<Mount> {
    let mut mounts = Vec::new();
    if let (Some(target), Some(source)) = (
        non_empty(container.source_mount_path.as_deref()),
        context.source,
    ) {
        mounts.push(Mount {
            target: target.to_owned(),
            content: MountContent::Source(source.clone()),
        });
    }
    if let (Some(target), Some(storage)) = (
        non_empty(container.shared_storage_mount_path.as_deref()),
        context.shared_storage,
    ) {
        mounts.push(Mount {
            target: target.to_owned(),
            content: MountContent::SharedStorage(storage.clone()),
        });
    }
    mounts
}

/// The platform fields the job's DrakeSpec version has.
fn platform_request(job: &Job, version: SpecVersion) -> PlatformRequest {
    let os = match job.os_family {
        OsFamily::Linux => "linux",
        OsFamily::Windows => "windows",
    };
    PlatformRequest {
        os: (version >= SpecVersion::V0_5_0).then(|| os.to_owned()),
        architecture: (version >= SpecVersion::V0_6_0).then(|| job.cpu_arch.clone()),
    }
}

fn non_empty(path: Option<&str>) -> Option<&str> {
    path.filter(|path| !path.is_empty())
}
