//! `--keep-shared` on a cluster: the run's claim is mounted read-only by a short-lived Pod of
//! the run (labelled and owned like the rest, so that cleanup finds it), and `tar` run in it
//! through exec streams the claim out, as `kubectl cp` does; eider unpacks the stream as it
//! arrives. The Pod is deleted afterwards, whatever happened.

use std::time::Duration;

use camino::Utf8Path;
use eider_runtime::{Labels, RuntimeError, Storage, labels};
use k8s_openapi::api::core::v1::{
    Container, PersistentVolumeClaimVolumeSource, Pod, PodSpec, Volume, VolumeMount,
};
use kube::Api;
use kube::api::{AttachParams, PostParams};
use tokio::io::AsyncReadExt as _;
use tokio::sync::watch;

use crate::error::runtime_error;
use crate::job::delete_pod;
use crate::metadata::object_meta;
use crate::names::run_object_name;
use crate::pod::image_pull_secrets;
use crate::pod_watch::PodState;
use crate::unpack::Unpacking;
use crate::{KubernetesRuntime, status};

/// The export Pod's one container.
const EXPORT_CONTAINER: &str = "eider-export";

/// Its one volume, the claim.
const EXPORT_VOLUME: &str = "shared-storage";

/// Where it sees the claim.
const EXPORT_PATH: &str = "/shared";

/// A generous bound on the copy, beyond the time the Pod may wait to start: the Pod sleeps no
/// longer, and the cluster ends it by then should eider be gone.
const EXPORT_TIME: Duration = Duration::from_secs(3600);

/// How much of the stream waits in memory for the unpacker (the rest waits on the cluster).
const STREAM_BUFFER: usize = 256 * 1024;

/// How much of `tar`'s error output is kept for the message.
const ERROR_OUTPUT_LIMIT: u64 = 4096;

impl KubernetesRuntime {
    /// Copies the claim of `storage` into `destination`.
    pub(crate) async fn export_claim(
        &self,
        storage: &Storage,
        labels: &Labels,
        destination: &Utf8Path,
    ) -> Result<(), RuntimeError> {
        let run_id = labels
            .iter()
            .find(|(key, _)| key == labels::RUN_ID)
            .map(|(_, value)| value.clone())
            .ok_or_else(|| RuntimeError::Other("the export has no run id".to_owned()))?;
        let run = self.run(&run_id);
        let owner = run.owner(&self.cluster).await?.clone();
        let name = run_object_name(&run_id, Some("export"));
        let mut pod = self.export_pod(&name, labels, &storage.name);
        pod.metadata.owner_references = Some(vec![owner]);
        let pods = self.cluster.api::<Pod>();
        let watch = run.pods(&self.cluster);
        let mut state = watch.subscribe(&name);
        let placement = self.place(&run, &mut pod).await;
        let created = pods.create(&PostParams::default(), &pod).await;
        let running = match created {
            Ok(_) => self.wait_until_running(&mut state).await,
            Err(error) => Err(runtime_error(error)),
        };
        if let Some(mut first) = placement {
            *first = crate::launch::scheduled_node(&state.borrow());
        }
        let outcome = match running {
            Ok(()) => stream_out(&pods, &name, destination).await,
            Err(error) => Err(error),
        };
        run.forget(&name);
        let removed = delete_pod(&pods, &name, Duration::ZERO).await;
        outcome?;
        removed
    }

    /// A Pod that mounts the claim read-only and waits, for exec, in the helper image.
    fn export_pod(&self, name: &str, labels: &Labels, claim: &str) -> Pod {
        let bound = self.settings.pending_timeout + EXPORT_TIME;
        Pod {
            metadata: object_meta(name, &self.cluster.namespace, labels),
            spec: Some(PodSpec {
                restart_policy: Some("Never".to_owned()),
                containers: vec![Container {
                    name: EXPORT_CONTAINER.to_owned(),
                    image: Some(self.settings.helper_image.clone()),
                    command: Some(vec!["sleep".to_owned(), bound.as_secs().to_string()]),
                    volume_mounts: Some(vec![VolumeMount {
                        name: EXPORT_VOLUME.to_owned(),
                        mount_path: EXPORT_PATH.to_owned(),
                        read_only: Some(true),
                        ..VolumeMount::default()
                    }]),
                    ..Container::default()
                }],
                volumes: Some(vec![Volume {
                    name: EXPORT_VOLUME.to_owned(),
                    persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                        claim_name: claim.to_owned(),
                        read_only: Some(true),
                    }),
                    ..Volume::default()
                }]),
                active_deadline_seconds: Some(i64::try_from(bound.as_secs()).unwrap_or(i64::MAX)),
                termination_grace_period_seconds: Some(0),
                enable_service_links: Some(false),
                automount_service_account_token: Some(false),
                image_pull_secrets: image_pull_secrets(&self.settings.image_pull_secrets),
                ..PodSpec::default()
            }),
            status: None,
        }
    }

    /// Waits for the export Pod's container to run, failing at once when the cluster says it
    /// will not, and after the pending bound when it says nothing.
    async fn wait_until_running(
        &self,
        state: &mut watch::Receiver<PodState>,
    ) -> Result<(), RuntimeError> {
        let pending_deadline = tokio::time::Instant::now() + self.settings.pending_timeout;
        loop {
            if let Some(result) =
                running_state(&state.borrow_and_update(), &self.settings.helper_image)
            {
                return result;
            }
            tokio::select! {
                changed = state.changed() => {
                    if changed.is_err() {
                        return Err(RuntimeError::BackendLost {
                            message: "the run's watch ended".to_owned(),
                        });
                    }
                }
                () = tokio::time::sleep_until(pending_deadline) => {
                    let waiting = match &*state.borrow() {
                        PodState::Present(pod) => status::unschedulable(pod)
                            .or_else(|| status::waiting_for(pod))
                            .map(|why| format!(": {why}"))
                            .unwrap_or_default(),
                        _ => String::new(),
                    };
                    return Err(RuntimeError::Other(format!(
                        "the Pod that copies the shared storage out stayed Pending for {}{waiting}",
                        humantime::format_duration(self.settings.pending_timeout)
                    )));
                }
            }
        }
    }
}

/// Where the export Pod stands: running (ready for exec), failed, or (none) not yet.
fn running_state(state: &PodState, image: &str) -> Option<Result<(), RuntimeError>> {
    let pod = match state {
        PodState::Unseen => return None,
        PodState::Gone => {
            return Some(Err(RuntimeError::Other(
                "the Pod that copies the shared storage out was deleted".to_owned(),
            )));
        }
        PodState::Present(pod) => pod,
    };
    let container = status::container(pod, EXPORT_CONTAINER);
    if let Some(stuck) = container.and_then(status::stuck) {
        return Some(Err(if stuck.image {
            RuntimeError::Other(format!(
                "the Pod that copies the shared storage out cannot pull its image {image} \
                 ({stuck}); the cluster's nodes must pull it (`[kubernetes] helper-image` names \
                 another)"
            ))
        } else {
            RuntimeError::Other(format!(
                "the Pod that copies the shared storage out cannot start: {stuck}"
            ))
        }));
    }
    if let Some(message) = status::unschedulable(pod)
        && status::matches_no_node(&message)
    {
        return Some(Err(RuntimeError::Other(format!(
            "no node can run the Pod that copies the shared storage out: {message}"
        ))));
    }
    if let Some(why) = status::pod_ended(pod) {
        return Some(Err(RuntimeError::Other(format!(
            "the Pod that copies the shared storage out ended before the copy: {why}"
        ))));
    }
    let running = container
        .and_then(|container| container.state.as_ref())
        .is_some_and(|state| state.running.is_some());
    running.then_some(Ok(()))
}

/// Runs `tar` in the export Pod and unpacks its output into `destination` as it arrives.
async fn stream_out(
    pods: &Api<Pod>,
    name: &str,
    destination: &Utf8Path,
) -> Result<(), RuntimeError> {
    let parameters = AttachParams::default()
        .container(EXPORT_CONTAINER)
        .stdin(false)
        .stdout(true)
        .stderr(true)
        .max_stdout_buf_size(STREAM_BUFFER);
    let command = ["tar", "-c", "-f", "-", "-C", EXPORT_PATH, "."];
    let mut attached = pods
        .exec(name, command, &parameters)
        .await
        .map_err(runtime_error)?;
    let (Some(stdout), Some(mut stderr), Some(status)) =
        (attached.stdout(), attached.stderr(), attached.take_status())
    else {
        return Err(RuntimeError::Other(
            "the exec of tar has no output stream".to_owned(),
        ));
    };
    let unpacking = Unpacking::begin(destination)?;
    // The tar crate reads synchronously: unpack on a blocking thread, fed as bytes arrive.
    let unpacking_task = tokio::task::spawn_blocking(move || {
        let reader = tokio_util::io::SyncIoBridge::new(stdout);
        let unpacked = unpacking.unpack(reader);
        (unpacking, unpacked)
    });
    // Read alongside: a full error stream would hold the output back.
    let errors = tokio::spawn(async move {
        let mut text = Vec::new();
        let _ = (&mut stderr)
            .take(ERROR_OUTPUT_LIMIT)
            .read_to_end(&mut text)
            .await;
        // The rest is dropped, not left to block the stream.
        let _ = tokio::io::copy(&mut stderr, &mut tokio::io::sink()).await;
        String::from_utf8_lossy(&text).trim().to_owned()
    });
    let status = status.await;
    let (unpacking, unpacked) = unpacking_task
        .await
        .map_err(|error| RuntimeError::Other(error.to_string()))?;
    let error_output = errors.await.unwrap_or_default();
    let ended = attached.join().await;
    let failure = match (unpacked, status) {
        (Err(error), _) => Some(format!("cannot unpack into {destination}: {error}")),
        (Ok(()), Some(status)) if status.status.as_deref() == Some("Success") => None,
        (Ok(()), Some(status)) => Some(format!(
            "tar failed in the Pod that copies the shared storage out: {}{}",
            status.message.unwrap_or_default(),
            if error_output.is_empty() {
                String::new()
            } else {
                format!(" ({error_output})")
            }
        )),
        (Ok(()), None) => Some(format!(
            "the stream of the shared storage broke off{}",
            ended
                .err()
                .map(|error| format!(": {}", eider_error_chain::chain_text(&error)))
                .unwrap_or_default()
        )),
    };
    match failure {
        None => Ok(()),
        Some(message) => Err(RuntimeError::Other(format!(
            "{message}{}",
            unpacking.discard()
        ))),
    }
}
