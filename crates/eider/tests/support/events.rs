//! The Docker Engine's container events, recorded as they happen.
//!
//! The engine keeps only its last 256 events for `docker events --since`: tests running beside
//! this one turn that over within seconds, so an event read back after the fact may be gone
//! (and a check that a job created nothing would then pass for the wrong reason). A recorder
//! subscribes before what the test watches and keeps every container event from then on.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::{BUSYBOX, Engine, docker};

/// The label of the containers that mark how far a recording has come.
const MARKER_LABEL: &str = "eider-test.events-marker";

/// How long the engine may take to report the marker's creation.
const PATIENCE: Duration = Duration::from_secs(60);

/// One container event.
#[derive(Clone, Debug)]
pub struct ContainerEvent {
    /// When, in nanoseconds since 1970.
    pub time_nano: u128,
    /// `create`, `start`, `die`, `destroy`...
    pub action: String,
    /// The container's id.
    pub id: String,
    /// The container's labels, and its `name` and `image`.
    pub attributes: HashMap<String, String>,
}

impl ContainerEvent {
    /// Whether the container carries label `key` with `value`.
    pub fn has_label(&self, key: &str, value: &str) -> bool {
        self.attributes.get(key).is_some_and(|found| found == value)
    }
}

/// A `docker events` process that records every container event from its start.
pub struct ContainerEvents {
    child: Child,
    recorded: Arc<Mutex<Vec<ContainerEvent>>>,
    markers: AtomicUsize,
}

impl ContainerEvents {
    /// Starts recording. It takes events from the moment of this call: those the engine sent
    /// before the subscription was in place come from its recent history.
    pub fn record() -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("a clock after 1970");
        let since = format!("{}.{:09}", now.as_secs(), now.subsec_nanos());
        let mut child = Engine::Docker
            .cli()
            .args([
                "events",
                "--since",
                &since,
                "--filter",
                "type=container",
                "--format",
                "{{json .}}",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start docker events");
        let stdout = child.stdout.take().expect("piped stdout");
        let recorded: Arc<Mutex<Vec<ContainerEvent>>> = Arc::default();
        let sink = Arc::clone(&recorded);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(event) = parse(&line) {
                    sink.lock().expect("recorded events").push(event);
                }
            }
        });
        Self {
            child,
            recorded,
            markers: AtomicUsize::new(0),
        }
    }

    /// Every event recorded up to now. The engine sends events in order: once the creation of
    /// a marker container made now has arrived, so has everything before it.
    pub fn until_now(&self) -> Vec<ContainerEvent> {
        let marker = format!(
            "{}-{}",
            std::process::id(),
            self.markers.fetch_add(1, Ordering::Relaxed)
        );
        let label = format!("{MARKER_LABEL}={marker}");
        let id = docker(&["create", "--label", &label, BUSYBOX, "true"]).concat();
        docker(&["rm", &id]);
        let deadline = Instant::now() + PATIENCE;
        loop {
            {
                let recorded = self.recorded.lock().expect("recorded events");
                if recorded
                    .iter()
                    .any(|event| event.has_label(MARKER_LABEL, &marker))
                {
                    return recorded
                        .iter()
                        .filter(|event| !event.attributes.contains_key(MARKER_LABEL))
                        .cloned()
                        .collect();
                }
            }
            assert!(
                Instant::now() < deadline,
                "docker events never reported the marker container {id}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The events up to now of the containers labelled `key=value`.
    pub fn labelled(&self, key: &str, value: &str) -> Vec<ContainerEvent> {
        self.until_now()
            .into_iter()
            .filter(|event| event.has_label(key, value))
            .collect()
    }

    /// The events up to now of job `job`'s containers, as `ACTION NAME` lines: empty when no
    /// container of that job was created.
    pub fn of_job(&self, job: &str) -> Vec<String> {
        self.labelled("eider.job", job)
            .into_iter()
            .map(|event| {
                let name = event.attributes.get("name").cloned().unwrap_or_default();
                format!("{} {name}", event.action)
            })
            .collect()
    }
}

impl Drop for ContainerEvents {
    fn drop(&mut self) {
        let _ignored = self.child.kill();
        let _ignored = self.child.wait();
    }
}

/// One line of `docker events --format '{{json .}}'`.
fn parse(line: &str) -> Option<ContainerEvent> {
    let value: Value = serde_json::from_str(line).ok()?;
    let text = |value: &Value| value.as_str().map(ToOwned::to_owned);
    let attributes = value["Actor"]["Attributes"]
        .as_object()
        .map(|attributes| {
            attributes
                .iter()
                .filter_map(|(key, value)| Some((key.clone(), text(value)?)))
                .collect()
        })
        .unwrap_or_default();
    Some(ContainerEvent {
        time_nano: value["timeNano"].as_u64().map(u128::from)?,
        action: text(&value["Action"])?,
        id: text(&value["Actor"]["ID"])?,
        attributes,
    })
}
