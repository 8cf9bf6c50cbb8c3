//! The kubelet: runs a bound Pod's containers as host processes (init containers in order,
//! native sidecars kept running, then the regular containers), reports their states in the Pod's
//! status, enforces `activeDeadlineSeconds` and carries out deletions within the grace period.
//!
//! The processes share the host's network and file system, as a Pod's containers share
//! localhost: this double isolates nothing, it only keeps the protocol.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher};
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated,
    ContainerStateWaiting, ContainerStatus, HostIP, Pod, PodCondition, PodIP, PodSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use nix::sys::signal::Signal;
use serde_json::Value;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::api;
use crate::claims::Mounts;
use crate::logs::ContainerLog;
use crate::process::{ContainerProcess, Launch};
use crate::scheduler::{set_condition, update_pod};
use crate::shared::{ExecTarget, Shared, Termination, lock};
use crate::store::{Kind, ObjectKey, uid_of};

/// The environment every container starts with, before its own variables.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// How long an image pull failure shows as `ErrImagePull` before `ImagePullBackOff`, and how
/// often a container configuration error is retried.
const RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// How long killed processes get to be reaped before the kubelet stops waiting.
const KILL_WAIT: Duration = Duration::from_secs(5);

/// Starts running a bound Pod.
pub(crate) fn run(
    shared: &Arc<Shared>,
    key: ObjectKey,
    uid: String,
    termination: watch::Receiver<Option<Termination>>,
) {
    let shared = Arc::clone(shared);
    tokio::spawn(async move {
        let Some(pod) = current_pod(&shared, &key, &uid) else {
            lock(&shared.kubelet_pods).remove(&uid);
            return;
        };
        let run = PodRun::new(Arc::clone(&shared), key, uid.clone(), &pod);
        run.run(termination).await;
        lock(&shared.kubelet_pods).remove(&uid);
        lock(&shared.exec_targets).retain(|(pod, _), _| *pod != uid);
        let _ = std::fs::remove_dir_all(&run.scratch);
    });
}

fn current_pod(shared: &Shared, key: &ObjectKey, uid: &str) -> Option<Pod> {
    let store = lock(&shared.store);
    let object = store
        .get(key)
        .filter(|object| uid_of(object) == Some(uid))?;
    serde_json::from_value(object.clone()).ok()
}

/// One container of the Pod and what the kubelet knows of it.
// The flags are the status fields the kubelet reports, each on its own.
#[allow(clippy::struct_excessive_bools)]
struct Slot {
    spec: Container,
    init: bool,
    sidecar: bool,
    /// The image as the runtime names it, e.g. `docker.io/library/busybox:latest`.
    image: String,
    image_id: String,
    container_id: String,
    state: ContainerState,
    started: bool,
    ready: bool,
    process: Option<Arc<ContainerProcess>>,
}

impl Slot {
    fn terminated(&self) -> Option<&ContainerStateTerminated> {
        self.state.terminated.as_ref()
    }

    fn waiting(&self) -> bool {
        self.state.waiting.is_some()
    }

    fn running(&self) -> bool {
        self.state.running.is_some()
    }

    fn status(&self) -> ContainerStatus {
        let started = self.state.running.is_some() || self.state.terminated.is_some();
        ContainerStatus {
            name: self.spec.name.clone(),
            image: if started {
                self.image.clone()
            } else {
                self.spec.image.clone().unwrap_or_default()
            },
            image_id: if started {
                self.image_id.clone()
            } else {
                String::new()
            },
            container_id: started.then(|| self.container_id.clone()),
            ready: self.ready,
            started: Some(self.started),
            restart_count: 0,
            state: Some(self.state.clone()),
            ..ContainerStatus::default()
        }
    }
}

/// The Pod's status as the kubelet builds it.
struct PodState {
    slots: Vec<Slot>,
    phase: &'static str,
    reason: Option<String>,
    message: Option<String>,
    start_time: Timestamp,
    initialized: bool,
    sandbox_ready: bool,
}

fn waiting(reason: &str, message: Option<String>) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.to_owned()),
            message,
        }),
        ..ContainerState::default()
    }
}

fn condition(
    type_: &str,
    ready: bool,
    reason: Option<&str>,
    message: Option<String>,
) -> PodCondition {
    PodCondition {
        type_: type_.to_owned(),
        status: if ready { "True" } else { "False" }.to_owned(),
        reason: reason.map(str::to_owned),
        message,
        last_transition_time: Some(Time(crate::store::now())),
        ..PodCondition::default()
    }
}

impl PodState {
    fn conditions(&self) -> Vec<PodCondition> {
        let terminal = self.phase == "Succeeded" || self.phase == "Failed";
        let incomplete: Vec<&str> = self
            .slots
            .iter()
            .filter(|slot| slot.init)
            .filter(|slot| {
                if slot.sidecar {
                    !slot.started
                } else {
                    slot.terminated()
                        .is_none_or(|terminated| terminated.exit_code != 0)
                }
            })
            .map(|slot| slot.spec.name.as_str())
            .collect();
        let initialized = self.initialized || incomplete.is_empty();
        let unready: Vec<&str> = self
            .slots
            .iter()
            .filter(|slot| (!slot.init || slot.sidecar) && !slot.ready)
            .map(|slot| slot.spec.name.as_str())
            .collect();
        let ready = unready.is_empty() && !terminal;
        let (ready_reason, ready_message) = if ready {
            (None, None)
        } else if terminal {
            (Some("PodCompleted"), None)
        } else {
            (
                Some("ContainersNotReady"),
                Some(format!(
                    "containers with unready status: [{}]",
                    unready.join(" ")
                )),
            )
        };
        vec![
            condition("PodReadyToStartContainers", self.sandbox_ready, None, None),
            if initialized {
                condition("Initialized", true, None, None)
            } else {
                condition(
                    "Initialized",
                    false,
                    Some("ContainersNotInitialized"),
                    Some(format!(
                        "containers with incomplete status: [{}]",
                        incomplete.join(" ")
                    )),
                )
            },
            condition("Ready", ready, ready_reason, ready_message.clone()),
            condition("ContainersReady", ready, ready_reason, ready_message),
        ]
    }

    fn apply(&self, pod: &mut Pod) {
        let status = pod.status.get_or_insert_with(Default::default);
        status.phase = Some(self.phase.to_owned());
        status.reason.clone_from(&self.reason);
        status.message.clone_from(&self.message);
        status.host_ip = Some("127.0.0.1".to_owned());
        status.host_ips = Some(vec![HostIP {
            ip: "127.0.0.1".to_owned(),
        }]);
        status.pod_ip = Some("127.0.0.1".to_owned());
        status.pod_ips = Some(vec![PodIP {
            ip: "127.0.0.1".to_owned(),
        }]);
        status.start_time = Some(Time(self.start_time));
        let conditions = status.conditions.get_or_insert_with(Vec::new);
        for new in self.conditions() {
            set_condition(conditions, new);
        }
        // The real kubelet lists them in this order, PodScheduled last.
        let order = [
            "PodReadyToStartContainers",
            "Initialized",
            "Ready",
            "ContainersReady",
            "PodScheduled",
        ];
        conditions.sort_by_key(|condition| {
            order
                .iter()
                .position(|type_| *type_ == condition.type_)
                .unwrap_or(order.len())
        });
        let init: Vec<ContainerStatus> = self
            .slots
            .iter()
            .filter(|slot| slot.init)
            .map(Slot::status)
            .collect();
        status.init_container_statuses = if init.is_empty() { None } else { Some(init) };
        status.container_statuses = Some(
            self.slots
                .iter()
                .filter(|slot| !slot.init)
                .map(Slot::status)
                .collect(),
        );
    }
}

/// A digest made from the image reference: the double pulls nothing, but clients expect an id.
fn digest(text: &str) -> String {
    let mut hex = String::with_capacity(64);
    for part in 0..4_u64 {
        let mut hasher =
            std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
                .build_hasher();
        hasher.write_u64(part);
        hasher.write(text.as_bytes());
        let _ = write!(hex, "{:016x}", hasher.finish());
    }
    hex
}

/// The image reference as containerd normalizes it: `busybox` is
/// `docker.io/library/busybox:latest`.
pub(crate) fn normalize_image(image: &str) -> String {
    let (domain, rest) = match image.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
            (first.to_owned(), rest.to_owned())
        }
        _ => ("docker.io".to_owned(), image.to_owned()),
    };
    let rest = if domain == "docker.io" && !rest.contains('/') {
        format!("library/{rest}")
    } else {
        rest
    };
    let last = rest.rsplit('/').next().unwrap_or(&rest);
    let tagged = rest.contains('@') || last.contains(':');
    format!("{domain}/{rest}{}", if tagged { "" } else { ":latest" })
}

fn repository(reference: &str) -> &str {
    if let Some((repository, _)) = reference.split_once('@') {
        return repository;
    }
    match reference.rfind(':') {
        Some(colon) if !reference[colon..].contains('/') => &reference[..colon],
        _ => reference,
    }
}

enum Started {
    Yes,
    /// Started and exited at once (the runtime could not start it).
    Failed,
}

struct PodRun {
    shared: Arc<Shared>,
    key: ObjectKey,
    uid: String,
    spec: PodSpec,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    state: Arc<Mutex<PodState>>,
    /// Bumped whenever a container exits.
    exits: watch::Sender<u64>,
    scratch: PathBuf,
}

enum Interruption {
    Deleted(u64),
    Deadline,
    Shutdown,
}

impl PodRun {
    fn new(shared: Arc<Shared>, key: ObjectKey, uid: String, pod: &Pod) -> Self {
        let spec = pod.spec.clone().unwrap_or_default();
        let has_init = spec
            .init_containers
            .as_ref()
            .is_some_and(|containers| !containers.is_empty());
        let make_slot = |container: &Container, init: bool| {
            let image = normalize_image(container.image.as_deref().unwrap_or(""));
            let image_id = format!("{}@sha256:{}", repository(&image), digest(&image));
            let reason = if has_init {
                "PodInitializing"
            } else {
                "ContainerCreating"
            };
            Slot {
                spec: container.clone(),
                init,
                sidecar: init && container.restart_policy.as_deref() == Some("Always"),
                image,
                image_id,
                container_id: String::new(),
                state: waiting(reason, None),
                started: false,
                ready: false,
                process: None,
            }
        };
        let slots = spec
            .init_containers
            .iter()
            .flatten()
            .map(|container| make_slot(container, true))
            .chain(
                spec.containers
                    .iter()
                    .map(|container| make_slot(container, false)),
            )
            .collect();
        let scratch = shared
            .scratch
            .path()
            .join(format!("{}_{}_{uid}", key.namespace, key.name));
        Self {
            labels: pod.metadata.labels.clone().unwrap_or_default(),
            annotations: pod.metadata.annotations.clone().unwrap_or_default(),
            state: Arc::new(Mutex::new(PodState {
                slots,
                phase: "Pending",
                reason: None,
                message: None,
                start_time: crate::store::now(),
                initialized: !has_init,
                sandbox_ready: true,
            })),
            exits: watch::Sender::new(0),
            scratch,
            shared,
            key,
            uid,
            spec,
        }
    }

    fn publish(&self) {
        publish(&self.shared, &self.key, &self.uid, &self.state);
    }

    async fn run(&self, mut termination: watch::Receiver<Option<Termination>>) {
        let _ = std::fs::create_dir_all(&self.scratch);
        self.publish();
        let deadline = self
            .spec
            .active_deadline_seconds
            .map(|seconds| Instant::now() + Duration::from_secs(seconds.unsigned_abs()));
        let interruption = {
            let flow = self.flow();
            tokio::pin!(flow);
            tokio::select! {
                () = &mut flow => None,
                grace = wait_for_termination(&mut termination) => Some(Interruption::Deleted(grace)),
                () = sleep_until(deadline) => Some(Interruption::Deadline),
                () = self.shared.shutdown.cancelled() => Some(Interruption::Shutdown),
            }
        };
        match interruption {
            None => {}
            Some(Interruption::Shutdown) => return,
            Some(Interruption::Deleted(grace)) => {
                self.finish_deletion(grace).await;
                return;
            }
            Some(Interruption::Deadline) => {
                let grace = self.grace_period();
                let stopped = {
                    let stop = self.stop_all(grace);
                    tokio::pin!(stop);
                    tokio::select! {
                        () = &mut stop => None,
                        grace = wait_for_termination(&mut termination) => Some(grace),
                    }
                };
                if let Some(grace) = stopped {
                    self.finish_deletion(grace).await;
                    return;
                }
                {
                    let mut state = lock(&self.state);
                    state.phase = "Failed";
                    state.reason = Some("DeadlineExceeded".to_owned());
                    state.message = Some(
                        "Pod was active on the node longer than the specified deadline".to_owned(),
                    );
                    state.sandbox_ready = false;
                    mark_unknown(&mut state);
                }
                self.publish();
                api::release_claims(&self.shared);
            }
        }
        // The Pod is terminal: the object stays until it is deleted.
        tokio::select! {
            grace = wait_for_termination(&mut termination) => self.finish_deletion(grace).await,
            () = self.shared.shutdown.cancelled() => {}
        }
    }

    fn grace_period(&self) -> u64 {
        self.spec
            .termination_grace_period_seconds
            .unwrap_or(30)
            .unsigned_abs()
    }

    /// Stops what still runs within `grace` seconds, reports the terminal status and removes the
    /// Pod. A grace of zero means the object is already gone: everything is killed at once.
    async fn finish_deletion(&self, grace: u64) {
        if grace == 0 {
            self.kill_all();
            return;
        }
        self.stop_all(grace).await;
        {
            let mut state = lock(&self.state);
            if state.phase != "Succeeded" && state.phase != "Failed" {
                let succeeded = state.slots.iter().filter(|slot| !slot.init).all(|slot| {
                    slot.terminated()
                        .is_some_and(|terminated| terminated.exit_code == 0)
                });
                state.phase = if succeeded { "Succeeded" } else { "Failed" };
            }
            state.sandbox_ready = false;
            mark_unknown(&mut state);
        }
        self.publish();
        api::remove_terminated_pod(&self.shared, &self.key, &self.uid);
    }

    fn kill_all(&self) {
        let processes: Vec<Arc<ContainerProcess>> = lock(&self.state)
            .slots
            .iter()
            .filter_map(|slot| slot.process.clone())
            .collect();
        for process in processes {
            process.signal(Signal::SIGKILL);
        }
    }

    /// The kubelet's termination order: SIGTERM to the regular containers, then to the sidecars
    /// from the last started to the first, each waited for; SIGKILL to whatever still runs when
    /// the grace period is over.
    async fn stop_all(&self, grace: u64) {
        let deadline = Instant::now() + Duration::from_secs(grace);
        let (regular, sidecars): (Vec<_>, Vec<_>) = {
            let state = lock(&self.state);
            state
                .slots
                .iter()
                .filter_map(|slot| Some((slot.init, slot.process.clone()?)))
                .partition(|(init, _)| !init)
        };
        let regular: Vec<Arc<ContainerProcess>> =
            regular.into_iter().map(|(_, process)| process).collect();
        for process in &regular {
            process.signal(Signal::SIGTERM);
        }
        let all_regular =
            futures_util::future::join_all(regular.iter().map(|process| process.wait()));
        let _ = tokio::time::timeout_at(deadline, all_regular).await;
        for (_, process) in sidecars.iter().rev() {
            process.signal(Signal::SIGTERM);
            let _ = tokio::time::timeout_at(deadline, process.wait()).await;
        }
        let all: Vec<&Arc<ContainerProcess>> = regular
            .iter()
            .chain(sidecars.iter().map(|(_, process)| process))
            .collect();
        for process in &all {
            process.signal(Signal::SIGKILL);
        }
        let everything = futures_util::future::join_all(all.iter().map(|process| process.wait()));
        let _ = tokio::time::timeout(KILL_WAIT, everything).await;
        // Let the exit watchers record the states before the final status.
        tokio::task::yield_now().await;
    }

    /// Runs the containers to the end: init containers in order, then the regular ones, then
    /// stops the sidecars once the regular containers are done.
    async fn flow(&self) {
        let count = lock(&self.state).slots.len();
        let init: Vec<usize> = (0..count)
            .filter(|index| lock(&self.state).slots[*index].init)
            .collect();
        let regular: Vec<usize> = (0..count)
            .filter(|index| !lock(&self.state).slots[*index].init)
            .collect();
        for index in init {
            let started = self.start(index).await;
            let sidecar = lock(&self.state).slots[index].sidecar;
            if sidecar && matches!(started, Started::Yes) {
                continue;
            }
            let code = self.wait_exit(index).await;
            if code != 0 && !sidecar {
                // restartPolicy Never: a failed init container fails the Pod.
                self.stop_all(self.grace_period()).await;
                self.finish(false);
                return;
            }
        }
        {
            let mut state = lock(&self.state);
            state.initialized = true;
            for &index in &regular {
                if state.slots[index].waiting() {
                    state.slots[index].state = waiting("ContainerCreating", None);
                }
            }
        }
        self.publish();
        for &index in &regular {
            self.start(index).await;
        }
        {
            let mut state = lock(&self.state);
            if state
                .slots
                .iter()
                .filter(|slot| !slot.init)
                .all(|slot| !slot.waiting())
            {
                state.phase = "Running";
            }
        }
        self.publish();
        let mut codes = Vec::new();
        for &index in &regular {
            codes.push(self.wait_exit(index).await);
        }
        self.stop_sidecars().await;
        self.finish(codes.iter().all(|code| *code == 0));
    }

    async fn stop_sidecars(&self) {
        let deadline = Instant::now() + Duration::from_secs(self.grace_period());
        let sidecars: Vec<Arc<ContainerProcess>> = lock(&self.state)
            .slots
            .iter()
            .filter(|slot| slot.sidecar)
            .filter_map(|slot| slot.process.clone())
            .collect();
        for process in sidecars.iter().rev() {
            process.signal(Signal::SIGTERM);
            if tokio::time::timeout_at(deadline, process.wait())
                .await
                .is_err()
            {
                process.signal(Signal::SIGKILL);
                let _ = tokio::time::timeout(KILL_WAIT, process.wait()).await;
            }
        }
        tokio::task::yield_now().await;
    }

    fn finish(&self, succeeded: bool) {
        {
            let mut state = lock(&self.state);
            state.phase = if succeeded { "Succeeded" } else { "Failed" };
            state.sandbox_ready = false;
            mark_unknown(&mut state);
        }
        self.publish();
        api::release_claims(&self.shared);
    }

    /// Waits for the container at `index` to exit; one that never started counts as failed.
    async fn wait_exit(&self, index: usize) -> i32 {
        let mut exits = self.exits.subscribe();
        loop {
            {
                let state = lock(&self.state);
                let slot = &state.slots[index];
                if let Some(terminated) = slot.terminated() {
                    return terminated.exit_code;
                }
                if slot.process.is_none() {
                    return 128;
                }
            }
            if exits.changed().await.is_err() {
                return 128;
            }
        }
    }

    fn set_waiting(&self, index: usize, reason: &str, message: String) {
        lock(&self.state).slots[index].state = waiting(reason, Some(message));
        self.publish();
    }

    /// Pulls, configures and starts a container; waits (forever, for an image that cannot be
    /// pulled) until it can.
    async fn start(&self, index: usize) -> Started {
        let container = lock(&self.state).slots[index].spec.clone();
        let image = container.image.clone().unwrap_or_default();
        if !self.shared.settings.can_pull(&image) {
            let reference = normalize_image(&image);
            self.set_waiting(
                index,
                "ErrImagePull",
                format!(
                    "failed to pull and unpack image {reference:?}: failed to resolve reference {reference:?}: {reference}: not found"
                ),
            );
            tokio::time::sleep(RETRY_INTERVAL).await;
            self.set_waiting(
                index,
                "ImagePullBackOff",
                format!("Back-off pulling image {image:?}"),
            );
            std::future::pending::<()>().await;
        }
        let environment = loop {
            match self.environment(&container) {
                Ok(environment) => break environment,
                Err(message) => {
                    self.set_waiting(index, "CreateContainerConfigError", message);
                    tokio::time::sleep(RETRY_INTERVAL).await;
                }
            }
        };
        let (launch, mounts) = self.launch_of(&container, environment);
        let log = ContainerLog::new();
        let container_id = format!(
            "containerd://{}",
            digest(&format!("{}/{}", self.uid, container.name))
        );
        match ContainerProcess::spawn(&self.shared, &launch, &log) {
            Ok(process) => {
                lock(&self.shared.logs).insert((self.uid.clone(), container.name.clone()), log);
                let process = Arc::new(process);
                lock(&self.shared.exec_targets).insert(
                    (self.uid.clone(), container.name.clone()),
                    ExecTarget {
                        process: Arc::clone(&process),
                        environment: launch.environment.clone(),
                        working_directory: launch.working_directory.clone(),
                        mounts,
                    },
                );
                {
                    let mut state = lock(&self.state);
                    let slot = &mut state.slots[index];
                    slot.process = Some(Arc::clone(&process));
                    slot.container_id = container_id;
                    slot.state = ContainerState {
                        running: Some(ContainerStateRunning {
                            started_at: Some(Time(crate::store::now())),
                        }),
                        ..ContainerState::default()
                    };
                    slot.started = true;
                    // No probes: a started regular container or sidecar is ready.
                    slot.ready = !slot.init || slot.sidecar;
                }
                self.publish();
                self.watch_exit(index, process);
                Started::Yes
            }
            Err(error) => {
                {
                    let mut state = lock(&self.state);
                    let slot = &mut state.slots[index];
                    slot.container_id = container_id;
                    let now = Some(Time(crate::store::now()));
                    slot.state = ContainerState {
                        terminated: Some(ContainerStateTerminated {
                            exit_code: 128,
                            reason: Some("StartError".to_owned()),
                            message: Some(format!(
                                "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: {:?}: {error}",
                                launch.argv.first().cloned().unwrap_or_default()
                            )),
                            started_at: now.clone(),
                            finished_at: now,
                            ..ContainerStateTerminated::default()
                        }),
                        ..ContainerState::default()
                    };
                }
                self.publish();
                self.exits.send_modify(|count| *count += 1);
                Started::Failed
            }
        }
    }

    /// What runs for `container`: the claims it mounts are host directories, reached by
    /// rewriting their mount paths in what it is given.
    fn launch_of(
        &self,
        container: &Container,
        environment: Vec<(OsString, OsString)>,
    ) -> (Launch, Mounts) {
        let mounts = Mounts::of(&self.shared, &self.key.namespace, &self.spec, container);
        // The kubelet expands `$(VAR)` in the command and args with the container's
        // environment, as it does in the environment's own values.
        let defined: Vec<(String, Vec<u8>)> = environment
            .iter()
            .map(|(name, value)| {
                (
                    name.to_string_lossy().into_owned(),
                    value.as_encoded_bytes().to_vec(),
                )
            })
            .collect();
        let environment: Vec<(OsString, OsString)> = environment
            .into_iter()
            .map(|(name, value)| {
                let value = match value.to_str() {
                    Some(text) => OsString::from(mounts.rewrite(text)),
                    None => value,
                };
                (name, value)
            })
            .collect();
        let launch = Launch {
            argv: self
                .argv(container, &defined)
                .iter()
                .map(|argument| mounts.rewrite(argument))
                .collect(),
            working_directory: container
                .working_dir
                .as_deref()
                .map(|directory| PathBuf::from(mounts.rewrite(directory)))
                .filter(|directory| directory.is_dir())
                .unwrap_or_else(|| self.scratch.clone()),
            environment,
        };
        (launch, mounts)
    }

    /// Records the container's end when its process exits.
    fn watch_exit(&self, index: usize, process: Arc<ContainerProcess>) {
        let shared = Arc::clone(&self.shared);
        let key = self.key.clone();
        let uid = self.uid.clone();
        let state = Arc::clone(&self.state);
        let exits = self.exits.clone();
        tokio::spawn(async move {
            let code = process.wait().await;
            {
                let mut state = lock(&state);
                let slot = &mut state.slots[index];
                let started_at = slot
                    .state
                    .running
                    .as_ref()
                    .and_then(|running| running.started_at.clone());
                slot.state = ContainerState {
                    terminated: Some(ContainerStateTerminated {
                        exit_code: code,
                        reason: Some(if code == 0 { "Completed" } else { "Error" }.to_owned()),
                        started_at,
                        finished_at: Some(Time(crate::store::now())),
                        container_id: Some(slot.container_id.clone()),
                        ..ContainerStateTerminated::default()
                    }),
                    ..ContainerState::default()
                };
                slot.started = false;
                // A completed init container counts as ready, as the kubelet reports it.
                slot.ready = slot.init && !slot.sidecar && code == 0;
            }
            publish(&shared, &key, &uid, &state);
            exits.send_modify(|count| *count += 1);
        });
    }

    /// `command` (no image has an entrypoint) followed by `args`, or by the image's default
    /// command when neither is given (an image's own command is not expanded).
    fn argv(&self, container: &Container, defined: &[(String, Vec<u8>)]) -> Vec<String> {
        let expanded = |texts: &Option<Vec<String>>| {
            texts
                .as_ref()
                .map(|texts| texts.iter().map(|text| expand(text, defined)).collect())
        };
        let command: Vec<String> = expanded(&container.command).unwrap_or_default();
        let arguments = expanded(&container.args);
        if command.is_empty() {
            arguments.unwrap_or_else(|| {
                self.shared
                    .settings
                    .image_command(container.image.as_deref().unwrap_or(""))
            })
        } else {
            let mut argv = command;
            argv.extend(arguments.unwrap_or_default());
            argv
        }
    }

    fn field(&self, path: &str) -> String {
        let bracketed = |prefix: &str| {
            path.strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix("']"))
                .map(str::to_owned)
        };
        if let Some(label) = bracketed("metadata.labels['") {
            return self.labels.get(&label).cloned().unwrap_or_default();
        }
        if let Some(annotation) = bracketed("metadata.annotations['") {
            return self
                .annotations
                .get(&annotation)
                .cloned()
                .unwrap_or_default();
        }
        match path {
            "metadata.name" => self.key.name.clone(),
            "metadata.namespace" => self.key.namespace.clone(),
            "metadata.uid" => self.uid.clone(),
            "spec.nodeName" => self.shared.settings.node.name.clone(),
            "spec.serviceAccountName" => self.spec.service_account_name.clone().unwrap_or_default(),
            "status.hostIP" | "status.hostIPs" | "status.podIP" | "status.podIPs" => {
                "127.0.0.1".to_owned()
            }
            _ => String::new(),
        }
    }

    /// The data of a Secret (base64) or a `ConfigMap`, which must hold `key` when one is given.
    fn lookup(
        &self,
        kind: Kind,
        name: &str,
        key: Option<&str>,
    ) -> Result<BTreeMap<String, Vec<u8>>, String> {
        let noun = if kind == Kind::Secret {
            "secret"
        } else {
            "configmap"
        };
        let object = lock(&self.shared.store)
            .get(&ObjectKey::new(kind, &self.key.namespace, name))
            .cloned()
            .ok_or_else(|| format!("{noun} {name:?} not found"))?;
        let mut entries = BTreeMap::new();
        for (field, base64) in [("data", kind == Kind::Secret), ("binaryData", true)] {
            for (entry, value) in object
                .get(field)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let text = value.as_str().unwrap_or("");
                let bytes = if base64 {
                    base64::engine::general_purpose::STANDARD
                        .decode(text)
                        .unwrap_or_default()
                } else {
                    text.as_bytes().to_vec()
                };
                entries.insert(entry.clone(), bytes);
            }
        }
        if let Some(key) = key
            && !entries.contains_key(key)
        {
            return Err(format!(
                "couldn't find key {key} in {} {}/{name}",
                kind.name(),
                self.key.namespace
            ));
        }
        Ok(entries)
    }

    /// The container's environment: the runtime's `PATH` and `HOSTNAME`, then `envFrom`, then
    /// `env` in order with `$(VAR)` references to earlier variables expanded.
    fn environment(&self, container: &Container) -> Result<Vec<(OsString, OsString)>, String> {
        let mut defined: Vec<(String, Vec<u8>)> = Vec::new();
        let define =
            |defined: &mut Vec<(String, Vec<u8>)>, name: String, value: Vec<u8>| match defined
                .iter_mut()
                .find(|(existing, _)| *existing == name)
            {
                Some(entry) => entry.1 = value,
                None => defined.push((name, value)),
            };
        for source in container.env_from.iter().flatten() {
            let prefix = source.prefix.clone().unwrap_or_default();
            let (kind, reference) = match (&source.secret_ref, &source.config_map_ref) {
                (Some(secret), _) => (Kind::Secret, (secret.name.clone(), secret.optional)),
                (None, Some(config_map)) => (
                    Kind::ConfigMap,
                    (config_map.name.clone(), config_map.optional),
                ),
                (None, None) => continue,
            };
            match self.lookup(kind, &reference.0, None) {
                Ok(entries) => {
                    for (name, value) in entries {
                        define(&mut defined, format!("{prefix}{name}"), value);
                    }
                }
                Err(_) if reference.1 == Some(true) => {}
                Err(message) => return Err(message),
            }
        }
        for variable in container.env.iter().flatten() {
            let value = if let Some(source) = &variable.value_from {
                if let Some(reference) = &source.secret_key_ref {
                    match self.lookup(Kind::Secret, &reference.name, Some(&reference.key)) {
                        Ok(mut entries) => entries.remove(&reference.key).unwrap_or_default(),
                        Err(_) if reference.optional == Some(true) => continue,
                        Err(message) => return Err(message),
                    }
                } else if let Some(reference) = &source.config_map_key_ref {
                    match self.lookup(Kind::ConfigMap, &reference.name, Some(&reference.key)) {
                        Ok(mut entries) => entries.remove(&reference.key).unwrap_or_default(),
                        Err(_) if reference.optional == Some(true) => continue,
                        Err(message) => return Err(message),
                    }
                } else if let Some(reference) = &source.field_ref {
                    self.field(&reference.field_path).into_bytes()
                } else {
                    Vec::new()
                }
            } else {
                expand(variable.value.as_deref().unwrap_or(""), &defined).into_bytes()
            };
            define(&mut defined, variable.name.clone(), value);
        }
        let mut environment = vec![
            (OsString::from("PATH"), OsString::from(DEFAULT_PATH)),
            (OsString::from("HOSTNAME"), OsString::from(&self.key.name)),
        ];
        for (name, value) in defined {
            environment.retain(|(existing, _)| *existing != *name);
            environment.push((OsString::from(name), OsString::from_vec(value)));
        }
        Ok(environment)
    }
}

/// Kubernetes' `$(VAR)` expansion: a defined variable is replaced, `$$` is a literal `$`, and
/// anything else stays as written.
#[must_use]
pub fn expand(text: &str, defined: &[(String, Vec<u8>)]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(position) = rest.find('$') {
        out.push_str(&rest[..position]);
        let after = &rest[position + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
        } else if let Some(inner) = after.strip_prefix('(')
            && let Some(end) = inner.find(')')
        {
            let name = &inner[..end];
            if let Some((_, value)) = defined.iter().find(|(existing, _)| existing == name) {
                out.push_str(&String::from_utf8_lossy(value));
            } else {
                out.push_str("$(");
                out.push_str(name);
                out.push(')');
            }
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Containers that never started, in a Pod that will run no more, as the kubelet reports them.
fn mark_unknown(state: &mut PodState) {
    for slot in &mut state.slots {
        if slot.waiting() {
            slot.state = ContainerState {
                terminated: Some(ContainerStateTerminated {
                    exit_code: 137,
                    reason: Some("ContainerStatusUnknown".to_owned()),
                    message: Some(
                        "The container could not be located when the pod was terminated".to_owned(),
                    ),
                    ..ContainerStateTerminated::default()
                }),
                ..ContainerState::default()
            };
        }
        if slot.running() {
            slot.ready = false;
        }
    }
}

fn publish(shared: &Shared, key: &ObjectKey, uid: &str, state: &Mutex<PodState>) {
    let state = lock(state);
    update_pod(shared, key, uid, |pod| {
        state.apply(pod);
        true
    });
}

async fn wait_for_termination(termination: &mut watch::Receiver<Option<Termination>>) -> u64 {
    loop {
        if let Some(request) = *termination.borrow_and_update() {
            return request.grace_seconds;
        }
        if termination.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_normalized_as_containerd_does() {
        assert_eq!(
            normalize_image("busybox"),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(
            normalize_image("busybox:1.36"),
            "docker.io/library/busybox:1.36"
        );
        assert_eq!(normalize_image("org/app"), "docker.io/org/app:latest");
        assert_eq!(normalize_image("ghcr.io/org/app:v1"), "ghcr.io/org/app:v1");
        assert_eq!(
            normalize_image("localhost:5000/app"),
            "localhost:5000/app:latest"
        );
        assert_eq!(
            repository("localhost:5000/app:latest"),
            "localhost:5000/app"
        );
    }

    #[test]
    fn expansion() {
        let defined = vec![("A".to_owned(), b"one".to_vec())];
        assert_eq!(expand("$(A)-$(B)-$$(A)-$", &defined), "one-$(B)-$(A)-$");
    }
}
