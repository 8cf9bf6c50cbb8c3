//! A local double of the Kubernetes API server, with the scheduler and the kubelet behind it,
//! for eider's tests and benchmarks.
//!
//! It owns the protocol a client sees for core/v1 Pods, Secrets, `PersistentVolumeClaims` and
//! `ConfigMaps`: plain HTTP/1.1 on a random loopback port, `Status` errors, resource versions,
//! list pagination, label and field selectors, watches (bookmarks, streaming initial lists, 410
//! Expired), graceful Pod deletion, owner-reference garbage collection and Pod logs. Behind it, a
//! scheduler binds Pods to one node (or reports why not) and a kubelet runs each container as a
//! host process in its own process group, reporting container states as the real kubelet does.
//! Exec (`pods/{name}/exec`) runs a command beside a running container over a WebSocket with
//! the API server's channel protocol. Each claim is a host directory that containers mounting it
//! reach through their mount path, rewritten where it appears in their command, arguments,
//! environment and working directory ([`KubeDouble::claim_directory`] names it).
//! Failures can be injected ([`FailureRule`]), watches expired as by an etcd compaction and log
//! streams cut. Dropping the [`KubeDouble`] stops the server and kills every process it started.
//!
//! Not served: other API groups and kinds, PUT of Pods and claims (Secrets and config maps are
//! replaced whole), PATCH, `Foreground` deletion (treated as
//! `Background`), container restarts (every Pod runs as with `restartPolicy: Never`, sidecars
//! included), probes, volumes other than claims (mounts are not made: claims are reached by the
//! rewriting above, read-only or not), exec with a terminal, attach, port forwarding, resource
//! limits and isolation.

mod api;
mod claims;
mod exec;
mod faults;
mod kubeconfig;
mod kubelet;
mod logs;
mod process;
mod quantity;
mod recording;
mod scheduler;
mod selectors;
mod server;
mod settings;
mod shared;
mod status;
mod store;
mod validation;
mod watch;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use serde_json::Value;
use tokio::sync::oneshot;

pub use faults::FailureRule;
pub use kubelet::expand as expand_references;
pub use recording::RecordedRequest;
pub use settings::{NodeSettings, ServerVersion, Settings};
pub use store::Kind;

use shared::{Shared, lock};
use store::ObjectKey;

/// A running double. Its server and its containers run on a thread of their own, with their
/// own tokio runtime, so that it serves plain `#[test]` functions and async tests alike.
pub struct KubeDouble {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for KubeDouble {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("KubeDouble")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}

/// How long a stopping double waits for its runtime's tasks.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

fn launch(
    settings: Settings,
) -> (
    JoinHandle<()>,
    oneshot::Receiver<std::io::Result<Arc<Shared>>>,
) {
    let (ready, started) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("kube-double".to_owned())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("kube-double-worker")
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => {
                    let _ = ready.send(Err(error));
                    return;
                }
            };
            runtime.block_on(async move {
                let listener =
                    match tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
                        .await
                    {
                        Ok(listener) => listener,
                        Err(error) => {
                            let _ = ready.send(Err(error));
                            return;
                        }
                    };
                let shared = match listener
                    .local_addr()
                    .and_then(|address| Shared::new(settings, address))
                {
                    Ok(shared) => shared,
                    Err(error) => {
                        let _ = ready.send(Err(error));
                        return;
                    }
                };
                if ready.send(Ok(Arc::clone(&shared))).is_err() {
                    return;
                }
                server::serve(listener, Arc::clone(&shared)).await;
                shared.kill_all_processes();
            });
            runtime.shutdown_timeout(SHUTDOWN_TIMEOUT);
        });
    match thread {
        Ok(thread) => (thread, started),
        Err(error) => {
            let (ready, started) = oneshot::channel();
            let _ = ready.send(Err(error));
            (std::thread::spawn(|| {}), started)
        }
    }
}

impl KubeDouble {
    /// Starts a double and waits until it listens.
    pub async fn start(settings: Settings) -> std::io::Result<KubeDouble> {
        let (thread, started) = launch(settings);
        let shared = started
            .await
            .map_err(|_| std::io::Error::other("the double's thread ended before it listened"))??;
        Ok(KubeDouble {
            shared,
            thread: Some(thread),
        })
    }

    /// Starts a double from synchronous code (it must not be called from an async context).
    pub fn start_blocking(settings: Settings) -> std::io::Result<KubeDouble> {
        let (thread, started) = launch(settings);
        let shared = started
            .blocking_recv()
            .map_err(|_| std::io::Error::other("the double's thread ended before it listened"))??;
        Ok(KubeDouble {
            shared,
            thread: Some(thread),
        })
    }

    /// The server's address.
    #[must_use]
    pub fn address(&self) -> SocketAddr {
        self.shared.address
    }

    /// The server's URL, `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.shared.address)
    }

    /// A kubeconfig for this server with one context, `eider-double`, current and set to
    /// `namespace`; its user carries the bearer token when one is required.
    #[must_use]
    pub fn kubeconfig(&self, namespace: &str) -> String {
        kubeconfig::kubeconfig(
            &self.url(),
            self.shared.settings.token.as_deref(),
            namespace,
        )
    }

    /// Every request answered so far, in arrival order.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Forgets the recorded requests (to count those of one step).
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// The names of the objects of `kind` in `namespace`, sorted.
    #[must_use]
    pub fn names(&self, kind: Kind, namespace: &str) -> Vec<String> {
        lock(&self.shared.store)
            .list(kind, Some(namespace))
            .map(|(key, _)| key.name.clone())
            .collect()
    }

    /// Every object of `kind` created in `namespace` so far, as first stored (gone since or
    /// not), in the order of creation.
    #[must_use]
    pub fn created(&self, kind: Kind, namespace: &str) -> Vec<Value> {
        lock(&self.shared.created)
            .iter()
            .filter(|(created, object)| {
                *created == kind
                    && object
                        .pointer("/metadata/namespace")
                        .and_then(Value::as_str)
                        == Some(namespace)
            })
            .map(|(_, object)| object.clone())
            .collect()
    }

    /// An object as stored, with its status.
    #[must_use]
    pub fn object(&self, kind: Kind, namespace: &str, name: &str) -> Option<Value> {
        lock(&self.shared.store)
            .get(&ObjectKey::new(kind, namespace, name))
            .cloned()
    }

    /// The Pods of `namespace`, sorted by name.
    #[must_use]
    pub fn pods(&self, namespace: &str) -> Vec<Pod> {
        lock(&self.shared.store)
            .list(Kind::Pod, Some(namespace))
            .filter_map(|(_, object)| serde_json::from_value(object.clone()).ok())
            .collect()
    }

    /// The host directory that stands for the claim `name` in `namespace` while it exists
    /// (created on first use); none when there is no such claim.
    #[must_use]
    pub fn claim_directory(&self, namespace: &str, name: &str) -> Option<std::path::PathBuf> {
        claims::claim_directory(&self.shared, namespace, name)
    }

    /// How many container processes (process groups) are running.
    #[must_use]
    pub fn running_processes(&self) -> usize {
        lock(&self.shared.process_groups).len()
    }

    /// The current resource version (the last one handed out).
    #[must_use]
    pub fn resource_version(&self) -> u64 {
        lock(&self.shared.store).revision()
    }

    /// Answers the next requests that match `rule` with its error.
    pub fn fail_next(&self, rule: FailureRule) {
        lock(&self.shared.faults).add(rule);
    }

    /// Compacts the event history as etcd does: every open watch gets an `ERROR` event with a 410
    /// Expired Status and is closed, and a later watch (or continue token) from any resource
    /// version handed out before answers 410 too.
    pub fn expire_watches(&self) {
        lock(&self.shared.store).expire();
    }

    /// Closes every open follow-log stream, as a broken connection to the kubelet does; the
    /// containers go on running.
    pub fn cut_log_streams(&self) {
        self.shared.log_cuts.send_modify(|count| *count += 1);
    }
}

impl Drop for KubeDouble {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
        self.shared.kill_all_processes();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.shared.kill_all_processes();
        // A task the runtime could not drop in time may still hold the shared state, and with
        // it the scratch directory's guard: remove the directory now all the same.
        let _ = std::fs::remove_dir_all(self.shared.scratch.path());
    }
}
