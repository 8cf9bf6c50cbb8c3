//! The scheduler: binds a Pod to the one node when its claims exist, its node selector and
//! required node affinity match the node and its requests fit what is left of the node;
//! otherwise it marks the Pod unschedulable, with the real scheduler's message, and tries again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, NodeSelectorRequirement, Pod, PodCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::api;
use crate::kubelet;
use crate::quantity;
use crate::shared::{Shared, Termination, lock};
use crate::store::{Kind, ObjectKey, uid_of};

/// How often an unschedulable Pod is looked at again.
const RETRY_INTERVAL: Duration = Duration::from_millis(500);

const NOT_HELPFUL: &str =
    "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";
const NO_VICTIMS: &str =
    "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.";

/// Starts scheduling a new Pod.
pub(crate) fn schedule(
    shared: &Arc<Shared>,
    key: ObjectKey,
    uid: String,
    termination: watch::Receiver<Option<Termination>>,
) {
    let shared = Arc::clone(shared);
    tokio::spawn(async move { run(shared, key, uid, termination).await });
}

async fn run(
    shared: Arc<Shared>,
    key: ObjectKey,
    uid: String,
    mut termination: watch::Receiver<Option<Termination>>,
) {
    if !shared.settings.scheduling_delay.is_zero() {
        tokio::select! {
            () = tokio::time::sleep(shared.settings.scheduling_delay) => {}
            _ = termination.changed() => {}
            () = shared.shutdown.cancelled() => return,
        }
    }
    let mut reported: Option<String> = None;
    loop {
        if termination.borrow().is_some() {
            lock(&shared.kubelet_pods).remove(&uid);
            return;
        }
        let Some(pod) = current_pod(&shared, &key, &uid) else {
            lock(&shared.kubelet_pods).remove(&uid);
            return;
        };
        match unschedulable_reason(&shared, &pod) {
            None => {
                if bind(&shared, &key, &uid) {
                    kubelet::run(&shared, key, uid, termination);
                } else {
                    lock(&shared.kubelet_pods).remove(&uid);
                }
                return;
            }
            Some(message) => {
                if reported.as_ref() != Some(&message) {
                    mark_unschedulable(&shared, &key, &uid, &message);
                    reported = Some(message);
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(RETRY_INTERVAL) => {}
            _ = termination.changed() => {}
            () = shared.shutdown.cancelled() => return,
        }
    }
}

fn current_pod(shared: &Shared, key: &ObjectKey, uid: &str) -> Option<Pod> {
    let store = lock(&shared.store);
    let object = store
        .get(key)
        .filter(|object| uid_of(object) == Some(uid))?;
    serde_json::from_value(object.clone()).ok()
}

fn container_requests(container: &Container) -> (u64, u64) {
    let requests = container
        .resources
        .as_ref()
        .and_then(|resources| resources.requests.clone())
        .unwrap_or_default();
    let cpu = requests
        .get("cpu")
        .and_then(|quantity| quantity::millicores(&quantity.0))
        .unwrap_or(0);
    let memory = requests
        .get("memory")
        .and_then(|quantity| quantity::bytes(&quantity.0))
        .unwrap_or(0);
    (cpu, memory)
}

/// A Pod's effective requests: its regular containers and sidecars together, or a plain init
/// container with the sidecars started before it, whichever is larger.
fn pod_requests(pod: &Pod) -> (u64, u64) {
    let spec = pod.spec.clone().unwrap_or_default();
    let mut sidecars = (0, 0);
    let mut peak = (0, 0);
    for container in spec.init_containers.iter().flatten() {
        let (cpu, memory) = container_requests(container);
        if container.restart_policy.as_deref() == Some("Always") {
            sidecars = (sidecars.0 + cpu, sidecars.1 + memory);
        } else {
            peak = (
                peak.0.max(sidecars.0 + cpu),
                peak.1.max(sidecars.1 + memory),
            );
        }
    }
    let regular = spec
        .containers
        .iter()
        .map(container_requests)
        .fold((0, 0), |sum, (cpu, memory)| (sum.0 + cpu, sum.1 + memory));
    let running = (regular.0 + sidecars.0, regular.1 + sidecars.1);
    (running.0.max(peak.0), running.1.max(peak.1))
}

fn node_labels(shared: &Shared) -> BTreeMap<String, String> {
    let node = &shared.settings.node;
    BTreeMap::from([
        ("kubernetes.io/os".to_owned(), node.os.clone()),
        ("kubernetes.io/arch".to_owned(), node.arch.clone()),
        ("beta.kubernetes.io/os".to_owned(), node.os.clone()),
        ("beta.kubernetes.io/arch".to_owned(), node.arch.clone()),
        ("kubernetes.io/hostname".to_owned(), node.name.clone()),
    ])
}

fn requirement_matches(
    labels: &BTreeMap<String, String>,
    requirement: &NodeSelectorRequirement,
) -> bool {
    let value = labels.get(&requirement.key);
    let values = requirement.values.clone().unwrap_or_default();
    match requirement.operator.as_str() {
        "In" => value.is_some_and(|value| values.contains(value)),
        "NotIn" => value.is_none_or(|value| !values.contains(value)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        _ => false,
    }
}

fn node_matches(shared: &Shared, pod: &Pod) -> bool {
    let labels = node_labels(shared);
    let spec = pod.spec.clone().unwrap_or_default();
    let selector_matches = spec
        .node_selector
        .unwrap_or_default()
        .iter()
        .all(|(key, value)| labels.get(key) == Some(value));
    let required = spec
        .affinity
        .and_then(|affinity| affinity.node_affinity)
        .and_then(|affinity| affinity.required_during_scheduling_ignored_during_execution);
    let affinity_matches = required.is_none_or(|selector| {
        selector.node_selector_terms.iter().any(|term| {
            term.match_expressions
                .iter()
                .flatten()
                .all(|requirement| requirement_matches(&labels, requirement))
        })
    });
    selector_matches && affinity_matches
}

/// What the Pods already bound to the node request.
fn used_by_bound_pods(shared: &Shared, uid: &str) -> (u64, u64) {
    let store = lock(&shared.store);
    store
        .list(Kind::Pod, None)
        .filter(|(_, object)| uid_of(object) != Some(uid))
        .filter(|(_, object)| {
            object.pointer("/spec/nodeName").and_then(Value::as_str)
                == Some(&shared.settings.node.name)
        })
        .filter(|(_, object)| {
            let phase = object
                .pointer("/status/phase")
                .and_then(Value::as_str)
                .unwrap_or("");
            phase != "Succeeded" && phase != "Failed"
        })
        .filter_map(|(_, object)| serde_json::from_value::<Pod>(object.clone()).ok())
        .map(|pod| pod_requests(&pod))
        .fold((0, 0), |sum, (cpu, memory)| (sum.0 + cpu, sum.1 + memory))
}

/// Why the Pod cannot be bound now, worded as the scheduler's event and condition message.
fn unschedulable_reason(shared: &Shared, pod: &Pod) -> Option<String> {
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();
    for volume in spec.volumes.iter().flatten() {
        if let Some(claim) = &volume.persistent_volume_claim
            && let Err(reason) = api::claim_usable(shared, &namespace, &claim.claim_name)
        {
            return Some(format!("0/1 nodes are available: {reason}. {NOT_HELPFUL}"));
        }
    }
    if !node_matches(shared, pod) {
        return Some(format!(
            "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. {NOT_HELPFUL}"
        ));
    }
    let (cpu, memory) = pod_requests(pod);
    let (used_cpu, used_memory) =
        used_by_bound_pods(shared, pod.metadata.uid.as_deref().unwrap_or(""));
    let node = &shared.settings.node;
    let mut insufficient = Vec::new();
    if used_cpu + cpu > node.cpu_millis {
        insufficient.push("1 Insufficient cpu");
    }
    if used_memory + memory > node.memory_bytes {
        insufficient.push("1 Insufficient memory");
    }
    if insufficient.is_empty() {
        None
    } else {
        Some(format!(
            "0/1 nodes are available: {}. {NO_VICTIMS}",
            insufficient.join(", ")
        ))
    }
}

pub(crate) fn set_condition(conditions: &mut Vec<PodCondition>, condition: PodCondition) {
    match conditions
        .iter_mut()
        .find(|existing| existing.type_ == condition.type_)
    {
        Some(existing) => {
            let transition = if existing.status == condition.status {
                existing.last_transition_time.clone()
            } else {
                condition.last_transition_time.clone()
            };
            *existing = PodCondition {
                last_transition_time: transition,
                ..condition
            };
        }
        None => conditions.push(condition),
    }
}

pub(crate) fn update_pod(
    shared: &Shared,
    key: &ObjectKey,
    uid: &str,
    change: impl FnOnce(&mut Pod) -> bool,
) -> bool {
    let mut store = lock(&shared.store);
    let Some(object) = store.get(key).filter(|object| uid_of(object) == Some(uid)) else {
        return false;
    };
    let Ok(mut pod) = serde_json::from_value::<Pod>(object.clone()) else {
        return false;
    };
    if !change(&mut pod) {
        return false;
    }
    let Ok(object) = serde_json::to_value(&pod) else {
        return false;
    };
    store.replace(key, object);
    true
}

fn mark_unschedulable(shared: &Shared, key: &ObjectKey, uid: &str, message: &str) {
    update_pod(shared, key, uid, |pod| {
        let status = pod.status.get_or_insert_with(Default::default);
        set_condition(
            status.conditions.get_or_insert_with(Vec::new),
            PodCondition {
                type_: "PodScheduled".to_owned(),
                status: "False".to_owned(),
                reason: Some("Unschedulable".to_owned()),
                message: Some(message.to_owned()),
                last_transition_time: Some(Time(crate::store::now())),
                ..PodCondition::default()
            },
        );
        true
    });
}

/// Binds the Pod to the node (one update: `spec.nodeName` and `PodScheduled=True`) and binds
/// its claims, as a provisioner with `WaitForFirstConsumer` does.
fn bind(shared: &Shared, key: &ObjectKey, uid: &str) -> bool {
    let mut claims = Vec::new();
    let bound = update_pod(shared, key, uid, |pod| {
        let spec = pod.spec.get_or_insert_with(Default::default);
        if spec
            .node_name
            .as_deref()
            .is_some_and(|node| !node.is_empty())
            || pod.metadata.deletion_timestamp.is_some()
        {
            return false;
        }
        spec.node_name = Some(shared.settings.node.name.clone());
        claims = spec
            .volumes
            .iter()
            .flatten()
            .filter_map(|volume| Some(volume.persistent_volume_claim.as_ref()?.claim_name.clone()))
            .collect();
        let status = pod.status.get_or_insert_with(Default::default);
        set_condition(
            status.conditions.get_or_insert_with(Vec::new),
            PodCondition {
                type_: "PodScheduled".to_owned(),
                status: "True".to_owned(),
                last_transition_time: Some(Time(crate::store::now())),
                ..PodCondition::default()
            },
        );
        true
    });
    if bound {
        bind_claims(shared, &key.namespace, &claims);
    }
    bound
}

fn bind_claims(shared: &Shared, namespace: &str, claims: &[String]) {
    let mut store = lock(&shared.store);
    for name in claims {
        let key = ObjectKey::new(Kind::PersistentVolumeClaim, namespace, name);
        let Some(mut claim) = store.get(&key).cloned() else {
            continue;
        };
        if claim.pointer("/status/phase").and_then(Value::as_str) == Some("Bound") {
            continue;
        }
        let uid = uid_of(&claim).unwrap_or("").to_owned();
        let storage = claim
            .pointer("/spec/resources/requests/storage")
            .cloned()
            .unwrap_or(Value::Null);
        let modes = claim
            .pointer("/spec/accessModes")
            .cloned()
            .unwrap_or(Value::Null);
        claim["spec"]["volumeName"] = Value::String(format!("pvc-{uid}"));
        claim["status"] =
            json!({"phase": "Bound", "accessModes": modes, "capacity": {"storage": storage}});
        store.replace(&key, claim);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecars_add_to_the_regular_containers_requests() {
        let pod: Pod = serde_json::from_value(json!({
            "spec": {
                "initContainers": [
                    {"name": "setup", "image": "x", "resources": {"requests": {"cpu": "3"}}},
                    {"name": "side", "image": "x", "restartPolicy": "Always", "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}},
                ],
                "containers": [{"name": "main", "image": "x", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}],
            }
        }))
        .expect("the pod decodes");
        assert_eq!(pod_requests(&pod), (3000, 2 << 30));
    }
}
