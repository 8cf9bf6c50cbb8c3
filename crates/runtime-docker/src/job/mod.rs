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
use crate::socket_watch::SocketWatch;

/// How long eider waits to hear that a container has exited, once the engine has said it does
/// not run (its wait request then answers at once).
const EXIT_NOTICE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// A job on the engine, whole or in part: everything here is ended and removed at the end.
pub struct DockerJob {
    runtime: DockerRuntime,
    /// Every container created, by its name in the Drakefile, in launch order.
    containers: Vec<(String, ContainerId)>,
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
            let removals = containers.iter().map(|(_, id)| runtime.remove(id));
            let mut failed = Vec::new();
            for ((name, _), result) in containers
                .iter()
                .zip(futures_util::future::join_all(removals).await)
            {
                if let Err(error) = result {
                    failed.push(format!("cannot remove container `{name}`: {error}"));
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
            .map(|(name, id)| format!("container `{name}` ({id}) is left to the engine"))
            .collect();
        if let Some(copy) = &self.private_copy {
            left.push(format!(
                "the job's copy of the source ({copy}) is left to the engine"
            ));
        }
        left
    }
}
