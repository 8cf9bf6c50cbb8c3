//! Containers' logs: what each process wrote, line by line with the time it was read, and the
//! `pods/{name}/log` endpoint that serves them as the kubelet does.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use tokio::sync::{mpsc, watch};

use crate::shared::{Shared, lock};
use crate::status::{ApiError, quote};
use crate::store::{Kind, ObjectKey};

/// One line (or the final piece of output without a newline) and when it was read.
#[derive(Clone, Debug)]
pub(crate) struct LogEntry {
    pub time: Timestamp,
    pub bytes: Bytes,
}

#[derive(Debug, Default)]
struct LogState {
    entries: Vec<LogEntry>,
    output_closed: bool,
    exited: bool,
    /// Set when the output was not closed in time after the process exited (a descendant that
    /// left the process group still holds it): the log ends anyway, as the container did.
    forced: bool,
}

impl LogState {
    fn finished(&self) -> bool {
        (self.output_closed && self.exited) || self.forced
    }
}

/// A container's log; followers are woken at every change.
#[derive(Debug)]
pub(crate) struct ContainerLog {
    state: Mutex<LogState>,
    changes: watch::Sender<u64>,
}

impl ContainerLog {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(LogState::default()),
            changes: watch::Sender::new(0),
        })
    }

    fn changed(&self) {
        self.changes.send_modify(|count| *count += 1);
    }

    pub fn append(&self, bytes: Vec<u8>) {
        lock(&self.state).entries.push(LogEntry {
            time: crate::store::now(),
            bytes: Bytes::from(bytes),
        });
        self.changed();
    }

    pub fn close_output(&self) {
        lock(&self.state).output_closed = true;
        self.changed();
    }

    pub fn mark_exited(&self) {
        lock(&self.state).exited = true;
        self.changed();
    }

    pub fn force_finish(&self) {
        lock(&self.state).forced = true;
        self.changed();
    }

    /// Entries from `index` on, and whether the log is complete.
    fn entries_from(&self, index: usize) -> (Vec<LogEntry>, bool) {
        let state = lock(&self.state);
        let entries = state
            .entries
            .get(index..)
            .map(<[LogEntry]>::to_vec)
            .unwrap_or_default();
        (entries, state.finished())
    }
}

/// The kubelet's log timestamps: RFC 3339 in UTC with exactly nine fractional digits.
pub(crate) fn format_timestamp(time: Timestamp) -> String {
    k8s_openapi::jiff::fmt::strtime::format("%Y-%m-%dT%H:%M:%S%.9fZ", time).unwrap_or_default()
}

/// What a log request asked for.
struct LogOptions {
    container: String,
    follow: bool,
    timestamps: bool,
    since: Option<Timestamp>,
    tail_lines: Option<usize>,
    limit_bytes: Option<usize>,
}

fn parse_bool(query: &BTreeMap<String, String>, name: &str) -> bool {
    query
        .get(name)
        .is_some_and(|value| value == "true" || value == "1")
}

fn parse_number(query: &BTreeMap<String, String>, name: &str) -> Result<Option<i64>, ApiError> {
    query
        .get(name)
        .map(|value| {
            value.parse::<i64>().map_err(|_| {
                ApiError::bad_request(format!("{name}: invalid value {}", quote(value)))
            })
        })
        .transpose()
}

/// The container a log request is for, defaulted as the API server does.
fn choose_container(pod: &Pod, requested: Option<&String>, name: &str) -> Result<String, ApiError> {
    let spec = pod.spec.clone().unwrap_or_default();
    let containers: Vec<String> = spec
        .containers
        .iter()
        .map(|container| container.name.clone())
        .collect();
    let init_containers: Vec<String> = spec
        .init_containers
        .iter()
        .flatten()
        .map(|container| container.name.clone())
        .collect();
    match requested {
        Some(container) if !container.is_empty() => {
            if containers.contains(container) || init_containers.contains(container) {
                Ok(container.clone())
            } else {
                Err(ApiError::bad_request(format!(
                    "container {container} is not valid for pod {name}"
                )))
            }
        }
        _ if containers.len() == 1 => Ok(containers[0].clone()),
        _ => {
            let mut message = format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                containers.join(" ")
            );
            if !init_containers.is_empty() {
                let _ = write!(
                    message,
                    " or one of the init containers: [{}]",
                    init_containers.join(" ")
                );
            }
            Err(ApiError::bad_request(message))
        }
    }
}

/// Why a container has no log yet: the kubelet's answer for a container waiting to start.
fn waiting_error(pod: &Pod, container: &str, name: &str) -> ApiError {
    let status = pod.status.clone().unwrap_or_default();
    let reason = status
        .container_statuses
        .iter()
        .flatten()
        .chain(status.init_container_statuses.iter().flatten())
        .find(|status| status.name == container)
        .and_then(|status| status.state.as_ref()?.waiting.as_ref()?.reason.clone())
        .unwrap_or_else(|| "ContainerCreating".to_owned());
    let reason = if reason == "ErrImagePull" || reason == "ImagePullBackOff" {
        "trying and failing to pull image".to_owned()
    } else {
        reason
    };
    ApiError::bad_request(format!(
        "container {} in pod {} is waiting to start: {reason}",
        quote(container),
        quote(name)
    ))
}

/// Answers `GET pods/{name}/log`: the whole log, or a stream that follows it.
pub(crate) fn pod_log(
    shared: &Arc<Shared>,
    namespace: &str,
    name: &str,
    query: &BTreeMap<String, String>,
) -> Result<mpsc::Receiver<Bytes>, ApiError> {
    let object = lock(&shared.store)
        .get(&ObjectKey::new(Kind::Pod, namespace, name))
        .cloned()
        .ok_or_else(|| ApiError::not_found("pods", name))?;
    let pod: Pod = serde_json::from_value(object)
        .map_err(|error| ApiError::new(500, "InternalError", error.to_string()))?;
    let container = choose_container(&pod, query.get("container"), name)?;
    if parse_bool(query, "previous") {
        return Err(ApiError::bad_request(format!(
            "previous terminated container {} in pod {} not found",
            quote(&container),
            quote(name)
        )));
    }
    let since = match (query.get("sinceTime"), parse_number(query, "sinceSeconds")?) {
        (Some(time), _) => Some(time.parse::<Timestamp>().map_err(|error| {
            ApiError::bad_request(format!("sinceTime: invalid value {}: {error}", quote(time)))
        })?),
        (None, Some(seconds)) => Some(
            crate::store::now()
                .checked_sub(k8s_openapi::jiff::SignedDuration::from_secs(seconds))
                .unwrap_or(Timestamp::MIN),
        ),
        (None, None) => None,
    };
    let options = LogOptions {
        container,
        follow: parse_bool(query, "follow"),
        timestamps: parse_bool(query, "timestamps"),
        since,
        tail_lines: parse_number(query, "tailLines")?
            .map(|lines| usize::try_from(lines).unwrap_or(0)),
        limit_bytes: parse_number(query, "limitBytes")?
            .map(|bytes| usize::try_from(bytes).unwrap_or(0)),
    };
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let log = lock(&shared.logs)
        .get(&(uid, options.container.clone()))
        .cloned();
    let Some(log) = log else {
        return Err(waiting_error(&pod, &options.container, name));
    };
    let (sender, receiver) = mpsc::channel(64);
    tokio::spawn(stream(Arc::clone(shared), log, options, sender));
    Ok(receiver)
}

/// Sends the log, then (when following) every new entry until the container is done, the
/// stream is cut or the client goes away.
async fn stream(
    shared: Arc<Shared>,
    log: Arc<ContainerLog>,
    options: LogOptions,
    sender: mpsc::Sender<Bytes>,
) {
    let mut changes = log.changes.subscribe();
    let mut cuts = shared.log_cuts.subscribe();
    cuts.mark_unchanged();
    changes.mark_unchanged();
    let (first, _) = log.entries_from(0);
    let mut index = first
        .iter()
        .position(|entry| options.since.is_none_or(|since| entry.time >= since))
        .unwrap_or(first.len());
    if let Some(tail) = options.tail_lines {
        index = index.max(first.len().saturating_sub(tail));
    }
    let mut budget = options.limit_bytes.unwrap_or(usize::MAX);
    loop {
        let (entries, finished) = log.entries_from(index);
        index += entries.len();
        for entry in entries {
            let mut chunk = Vec::with_capacity(entry.bytes.len() + 32);
            if options.timestamps {
                chunk.extend_from_slice(format_timestamp(entry.time).as_bytes());
                chunk.push(b' ');
            }
            chunk.extend_from_slice(&entry.bytes);
            chunk.truncate(budget);
            budget -= chunk.len();
            if sender.send(Bytes::from(chunk)).await.is_err() {
                return;
            }
            if budget == 0 {
                return;
            }
        }
        if finished || !options.follow {
            return;
        }
        tokio::select! {
            result = changes.changed() => if result.is_err() { return },
            _ = cuts.changed() => return,
            () = sender.closed() => return,
            () = shared.shutdown.cancelled() => return,
        }
    }
}
