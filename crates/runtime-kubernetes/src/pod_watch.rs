//! One watch per run: every Pod of the run, followed through a single watch of the API server
//! (listed again when the watch expires), and handed to the job that waits for it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::StreamExt as _;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::runtime::{WatchStreamExt as _, watcher};
use tokio::sync::watch;

/// What the watch last saw of one Pod.
#[derive(Debug, Clone, Default)]
pub(crate) enum PodState {
    /// Not seen yet (being created).
    #[default]
    Unseen,
    /// As the API server last reported it.
    Present(Box<Pod>),
    /// Deleted.
    Gone,
}

type Subscribers = Arc<Mutex<HashMap<String, watch::Sender<PodState>>>>;

/// The watch of a run's Pods.
pub(crate) struct PodWatch {
    subscribers: Subscribers,
    task: tokio::task::JoinHandle<()>,
}

impl PodWatch {
    /// Starts watching the Pods that `selector` selects.
    pub(crate) fn start(pods: Api<Pod>, selector: &str) -> Self {
        let subscribers = Subscribers::default();
        let stream = watcher(pods, watcher::Config::default().labels(selector)).default_backoff();
        let task = tokio::spawn(follow(stream, Arc::clone(&subscribers)));
        Self { subscribers, task }
    }

    /// What the watch sees of the Pod `name` from now on. Subscribe before creating it.
    pub(crate) fn subscribe(&self, name: &str) -> watch::Receiver<PodState> {
        let mut subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        subscribers
            .entry(name.to_owned())
            .or_insert_with(|| watch::channel(PodState::Unseen).0)
            .subscribe()
    }

    /// Stops handing out the Pod `name`.
    pub(crate) fn unsubscribe(&self, name: &str) {
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
    }
}

impl Drop for PodWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn follow(
    stream: impl futures_util::Stream<Item = Result<watcher::Event<Pod>, watcher::Error>> + Send,
    subscribers: Subscribers,
) {
    let mut stream = std::pin::pin!(stream);
    // The Pods a new listing found: after a watch expired, a Pod deleted meanwhile is known to
    // be gone only by its absence from the new listing.
    let mut listed = HashSet::new();
    while let Some(event) = stream.next().await {
        let Ok(event) = event else {
            // The watcher lists and watches again, with a backoff.
            continue;
        };
        let subscribers = subscribers.lock().unwrap_or_else(PoisonError::into_inner);
        match event {
            watcher::Event::Init => listed.clear(),
            watcher::Event::InitApply(pod) => {
                if let Some(name) = &pod.metadata.name {
                    listed.insert(name.clone());
                }
                publish(&subscribers, pod);
            }
            watcher::Event::Apply(pod) => publish(&subscribers, pod),
            watcher::Event::Delete(pod) => {
                if let Some(sender) = pod
                    .metadata
                    .name
                    .as_ref()
                    .and_then(|name| subscribers.get(name))
                {
                    sender.send_replace(PodState::Gone);
                }
            }
            watcher::Event::InitDone => {
                for (name, sender) in subscribers.iter() {
                    // A Pod being created may be missing from a listing that began before it;
                    // only one seen before and missing now is gone.
                    let seen = matches!(*sender.borrow(), PodState::Present(_));
                    if seen && !listed.contains(name) {
                        sender.send_replace(PodState::Gone);
                    }
                }
            }
        }
    }
}

fn publish(subscribers: &HashMap<String, watch::Sender<PodState>>, pod: Pod) {
    if let Some(sender) = pod
        .metadata
        .name
        .as_ref()
        .and_then(|name| subscribers.get(name))
    {
        sender.send_replace(PodState::Present(Box::new(pod)));
    }
}
