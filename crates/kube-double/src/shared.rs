//! The state every part of the double reaches: the store, the record of requests, the injected
//! failures, the containers' logs and the processes to kill when the double stops.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::claims::Mounts;
use crate::faults::Faults;
use crate::logs::ContainerLog;
use crate::process::ContainerProcess;
use crate::recording::RecordedRequest;
use crate::settings::Settings;
use crate::store::Kind;
use crate::store::Store;
use serde_json::Value;

/// A deletion the kubelet must carry out: stop the Pod's containers within `grace_seconds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Termination {
    pub grace_seconds: u64,
}

/// What an exec into a running container runs with: the container's environment, working
/// directory and claims, and its process (whose group the exec joins, as it joins the
/// container's cgroup on a node).
pub(crate) struct ExecTarget {
    pub process: Arc<ContainerProcess>,
    pub environment: Vec<(std::ffi::OsString, std::ffi::OsString)>,
    pub working_directory: std::path::PathBuf,
    pub mounts: Mounts,
}

pub(crate) struct Shared {
    pub settings: Settings,
    pub address: SocketAddr,
    pub store: Mutex<Store>,
    pub requests: Mutex<Vec<RecordedRequest>>,
    /// Every object created, as first stored, in order: what a test asks of what a client
    /// created after the client has deleted it.
    pub created: Mutex<Vec<(Kind, Value)>>,
    pub faults: Mutex<Faults>,
    /// Bumped to close every open follow-log stream.
    pub log_cuts: watch::Sender<u64>,
    /// Each started container's log, by Pod uid and container name.
    pub logs: Mutex<HashMap<(String, String), Arc<ContainerLog>>>,
    /// The process groups of running containers.
    pub process_groups: Mutex<BTreeSet<i32>>,
    /// The deletion request channel of each Pod the kubelet runs, by Pod uid.
    pub kubelet_pods: Mutex<HashMap<String, watch::Sender<Option<Termination>>>>,
    /// The containers started, by Pod uid and container name, until their Pod is done.
    pub exec_targets: Mutex<HashMap<(String, String), ExecTarget>>,
    /// The root of the Pods' scratch working directories and the claims' directories.
    pub scratch: tempfile::TempDir,
    pub shutdown: CancellationToken,
}

/// Locks a mutex; a panic while it was held leaves data that is still usable here.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub fn new(settings: Settings, address: SocketAddr) -> std::io::Result<Arc<Self>> {
        let store = Store::new(&settings.namespaces, settings.history_limit);
        Ok(Arc::new(Self {
            address,
            store: Mutex::new(store),
            requests: Mutex::new(Vec::new()),
            created: Mutex::new(Vec::new()),
            faults: Mutex::new(Faults::default()),
            log_cuts: watch::Sender::new(0),
            logs: Mutex::new(HashMap::new()),
            process_groups: Mutex::new(BTreeSet::new()),
            kubelet_pods: Mutex::new(HashMap::new()),
            exec_targets: Mutex::new(HashMap::new()),
            scratch: tempfile::Builder::new()
                .prefix("eider-kube-double-")
                .tempdir()?,
            shutdown: CancellationToken::new(),
            settings,
        }))
    }

    /// Sends `signal` to a process group; one that is already gone is not an error.
    pub fn signal_group(process_group: i32, signal: Signal) {
        let _ = killpg(Pid::from_raw(process_group), signal);
    }

    /// Kills every container process still running.
    pub fn kill_all_processes(&self) {
        let groups: Vec<i32> = lock(&self.process_groups).iter().copied().collect();
        for group in groups {
            Self::signal_group(group, Signal::SIGKILL);
        }
    }
}
