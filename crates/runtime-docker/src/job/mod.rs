//! One job on the engine: its containers created, attached and started in order, joined to one
//! network namespace; its primary followed through engine restarts; then ended and removed.

mod end;
mod follow;
mod launch;

use eider_runtime::{Ending, Exit, JobEnd, JobObserver, LaunchedJob, PrimaryEnd, Storage};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::DockerRuntime;
use crate::launch_pacer::JobClock;
use crate::model::ContainerId;
use crate::removal_order::removal_waves;
use crate::socket_watch::SocketWatch;

/// How long eider waits to hear that a container has exited, once the engine has said it does
/// not run (its wait request then answers at once).
const EXIT_NOTICE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// A job on the engine, whole or in part: everything here is ended and removed at the end.
pub struct DockerJob {
    runtime: DockerRuntime,
    /// Every container created, in launch order.
    containers: Vec<JobContainer>,
    /// The started sidecars, in launch order, and whether each has exited.
    exits: Vec<ExitWatch>,
    /// Whether the primary has a TTY (to attach to it again after the engine restarted).
    primary_tty: bool,
    /// The copy of the source made for this job alone, removed with it.
    private_copy: Option<Storage>,
    /// The engine's foreign containers before the job began, when it has the engine's socket.
    socket_watch: Option<SocketWatch>,
    /// How long the launch and the run took, for the launch pacer.
    clock: JobClock,
}

/// A container of the job, as created.
#[derive(Debug, Clone)]
struct JobContainer {
    /// Its name in the Drakefile.
    name: String,
    /// The engine's.
    id: ContainerId,
    /// The container whose network namespace it joined, if any: it is removed before that one.
    joined: Option<ContainerId>,
}

/// Whether a started sidecar has exited, and how, as far as eider has heard.
struct ExitWatch {
    name: String,
    id: ContainerId,
    exited: watch::Receiver<Option<Exit>>,
    task: JoinHandle<()>,
}

impl DockerJob {
    fn new(runtime: DockerRuntime, private_copy: Option<Storage>) -> Self {
        Self {
            runtime,
            containers: Vec::new(),
            exits: Vec::new(),
            primary_tty: false,
            private_copy,
            socket_watch: None,
            clock: JobClock::default(),
        }
    }
}

impl LaunchedJob for DockerJob {
    async fn wait_primary(&mut self, observer: &dyn JobObserver) -> PrimaryEnd {
        self.follow_primary(observer).await
    }

    async fn end(&mut self, ending: Ending) -> JobEnd {
        self.end_containers(ending).await
    }

    fn remove(self) -> impl Future<Output = Vec<String>> + Send + 'static {
        for watch in &self.exits {
            watch.task.abort();
        }
        let Self {
            runtime,
            containers,
            private_copy,
            ..
        } = self;
        async move {
            let mut failed = Vec::new();
            // Those that joined a namespace before the one that owns it, which Podman insists
            // on; each wave at once.
            let joins: Vec<(&ContainerId, Option<&ContainerId>)> = containers
                .iter()
                .map(|container| (&container.id, container.joined.as_ref()))
                .collect();
            for wave in removal_waves(&joins) {
                let removals = wave
                    .iter()
                    .map(|position| runtime.remove(&containers[*position].id));
                let results = futures_util::future::join_all(removals).await;
                for (position, result) in wave.into_iter().zip(results) {
                    if let Err(error) = result {
                        let name = &containers[position].name;
                        failed.push(format!("cannot remove container `{name}`: {error}"));
                    }
                }
            }
            // The copy goes once no container uses it any more.
            if let Some(copy) = private_copy
                && let Err(error) = runtime.remove_named_volume(&copy.name).await
            {
                failed.push(format!(
                    "cannot remove the job's copy of the source ({copy}): {error}"
                ));
            }
            failed
        }
    }

    fn abandon(self) -> Vec<String> {
        for watch in &self.exits {
            watch.task.abort();
        }
        let mut left: Vec<String> = self
            .containers
            .iter()
            .map(|container| {
                format!(
                    "container `{}` ({}) is left to the engine",
                    container.name, container.id
                )
            })
            .collect();
        if let Some(copy) = &self.private_copy {
            left.push(format!(
                "the job's copy of the source ({copy}) is left to the engine"
            ));
        }
        left
    }
}
