//! Watches: newline-delimited JSON events from a resource version on, with the selectors,
//! bookmarks, timeouts, streaming initial lists and 410 Expired of the real server.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use crate::api::{Query, selectors};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::shared::{Shared, lock};
use crate::status::ApiError;
use crate::store::{EventType, Kind, StoredEvent, WatchMessage};

/// What a watch asked for.
pub(crate) struct WatchOptions {
    kind: Kind,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    resource_version: Option<u64>,
    timeout: Option<Duration>,
    bookmarks: bool,
    send_initial_events: bool,
}

impl WatchOptions {
    pub fn parse(kind: Kind, namespace: Option<&str>, query: &Query) -> Result<Self, ApiError> {
        let (labels, fields) = selectors(kind, query)?;
        let resource_version = match query.get("resourceVersion").map(String::as_str) {
            None | Some("" | "0") => None,
            Some(version) => Some(version.parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!("invalid resource version {version:?}"))
            })?),
        };
        let timeout = query
            .get("timeoutSeconds")
            .map(|seconds| {
                seconds
                    .parse::<u64>()
                    .map(Duration::from_secs)
                    .map_err(|_| ApiError::bad_request("timeoutSeconds: invalid value"))
            })
            .transpose()?;
        let flag = |name: &str| {
            query
                .get(name)
                .is_some_and(|value| value == "true" || value == "1")
        };
        let bookmarks = flag("allowWatchBookmarks");
        let send_initial_events = flag("sendInitialEvents");
        if send_initial_events
            && (query.get("resourceVersionMatch").map(String::as_str) != Some("NotOlderThan")
                || !bookmarks)
        {
            return Err(ApiError::invalid(
                "ListOptions.meta.k8s.io",
                "",
                &[crate::status::FieldError {
                    field: "sendInitialEvents".to_owned(),
                    reason: "FieldValueForbidden",
                    detail: "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan and allowWatchBookmarks to true".to_owned(),
                }],
            ));
        }
        Ok(Self {
            kind,
            namespace: namespace.map(str::to_owned),
            labels,
            fields,
            resource_version,
            timeout,
            bookmarks,
            send_initial_events,
        })
    }

    fn selects(&self, namespace: &str, object: &Value) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|expected| expected == namespace)
            && self.labels.matches(object)
            && self.fields.matches(self.kind, object)
    }

    /// The event a stored change becomes for this watch: a modification that moves the object
    /// into or out of the selection is ADDED or DELETED, as the watch cache sends it.
    fn translate(&self, event: &StoredEvent) -> Option<(&'static str, Value)> {
        if event.key.kind != self.kind {
            return None;
        }
        let now = self.selects(&event.key.namespace, &event.object);
        let before = event
            .previous
            .as_ref()
            .is_some_and(|previous| self.selects(&event.key.namespace, previous));
        let event_type = match (event.event_type, before, now) {
            (EventType::Added, _, true) | (EventType::Modified, false, true) => "ADDED",
            (EventType::Modified, true, true) => "MODIFIED",
            (EventType::Modified, true, false) | (EventType::Deleted, true, _) => "DELETED",
            _ => return None,
        };
        Some((event_type, event.object.clone()))
    }

    fn bookmark(&self, revision: u64, initial_events_end: bool) -> Bytes {
        let mut metadata =
            json!({"resourceVersion": revision.to_string(), "creationTimestamp": null});
        if initial_events_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        line(
            "BOOKMARK",
            &json!({"kind": self.kind.name(), "apiVersion": "v1", "metadata": metadata}),
        )
    }
}

fn line(event_type: &str, object: &Value) -> Bytes {
    let mut text =
        serde_json::to_vec(&json!({"type": event_type, "object": object})).unwrap_or_default();
    text.push(b'\n');
    Bytes::from(text)
}

fn expired_line(message: String) -> Bytes {
    line("ERROR", &ApiError::expired(message).to_json())
}

/// Starts a watch: the events it must replay are taken, and its subscription made, under one
/// lock of the store, so that no change is missed or sent twice.
pub(crate) fn start(shared: &Arc<Shared>, options: WatchOptions) -> mpsc::Receiver<Bytes> {
    let (sender, receiver) = mpsc::channel(256);
    let mut first = Vec::new();
    let (subscription, revision) = {
        let store = lock(&shared.store);
        let revision = store.revision();
        match options.resource_version {
            Some(version) if !options.send_initial_events => match store.events_after(version) {
                Ok(events) => {
                    first.extend(
                        events
                            .iter()
                            .filter_map(|event| options.translate(event))
                            .map(|(event_type, object)| line(event_type, &object)),
                    );
                }
                Err(too_old) => {
                    first.push(expired_line(format!(
                        "too old resource version: {version} ({})",
                        too_old.oldest
                    )));
                    drop(store);
                    tokio::spawn(send_all(sender, first));
                    return receiver;
                }
            },
            _ => {
                first.extend(
                    store
                        .list(options.kind, options.namespace.as_deref())
                        .filter(|(key, object)| options.selects(&key.namespace, object))
                        .map(|(_, object)| line("ADDED", object)),
                );
                if options.send_initial_events {
                    first.push(options.bookmark(revision, true));
                }
            }
        }
        (store.subscribe(), revision)
    };
    let shared = Arc::clone(shared);
    tokio::spawn(
        async move { serve(shared, options, first, subscription, revision, sender).await },
    );
    receiver
}

async fn send_all(sender: mpsc::Sender<Bytes>, lines: Vec<Bytes>) {
    for line in lines {
        if sender.send(line).await.is_err() {
            return;
        }
    }
}

async fn serve(
    shared: Arc<Shared>,
    options: WatchOptions,
    first: Vec<Bytes>,
    mut subscription: broadcast::Receiver<WatchMessage>,
    mut revision: u64,
    sender: mpsc::Sender<Bytes>,
) {
    let timeout = tokio::time::sleep(options.timeout.unwrap_or(Duration::MAX / 4));
    tokio::pin!(timeout);
    let mut bookmarks = tokio::time::interval(shared.settings.bookmark_interval);
    bookmarks.tick().await;
    for line in first {
        if sender.send(line).await.is_err() {
            return;
        }
    }
    loop {
        let line = tokio::select! {
            message = subscription.recv() => match message {
                Ok(WatchMessage::Event(event)) => {
                    if event.revision <= revision {
                        continue;
                    }
                    revision = event.revision;
                    match options.translate(&event) {
                        Some((event_type, object)) => line(event_type, &object),
                        None => continue,
                    }
                }
                Ok(WatchMessage::Expire) => {
                    let _ = sender.send(expired_line("The resourceVersion for the provided watch is too old.".to_owned())).await;
                    return;
                }
                // A watcher too slow to keep up is closed, as the watch cache does.
                Err(_) => return,
            },
            _ = bookmarks.tick(), if options.bookmarks => options.bookmark(revision, false),
            () = &mut timeout => return,
            () = sender.closed() => return,
            () = shared.shutdown.cancelled() => return,
        };
        if sender.send(line).await.is_err() {
            return;
        }
    }
}
