//! One job: check it may run, get its images and source, launch its containers in order, wait
//! for the primary, then stop and remove everything it created, whatever happened.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use drakefile::{Job, PullPolicy};
use eider_runtime::{ContainerId, ContainerSpec, Exit, NetworkMode, Runtime, RuntimeError};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::event::{Event, JobOutcome, OutputSource};
use crate::follow::{Followed, infrastructure_hint};
use crate::launch_pacer::JobClock;
use crate::output_budget::OutputBudget;
use crate::plan::{self, PlanContext, PlannedContainer};
use crate::policy::{self, Refusal};
use crate::run::{JobReport, Run};
use crate::socket_watch::SocketWatch;
use crate::sources::JobSource;

/// How long a container's output may keep flowing after it was killed before eider stops
/// reading it (the engine closes the stream on exit; this only guards against a stuck engine).
const OUTPUT_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// How long eider waits to hear that a container has exited, once the engine has said it does
/// not run (its wait request then answers at once).
const EXIT_NOTICE_TIMEOUT: Duration = Duration::from_secs(1);

/// The exit code of a process ended by SIGKILL (128 + 9), as eider's own kill leaves it.
const KILLED_EXIT_CODE: i64 = 137;

/// What a job has launched so far: everything here is torn down at the end.
struct Launched {
    /// The output all the job's containers may still print.
    output_budget: Arc<OutputBudget>,
    containers: Vec<(String, ContainerId)>,
    outputs: Vec<JoinHandle<Result<(), RuntimeError>>>,
    /// The started sidecars, in launch order, and whether each has exited.
    exits: Vec<ExitWatch>,
    /// Whether the primary has a TTY (to attach to it again after the engine restarted).
    primary_tty: bool,
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

impl Launched {
    fn new(output_budget: Arc<OutputBudget>) -> Self {
        Self {
            output_budget,
            containers: Vec::new(),
            outputs: Vec::new(),
            exits: Vec::new(),
            primary_tty: false,
            clock: JobClock::default(),
        }
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

    /// Whether `id` has exited, waiting a little for the news.
    async fn has_exited(&mut self, id: &ContainerId) -> bool {
        let Some(watch) = self.exits.iter_mut().find(|watch| &watch.id == id) else {
            return false;
        };
        matches!(
            tokio::time::timeout(EXIT_NOTICE_TIMEOUT, watch.exited.wait_for(Option::is_some)).await,
            Ok(Ok(_))
        )
    }
}

/// Why the launch stopped before the primary exited.
enum Stop {
    Outcome(JobOutcome),
}

impl<R: Runtime> Run<R> {
    /// Runs one job and reports how it ended. Never leaves a container behind.
    pub async fn run_job(&self, job: &Job) -> JobReport {
        let started = Instant::now();
        self.events
            .send(Event::JobStarted {
                job: job.name.clone(),
            })
            .await;
        let output_budget = Arc::new(OutputBudget::new(self.options.log_limit));
        let outcome = self.execute(job, started, &output_budget).await;
        let duration = started.elapsed();
        self.events
            .send(Event::JobFinished {
                job: job.name.clone(),
                outcome: outcome.clone(),
                duration,
            })
            .await;
        JobReport {
            name: job.name.clone(),
            outcome,
            duration,
            log_limit_reached: output_budget.is_reached(),
        }
    }

    async fn execute(
        &self,
        job: &Job,
        started: Instant,
        output_budget: &Arc<OutputBudget>,
    ) -> JobOutcome {
        if job.containers.is_empty() {
            self.warn(
                job,
                format!("job `{}` has no containers: nothing to run", job.name),
            )
            .await;
            return JobOutcome::Succeeded;
        }
        if let Err(refusal) = policy::check_permissions(job, &self.options) {
            return refused(refusal);
        }
        let deadline = started + self.options.timeout;
        let execution = self.executions.fetch_add(1, Ordering::Relaxed);
        let prepared = tokio::select! {
            biased;
            () = self.cancellation.graceful.cancelled() => return JobOutcome::Interrupted,
            () = tokio::time::sleep_until(deadline) => return self.timed_out(),
            prepared = self.prepare(job, execution) => prepared,
        };
        let source = match prepared {
            Ok(source) => source,
            Err(outcome) => return outcome,
        };
        let shared_volume = if plan::wants_shared_storage(job) {
            match self.shared_volume(job).await {
                Ok(volume) => Some(volume),
                Err(outcome) => return outcome,
            }
        } else {
            None
        };
        let context = PlanContext {
            run_id: &self.id,
            execution,
            options: &self.options,
            source: source.binding(),
            shared_volume: shared_volume.as_deref(),
        };
        let planned = plan::plan_job(job, context);
        let socket_watch = SocketWatch::begin(self.runtime.as_ref(), job).await;
        let mut launched = Launched::new(Arc::clone(output_budget));
        let outcome = match self.launch(job, planned, &mut launched, deadline).await {
            Ok(()) => self.wait_for_primary(job, &mut launched, deadline).await,
            Err(Stop::Outcome(outcome)) => outcome,
        };
        if matches!(outcome, JobOutcome::Succeeded | JobOutcome::Failed { .. })
            && let Some(timing) = launched.clock.timing()
        {
            self.launch_pacer.record(timing);
        }
        self.tear_down(job, launched, &outcome, source.into_private_copy())
            .await;
        if let Some(socket_watch) = socket_watch {
            let appeared = socket_watch.appeared(self.runtime.as_ref()).await;
            if !appeared.is_empty() {
                self.warn(
                    job,
                    format!(
                        "containers that eider did not create appeared while the job had the \
                         Docker socket and are still there: {} (eider leaves them; `docker rm \
                         -f NAME` removes one)",
                        appeared.join(", ")
                    ),
                )
                .await;
            }
        }
        outcome
    }

    /// Images and the source: the slow steps before any container exists, so they may be
    /// abandoned at any point (by a timeout or Ctrl-C) without leaving anything behind.
    async fn prepare(&self, job: &Job, execution: usize) -> Result<JobSource, JobOutcome> {
        self.ensure_images(job).await?;
        self.job_source(job, execution).await
    }

    /// Pulls what is absent (or everything, under `imagePullPolicy: Always`), once per image.
    async fn ensure_images(&self, job: &Job) -> Result<(), JobOutcome> {
        let mut seen: Vec<&str> = Vec::new();
        for container in &job.containers {
            let image = container.image.as_str();
            if seen.contains(&image) {
                continue;
            }
            seen.push(image);
            let known = self
                .present_images
                .lock()
                .is_ok_and(|present| present.contains(image));
            let present = match container.pull_policy {
                PullPolicy::Always => false,
                PullPolicy::IfNotPresent if known => true,
                PullPolicy::IfNotPresent => match self.runtime.image_exists(image).await {
                    Ok(present) => present,
                    Err(error) => {
                        return Err(backend_error(
                            job,
                            Some(&container.name),
                            &format!("cannot look up image `{image}`"),
                            &error,
                        ));
                    }
                },
            };
            if present {
                self.remember_image(image);
                continue;
            }
            self.events
                .send(Event::PullStarted {
                    job: job.name.clone(),
                    container: container.name.clone(),
                    image: image.to_owned(),
                })
                .await;
            let pull_started = Instant::now();
            let events = self.events.clone();
            let reported_image = image.to_owned();
            let progress = move |progress| {
                events.try_send(Event::PullProgress {
                    image: reported_image.clone(),
                    progress,
                });
            };
            if let Err(error) = self.runtime.pull_image(image, &progress).await {
                if error.is_backend_fault() {
                    // The engine went away mid-pull: nothing is known about the image.
                    return Err(backend_error(
                        job,
                        Some(&container.name),
                        &format!("cannot pull image `{image}`"),
                        &error,
                    ));
                }
                return Err(JobOutcome::Error {
                    message: format!(
                        "job `{}`: container `{}`: image `{image}` is not available: {}",
                        job.name,
                        container.name,
                        pull_error_text(&error)
                    ),
                    hint: Some(
                        "check the image name and that its registry is reachable; images built \
                         locally must be present in the engine (`docker images`)"
                            .to_owned(),
                    ),
                });
            }
            self.remember_image(image);
            self.events
                .send(Event::PullFinished {
                    image: image.to_owned(),
                    duration: pull_started.elapsed(),
                })
                .await;
        }
        Ok(())
    }

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
    async fn launch(
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
    async fn check_platform(&self, job: &Job) -> Result<(), Stop> {
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
    async fn create_and_attach(
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
    async fn forward_output(
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
    async fn discard_last(
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
    fn watch_exit(&self, name: &str, id: &ContainerId) -> ExitWatch {
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

    /// The job ends when the primary's main process exits (the spec's rule), the deadline passes, or the
    /// run is interrupted; an engine that fails meanwhile ends it as an infrastructure failure.
    async fn wait_for_primary(
        &self,
        job: &Job,
        launched: &mut Launched,
        deadline: Instant,
    ) -> JobOutcome {
        let Some((name, id)) = launched.containers.last().cloned() else {
            return JobOutcome::Succeeded;
        };
        tokio::select! {
            biased;
            () = self.cancellation.graceful.cancelled() => JobOutcome::Interrupted,
            () = tokio::time::sleep_until(deadline) => self.timed_out(),
            outcome = self.follow_primary(job, &name, &id, launched) => outcome,
        }
    }

    /// Follows the primary until it exits, attaching to it again each time the engine comes
    /// back from a restart that the container survived.
    async fn follow_primary(
        &self,
        job: &Job,
        name: &str,
        id: &ContainerId,
        launched: &mut Launched,
    ) -> JobOutcome {
        loop {
            let exit = match self.follow_container(job, name, id).await {
                Followed::Exited(exit) => exit,
                Followed::Failed(outcome) => {
                    self.needs_sweep.store(true, Ordering::Relaxed);
                    return outcome;
                }
                Followed::StillRunning => {
                    if let Some(broken) = launched.outputs.pop() {
                        drain(broken).await;
                    }
                    match self
                        .forward_output(
                            job,
                            name,
                            id,
                            launched.primary_tty,
                            &launched.output_budget,
                        )
                        .await
                    {
                        Ok(output) => launched.outputs.push(output),
                        Err(outcome) => return outcome,
                    }
                    self.warn(
                        job,
                        format!(
                            "the container engine is back and container `{name}` still runs: \
                             following it again (output it wrote while the engine was away may \
                             be missing)"
                        ),
                    )
                    .await;
                    continue;
                }
            };
            return if exit.code == 0 {
                JobOutcome::Succeeded
            } else {
                JobOutcome::Failed {
                    container: name.to_owned(),
                    exit_code: exit.code,
                    out_of_memory: exit.out_of_memory,
                }
            };
        }
    }

    /// Stops what still runs (the spec has sidecars forcibly terminated once the primary ends), lets the
    /// output drain, and removes every container.
    async fn tear_down(
        &self,
        job: &Job,
        launched: Launched,
        outcome: &JobOutcome,
        private_copy: Option<String>,
    ) {
        let Launched {
            containers,
            outputs,
            exits,
            ..
        } = launched;
        if self.backend_lost.load(Ordering::Relaxed) {
            for watch in exits {
                watch.task.abort();
            }
            self.abandon(&containers, outputs, private_copy);
            return;
        }
        let primary_exited = matches!(outcome, JobOutcome::Succeeded | JobOutcome::Failed { .. });
        let mut outputs = outputs;
        if primary_exited {
            // The primary's stream ends with its process: print all of it before anything else.
            if let Some(primary_output) = outputs.pop() {
                drain(primary_output).await;
            }
        }
        if matches!(outcome, JobOutcome::Interrupted) {
            let grace = self.options.grace_period;
            let stops = containers
                .iter()
                .map(|(_, id)| self.runtime.stop(id, grace));
            tokio::select! {
                _ = futures_util::future::join_all(stops) => {}
                () = self.cancellation.immediate.cancelled() => self.kill_all(&containers).await,
            }
            for watch in exits {
                watch.task.abort();
            }
        } else {
            // An exited primary needs no signal (the engine would only answer that it does not
            // run): kill what may still run.
            let running = if primary_exited {
                containers
                    .split_last()
                    .map_or(&[][..], |(_, sidecars)| sidecars)
            } else {
                &containers[..]
            };
            self.kill_all(running).await;
            self.report_crashed_sidecars(job, exits).await;
        }
        for output in outputs {
            drain(output).await;
        }
        // Removed in the background: the job's result is known and its output printed, and in a
        // pipeline the jobs that waited for this one launch now. The removal goes on beside
        // them rather than after them: in a pipeline whose jobs launch back to back, removals
        // held back would pile up and then all go at once, stalling the launches of that time.
        let runtime = Arc::clone(&self.runtime);
        let removal = tokio::spawn(async move {
            // The dependents' launches are under way first.
            tokio::task::yield_now().await;
            let removals = containers
                .iter()
                .map(|(_, id)| runtime.remove_container(id));
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
            if let Some(volume) = private_copy
                && let Err(error) = runtime.remove_volume(&volume).await
            {
                failed.push(format!(
                    "cannot remove the job's copy of the source ({volume}): {error}"
                ));
            }
            failed
        });
        if let Ok(mut removals) = self.removals.lock() {
            removals.push(removal);
        }
    }

    /// Leaves a job's containers to an engine that does not answer (each request would wait the
    /// whole engine timeout): they carry the run's labels, so `eider clean` finds them.
    fn abandon(
        &self,
        containers: &[(String, ContainerId)],
        outputs: Vec<JoinHandle<Result<(), RuntimeError>>>,
        private_copy: Option<String>,
    ) {
        for output in outputs {
            output.abort();
        }
        let mut left: Vec<String> = containers
            .iter()
            .map(|(name, id)| format!("container `{name}` ({id}) is left to the engine"))
            .collect();
        if let Some(volume) = private_copy {
            left.push(format!(
                "the job's copy of the source ({volume}) is left to the engine"
            ));
        }
        if let Ok(mut removals) = self.removals.lock() {
            removals.push(tokio::spawn(async move { left }));
        }
    }

    /// Warns about every sidecar that ended on its own with a failure while the job ran: the
    /// job's result is its primary's, but a crashed sidecar should not go unnoticed. Called
    /// once the sidecars still running were killed, so every exit is known or about to be;
    /// a plain SIGKILL exit (137) is eider's own kill and says nothing.
    async fn report_crashed_sidecars(&self, job: &Job, exits: Vec<ExitWatch>) {
        let exits = exits.into_iter().map(|mut watch| async move {
            let exit =
                tokio::time::timeout(EXIT_NOTICE_TIMEOUT, watch.exited.wait_for(Option::is_some))
                    .await
                    .ok()
                    .and_then(|exit| exit.ok().and_then(|exit| *exit));
            watch.task.abort();
            (watch.name, exit)
        });
        for (name, exit) in futures_util::future::join_all(exits).await {
            let Some(exit) = exit else { continue };
            let message = if exit.out_of_memory {
                format!(
                    "sidecar `{name}` ran out of memory (exit code {}) while the job ran",
                    exit.code
                )
            } else if exit.code != 0 && exit.code != KILLED_EXIT_CODE {
                format!(
                    "sidecar `{name}` exited with code {} while the job ran",
                    exit.code
                )
            } else {
                continue;
            };
            self.warn(job, message).await;
        }
    }

    fn remember_image(&self, image: &str) {
        if let Ok(mut present) = self.present_images.lock() {
            present.insert(image.to_owned());
        }
    }

    async fn kill_all(&self, containers: &[(String, ContainerId)]) {
        let kills = containers.iter().map(|(_, id)| self.runtime.kill(id));
        futures_util::future::join_all(kills).await;
    }

    pub(crate) async fn warn(&self, job: &Job, message: String) {
        self.events
            .send(Event::Warning {
                job: Some(job.name.clone()),
                message,
            })
            .await;
    }

    fn timed_out(&self) -> JobOutcome {
        JobOutcome::TimedOut {
            after: self.options.timeout,
        }
    }
}

/// Waits for an output task to finish, giving up after a while.
async fn drain(output: JoinHandle<Result<(), RuntimeError>>) {
    let abort = output.abort_handle();
    if tokio::time::timeout(OUTPUT_DRAIN_TIMEOUT, output)
        .await
        .is_err()
    {
        abort.abort();
    }
}

fn refused(refusal: Refusal) -> JobOutcome {
    JobOutcome::Error {
        message: refusal.message,
        hint: refusal.hint,
    }
}

/// An engine error, naming the job and the container.
pub(crate) fn backend_error(
    job: &Job,
    container: Option<&str>,
    what: &str,
    error: &RuntimeError,
) -> JobOutcome {
    let place = match container {
        Some(container) => format!("job `{}`: container `{container}`", job.name),
        None => format!("job `{}`", job.name),
    };
    let message = format!("{place}: {what}: {error}");
    if error.is_backend_fault() {
        JobOutcome::InfrastructureFailure {
            message,
            hint: Some(infrastructure_hint()),
        }
    } else {
        JobOutcome::Error {
            message,
            hint: None,
        }
    }
}

fn pull_error_text(error: &RuntimeError) -> String {
    match error {
        RuntimeError::ImageUnavailable { message, .. } => message.clone(),
        other => other.to_string(),
    }
}
