//! One job as one Pod: created whole, followed through the run's watch until its primary ends,
//! then deleted.

use std::sync::Arc;
use std::time::Duration;

use eider_runtime::{
    Ending, JobEnd, JobObserver, LaunchedJob, PrimaryEnd, RuntimeError, StreamKind,
};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::DeleteParams;
use tokio::sync::watch;

use crate::error::{is_not_found, runtime_error};
use crate::pod_watch::PodState;
use crate::run::RunObjects;
use crate::{logs, status};

/// One container of the job, by its two names.
#[derive(Debug, Clone)]
pub(crate) struct JobContainer {
    /// Its name in the Pod.
    pub in_pod: String,
    /// Its name in the Drakefile.
    pub name: String,
    /// Its image.
    pub image: String,
    /// Whether it is the primary.
    pub primary: bool,
    /// Whether it has a terminal (its output is one stream).
    pub tty: bool,
    /// Whether its output is followed already.
    pub followed: bool,
}

/// A job's Pod, created or about to be.
pub struct KubernetesJob {
    pub(crate) pods: Api<Pod>,
    pub(crate) run: Arc<RunObjects>,
    pub(crate) name: String,
    pub(crate) containers: Vec<JobContainer>,
    pub(crate) state: watch::Receiver<PodState>,
    pub(crate) grace_period: Duration,
    /// Whether the Pod was created (or its creation may have been).
    pub(crate) created: bool,
    /// Whether its deletion was asked for already.
    pub(crate) deleted: bool,
}

impl KubernetesJob {
    /// Follows the output of every container that has started since last looked, in the
    /// job's order (each one's output is handed over before it is reported started).
    pub(crate) async fn follow_started(&mut self, observer: &dyn JobObserver) {
        let state = self.state.borrow().clone();
        let PodState::Present(pod) = state else {
            return;
        };
        for index in 0..self.containers.len() {
            let container = &self.containers[index];
            if container.followed
                || !status::container(&pod, &container.in_pod).is_some_and(status::has_started)
            {
                continue;
            }
            let kind = if container.tty {
                StreamKind::Console
            } else {
                // The API server merges a container's stdout and stderr into one log.
                StreamKind::Stdout
            };
            let stream = logs::follow(
                self.pods.clone(),
                self.name.clone(),
                container.in_pod.clone(),
                kind,
                self.state.clone(),
            );
            observer.output(&container.name, container.primary, stream);
            observer.started(&container.name, container.primary).await;
            self.containers[index].followed = true;
        }
    }

    fn primary(&self) -> Option<&JobContainer> {
        self.containers.iter().find(|container| container.primary)
    }

    /// Asks the cluster to delete the Pod, its containers stopped within `grace`.
    async fn delete(&mut self, grace: Duration) -> Result<(), RuntimeError> {
        if !self.created || self.deleted {
            return Ok(());
        }
        self.deleted = true;
        delete_pod(&self.pods, &self.name, grace).await
    }
}

pub(crate) async fn delete_pod(
    pods: &Api<Pod>,
    name: &str,
    grace: Duration,
) -> Result<(), RuntimeError> {
    let parameters = DeleteParams {
        grace_period_seconds: Some(u32::try_from(grace.as_secs()).unwrap_or(u32::MAX)),
        ..DeleteParams::default()
    };
    match pods.delete(name, &parameters).await {
        Ok(_) => Ok(()),
        Err(error) if is_not_found(&error) => Ok(()),
        Err(error) => Err(runtime_error(error)),
    }
}

impl LaunchedJob for KubernetesJob {
    async fn wait_primary(&mut self, observer: &dyn JobObserver) -> PrimaryEnd {
        let Some(primary) = self.primary().map(|primary| primary.in_pod.clone()) else {
            return PrimaryEnd::BackendFailed {
                message: "the job has no primary container".to_owned(),
                lost: false,
            };
        };
        loop {
            self.follow_started(observer).await;
            let end = match &*self.state.borrow_and_update() {
                PodState::Gone => Some(PrimaryEnd::BackendFailed {
                    message: format!("the job's Pod {} was deleted", self.name),
                    lost: false,
                }),
                PodState::Unseen => None,
                PodState::Present(pod) => {
                    match status::container(pod, &primary).and_then(status::exit) {
                        Some(exit) => Some(PrimaryEnd::Exited(exit)),
                        None => status::pod_ended(pod).map(|why| PrimaryEnd::BackendFailed {
                            message: format!("the cluster ended the job's Pod: {why}"),
                            lost: false,
                        }),
                    }
                }
            };
            if let Some(end) = end {
                return end;
            }
            if self.state.changed().await.is_err() {
                return PrimaryEnd::BackendFailed {
                    message: "stopped following the job's Pod".to_owned(),
                    lost: true,
                };
            }
        }
    }

    async fn end(&mut self, ending: Ending) -> JobEnd {
        let mut end = JobEnd::default();
        match ending {
            Ending::PrimaryExited => {
                // The kubelet stops native sidecars once the primary has ended; how those that
                // already ended did is known now.
                if let PodState::Present(pod) = &*self.state.borrow() {
                    for container in self
                        .containers
                        .iter()
                        .filter(|container| !container.primary)
                    {
                        if let Some(exit) =
                            status::container(pod, &container.in_pod).and_then(status::exit)
                        {
                            end.sidecar_exits.push((container.name.clone(), exit));
                        }
                    }
                }
            }
            Ending::Stop(grace) => {
                if let Err(error) = self.delete(grace).await {
                    end.warnings
                        .push(format!("cannot delete Pod {}: {error}", self.name));
                }
            }
            Ending::Kill => {
                if let Err(error) = self.delete(Duration::ZERO).await {
                    end.warnings
                        .push(format!("cannot delete Pod {}: {error}", self.name));
                }
            }
        }
        end
    }

    fn remove(mut self) -> impl Future<Output = Vec<String>> + Send + 'static {
        let pods = self.pods.clone();
        let name = self.name.clone();
        let run = Arc::clone(&self.run);
        let needed = self.created && !self.deleted;
        self.deleted = true;
        let grace = self.grace_period;
        async move {
            let mut failed = Vec::new();
            if needed && let Err(error) = delete_pod(&pods, &name, grace).await {
                failed.push(format!("cannot remove Pod {name}: {error}"));
            }
            run.forget(&name);
            failed
        }
    }

    fn abandon(self) -> Vec<String> {
        self.run.forget(&self.name);
        if self.created && !self.deleted {
            vec![format!("Pod {}", self.name)]
        } else {
            Vec::new()
        }
    }
}
