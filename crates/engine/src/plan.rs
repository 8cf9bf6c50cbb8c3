//! From a Drakefile job to the containers to create: commands, environment, mounts, limits and
//! labels, exactly as the DrakeSpec maps them. Pure: no I/O.

use drakefile::{Container, DOCKER_SOCKET_PATH, Job, PullPolicy, Resources};
use eider_runtime::{ContainerSpec, Mount, MountSource, NetworkMode, ResourceLimits};

use crate::environment;
use crate::labels;
use crate::options::RunSettings;

/// How a job's containers see the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceBinding {
    /// The live tree on this machine, or a volume holding a copy.
    pub source: MountSource,
    /// Whether containers see it read-only.
    pub read_only: bool,
}

/// What a job's plan depends on besides the job itself.
#[derive(Debug, Clone, Copy)]
pub struct PlanContext<'a> {
    /// The run id.
    pub run_id: &'a str,
    /// Which execution of a job in the run this is: a run may execute the same job more than
    /// once (`eider run test test`), and the containers of one may still be being removed.
    pub execution: usize,
    /// The options of the run.
    pub options: &'a RunSettings,
    /// The source, when some container of the job mounts it.
    pub source: Option<&'a SourceBinding>,
    /// The run's shared-storage volume, when some container of the job mounts it.
    pub shared_volume: Option<&'a str>,
}

/// One container to create, in launch order.
#[derive(Debug, Clone)]
pub struct PlannedContainer {
    /// Its name in the Drakefile.
    pub name: String,
    /// Whether it is the primary.
    pub primary: bool,
    /// When to pull its image.
    pub pull_policy: PullPolicy,
    /// What to create. The network of every container but the first is filled in at launch,
    /// when the first one's id is known.
    pub spec: ContainerSpec,
}

/// Whether some container of the job mounts the source.
#[must_use]
pub fn wants_source(job: &Job) -> bool {
    job.containers
        .iter()
        .any(|container| non_empty(container.source_mount_path.as_deref()).is_some())
}

/// Whether some container of the job mounts the shared storage.
#[must_use]
pub fn wants_shared_storage(job: &Job) -> bool {
    job.containers
        .iter()
        .any(|container| non_empty(container.shared_storage_mount_path.as_deref()).is_some())
}

/// The containers of `job`, in launch order (sidecars, then the primary).
#[must_use]
pub fn plan_job(job: &Job, context: PlanContext<'_>) -> Vec<PlannedContainer> {
    let last = job.containers.len().saturating_sub(1);
    job.containers
        .iter()
        .enumerate()
        .map(|(index, container)| PlannedContainer {
            name: container.name.clone(),
            primary: index == last,
            pull_policy: container.pull_policy,
            spec: container_spec(job, container, index == 0, context),
        })
        .collect()
}

/// The engine-side name: unique per run and job execution, readable in `docker ps`.
#[must_use]
pub fn engine_name(run_id: &str, execution: usize, job: &str, container: &str) -> String {
    let clean = |text: &str| -> String {
        text.chars()
            .map(|character| {
                if character.is_ascii_alphanumeric() || matches!(character, '_' | '.' | '-') {
                    character
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!(
        "eider-{run_id}-{execution}-{}-{}",
        clean(job),
        clean(container)
    )
}

fn container_spec(
    job: &Job,
    container: &Container,
    first: bool,
    context: PlanContext<'_>,
) -> ContainerSpec {
    let options = context.options;
    let network = match (&options.network, first) {
        (Some(name), true) => NetworkMode::Named(name.clone()),
        _ => NetworkMode::Default,
    };
    ContainerSpec {
        name: engine_name(
            context.run_id,
            context.execution,
            &job.name,
            &container.name,
        ),
        image: container.image.clone(),
        // As the spec says: the command replaces the ENTRYPOINT and the args are the CMD; each unset is
        // left to the image. (The engine drops the image's CMD whenever the ENTRYPOINT is
        // replaced, which is what the seed draft's "command and its arguments" means.)
        entrypoint: container.command.clone(),
        command: container.args.clone(),
        environment: environment::merge(&options.environment, &container.environment),
        working_directory: container.working_directory.clone(),
        tty: container.tty,
        privileged: container.privileged,
        network,
        mounts: mounts(container, context),
        resources: container.resources.as_ref().map(resource_limits),
        labels: labels::for_container(context.run_id, &job.name, &container.name),
    }
}

fn mounts(container: &Container, context: PlanContext<'_>) -> Vec<Mount> {
    let mut mounts = Vec::new();
    if let (Some(target), Some(source)) = (
        non_empty(container.source_mount_path.as_deref()),
        context.source,
    ) {
        mounts.push(Mount {
            source: source.source.clone(),
            target: target.to_owned(),
            read_only: source.read_only,
        });
    }
    if let (Some(target), Some(volume)) = (
        non_empty(container.shared_storage_mount_path.as_deref()),
        context.shared_volume,
    ) {
        mounts.push(Mount {
            source: MountSource::Volume(volume.to_owned()),
            target: target.to_owned(),
            read_only: false,
        });
    }
    if container.mount_docker_socket && context.options.allow_docker_socket {
        mounts.push(Mount {
            source: MountSource::Host(context.options.docker_socket.clone()),
            target: DOCKER_SOCKET_PATH.to_owned(),
            read_only: false,
        });
    }
    mounts
}

/// The spec's resources, with the reference executor's Linux formulas: shares are a weight where 1024 is one
/// CPU, the quota is CPU time per 100 ms period, megabytes are 10^6 bytes.
#[must_use]
pub fn resource_limits(resources: &Resources) -> ResourceLimits {
    const PERIOD_MICROSECONDS: i64 = 100_000;
    const MEGABYTE: i64 = 1_000_000;
    let requested = i64::from(resources.requested_millicores);
    let max = i64::from(resources.max_millicores);
    ResourceLimits {
        // The engine's minimum weight is 2.
        cpu_shares: (requested * 1024 / 1000).max(2),
        cpu_period: PERIOD_MICROSECONDS,
        // The kernel's minimum quota is 1 ms.
        cpu_quota: (max * PERIOD_MICROSECONDS / 1000).max(1000),
        memory_bytes: i64::from(resources.max_megabytes) * MEGABYTE,
        // The engine refuses a reservation above the limit; the validator warns about such a
        // request, and the limit is what the spec makes binding.
        memory_reservation_bytes: i64::from(
            resources.requested_megabytes.min(resources.max_megabytes),
        ) * MEGABYTE,
    }
}

fn non_empty(path: Option<&str>) -> Option<&str> {
    path.filter(|path| !path.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_follow_the_reference_formulas() {
        let limits = resource_limits(&Resources {
            requested_millicores: 500,
            max_millicores: 1000,
            requested_megabytes: 64,
            max_megabytes: 128,
        });
        assert_eq!(
            limits,
            ResourceLimits {
                cpu_shares: 512,
                cpu_period: 100_000,
                cpu_quota: 100_000,
                memory_bytes: 128_000_000,
                memory_reservation_bytes: 64_000_000,
            }
        );
    }

    #[test]
    fn a_request_above_its_limit_reserves_the_limit_and_tiny_values_meet_the_minima() {
        let limits = resource_limits(&Resources {
            requested_millicores: 1,
            max_millicores: 1,
            requested_megabytes: 512,
            max_megabytes: 256,
        });
        assert_eq!(limits.cpu_shares, 2);
        assert_eq!(limits.cpu_quota, 1000);
        assert_eq!(limits.memory_reservation_bytes, limits.memory_bytes);
    }
}
