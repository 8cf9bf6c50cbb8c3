//! The project's source on a cluster. The cluster cannot see the user's tree, so it arrives as
//! an image (made by eider's packager and pushed before the run, see [`ClusterSettings`]) that
//! a container copies out of:
//! - a job's own view (read-only, or a private writable copy) is an `emptyDir` filled by an
//!   init container of the job's Pod, before the job's containers start;
//! - the run's one shared copy is a claim, filled once by a Pod of its own before the first
//!   job that mounts it.
//!
//! [`ClusterSettings`]: crate::ClusterSettings

use eider_runtime::{RuntimeError, Storage, StorageRequest};
use k8s_openapi::api::core::v1::Pod;
use kube::api::PostParams;
use std::time::Duration;

use crate::error::runtime_error;
use crate::job::delete_pod;
use crate::names::run_object_name;
use crate::pod::{PodSettings, SOURCE_COPY_CONTAINER, source_seed_pod};
use crate::pod_watch::PodState;
use crate::{KubernetesRuntime, status};

impl KubernetesRuntime {
    /// The image the source travels in, or why there is none.
    pub(crate) fn source_image(&self) -> Result<&str, RuntimeError> {
        self.settings.source_image.as_deref().ok_or_else(|| {
            RuntimeError::Other(
                "the source reaches a cluster only as an image: give a registry the cluster \
                 pulls from (--registry, or `[kubernetes] registry` in the config file)"
                    .to_owned(),
            )
        })
    }

    /// The run's one copy of the source: a claim, filled by a Pod that runs to its end before
    /// this returns.
    pub(crate) async fn seed_run_source(
        &self,
        request: StorageRequest<'_>,
    ) -> Result<Storage, RuntimeError> {
        let image = self.source_image()?;
        let name = self.create_run_claim(&request, "source").await?;
        let run = self.run(request.run_id);
        let owner = run.owner(&self.cluster).await?.clone();
        let storage = Storage {
            name: name.clone(),
            image: String::new(),
        };

        let pod_name = run_object_name(request.run_id, Some("source-copy"));
        let secret = run_object_name(request.run_id, Some("secrets"));
        let settings = PodSettings {
            namespace: &self.cluster.namespace,
            secret: &secret,
            claim: &name,
            timeout: self.settings.pending_timeout + SEED_COPY_TIME,
            grace_period: Duration::ZERO,
            source_image: Some(image),
            image_pull_secrets: &self.settings.image_pull_secrets,
        };
        let mut pod = source_seed_pod(&pod_name, request.labels, &name, &settings, image);
        pod.metadata.owner_references = Some(vec![owner]);
        let pods = self.cluster.api::<Pod>();
        let watch = run.pods(&self.cluster);
        let mut state = watch.subscribe(&pod_name);
        let placement = self.place(&run, &mut pod).await;
        let created = pods.create(&PostParams::default(), &pod).await;
        let outcome = match created {
            Ok(_) => self.wait_for_copy(&mut state, image).await,
            Err(error) => Err(runtime_error(error)),
        };
        if let Some(mut first) = placement {
            *first = crate::launch::scheduled_node(&state.borrow());
        }
        run.forget(&pod_name);
        // The copy is in the claim; the Pod that made it is of no further use.
        let removed = delete_pod(&pods, &pod_name, Duration::ZERO).await;
        outcome?;
        removed?;
        Ok(storage)
    }

    /// Waits for the copying Pod to end, failing at once when the cluster will not run it.
    async fn wait_for_copy(
        &self,
        state: &mut tokio::sync::watch::Receiver<PodState>,
        image: &str,
    ) -> Result<(), RuntimeError> {
        let pending_deadline = tokio::time::Instant::now() + self.settings.pending_timeout;
        loop {
            if let Some(result) = copy_state(&state.borrow(), image) {
                return result;
            }
            let pending = matches!(&*state.borrow(), PodState::Present(pod)
                if pod.status.as_ref().and_then(|status| status.phase.as_deref()) == Some("Pending")
                    || pod.status.is_none());
            tokio::select! {
                changed = state.changed() => {
                    if changed.is_err() {
                        return Err(RuntimeError::BackendLost {
                            message: "the run's watch ended".to_owned(),
                        });
                    }
                }
                () = tokio::time::sleep_until(pending_deadline), if pending => {
                    return Err(RuntimeError::Other(format!(
                        "the Pod that copies the source stayed Pending for {}",
                        humantime::format_duration(self.settings.pending_timeout)
                    )));
                }
            }
        }
    }
}

/// A generous bound on the copy itself, beyond the time the Pod may wait to start: the cluster
/// ends a copy that hangs.
const SEED_COPY_TIME: Duration = Duration::from_secs(3600);

/// Where the copying Pod stands: done, failed, or (none) still under way.
fn copy_state(state: &PodState, image: &str) -> Option<Result<(), RuntimeError>> {
    let pod = match state {
        PodState::Unseen => return None,
        PodState::Gone => {
            return Some(Err(RuntimeError::Other(
                "the Pod that copies the source was deleted before it finished".to_owned(),
            )));
        }
        PodState::Present(pod) => pod,
    };
    if let Some(stuck) = status::container(pod, SOURCE_COPY_CONTAINER).and_then(status::stuck) {
        return Some(Err(if stuck.image {
            RuntimeError::ImageUnavailable {
                image: image.to_owned(),
                message: stuck.to_string(),
                hint: Some(
                    "the cluster's nodes must reach the registry the source was pushed to, with \
                     an image pull secret where it needs one"
                        .to_owned(),
                ),
            }
        } else {
            RuntimeError::Other(stuck.to_string())
        }));
    }
    if let Some(message) = status::unschedulable(pod)
        && status::matches_no_node(&message)
    {
        return Some(Err(RuntimeError::Other(format!(
            "no node can run the Pod that copies the source: {message}"
        ))));
    }
    match pod.status.as_ref()?.phase.as_deref() {
        Some("Succeeded") => Some(Ok(())),
        Some("Failed") => Some(Err(RuntimeError::Other(copy_failure(pod)))),
        _ => None,
    }
}

/// Why copying the source failed, as the Pod's status says.
pub(crate) fn copy_failure(pod: &Pod) -> String {
    let exit = status::container(pod, SOURCE_COPY_CONTAINER).and_then(status::exit);
    match (exit, status::pod_ended(pod)) {
        (Some(exit), _) => format!(
            "copying the source out of its image failed (exit code {})",
            exit.code
        ),
        (None, Some(why)) => format!("copying the source out of its image failed: {why}"),
        (None, None) => "copying the source out of its image failed".to_owned(),
    }
}
