//! Launching a job's containers in order, sidecars first, each attached before it starts, all
//! sharing one network namespace.

use eider_runtime::{
    JobObserver, JobSpec, LaunchControl, LaunchError, MountContent, RuntimeError, SourceView,
};
use tokio::sync::watch;

use crate::DockerRuntime;
use crate::connect::EngineKind;
use crate::create_spec::create_spec;
use crate::model::{ContainerId, ContainerState, CreateSpec, NetworkMode};
use crate::socket_watch::SocketWatch;

use super::{DockerJob, EXIT_NOTICE_TIMEOUT, ExitWatch, JobContainer};

/// The step of a container's launch that failed.
#[derive(Debug, Clone, Copy)]
enum Step {
    Attach,
    Start,
}

/// Why a privileged container may fail to start.
const PRIVILEGED_HINT: &str = "the engine was asked for a privileged container and could not \
                               start it: this machine may not allow privileged containers (a \
                               restricted VM, a rootless engine)";

impl DockerRuntime {
    pub(crate) async fn launch_job(
        &self,
        spec: JobSpec,
        observer: &dyn JobObserver,
        control: LaunchControl<'_>,
    ) -> (DockerJob, Result<(), LaunchError>) {
        let private_copy = spec
            .containers
            .iter()
            .flat_map(|container| &container.mounts)
            .find_map(|mount| match &mount.content {
                MountContent::Source(SourceView::PrivateCopy(storage)) => Some(storage.clone()),
                _ => None,
            });
        let mut job = DockerJob::new(self.clone(), private_copy);
        if spec
            .containers
            .iter()
            .any(|container| container.engine_socket)
        {
            job.socket_watch = SocketWatch::begin(self).await;
        }
        let launched = job.launch(&spec, observer, control).await;
        (job, launched)
    }
}

impl DockerJob {
    /// Creates, attaches and starts the containers in order. Each step runs to completion (a
    /// request abandoned half-way could create a container eider never hears of); `stop` is
    /// asked between steps, and the engine's admission is awaited once the first container is
    /// created (the engine's answer overlaps that creation) and before anything starts.
    ///
    /// One network namespace per job, so that all its containers reach each other on
    /// 127.0.0.1, as the spec promises: each container joins the namespace of the latest one
    /// launched that still runs. The namespace lives as long as one of its containers does, but
    /// the engine refuses to start a container that would join one that has exited, and
    /// sidecars may exit early (a one-shot task, a crash): the job must not fail for it, since
    /// only the primary decides its result.
    async fn launch(
        &mut self,
        spec: &JobSpec,
        observer: &dyn JobObserver,
        control: LaunchControl<'_>,
    ) -> Result<(), LaunchError> {
        let LaunchControl { stop, admit } = control;
        let mut admit = Some(admit);
        let pacer = std::sync::Arc::clone(&self.runtime.pacer);
        pacer.set_slots(spec.parallel_jobs);
        let turn = tokio::select! {
            biased;
            () = stop.requested() => return Err(LaunchError::Stopped),
            turn = pacer.launch() => turn,
        };
        self.clock.launch_began(turn.at_once());
        let host = self.runtime.host.clone();
        let count = spec.containers.len();
        // A container that starts a namespace gets the network the first one was given.
        let mut own_network = NetworkMode::Default;
        for (index, container) in spec.containers.iter().enumerate() {
            let primary = index + 1 == count;
            let planned = create_spec(spec, container, index == 0, &host);
            if index == 0 {
                own_network = planned.network.clone();
            }
            loop {
                if stop.is_requested() {
                    return Err(LaunchError::Stopped);
                }
                let joined = self.running_member();
                let mut create = planned.clone();
                create.network = joined
                    .clone()
                    .map_or_else(|| own_network.clone(), NetworkMode::Join);
                let id = self.create(&container.name, primary, &create).await?;
                let started = match self
                    .attach(&container.name, primary, &id, &create, observer)
                    .await
                {
                    Ok(()) => {
                        if let Some(admit) = admit.take()
                            && !admit.await
                        {
                            return Err(LaunchError::NotAdmitted);
                        }
                        self.runtime
                            .start_container(&id)
                            .await
                            .map_err(|error| (Step::Start, error))
                    }
                    Err(error) => Err((Step::Attach, error)),
                };
                match started {
                    Ok(()) => {
                        if primary {
                            self.clock.primary_started(turn.at_once());
                        } else {
                            self.exits.push(self.watch_exit(&container.name, &id));
                        }
                        break;
                    }
                    Err((step, error)) => {
                        if let Some(joined) = joined
                            && self.has_exited(&joined).await
                        {
                            // It exited between the check and the start (or, on Podman, the
                            // attach), taking its namespace with it: launch this container
                            // again, into another one.
                            self.discard_last(&container.name).await?;
                            continue;
                        }
                        // Boxed: a rare path, which would otherwise enlarge every launch.
                        let failure = self.failure(&container.name, &create, step, error);
                        return Err(Box::pin(failure).await);
                    }
                }
            }
            observer.started(&container.name, primary).await;
        }
        Ok(())
    }

    /// Creates a container, recording it (and the namespace it joins) as the job's.
    async fn create(
        &mut self,
        name: &str,
        primary: bool,
        create: &CreateSpec,
    ) -> Result<ContainerId, LaunchError> {
        let id = self
            .runtime
            .create(create)
            .await
            .map_err(|error| LaunchError::Failed {
                container: Some(name.to_owned()),
                what: "cannot create the container".to_owned(),
                error,
                hint: None,
            })?;
        let joined = match &create.network {
            NetworkMode::Join(owner) => Some(owner.clone()),
            NetworkMode::Default | NetworkMode::Named(_) => None,
        };
        self.containers.push(JobContainer {
            name: name.to_owned(),
            id: id.clone(),
            joined,
        });
        if primary {
            self.primary_tty = create.tty;
        }
        Ok(id)
    }

    /// Attaches to a created container's output (before it starts: every byte the main process
    /// writes is read, including a last line without a newline).
    async fn attach(
        &self,
        name: &str,
        primary: bool,
        id: &ContainerId,
        create: &CreateSpec,
        observer: &dyn JobObserver,
    ) -> Result<(), RuntimeError> {
        let stream = self.runtime.attach_output(id, create.tty).await?;
        observer.output(name, primary, stream);
        Ok(())
    }

    /// The launch failure of `step`. Podman creates a container's process (`runc create`) when
    /// a client attaches to the container, where the Docker Engine does so when it starts it:
    /// a program that does not exist, a namespace to join that is gone or a privilege the
    /// machine refuses fail the attach there, and are told as the failure to start that they
    /// are.
    async fn failure(
        &self,
        name: &str,
        create: &CreateSpec,
        step: Step,
        error: RuntimeError,
    ) -> LaunchError {
        let starting = match step {
            Step::Start => true,
            Step::Attach => matches!(
                self.runtime.version.get().await,
                Ok(version) if version.kind == EngineKind::Podman
            ),
        };
        let (what, hint) = if starting {
            let hint = (create.privileged && !error.is_backend_fault())
                .then(|| PRIVILEGED_HINT.to_owned());
            ("cannot start the container", hint)
        } else {
            ("cannot attach to the container", None)
        };
        LaunchError::Failed {
            container: Some(name.to_owned()),
            what: what.to_owned(),
            error,
            hint,
        }
    }

    /// Removes the last container created, which never started, so that it can be created
    /// again under the same name.
    async fn discard_last(&mut self, name: &str) -> Result<(), LaunchError> {
        if let Some(container) = self.containers.pop()
            && let Err(error) = self.runtime.remove(&container.id).await
        {
            return Err(LaunchError::Failed {
                container: Some(name.to_owned()),
                what: "cannot remove a container that could not start".to_owned(),
                error,
                hint: None,
            });
        }
        Ok(())
    }

    /// The latest sidecar started that has not exited: the one whose network namespace the next
    /// container joins.
    fn running_member(&self) -> Option<ContainerId> {
        self.exits
            .iter()
            .rev()
            .find(|watch| watch.exited.borrow().is_none())
            .map(|watch| watch.id.clone())
    }

    /// Whether `id` has exited, waiting a little for the news, then asking the engine: Podman
    /// answers a wait by polling the container's state, which a busy Podman may do later than
    /// the news is wanted here.
    async fn has_exited(&mut self, id: &ContainerId) -> bool {
        let Some(watch) = self.exits.iter_mut().find(|watch| &watch.id == id) else {
            return false;
        };
        let noticed = matches!(
            tokio::time::timeout(EXIT_NOTICE_TIMEOUT, watch.exited.wait_for(Option::is_some)).await,
            Ok(Ok(_))
        );
        // Boxed: a rare path, which would otherwise enlarge every launch.
        noticed
            || matches!(
                Box::pin(self.runtime.state_of(id)).await,
                Ok(ContainerState::Exited(_) | ContainerState::Missing)
            )
    }

    /// Watches a started sidecar until it exits.
    fn watch_exit(&self, name: &str, id: &ContainerId) -> ExitWatch {
        let (sender, exited) = watch::channel(None);
        let runtime = self.runtime.clone();
        let watched = id.clone();
        let task = tokio::spawn(async move {
            // An engine error says nothing about the container: it then counts as running.
            if let Ok(exit) = runtime.wait_container(&watched).await {
                let _ignored = sender.send(Some(exit));
            }
        });
        ExitWatch {
            name: name.to_owned(),
            id: id.clone(),
            exited,
            task,
        }
    }
}
