//! One job as one Pod.

use std::collections::BTreeMap;
use std::time::Duration;

use drakefile::{DOCKER_SOCKET_PATH, PullPolicy, Resources};
use eider_runtime::{
    ContainerSpec, JobSpec, MountContent, SOURCE_PATH_IN_IMAGE, SourceView, labels,
};
use k8s_openapi::api::core::v1::{
    Affinity, Container, EmptyDirVolumeSource, EnvVar, EnvVarSource, HostPathVolumeSource,
    LocalObjectReference, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm,
    PersistentVolumeClaimVolumeSource, Pod, PodSpec, ResourceRequirements, SecretKeySelector,
    SecurityContext, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::metadata::object_meta;
use crate::names::object_name;

/// The volume of the run's shared storage in a Pod.
const SHARED_STORAGE_VOLUME: &str = "shared-storage";

/// The volume of the node's container engine socket in a Pod.
const ENGINE_SOCKET_VOLUME: &str = "engine-socket";

/// The volume that holds the job's view of the source: the Pod's own copy, or the run's claim.
const SOURCE_VOLUME: &str = "source";

/// The init container that copies the source out of the source image, before any of the job's
/// containers starts. No container of a job is given this name (see [`container_names`]).
pub(crate) const SOURCE_COPY_CONTAINER: &str = "eider-source";

/// Where the copying container sees the volume it fills.
const COPY_DESTINATION: &str = "/eider/copy";

/// What a job's Pod depends on besides the job.
#[derive(Debug, Clone, Copy)]
pub struct PodSettings<'a> {
    /// The namespace of everything the run creates.
    pub namespace: &'a str,
    /// The run's Secret, which holds the values from the secrets file.
    pub secret: &'a str,
    /// The run's shared-storage claim.
    pub claim: &'a str,
    /// The job's timeout, which the cluster enforces too (`activeDeadlineSeconds`).
    pub timeout: Duration,
    /// Time between SIGTERM and SIGKILL when the Pod is deleted.
    pub grace_period: Duration,
    /// The image that carries the project's source (pinned by digest), when the run brought
    /// the source to the cluster.
    pub source_image: Option<&'a str>,
    /// The Secrets the nodes pull images with, besides the namespace's defaults.
    pub image_pull_secrets: &'a [String],
}

/// What a job asks that its Pod cannot give, said before anything is created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    /// `sourceMountMode: RW` (or a seed-draft file run with `--source-mode rw`): the live tree
    /// is on this machine, not on the cluster.
    #[error(
        "job `{job}`: container `{container}` mounts the source tree writable, which a cluster \
         cannot see: use sourceMountMode RO or COPY"
    )]
    LiveWritableSource {
        /// The job.
        job: String,
        /// The container.
        container: String,
    },
    /// The source reaches a cluster as an image made by eider's packager, pushed to a registry
    /// the cluster pulls from: without one, the source has no way there.
    #[error(
        "job `{job}`: container `{container}` mounts the source, which reaches a cluster only as \
         an image: give a registry the cluster pulls from (--registry, or `[kubernetes] \
         registry` in the config file)"
    )]
    Source {
        /// The job.
        job: String,
        /// The container.
        container: String,
    },
    /// A variable from the secrets file whose name a Secret cannot hold as a key.
    #[error(
        "job `{job}`: container `{container}`: the secret variable `{name}` has a name that a \
         Kubernetes Secret cannot hold (letters, digits, `-`, `_` and `.` only)"
    )]
    SecretName {
        /// The job.
        job: String,
        /// The container.
        container: String,
        /// The variable.
        name: String,
    },
}

/// The Pod of one job execution: the sidecars as native sidecar containers in launch order,
/// the primary as the one regular container.
pub fn pod(spec: &JobSpec, settings: &PodSettings<'_>) -> Result<Pod, Unsupported> {
    let names = container_names(&spec.containers);
    let mut containers = Vec::with_capacity(spec.containers.len());
    for (container, name) in spec.containers.iter().zip(names) {
        containers.push(container_of(spec, container, name, settings)?);
    }
    let mut volumes = Vec::new();
    let mut init_containers = Vec::new();
    if let Some(view) = source_view(spec) {
        let image = settings.source_image.ok_or_else(|| Unsupported::Source {
            job: spec.job.clone(),
            container: source_mounting_container(spec),
        })?;
        match view {
            // The run's one copy, filled once before the first job that mounts it.
            SourceView::RunCopy(storage) => volumes.push(Volume {
                name: SOURCE_VOLUME.to_owned(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: storage.name.clone(),
                    read_only: None,
                }),
                ..Volume::default()
            }),
            SourceView::LiveWritable(_) => {
                return Err(Unsupported::LiveWritableSource {
                    job: spec.job.clone(),
                    container: source_mounting_container(spec),
                });
            }
            // The Pod's own copy, filled before its containers start and gone with the Pod:
            // read-only views mount it read-only.
            SourceView::LiveReadOnly(_) | SourceView::PrivateCopy(_) => {
                volumes.push(Volume {
                    name: SOURCE_VOLUME.to_owned(),
                    empty_dir: Some(EmptyDirVolumeSource::default()),
                    ..Volume::default()
                });
                init_containers.push(source_copy_container(image, SOURCE_VOLUME));
            }
        }
    }
    if spec.containers.iter().any(|container| {
        container
            .mounts
            .iter()
            .any(|mount| matches!(mount.content, MountContent::SharedStorage(_)))
    }) {
        volumes.push(Volume {
            name: SHARED_STORAGE_VOLUME.to_owned(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: settings.claim.to_owned(),
                read_only: None,
            }),
            ..Volume::default()
        });
    }
    if spec
        .containers
        .iter()
        .any(|container| container.engine_socket)
    {
        volumes.push(Volume {
            name: ENGINE_SOCKET_VOLUME.to_owned(),
            host_path: Some(HostPathVolumeSource {
                path: DOCKER_SOCKET_PATH.to_owned(),
                type_: Some("Socket".to_owned()),
            }),
            ..Volume::default()
        });
    }
    let primary = containers.pop();
    for sidecar in &mut containers {
        // A native sidecar: started before the regular container, in order, and kept running
        // beside it until the regular container ends.
        sidecar.restart_policy = Some("Always".to_owned());
    }
    let mut node_selector = BTreeMap::new();
    if let Some(os) = &spec.platform.os {
        node_selector.insert("kubernetes.io/os".to_owned(), os.clone());
    }
    if let Some(architecture) = &spec.platform.architecture {
        node_selector.insert("kubernetes.io/arch".to_owned(), architecture.clone());
    }
    init_containers.append(&mut containers);
    Ok(Pod {
        metadata: object_meta(&pod_name(spec), settings.namespace, &pod_labels(spec)),
        spec: Some(PodSpec {
            restart_policy: Some("Never".to_owned()),
            init_containers: (!init_containers.is_empty()).then_some(init_containers),
            containers: primary.into_iter().collect(),
            volumes: (!volumes.is_empty()).then_some(volumes),
            node_selector: (!node_selector.is_empty()).then_some(node_selector),
            active_deadline_seconds: Some(whole_seconds(settings.timeout).max(1)),
            termination_grace_period_seconds: Some(whole_seconds(settings.grace_period)),
            // A job's environment is what the Drakefile and the user give: no variables for the
            // namespace's services, and no credentials of the cluster unless asked for.
            enable_service_links: Some(false),
            automount_service_account_token: Some(false),
            image_pull_secrets: image_pull_secrets(settings.image_pull_secrets),
            ..PodSpec::default()
        }),
        status: None,
    })
}

/// How the job's containers see the source, when one of them mounts it.
fn source_view(spec: &JobSpec) -> Option<&SourceView> {
    spec.containers
        .iter()
        .flat_map(|container| &container.mounts)
        .find_map(|mount| match &mount.content {
            MountContent::Source(view) => Some(view),
            MountContent::SharedStorage(_) => None,
        })
}

fn source_mounting_container(spec: &JobSpec) -> String {
    spec.containers
        .iter()
        .find(|container| {
            container
                .mounts
                .iter()
                .any(|mount| matches!(mount.content, MountContent::Source(_)))
        })
        .map(|container| container.name.clone())
        .unwrap_or_default()
}

/// A container that copies the tree out of the source image into the volume `volume`, keeping
/// modes, times and symbolic links. The source image is a small base image with a `cp` (see
/// the README) plus one layer: the tree as eider's packager selects it.
pub(crate) fn source_copy_container(image: &str, volume: &str) -> Container {
    Container {
        name: SOURCE_COPY_CONTAINER.to_owned(),
        image: Some(image.to_owned()),
        // Pinned by digest: what the node has is what was pushed.
        image_pull_policy: Some("IfNotPresent".to_owned()),
        command: Some(vec![
            "cp".to_owned(),
            "-a".to_owned(),
            format!("{SOURCE_PATH_IN_IMAGE}/."),
            format!("{COPY_DESTINATION}/"),
        ]),
        volume_mounts: Some(vec![VolumeMount {
            name: volume.to_owned(),
            mount_path: COPY_DESTINATION.to_owned(),
            ..VolumeMount::default()
        }]),
        ..Container::default()
    }
}

/// The Pod that fills the run's copy of the source (the claim `claim`) before a job mounts it.
#[must_use]
pub fn source_seed_pod(
    name: &str,
    labels: &eider_runtime::Labels,
    claim: &str,
    settings: &PodSettings<'_>,
    image: &str,
) -> Pod {
    let copy = source_copy_container(image, SOURCE_VOLUME);
    Pod {
        metadata: object_meta(name, settings.namespace, labels),
        spec: Some(PodSpec {
            restart_policy: Some("Never".to_owned()),
            containers: vec![copy],
            volumes: Some(vec![Volume {
                name: SOURCE_VOLUME.to_owned(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: claim.to_owned(),
                    read_only: None,
                }),
                ..Volume::default()
            }]),
            active_deadline_seconds: Some(whole_seconds(settings.timeout).max(1)),
            termination_grace_period_seconds: Some(0),
            enable_service_links: Some(false),
            automount_service_account_token: Some(false),
            image_pull_secrets: image_pull_secrets(settings.image_pull_secrets),
            ..PodSpec::default()
        }),
        status: None,
    }
}

/// Whether `pod` mounts a claim: the run's shared storage, or the run's copy of the source.
pub(crate) fn mounts_a_claim(pod: &Pod) -> bool {
    pod.spec
        .iter()
        .flat_map(|spec| spec.volumes.iter().flatten())
        .any(|volume| volume.persistent_volume_claim.is_some())
}

/// Places `pod` on the node `node` (by the node's name, through the scheduler, which still
/// checks that the Pod fits there): where the run's claims can be attached to one node only.
pub(crate) fn place_on_node(pod: &mut Pod, node: &str) {
    let Some(spec) = pod.spec.as_mut() else {
        return;
    };
    spec.affinity = Some(Affinity {
        node_affinity: Some(NodeAffinity {
            required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                node_selector_terms: vec![NodeSelectorTerm {
                    match_fields: Some(vec![NodeSelectorRequirement {
                        key: "metadata.name".to_owned(),
                        operator: "In".to_owned(),
                        values: Some(vec![node.to_owned()]),
                    }]),
                    match_expressions: None,
                }],
            }),
            ..NodeAffinity::default()
        }),
        ..Affinity::default()
    });
}

pub(crate) fn image_pull_secrets(names: &[String]) -> Option<Vec<LocalObjectReference>> {
    (!names.is_empty()).then(|| {
        names
            .iter()
            .map(|name| LocalObjectReference { name: name.clone() })
            .collect()
    })
}

fn container_of(
    spec: &JobSpec,
    container: &ContainerSpec,
    name: String,
    settings: &PodSettings<'_>,
) -> Result<Container, Unsupported> {
    let mut mounts = Vec::new();
    for mount in &container.mounts {
        match &mount.content {
            MountContent::SharedStorage(_) => mounts.push(VolumeMount {
                name: SHARED_STORAGE_VOLUME.to_owned(),
                mount_path: mount.target.clone(),
                ..VolumeMount::default()
            }),
            MountContent::Source(SourceView::LiveWritable(_)) => {
                return Err(Unsupported::LiveWritableSource {
                    job: spec.job.clone(),
                    container: container.name.clone(),
                });
            }
            MountContent::Source(view) => mounts.push(VolumeMount {
                name: SOURCE_VOLUME.to_owned(),
                mount_path: mount.target.clone(),
                read_only: matches!(view, SourceView::LiveReadOnly(_)).then_some(true),
                ..VolumeMount::default()
            }),
        }
    }
    if container.engine_socket {
        mounts.push(VolumeMount {
            name: ENGINE_SOCKET_VOLUME.to_owned(),
            mount_path: DOCKER_SOCKET_PATH.to_owned(),
            ..VolumeMount::default()
        });
    }
    let mut environment = Vec::with_capacity(container.environment.len());
    for variable in &container.environment {
        if variable.secret {
            if !is_secret_key(&variable.name) {
                return Err(Unsupported::SecretName {
                    job: spec.job.clone(),
                    container: container.name.clone(),
                    name: variable.name.clone(),
                });
            }
            environment.push(EnvVar {
                name: variable.name.clone(),
                value: None,
                value_from: Some(EnvVarSource {
                    secret_key_ref: Some(SecretKeySelector {
                        name: settings.secret.to_owned(),
                        key: variable.name.clone(),
                        optional: None,
                    }),
                    ..EnvVarSource::default()
                }),
            });
        } else {
            environment.push(EnvVar {
                name: variable.name.clone(),
                value: Some(literal(&variable.value)),
                value_from: None,
            });
        }
    }
    Ok(Container {
        name,
        image: Some(container.image.clone()),
        image_pull_policy: Some(
            match container.pull_policy {
                PullPolicy::Always => "Always",
                PullPolicy::IfNotPresent => "IfNotPresent",
            }
            .to_owned(),
        ),
        // As on Docker: the command replaces the image's entrypoint, the args its command.
        command: container.command.as_deref().map(literals),
        args: container.args.as_deref().map(literals),
        env: (!environment.is_empty()).then_some(environment),
        working_dir: container.working_directory.clone(),
        // Kubernetes gives a terminal only to a container that keeps its stdin open.
        tty: container.tty.then_some(true),
        stdin: container.tty.then_some(true),
        security_context: container.privileged.then(|| SecurityContext {
            privileged: Some(true),
            ..SecurityContext::default()
        }),
        resources: container.resources.as_ref().map(resources),
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        ..Container::default()
    })
}

/// Requests and limits in the spec's own units: millicores, and megabytes of 10^6 bytes
/// (Kubernetes' `M`). A request above its limit asks for the limit, as on Docker: the API
/// server refuses a request above the limit.
fn resources(resources: &Resources) -> ResourceRequirements {
    let cpu = |millicores: u32| Quantity(format!("{millicores}m"));
    let memory = |megabytes: u32| Quantity(format!("{megabytes}M"));
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            (
                "cpu".to_owned(),
                cpu(resources.requested_millicores.min(resources.max_millicores)),
            ),
            (
                "memory".to_owned(),
                memory(resources.requested_megabytes.min(resources.max_megabytes)),
            ),
        ])),
        limits: Some(BTreeMap::from([
            ("cpu".to_owned(), cpu(resources.max_millicores)),
            ("memory".to_owned(), memory(resources.max_megabytes)),
        ])),
        ..ResourceRequirements::default()
    }
}

/// The name of a job execution's Pod.
#[must_use]
pub(crate) fn pod_name(spec: &JobSpec) -> String {
    object_name(&format!(
        "eider-{}-{}-{}",
        spec.run_id, spec.execution, spec.job
    ))
}

/// The Pod's labels: eider's labels of the job (those of its primary but the container's name).
fn pod_labels(spec: &JobSpec) -> eider_runtime::Labels {
    spec.primary()
        .map(|primary| {
            primary
                .labels
                .iter()
                .filter(|(key, _)| key != labels::CONTAINER)
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// The containers' names in the Pod, in the job's order: DNS labels, kept distinct.
#[must_use]
pub(crate) fn container_names(containers: &[ContainerSpec]) -> Vec<String> {
    // The copying container's name is taken first, so that no job's container gets it.
    let mut names: Vec<String> = Vec::with_capacity(containers.len() + 1);
    names.push(SOURCE_COPY_CONTAINER.to_owned());
    for container in containers {
        let base = object_name(&container.name);
        let mut name = base.clone();
        let mut suffix = 2;
        while names.contains(&name) {
            name = format!("{}-{suffix}", base.chars().take(60).collect::<String>());
            suffix += 1;
        }
        names.push(name);
    }
    names.remove(0);
    names
}

/// Whether a Secret can hold `name` as a key.
fn is_secret_key(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.chars().all(|character| {
            character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.')
        })
}

/// `text` as Kubernetes passes it on unchanged. The kubelet expands `$(NAME)` in a container's
/// command, args and environment values, and turns `$$` into `$`; Docker does neither, and the
/// Drakefile means what it says. Every `$` doubled comes out as written.
fn literal(text: &str) -> String {
    text.replace('$', "$$")
}

fn literals(texts: &[String]) -> Vec<String> {
    texts.iter().map(|text| literal(text)).collect()
}

fn whole_seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}
