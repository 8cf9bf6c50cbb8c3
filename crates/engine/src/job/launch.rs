//! Launching a job's containers in order, sidecars first, each attached before it starts, all
//! sharing one network namespace.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use drakefile::Job;
use eider_runtime::{ContainerId, ContainerSpec, NetworkMode, Runtime, RuntimeError};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::event::{Event, JobOutcome, OutputSource};
use crate::output_budget::OutputBudget;
use crate::plan::PlannedContainer;
use crate::policy;
use crate::run::Run;

use super::{ExitWatch, Launched, Stop, backend_error, drain, refused};

impl<R: Runtime> Run<R> {
    /// Creates, attaches and starts the containers in order. Each step runs to completion (a
    /// request abandoned half-way could create a container eider never hears of); cancellation
    /// and the deadline are checked between steps.
    ///
    /// One network namespace per job, so that all its containers reach each other on
    /// 127.0.0.1, as the spec promises: each container joins the namespace of the latest one launched that
    /// still runs. The namespace lives as long as one of its containers does, but the engine
    /// refuses to start a container that would join one that has exited, and sidecars may
    /// exit early (a one-shot task, a crash): the job must not fail for it, since only the primary
    /// decides its result.
    pub(super) async fn launch(
        &self,
        job: &Job,
        planned: Vec<PlannedContainer>,
        launched: &mut Launched,
        deadline: Instant,
    ) -> Result<(), Stop> {
        let launch = tokio::select! {
            biased;
            () = self.cancellation.graceful.cancelled() => {
                return Err(Stop::Outcome(JobOutcome::Interrupted));
            }
            () = tokio::time::sleep_until(deadline) => return Err(Stop::Outcome(self.timed_out())),
            launch = self.launch_pacer.launch() => launch,
        };
        launched.clock.launch_began(launch.at_once());
        // A container that starts a namespace gets the network the plan gave the first one.
        let own_network = planned
            .first()
            .map_or(NetworkMode::Default, |first| first.spec.network.clone());
        for container in planned {
            loop {
                if self.cancellation.graceful.is_cancelled() {
                    return Err(Stop::Outcome(JobOutcome::Interrupted));
                }
                if Instant::now() >= deadline {
                    return Err(Stop::Outcome(self.timed_out()));
                }
                let joined = launched.running_member();
                let mut spec = container.spec.clone();
                spec.network = joined
                    .clone()
                    .map_or_else(|| own_network.clone(), NetworkMode::Join);
                let id = self
                    .create_and_attach(job, &container, &spec, launched)
                    .await?;
                if launched.containers.len() == 1 {
                    // Asked of the engine while the first container was being created; checked
                    // before anything of the job starts.
                    self.check_platform(job).await?;
                }
                match self.runtime.start(&id).await {
                    Ok(()) => {
                        if container.primary {
                            launched.clock.primary_started(launch.at_once());
                        } else {
                            launched.exits.push(self.watch_exit(&container.name, &id));
                        }
                        break;
                    }
                    Err(error) => {
                        if let Some(joined) = joined
                            && launched.has_exited(&joined).await
                        {
                            // It exited between the check and the start, taking its namespace
                            // with it: launch this container again, into another one.
                            self.discard_last(job, &container.name, launched).await?;
                            continue;
                        }
                        let mut outcome = backend_error(
                            job,
                            Some(&container.name),
                            "cannot start the container",
                            &error,
                        );
                        if spec.privileged
                            && let JobOutcome::Error { hint, .. } = &mut outcome
                        {
                            *hint = Some(
                                "the engine was asked for a privileged container and could not start it: this \
                                 machine may not allow privileged containers (a restricted VM, a \
                                 rootless engine)"
                                    .to_owned(),
                            );
                        }
                        return Err(Stop::Outcome(outcome));
                    }
                }
            }
            self.events
                .send(Event::ContainerStarted {
                    job: job.name.clone(),
                    container: container.name.clone(),
                    primary: container.primary,
                })
                .await;
        }
        Ok(())
    }

    /// Refuses a job whose `osFamily` or `cpuArch` the engine cannot run.
    pub(super) async fn check_platform(&self, job: &Job) -> Result<(), Stop> {
        match self.platform().await {
            Ok(platform) => policy::check_platform(job, self.spec_version, platform)
                .map_err(|refusal| Stop::Outcome(refused(refusal))),
            Err(error) => Err(Stop::Outcome(backend_error(
                job,
                None,
                "cannot ask the engine its platform",
                &error,
            ))),
        }
    }

    /// Creates a container and attaches to its output (before it starts: every byte the main
    /// process writes is read, including a last line without a newline).
    pub(super) async fn create_and_attach(
        &self,
        job: &Job,
        container: &PlannedContainer,
        spec: &ContainerSpec,
        launched: &mut Launched,
    ) -> Result<ContainerId, Stop> {
        let id = match self.runtime.create_container(spec).await {
            Ok(id) => id,
            Err(error) => {
                self.needs_sweep.store(true, Ordering::Relaxed);
                return Err(Stop::Outcome(backend_error(
                    job,
                    Some(&container.name),
                    "cannot create the container",
                    &error,
                )));
            }
        };
        launched
            .containers
            .push((container.name.clone(), id.clone()));
        if container.primary {
            launched.primary_tty = spec.tty;
        }
        let output = self
            .forward_output(job, &container.name, &id, spec.tty, &launched.output_budget)
            .await
            .map_err(Stop::Outcome)?;
        launched.outputs.push(output);
        Ok(id)
    }

    /// Attaches to a container's output and forwards it as events until the stream ends.
    pub(super) async fn forward_output(
        &self,
        job: &Job,
        name: &str,
        id: &ContainerId,
        tty: bool,
        budget: &Arc<OutputBudget>,
    ) -> Result<JoinHandle<Result<(), RuntimeError>>, JobOutcome> {
        let stream = self.runtime.attach(id, tty).await.map_err(|error| {
            backend_error(job, Some(name), "cannot attach to the container", &error)
        })?;
        let source = Arc::new(OutputSource {
            run_id: self.id.clone(),
            job: job.name.clone(),
            container: name.to_owned(),
        });
        Ok(tokio::spawn(crate::output::forward(
            stream,
            source,
            Arc::clone(&self.masker),
            Arc::clone(budget),
            self.events.clone(),
        )))
    }

    /// Removes the last container created, which never started, so that it can be created
    /// again under the same name.
    pub(super) async fn discard_last(
        &self,
        job: &Job,
        name: &str,
        launched: &mut Launched,
    ) -> Result<(), Stop> {
        if let Some((_, id)) = launched.containers.pop()
            && let Err(error) = self.runtime.remove_container(&id).await
        {
            self.needs_sweep.store(true, Ordering::Relaxed);
            return Err(Stop::Outcome(backend_error(
                job,
                Some(name),
                "cannot remove a container that could not start",
                &error,
            )));
        }
        if let Some(output) = launched.outputs.pop() {
            drain(output).await;
        }
        Ok(())
    }

    /// Watches a started sidecar until it exits.
    pub(super) fn watch_exit(&self, name: &str, id: &ContainerId) -> ExitWatch {
        let (sender, exited) = watch::channel(None);
        let runtime = Arc::clone(&self.runtime);
        let watched = id.clone();
        let task = tokio::spawn(async move {
            // An engine error says nothing about the container: it then counts as running.
            if let Ok(exit) = runtime.wait(&watched).await {
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
