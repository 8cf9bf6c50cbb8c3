//! From a container of the job-level seam to what the engine creates: names, mounts, limits in
//! cgroup units, as the DrakeSpec's reference executor mapped them. Pure: no I/O.

use drakefile::{DOCKER_SOCKET_PATH, Resources};
use eider_runtime::{ContainerSpec, JobSpec, MountContent, SourceView};

use crate::model::{CreateSpec, MountSource, NetworkMode, ResourceLimits, VolumeMount};

/// Where a job's containers meet the machine: the network of each job's first container and
/// the engine's socket for containers allowed to mount it.
#[derive(Debug, Clone)]
pub(crate) struct HostSettings {
    /// The network of each job's first container; the engine's default when unset.
    pub network: Option<String>,
    /// The engine's socket on this machine.
    pub socket: camino::Utf8PathBuf,
}

/// The engine-side name: unique per run and job execution, readable in `docker ps`.
pub(crate) fn engine_name(run_id: &str, execution: usize, job: &str, container: &str) -> String {
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

/// What to create for `container` of `job`. The network of every container but the first is
/// decided at launch, when the namespace to join is known.
pub(crate) fn create_spec(
    job: &JobSpec,
    container: &ContainerSpec,
    first: bool,
    host: &HostSettings,
) -> CreateSpec {
    let network = match (&host.network, first) {
        (Some(name), true) => NetworkMode::Named(name.clone()),
        _ => NetworkMode::Default,
    };
    CreateSpec {
        name: engine_name(&job.run_id, job.execution, &job.job, &container.name),
        image: container.image.clone(),
        // As the spec says: the command replaces the ENTRYPOINT and the args are the CMD; each
        // unset is left to the image. (The engine drops the image's CMD whenever the ENTRYPOINT
        // is replaced, which is what the seed draft's "command and its arguments" means.)
        entrypoint: container.command.clone(),
        command: container.args.clone(),
        environment: container
            .environment
            .iter()
            .map(|variable| (variable.name.clone(), variable.value.clone()))
            .collect(),
        working_directory: container.working_directory.clone(),
        tty: container.tty,
        privileged: container.privileged,
        network,
        mounts: mounts(container, host),
        resources: container.resources.as_ref().map(resource_limits),
        labels: container.labels.clone(),
    }
}

fn mounts(container: &ContainerSpec, host: &HostSettings) -> Vec<VolumeMount> {
    let mut mounts: Vec<VolumeMount> = container
        .mounts
        .iter()
        .map(|mount| {
            let (source, read_only) = match &mount.content {
                MountContent::Source(SourceView::LiveReadOnly(path)) => {
                    (MountSource::Host(path.clone()), true)
                }
                MountContent::Source(SourceView::LiveWritable(path)) => {
                    (MountSource::Host(path.clone()), false)
                }
                MountContent::Source(
                    SourceView::PrivateCopy(storage) | SourceView::RunCopy(storage),
                )
                | MountContent::SharedStorage(storage) => {
                    (MountSource::Volume(storage.name.clone()), false)
                }
            };
            VolumeMount {
                source,
                target: mount.target.clone(),
                read_only,
            }
        })
        .collect();
    if container.engine_socket {
        mounts.push(VolumeMount {
            source: MountSource::Host(host.socket.clone()),
            target: DOCKER_SOCKET_PATH.to_owned(),
            read_only: false,
        });
    }
    mounts
}

/// The spec's resources, with the reference executor's Linux formulas: shares are a weight
/// where 1024 is one CPU, the quota is CPU time per 100 ms period, megabytes are 10^6 bytes.
pub(crate) fn resource_limits(resources: &Resources) -> ResourceLimits {
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
