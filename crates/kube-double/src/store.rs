//! The objects, the one resource-version counter and the event history that watches resume from,
//! as etcd and the API server's watch cache keep them.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::Value;
use tokio::sync::broadcast;

/// The kinds of object the double serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `pods`
    Pod,
    /// `secrets`
    Secret,
    /// `persistentvolumeclaims`
    PersistentVolumeClaim,
    /// `configmaps`
    ConfigMap,
}

impl Kind {
    /// Every kind served.
    pub const ALL: [Kind; 4] = [
        Kind::Pod,
        Kind::Secret,
        Kind::PersistentVolumeClaim,
        Kind::ConfigMap,
    ];

    /// The resource name in paths, such as `pods`.
    #[must_use]
    pub fn resource(self) -> &'static str {
        match self {
            Kind::Pod => "pods",
            Kind::Secret => "secrets",
            Kind::PersistentVolumeClaim => "persistentvolumeclaims",
            Kind::ConfigMap => "configmaps",
        }
    }

    /// The `kind` field, such as `Pod`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Kind::Pod => "Pod",
            Kind::Secret => "Secret",
            Kind::PersistentVolumeClaim => "PersistentVolumeClaim",
            Kind::ConfigMap => "ConfigMap",
        }
    }

    /// The kind served at the resource name `resource`.
    #[must_use]
    pub fn from_resource(resource: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|kind| kind.resource() == resource)
    }
}

/// Where an object is stored.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ObjectKey {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn new(kind: Kind, namespace: &str, name: &str) -> Self {
        Self {
            kind,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }
}

/// The type of a watch event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventType {
    Added,
    Modified,
    Deleted,
}

/// One change, kept in the history and sent to every open watch.
#[derive(Debug)]
pub(crate) struct StoredEvent {
    pub revision: u64,
    pub key: ObjectKey,
    pub event_type: EventType,
    pub object: Value,
    /// The object before a modification or deletion: a watch with a selector turns a
    /// modification into ADDED or DELETED when the object enters or leaves the selection.
    pub previous: Option<Value>,
}

/// What open watches are told.
#[derive(Clone, Debug)]
pub(crate) enum WatchMessage {
    Event(Arc<StoredEvent>),
    /// The history was compacted: every open watch ends with 410 Expired.
    Expire,
}

/// The objects and their history.
pub(crate) struct Store {
    revision: u64,
    /// Watches and continue tokens from a resource version below this answer 410.
    compacted: u64,
    objects: BTreeMap<ObjectKey, Value>,
    history: VecDeque<Arc<StoredEvent>>,
    history_limit: usize,
    /// The revision of the newest event dropped from the history.
    dropped: u64,
    sender: broadcast::Sender<WatchMessage>,
    namespaces: BTreeSet<String>,
}

/// A watch that asked for events the history no longer holds.
pub(crate) struct TooOld {
    pub oldest: u64,
}

impl Store {
    pub fn new(namespaces: &[String], history_limit: usize) -> Self {
        let (sender, _) = broadcast::channel(1 << 14);
        Self {
            revision: 1,
            compacted: 0,
            objects: BTreeMap::new(),
            history: VecDeque::new(),
            history_limit: history_limit.max(1),
            dropped: 0,
            sender,
            namespaces: namespaces.iter().cloned().collect(),
        }
    }

    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn compacted(&self) -> u64 {
        self.compacted
    }

    pub fn has_namespace(&self, namespace: &str) -> bool {
        self.namespaces.contains(namespace)
    }

    pub fn namespaces(&self) -> impl Iterator<Item = &String> {
        self.namespaces.iter()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<WatchMessage> {
        self.sender.subscribe()
    }

    pub fn get(&self, key: &ObjectKey) -> Option<&Value> {
        self.objects.get(key)
    }

    /// Objects of `kind`, in `namespace` or in all namespaces, in key order.
    pub fn list(
        &self,
        kind: Kind,
        namespace: Option<&str>,
    ) -> impl Iterator<Item = (&ObjectKey, &Value)> {
        self.objects.iter().filter(move |(key, _)| {
            key.kind == kind && namespace.is_none_or(|namespace| key.namespace == namespace)
        })
    }

    /// Whether any object has this uid.
    pub fn uid_exists(&self, uid: &str) -> bool {
        self.objects
            .values()
            .any(|object| uid_of(object) == Some(uid))
    }

    fn record(
        &mut self,
        key: &ObjectKey,
        event_type: EventType,
        object: Value,
        previous: Option<Value>,
    ) {
        let event = Arc::new(StoredEvent {
            revision: self.revision,
            key: key.clone(),
            event_type,
            object,
            previous,
        });
        self.history.push_back(Arc::clone(&event));
        while self.history.len() > self.history_limit {
            if let Some(dropped) = self.history.pop_front() {
                self.dropped = dropped.revision;
            }
        }
        // No open watch is not an error.
        let _ = self.sender.send(WatchMessage::Event(event));
    }

    fn stamp(&mut self, object: &mut Value) {
        self.revision += 1;
        if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.insert(
                "resourceVersion".to_owned(),
                Value::String(self.revision.to_string()),
            );
        }
    }

    /// Stores a new object: gives it the next resource version and sends ADDED.
    pub fn insert(&mut self, key: &ObjectKey, mut object: Value) -> Value {
        self.stamp(&mut object);
        self.objects.insert(key.clone(), object.clone());
        self.record(key, EventType::Added, object.clone(), None);
        object
    }

    /// Replaces an object, unless nothing but its resource version would change: then it is
    /// left as is, as the real server does for a no-op update. Sends MODIFIED.
    pub fn replace(&mut self, key: &ObjectKey, mut object: Value) -> Value {
        let Some(previous) = self.objects.get(key).cloned() else {
            return self.insert(key, object);
        };
        if let Some(version) = previous.pointer("/metadata/resourceVersion").cloned()
            && let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut)
        {
            metadata.insert("resourceVersion".to_owned(), version);
        }
        if object == previous {
            return previous;
        }
        self.stamp(&mut object);
        self.objects.insert(key.clone(), object.clone());
        self.record(key, EventType::Modified, object.clone(), Some(previous));
        object
    }

    /// Removes an object; the DELETED event carries it with the deletion's resource version.
    pub fn remove(&mut self, key: &ObjectKey) -> Option<Value> {
        let previous = self.objects.remove(key)?;
        let mut object = previous.clone();
        self.stamp(&mut object);
        self.record(key, EventType::Deleted, object.clone(), Some(previous));
        Some(object)
    }

    /// Events after `revision`, or the oldest revision one can still watch from.
    pub fn events_after(&self, revision: u64) -> Result<Vec<Arc<StoredEvent>>, TooOld> {
        let oldest = self.compacted.max(self.dropped);
        if revision < oldest {
            return Err(TooOld { oldest });
        }
        Ok(self
            .history
            .iter()
            .filter(|event| event.revision > revision)
            .cloned()
            .collect())
    }

    /// Compacts the history as etcd does: every resource version handed out so far becomes too
    /// old to watch from, and every open watch ends with 410.
    pub fn expire(&mut self) {
        self.revision += 1;
        self.compacted = self.revision;
        self.history.clear();
        let _ = self.sender.send(WatchMessage::Expire);
    }
}

/// `metadata.uid` of an object.
pub(crate) fn uid_of(object: &Value) -> Option<&str> {
    object.pointer("/metadata/uid").and_then(Value::as_str)
}

/// A random version 4 UUID, from the standard library's per-process random hasher keys.
pub(crate) fn new_uid() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let random = |salt: u64| {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u64(salt);
        hasher.finish()
    };
    let bits = (u128::from(random(1)) << 64) | u128::from(random(2));
    let bits = (bits & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `n` random characters of the alphabet `generateName` suffixes use.
pub(crate) fn random_suffix(n: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let uid = new_uid();
    uid.bytes()
        .filter(u8::is_ascii_hexdigit)
        .take(n)
        .enumerate()
        .map(|(index, byte)| {
            char::from(ALPHABET[(usize::from(byte) * 7 + index * 13) % ALPHABET.len()])
        })
        .collect()
}

/// The current time. (jiff's own clock needs a feature k8s-openapi does not enable.)
pub(crate) fn now() -> k8s_openapi::jiff::Timestamp {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    k8s_openapi::jiff::Timestamp::new(
        i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX),
        i32::try_from(since_epoch.subsec_nanos()).unwrap_or(0),
    )
    .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH)
}

/// The current time as the API serializes `metav1.Time` (seconds).
pub(crate) fn now_json() -> Value {
    serde_json::to_value(Time(now())).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_look_like_uuids() {
        let uid = new_uid();
        assert_eq!(uid.len(), 36);
        assert_eq!(&uid[14..15], "4");
        assert_ne!(uid, new_uid());
    }

    #[test]
    fn history_answers_too_old_after_expiry() {
        let mut store = Store::new(&["default".to_owned()], 10);
        let key = ObjectKey::new(Kind::ConfigMap, "default", "a");
        store.insert(&key, serde_json::json!({"metadata": {"name": "a"}}));
        let before = store.revision();
        assert_eq!(
            store
                .events_after(before - 1)
                .ok()
                .map(|events| events.len()),
            Some(1)
        );
        store.expire();
        assert!(store.events_after(before).is_err());
        assert!(store.events_after(store.revision()).is_ok());
    }

    #[test]
    fn history_window_drops_old_events() {
        let mut store = Store::new(&["default".to_owned()], 2);
        for name in ["a", "b", "c", "d"] {
            store.insert(
                &ObjectKey::new(Kind::ConfigMap, "default", name),
                serde_json::json!({"metadata": {"name": name}}),
            );
        }
        assert!(store.events_after(1).is_err());
        assert_eq!(
            store
                .events_after(store.revision() - 2)
                .ok()
                .map(|events| events.len()),
            Some(2)
        );
    }
}
