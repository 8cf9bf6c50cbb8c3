//! Launching a job: its Pod created whole, then followed until the primary has started, or
//! until the cluster says it cannot run it (an image it cannot pull, no node that fits, a Pod
//! left Pending too long).

use std::collections::BTreeMap;
use std::sync::Arc;

use eider_runtime::{JobObserver, JobSpec, LaunchControl, LaunchError, RuntimeError, StopSignal};
use k8s_openapi::api::core::v1::Pod;
use kube::api::PostParams;

use crate::error::runtime_error;
use crate::job::{JobContainer, KubernetesJob};
use crate::pod::{
    PodSettings, SOURCE_COPY_CONTAINER, container_names, mounts_a_claim, place_on_node, pod,
    pod_name,
};
use crate::pod_watch::PodState;
use crate::run::RunObjects;
use crate::{KubernetesRuntime, names, status};

impl KubernetesRuntime {
    pub(crate) async fn launch_job(
        &self,
        spec: JobSpec,
        observer: &dyn JobObserver,
        control: LaunchControl<'_>,
    ) -> (KubernetesJob, Result<(), LaunchError>) {
        let run = self.run(&spec.run_id);
        let name = pod_name(&spec);
        let containers = container_names(&spec.containers)
            .into_iter()
            .zip(&spec.containers)
            .enumerate()
            .map(|(index, (in_pod, container))| JobContainer {
                in_pod,
                name: container.name.clone(),
                image: container.image.clone(),
                primary: index + 1 == spec.containers.len(),
                tty: container.tty,
                followed: false,
            })
            .collect();
        let mut job = KubernetesJob {
            pods: self.cluster.api::<Pod>(),
            run: Arc::clone(&run),
            name: name.clone(),
            containers,
            state: run.pods(&self.cluster).subscribe(&name),
            grace_period: spec.grace_period,
            created: false,
            deleted: false,
        };
        let result = self
            .create_and_start(&spec, &run, &mut job, observer, control)
            .await;
        (job, result)
    }

    async fn create_and_start(
        &self,
        spec: &JobSpec,
        run: &RunObjects,
        job: &mut KubernetesJob,
        observer: &dyn JobObserver,
        control: LaunchControl<'_>,
    ) -> Result<(), LaunchError> {
        let failed = |what: &str, error: RuntimeError| LaunchError::Failed {
            container: None,
            what: what.to_owned(),
            error,
            hint: None,
        };
        let secret = names::run_object_name(&spec.run_id, Some("secrets"));
        let claim = names::run_object_name(&spec.run_id, Some("shared"));
        let mut pod = pod(
            spec,
            &PodSettings {
                namespace: &self.cluster.namespace,
                secret: &secret,
                claim: &claim,
                timeout: spec.timeout,
                grace_period: spec.grace_period,
                source_image: self.settings.source_image.as_deref(),
                image_pull_secrets: &self.settings.image_pull_secrets,
            },
        )
        .map_err(|unsupported| {
            failed(
                "cannot run the job on a cluster",
                RuntimeError::Other(unsupported.to_string()),
            )
        })?;
        if control.stop.is_requested() {
            return Err(LaunchError::Stopped);
        }
        let admitted = tokio::select! {
            biased;
            () = control.stop.requested() => return Err(LaunchError::Stopped),
            admitted = control.admit => admitted,
        };
        if !admitted {
            return Err(LaunchError::NotAdmitted);
        }
        let owner = run
            .owner(&self.cluster)
            .await
            .map_err(|error| failed("cannot create the run's owner on the cluster", error))?
            .clone();
        let secrets: BTreeMap<String, String> = spec
            .containers
            .iter()
            .flat_map(|container| &container.environment)
            .filter(|variable| variable.secret)
            .map(|variable| (variable.name.clone(), variable.value.clone()))
            .collect();
        run.hold_secrets(&self.cluster, secrets)
            .await
            .map_err(|error| failed("cannot store the run's secrets in a Secret", error))?;
        if control.stop.is_requested() {
            return Err(LaunchError::Stopped);
        }
        pod.metadata.owner_references = Some(vec![owner]);
        let placement = tokio::select! {
            biased;
            () = control.stop.requested() => return Err(LaunchError::Stopped),
            placement = self.place(run, &mut pod) => placement,
        };
        job.created = true;
        job.pods
            .create(&PostParams::default(), &pod)
            .await
            .map_err(|error| failed("cannot create the job's Pod", runtime_error(error)))?;
        let started = self.wait_until_started(job, observer, control.stop).await;
        if let Some(mut first) = placement {
            *first = scheduled_node(&job.state.borrow());
        }
        started
    }

    /// Where the run's claims can be attached to one node only (`ReadWriteOnce`), puts a Pod
    /// that mounts one on the node of the first such Pod. The first one goes where the
    /// scheduler puts it, and the others wait until it is placed: the guard comes back for it,
    /// to record its node in.
    pub(crate) async fn place<'a>(
        &self,
        run: &'a RunObjects,
        pod: &mut Pod,
    ) -> Option<tokio::sync::MutexGuard<'a, Option<String>>> {
        if self.settings.shared_storage.many_nodes || !mounts_a_claim(pod) {
            return None;
        }
        let node = run.storage_node.lock().await;
        match node.as_deref() {
            Some(name) => {
                place_on_node(pod, name);
                None
            }
            None => Some(node),
        }
    }

    /// Follows the Pod until its primary has started, failing at once when the cluster says
    /// it will not run it.
    async fn wait_until_started(
        &self,
        job: &mut KubernetesJob,
        observer: &dyn JobObserver,
        stop: &dyn StopSignal,
    ) -> Result<(), LaunchError> {
        let pending_deadline = tokio::time::Instant::now() + self.settings.pending_timeout;
        loop {
            job.follow_started(observer).await;
            if let Some(result) = self.launch_state(job) {
                return result;
            }
            tokio::select! {
                biased;
                () = stop.requested() => return Err(LaunchError::Stopped),
                () = tokio::time::sleep_until(pending_deadline) => {
                    let waiting = match &*job.state.borrow() {
                        PodState::Present(pod) => status::unschedulable(pod)
                            .or_else(|| status::waiting_for(pod)),
                        _ => None,
                    };
                    let hint = pending_hint(waiting.as_deref());
                    return Err(LaunchError::Failed {
                        container: None,
                        what: format!(
                            "the job's Pod stayed Pending for {}",
                            humantime::format_duration(self.settings.pending_timeout)
                        ),
                        error: RuntimeError::Other(
                            waiting.unwrap_or_else(|| "the cluster did not start it".to_owned()),
                        ),
                        hint: Some(hint),
                    });
                }
                changed = job.state.changed() => {
                    if changed.is_err() {
                        return Err(LaunchError::Failed {
                            container: None,
                            what: "stopped following the job's Pod".to_owned(),
                            error: RuntimeError::BackendLost { message: "the run's watch ended".to_owned() },
                            hint: None,
                        });
                    }
                }
            }
        }
    }

    /// Where the launch stands: done, failed, or (none) still under way.
    fn launch_state(&self, job: &KubernetesJob) -> Option<Result<(), LaunchError>> {
        let state = job.state.borrow();
        let pod = match &*state {
            PodState::Unseen => return None,
            PodState::Gone => {
                return Some(Err(LaunchError::Failed {
                    container: None,
                    what: "the job's Pod was deleted before it started".to_owned(),
                    error: RuntimeError::Other(format!("Pod {} is gone", job.name)),
                    hint: None,
                }));
            }
            PodState::Present(pod) => pod,
        };
        // Checked first: when the copy fails, the cluster reports the job's containers, which
        // never ran, as terminated.
        if let Some(failure) = source_copy_failure(pod) {
            return Some(Err(failure));
        }
        if job
            .containers
            .iter()
            .any(|container| container.primary && container.followed)
        {
            return Some(Ok(()));
        }
        for container in &job.containers {
            if let Some(stuck) = status::container(pod, &container.in_pod).and_then(status::stuck) {
                let error = if stuck.image {
                    RuntimeError::ImageUnavailable {
                        image: container.image.clone(),
                        message: stuck.to_string(),
                        hint: None,
                    }
                } else {
                    RuntimeError::Other(stuck.to_string())
                };
                return Some(Err(LaunchError::Failed {
                    container: Some(container.name.clone()),
                    what: if stuck.image {
                        format!("the cluster cannot pull image {}", container.image)
                    } else {
                        "the cluster cannot start the container".to_owned()
                    },
                    error,
                    hint: stuck.image.then(|| {
                        "check the image's name, and that the cluster's nodes can pull it (a \
                         registry they reach, an image pull secret where it needs one)"
                            .to_owned()
                    }),
                }));
            }
        }
        // A Pod no node matches (its platform, say) will not run; one that does not fit now
        // may once other Pods end: that one waits, within the pending bound.
        if let Some(message) = status::unschedulable(pod)
            && status::matches_no_node(&message)
        {
            return Some(Err(LaunchError::Failed {
                container: None,
                what: "no node of the cluster can run the job's Pod".to_owned(),
                error: RuntimeError::Other(message),
                hint: Some("the job's osFamily and cpuArch must match a node".to_owned()),
            }));
        }
        let why = status::pod_ended(pod)?;
        Some(Err(LaunchError::Failed {
            container: None,
            what: "the cluster ended the job's Pod before its primary started".to_owned(),
            error: RuntimeError::Other(why),
            hint: None,
        }))
    }
}

/// Why the init container that copies the source out of its image will not let the job start:
/// its image cannot be pulled, or the copy failed.
fn source_copy_failure(pod: &Pod) -> Option<LaunchError> {
    let copy = status::container(pod, SOURCE_COPY_CONTAINER)?;
    if let Some(stuck) = status::stuck(copy) {
        let image = pod
            .spec
            .as_ref()
            .and_then(|spec| spec.init_containers.as_ref())
            .and_then(|containers| {
                containers
                    .iter()
                    .find(|container| container.name == SOURCE_COPY_CONTAINER)
            })
            .and_then(|container| container.image.clone())
            .unwrap_or_default();
        return Some(LaunchError::Failed {
            container: None,
            what: format!("the cluster cannot pull the source image {image}"),
            error: RuntimeError::ImageUnavailable {
                image,
                message: stuck.to_string(),
                hint: None,
            },
            hint: Some(
                "the cluster's nodes must reach the registry the source was pushed to, with an \
                 image pull secret where it needs one (--image-pull-secret)"
                    .to_owned(),
            ),
        });
    }
    status::exit(copy)
        .filter(|exit| exit.code != 0)
        .map(|_| LaunchError::Failed {
            container: None,
            what: "cannot give the job its source".to_owned(),
            error: RuntimeError::Other(crate::source::copy_failure(pod)),
            hint: None,
        })
}

/// The node the Pod was scheduled to, once it was.
pub(crate) fn scheduled_node(state: &PodState) -> Option<String> {
    match state {
        PodState::Present(pod) => pod.spec.as_ref()?.node_name.clone(),
        _ => None,
    }
}

/// What to do about a Pod that stayed Pending, from what it waited for.
fn pending_hint(waiting: Option<&str>) -> String {
    let bound = "`[kubernetes] pending-timeout` in the config file sets how long a Pod may wait";
    if waiting
        .is_some_and(|text| text.contains("unbound") && text.contains("PersistentVolumeClaim"))
    {
        // A claim no volume was bound to: most often a storage class that offers no
        // ReadWriteMany volumes.
        format!(
            "the run's claim found no volume: the storage class may not offer ReadWriteMany \
             (--storage-class names another; --shared-storage-access ReadWriteOnce runs the \
             run's Pods that mount it on one node); {bound}"
        )
    } else {
        format!("the job's resources must fit a node with room to spare; {bound}")
    }
}

#[cfg(test)]
mod tests {
    use super::pending_hint;

    #[test]
    fn a_claim_left_unbound_points_at_the_one_node_fallback() {
        let unbound = pending_hint(Some(
            "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.",
        ));
        assert!(
            unbound.contains("--shared-storage-access ReadWriteOnce"),
            "{unbound}"
        );
        let busy = pending_hint(Some("0/3 nodes are available: 3 Insufficient cpu."));
        assert!(!busy.contains("ReadWriteOnce"), "{busy}");
        assert!(busy.contains("resources"), "{busy}");
    }
}
