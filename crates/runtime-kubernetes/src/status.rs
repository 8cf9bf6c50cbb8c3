//! Reading a Pod's status as the kubelet and the scheduler report it.

use eider_runtime::Exit;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

/// The waiting reasons after which a container will not start without someone changing
/// something: the image, the Secret, the container's spec.
const STUCK_REASONS: [&str; 7] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];

/// The reasons among [`STUCK_REASONS`] that concern the image.
const IMAGE_REASONS: [&str; 4] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
];

/// The status of the container `name`, a sidecar or the primary.
pub(crate) fn container<'a>(pod: &'a Pod, name: &str) -> Option<&'a ContainerStatus> {
    let status = pod.status.as_ref()?;
    status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten())
        .find(|container| container.name == name)
}

/// Whether the container's process has started (it may have ended since).
pub(crate) fn has_started(status: &ContainerStatus) -> bool {
    status
        .state
        .as_ref()
        .is_some_and(|state| state.running.is_some() || state.terminated.is_some())
        || status
            .last_state
            .as_ref()
            .is_some_and(|state| state.terminated.is_some())
}

/// How the container's process ended, once it has.
pub(crate) fn exit(status: &ContainerStatus) -> Option<Exit> {
    let terminated = status.state.as_ref()?.terminated.as_ref()?;
    Some(Exit {
        code: i64::from(terminated.exit_code),
        out_of_memory: terminated.reason.as_deref() == Some("OOMKilled"),
    })
}

/// Why a container cannot start, when the kubelet says it cannot: its reason and message.
pub(crate) fn stuck(status: &ContainerStatus) -> Option<Stuck> {
    let waiting = status.state.as_ref()?.waiting.as_ref()?;
    let reason = waiting.reason.as_deref()?;
    STUCK_REASONS.contains(&reason).then(|| Stuck {
        reason: reason.to_owned(),
        message: waiting.message.clone().unwrap_or_default(),
        image: IMAGE_REASONS.contains(&reason),
    })
}

/// A container that will not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stuck {
    /// The kubelet's reason (`ErrImagePull`).
    pub reason: String,
    /// Its message.
    pub message: String,
    /// Whether the image is the cause.
    pub image: bool,
}

impl std::fmt::Display for Stuck {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.message.is_empty() {
            formatter.write_str(&self.reason)
        } else {
            write!(formatter, "{}: {}", self.reason, self.message)
        }
    }
}

/// The scheduler's message when no node can take the Pod.
pub(crate) fn unschedulable(pod: &Pod) -> Option<String> {
    pod.status
        .as_ref()?
        .conditions
        .iter()
        .flatten()
        .find(|condition| {
            condition.type_ == "PodScheduled"
                && condition.status == "False"
                && condition.reason.as_deref() == Some("Unschedulable")
        })
        .map(|condition| {
            condition
                .message
                .clone()
                .unwrap_or_else(|| "no node can run it".to_owned())
        })
}

/// Whether the scheduler's `message` says that no node matches the Pod at all (its node
/// selector or affinity), rather than that none has room for it now.
pub(crate) fn matches_no_node(message: &str) -> bool {
    message.contains("didn't match Pod's node affinity/selector")
        && !message.contains("Insufficient")
}

/// Why the Pod as a whole ended before its primary did (its deadline, an eviction), if it did.
pub(crate) fn pod_ended(pod: &Pod) -> Option<String> {
    let status = pod.status.as_ref()?;
    match status.phase.as_deref() {
        Some("Failed" | "Succeeded") => Some(
            match (status.reason.as_deref(), status.message.as_deref()) {
                (Some(reason), Some(message)) => format!("{reason}: {message}"),
                (Some(text), None) | (None, Some(text)) => text.to_owned(),
                (None, None) => format!(
                    "the Pod ended ({})",
                    status.phase.as_deref().unwrap_or_default()
                ),
            },
        ),
        _ => None,
    }
}

/// The last waiting reason of any container, to say what a Pod that stays Pending waits for.
pub(crate) fn waiting_for(pod: &Pod) -> Option<String> {
    let status = pod.status.as_ref()?;
    status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten())
        .find_map(|container| {
            let waiting = container.state.as_ref()?.waiting.as_ref()?;
            Some(format!(
                "container `{}`: {}",
                container.name,
                waiting.reason.as_deref().unwrap_or("waiting")
            ))
        })
}
