//! The resource operations: create, get, list, delete and delete-collection, with the checks,
//! defaults and garbage collection of the real API server.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, PersistentVolumeClaim, PersistentVolumeClaimStatus, Pod, PodStatus,
    Secret, Toleration,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::selectors::{FieldSelector, LabelSelector};
use crate::shared::{Shared, Termination, lock};
use crate::status::{ApiError, FieldError, quote};
use crate::store::{Kind, ObjectKey, Store, new_uid, now_json, random_suffix, uid_of};
use crate::{kubelet, scheduler, validation};

/// The query parameters of a request, decoded.
pub(crate) type Query = BTreeMap<String, String>;

fn decode<T: DeserializeOwned>(kind: Kind, body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|error| {
        ApiError::bad_request(format!(
            "{kind} in version \"v1\" cannot be handled as a {kind}: {error}",
            kind = kind.name()
        ))
    })
}

fn encode<T: Serialize>(object: &T) -> Value {
    serde_json::to_value(object).unwrap_or(Value::Null)
}

/// `Always` for an image that is untagged or tagged `latest`, else `IfNotPresent`.
fn default_pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn validate_containers(
    containers: &mut [Container],
    field: &str,
    seen: &mut Vec<String>,
    init: bool,
    errors: &mut Vec<FieldError>,
) {
    for (index, container) in containers.iter_mut().enumerate() {
        let path = format!("spec.{field}[{index}]");
        if container.name.is_empty() {
            errors.push(FieldError::required(format!("{path}.name"), ""));
        } else {
            for error in validation::dns1123_label(&container.name) {
                errors.push(FieldError::invalid(
                    format!("{path}.name"),
                    &container.name,
                    &error,
                ));
            }
            if seen.contains(&container.name) {
                errors.push(FieldError::duplicate(
                    format!("{path}.name"),
                    &container.name,
                ));
            }
            seen.push(container.name.clone());
        }
        match container.image.as_deref() {
            None | Some("") => errors.push(FieldError::required(format!("{path}.image"), "")),
            Some(image) => {
                if container.image_pull_policy.is_none() {
                    container.image_pull_policy = Some(default_pull_policy(image).to_owned());
                }
            }
        }
        match container.restart_policy.as_deref() {
            None => {}
            Some("Always") if init => {}
            Some(policy) => {
                let supported: &[&str] = if init { &["Always"] } else { &[] };
                errors.push(FieldError::not_supported(
                    format!("{path}.restartPolicy"),
                    policy,
                    supported,
                ));
            }
        }
        container
            .termination_message_path
            .get_or_insert_with(|| "/dev/termination-log".to_owned());
        container
            .termination_message_policy
            .get_or_insert_with(|| "File".to_owned());
        // Requests default to the limits.
        let resources = container.resources.get_or_insert_with(Default::default);
        if let Some(limits) = resources.limits.clone() {
            let requests = resources.requests.get_or_insert_with(BTreeMap::new);
            for (name, quantity) in limits {
                requests.entry(name).or_insert(quantity);
            }
        }
    }
}

fn qos_class(pod: &Pod) -> &'static str {
    let spec = pod.spec.clone().unwrap_or_default();
    let containers: Vec<&Container> = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .collect();
    let mut any = false;
    let mut guaranteed = true;
    for container in &containers {
        let resources = container.resources.clone().unwrap_or_default();
        let requests = resources.requests.unwrap_or_default();
        let limits = resources.limits.unwrap_or_default();
        any |= !requests.is_empty() || !limits.is_empty();
        for resource in ["cpu", "memory"] {
            match (requests.get(resource), limits.get(resource)) {
                (Some(request), Some(limit)) if request == limit => {}
                _ => guaranteed = false,
            }
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// Pod validation and the defaults the API server and its admission plugins add.
fn prepare_pod(pod: &mut Pod, errors: &mut Vec<FieldError>) {
    let Some(spec) = pod.spec.as_mut() else {
        errors.push(FieldError::required("spec.containers", ""));
        return;
    };
    if spec.containers.is_empty() {
        errors.push(FieldError::required("spec.containers", ""));
    }
    let mut seen = Vec::new();
    if let Some(init_containers) = spec.init_containers.as_mut() {
        validate_containers(init_containers, "initContainers", &mut seen, true, errors);
    }
    validate_containers(&mut spec.containers, "containers", &mut seen, false, errors);
    let policy = spec
        .restart_policy
        .get_or_insert_with(|| "Always".to_owned());
    if !["Always", "OnFailure", "Never"].contains(&policy.as_str()) {
        errors.push(FieldError::not_supported(
            "spec.restartPolicy",
            policy,
            &["Always", "OnFailure", "Never"],
        ));
    }
    if let Some(deadline) = spec.active_deadline_seconds
        && deadline <= 0
    {
        errors.push(FieldError {
            field: "spec.activeDeadlineSeconds".to_owned(),
            reason: "FieldValueInvalid",
            detail: format!(
                "Invalid value: {deadline}: must be between 1 and 2147483647, inclusive"
            ),
        });
    }
    spec.termination_grace_period_seconds.get_or_insert(30);
    spec.dns_policy
        .get_or_insert_with(|| "ClusterFirst".to_owned());
    spec.scheduler_name
        .get_or_insert_with(|| "default-scheduler".to_owned());
    spec.security_context.get_or_insert_with(Default::default);
    spec.service_account_name
        .get_or_insert_with(|| "default".to_owned());
    spec.enable_service_links.get_or_insert(true);
    spec.preemption_policy
        .get_or_insert_with(|| "PreemptLowerPriority".to_owned());
    spec.priority.get_or_insert(0);
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    for taint in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        if !tolerations
            .iter()
            .any(|toleration| toleration.key.as_deref() == Some(taint))
        {
            tolerations.push(Toleration {
                effect: Some("NoExecute".to_owned()),
                key: Some(taint.to_owned()),
                operator: Some("Exists".to_owned()),
                toleration_seconds: Some(300),
                value: None,
            });
        }
    }
    let qos = qos_class(pod);
    pod.status = Some(PodStatus {
        phase: Some("Pending".to_owned()),
        qos_class: Some(qos.to_owned()),
        ..PodStatus::default()
    });
}

fn validate_data_keys<'a>(
    field: &str,
    keys: impl Iterator<Item = &'a String>,
    errors: &mut Vec<FieldError>,
) {
    const MESSAGE: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
    for key in keys {
        let valid = !key.is_empty()
            && key.len() <= 253
            && key.chars().all(|character| {
                character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.')
            });
        if !valid {
            errors.push(FieldError::invalid(format!("{field}[{key}]"), key, MESSAGE));
        }
    }
}

/// Decodes the body as `kind` (dropping unknown fields, as the server does), applies the
/// kind's defaults and returns it with its validation errors.
fn decode_object(kind: Kind, body: &[u8]) -> Result<(Value, Vec<FieldError>), ApiError> {
    let mut errors = Vec::new();
    let object = match kind {
        Kind::Pod => {
            let mut pod: Pod = decode(kind, body)?;
            prepare_pod(&mut pod, &mut errors);
            encode(&pod)
        }
        Kind::Secret => {
            let mut secret: Secret = decode(kind, body)?;
            // stringData is write-only: merged into data, never stored.
            if let Some(strings) = secret.string_data.take() {
                let data = secret.data.get_or_insert_with(BTreeMap::new);
                for (key, value) in strings {
                    data.insert(key, ByteString(value.into_bytes()));
                }
            }
            secret.type_.get_or_insert_with(|| "Opaque".to_owned());
            validate_data_keys(
                "data",
                secret.data.iter().flat_map(BTreeMap::keys),
                &mut errors,
            );
            encode(&secret)
        }
        Kind::ConfigMap => {
            let config_map: ConfigMap = decode(kind, body)?;
            validate_data_keys(
                "data",
                config_map.data.iter().flat_map(BTreeMap::keys),
                &mut errors,
            );
            validate_data_keys(
                "binaryData",
                config_map.binary_data.iter().flat_map(BTreeMap::keys),
                &mut errors,
            );
            encode(&config_map)
        }
        Kind::PersistentVolumeClaim => {
            let mut claim: PersistentVolumeClaim = decode(kind, body)?;
            let spec = claim.spec.get_or_insert_with(Default::default);
            if spec.access_modes.as_ref().is_none_or(Vec::is_empty) {
                errors.push(FieldError::required(
                    "spec.accessModes",
                    "at least 1 access mode is required",
                ));
            }
            let storage: Option<&Quantity> = spec
                .resources
                .as_ref()
                .and_then(|resources| resources.requests.as_ref())
                .and_then(|requests| requests.get("storage"));
            if storage.is_none() {
                errors.push(FieldError::required("spec.resources[storage]", ""));
            }
            spec.volume_mode
                .get_or_insert_with(|| "Filesystem".to_owned());
            claim.status = Some(PersistentVolumeClaimStatus {
                phase: Some("Pending".to_owned()),
                ..PersistentVolumeClaimStatus::default()
            });
            encode(&claim)
        }
    };
    Ok((object, errors))
}

fn validate_metadata(object: &Value, errors: &mut Vec<FieldError>) {
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    for error in validation::dns1123_subdomain(name) {
        errors.insert(0, FieldError::invalid("metadata.name", name, &error));
    }
    if let Some(labels) = object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
    {
        for (key, value) in labels {
            for error in validation::qualified_name(key) {
                errors.push(FieldError::invalid("metadata.labels", key, &error));
            }
            for error in validation::label_value(value.as_str().unwrap_or("")) {
                errors.push(FieldError::invalid(
                    "metadata.labels",
                    value.as_str().unwrap_or(""),
                    &error,
                ));
            }
        }
    }
    if let Some(annotations) = object
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        for key in annotations.keys() {
            for error in validation::qualified_name(key) {
                errors.push(FieldError::invalid("metadata.annotations", key, &error));
            }
        }
    }
}

/// `POST /api/v1/namespaces/{namespace}/{resource}`.
pub(crate) fn create(
    shared: &Arc<Shared>,
    kind: Kind,
    namespace: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
    let (mut object, mut errors) = decode_object(kind, body)?;
    let metadata = object
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| ApiError::bad_request("the object has no metadata"))?;
    match metadata.get("namespace").and_then(Value::as_str) {
        Some(given) if !given.is_empty() && given != namespace => {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        _ => {}
    }
    let name = match (
        metadata.get("name").and_then(Value::as_str),
        metadata.get("generateName").and_then(Value::as_str),
    ) {
        (Some(name), _) if !name.is_empty() => name.to_owned(),
        (_, Some(prefix)) if !prefix.is_empty() => format!("{prefix}{}", random_suffix(5)),
        _ => {
            return Err(ApiError::invalid(
                kind.name(),
                "",
                &[FieldError::required(
                    "metadata.name",
                    "name or generateName is required",
                )],
            ));
        }
    };
    metadata.insert("name".to_owned(), Value::String(name.clone()));
    metadata.insert("namespace".to_owned(), Value::String(namespace.to_owned()));
    metadata.insert("uid".to_owned(), Value::String(new_uid()));
    metadata.insert("creationTimestamp".to_owned(), now_json());
    for field in [
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
        "resourceVersion",
    ] {
        metadata.remove(field);
    }
    if kind == Kind::PersistentVolumeClaim {
        // The storage-object-in-use protection admission plugin adds this finalizer.
        let finalizers = metadata.entry("finalizers").or_insert_with(|| json!([]));
        if let Some(finalizers) = finalizers.as_array_mut()
            && !finalizers
                .iter()
                .any(|finalizer| finalizer == PVC_PROTECTION)
        {
            finalizers.push(Value::String(PVC_PROTECTION.to_owned()));
        }
    }
    let key = ObjectKey::new(kind, namespace, &name);
    let stored = {
        let mut store = lock(&shared.store);
        if !store.has_namespace(namespace) {
            return Err(ApiError::not_found("namespaces", namespace));
        }
        validate_metadata(&object, &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::invalid(kind.name(), &name, &errors));
        }
        if store.get(&key).is_some() {
            return Err(ApiError::already_exists(kind.resource(), &name));
        }
        store.insert(&key, object)
    };
    lock(&shared.created).push((kind, stored.clone()));
    if kind == Kind::Pod {
        let node = stored
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or("");
        let uid = uid_of(&stored).unwrap_or("").to_owned();
        let (sender, termination) = watch::channel(None);
        if node.is_empty() {
            lock(&shared.kubelet_pods).insert(uid.clone(), sender);
            scheduler::schedule(shared, key, uid, termination);
        } else if node == shared.settings.node.name {
            lock(&shared.kubelet_pods).insert(uid.clone(), sender);
            kubelet::run(shared, key, uid, termination);
        }
    }
    Ok(stored)
}

/// `PUT .../{resource}/{name}` of a Secret or a config map: the object replaced whole, as the
/// real server does, when it names the stored resource version (an update without one is
/// invalid, one with another is a conflict). The server's own metadata is kept.
pub(crate) fn update(
    shared: &Arc<Shared>,
    kind: Kind,
    namespace: &str,
    name: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
    if !matches!(kind, Kind::Secret | Kind::ConfigMap) {
        return Err(ApiError::method_not_allowed());
    }
    let (mut object, mut errors) = decode_object(kind, body)?;
    let key = ObjectKey::new(kind, namespace, name);
    let mut store = lock(&shared.store);
    let current = store
        .get(&key)
        .cloned()
        .ok_or_else(|| ApiError::not_found(kind.resource(), name))?;
    let version = |object: &Value| {
        object
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let given = version(&object);
    if given.is_empty() {
        return Err(ApiError::invalid(
            kind.name(),
            name,
            &[FieldError::invalid(
                "metadata.resourceVersion",
                "0x0",
                "must be specified for an update",
            )],
        ));
    }
    if given != version(&current) {
        return Err(ApiError::conflict(
            kind.resource(),
            name,
            "the object has been modified; please apply your changes to the latest version and \
             try again",
        ));
    }
    let metadata = object
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| ApiError::bad_request("the object has no metadata"))?;
    if metadata.get("name").and_then(Value::as_str) != Some(name) {
        return Err(ApiError::bad_request(
            "the name of the object does not match the name on the URL",
        ));
    }
    for field in ["namespace", "uid", "creationTimestamp"] {
        match current.pointer(&format!("/metadata/{field}")) {
            Some(value) => metadata.insert(field.to_owned(), value.clone()),
            None => metadata.remove(field),
        };
    }
    validate_metadata(&object, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::invalid(kind.name(), name, &errors));
    }
    Ok(store.replace(&key, object))
}

/// `GET .../{resource}/{name}`.
pub(crate) fn get(
    shared: &Arc<Shared>,
    kind: Kind,
    namespace: &str,
    name: &str,
) -> Result<Value, ApiError> {
    lock(&shared.store)
        .get(&ObjectKey::new(kind, namespace, name))
        .cloned()
        .ok_or_else(|| ApiError::not_found(kind.resource(), name))
}

/// A list item as the server writes it: without `kind` and `apiVersion`.
fn list_item(object: &Value) -> Value {
    let mut item = object.clone();
    if let Some(fields) = item.as_object_mut() {
        fields.remove("kind");
        fields.remove("apiVersion");
    }
    item
}

pub(crate) fn selectors(
    kind: Kind,
    query: &Query,
) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(query.get("labelSelector").map_or("", String::as_str))
        .map_err(ApiError::bad_request)?;
    let fields = FieldSelector::parse(kind, query.get("fieldSelector").map_or("", String::as_str))
        .map_err(ApiError::bad_request)?;
    Ok((labels, fields))
}

/// What a continue token carries: the list's resource version and the last key sent.
#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    #[serde(rename = "rv")]
    revision: u64,
    #[serde(rename = "start")]
    after: String,
}

fn list_key(key: &ObjectKey) -> String {
    format!("{}/{}", key.namespace, key.name)
}

/// `GET .../{resource}`: the selected objects in key order, a page at a time when `limit` is
/// given.
pub(crate) fn list(
    shared: &Arc<Shared>,
    kind: Kind,
    namespace: Option<&str>,
    query: &Query,
) -> Result<Value, ApiError> {
    let (labels, fields) = selectors(kind, query)?;
    let limit = match query.get("limit").map(|limit| limit.parse::<usize>()) {
        None | Some(Ok(0)) => None,
        Some(Ok(limit)) => Some(limit),
        Some(Err(_)) => return Err(ApiError::bad_request("limit: invalid value")),
    };
    let store = lock(&shared.store);
    let (revision, after) = match query.get("continue").filter(|token| !token.is_empty()) {
        Some(token) => {
            let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<ContinueToken>(&bytes).ok())
                .ok_or_else(|| ApiError::bad_request("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"))?;
            if decoded.revision < store.compacted() {
                return Err(ApiError::expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
                ));
            }
            (decoded.revision, Some(decoded.after))
        }
        None => (store.revision(), None),
    };
    let selected: Vec<(String, Value)> = store
        .list(kind, namespace)
        .filter(|(key, _)| after.as_ref().is_none_or(|after| list_key(key) > *after))
        .filter(|(_, object)| labels.matches(object) && fields.matches(kind, object))
        .map(|(key, object)| (list_key(key), list_item(object)))
        .collect();
    drop(store);
    let total = selected.len();
    let page: Vec<(String, Value)> = match limit {
        Some(limit) => selected.into_iter().take(limit).collect(),
        None => selected,
    };
    let mut metadata = json!({"resourceVersion": revision.to_string()});
    if page.len() < total
        && let Some((last, _)) = page.last()
    {
        let token = ContinueToken {
            revision,
            after: last.clone(),
        };
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&token).unwrap_or_default());
        metadata["continue"] = Value::String(token);
        metadata["remainingItemCount"] = json!(total - page.len());
    }
    Ok(json!({
        "kind": format!("{}List", kind.name()),
        "apiVersion": "v1",
        "metadata": metadata,
        "items": page.into_iter().map(|(_, item)| item).collect::<Vec<_>>(),
    }))
}

/// How dependents are treated when their owner is deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Propagation {
    /// Dependents are deleted after the owner (also used for `Foreground`, see the crate docs).
    Background,
    /// Dependents lose their reference to the owner and stay.
    Orphan,
}

/// The `DeleteOptions` of a request, from its body and query.
#[derive(Clone, Debug)]
pub(crate) struct DeleteRequest {
    pub grace_period_seconds: Option<i64>,
    pub propagation: Propagation,
    pub uid_precondition: Option<String>,
    pub resource_version_precondition: Option<String>,
}

impl DeleteRequest {
    pub fn background() -> Self {
        Self {
            grace_period_seconds: None,
            propagation: Propagation::Background,
            uid_precondition: None,
            resource_version_precondition: None,
        }
    }

    pub fn parse(query: &Query, body: &[u8]) -> Result<Self, ApiError> {
        let options: Value = if body.iter().all(u8::is_ascii_whitespace) {
            json!({})
        } else {
            serde_json::from_slice(body)
                .map_err(|error| ApiError::bad_request(format!("invalid DeleteOptions: {error}")))?
        };
        let grace_period_seconds = match options.get("gracePeriodSeconds").and_then(Value::as_i64) {
            Some(seconds) => Some(seconds),
            None => query
                .get("gracePeriodSeconds")
                .map(|seconds| {
                    seconds
                        .parse::<i64>()
                        .map_err(|_| ApiError::bad_request("gracePeriodSeconds: invalid value"))
                })
                .transpose()?,
        };
        let policy = options
            .get("propagationPolicy")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| query.get("propagationPolicy").cloned());
        let orphan = options.get("orphanDependents").and_then(Value::as_bool) == Some(true);
        let propagation = match policy.as_deref() {
            None | Some("Background" | "Foreground") if !orphan => Propagation::Background,
            None | Some("Orphan") => Propagation::Orphan,
            Some(other) => {
                return Err(ApiError::invalid(
                    "DeleteOptions",
                    "",
                    &[FieldError::not_supported(
                        "propagationPolicy",
                        other,
                        &["Foreground", "Background", "Orphan", "nil"],
                    )],
                ));
            }
        };
        Ok(Self {
            grace_period_seconds,
            propagation,
            uid_precondition: options
                .pointer("/preconditions/uid")
                .and_then(Value::as_str)
                .map(str::to_owned),
            resource_version_precondition: options
                .pointer("/preconditions/resourceVersion")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }
}

const PVC_PROTECTION: &str = "kubernetes.io/pvc-protection";

fn has_finalizers(object: &Value) -> bool {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|finalizers| !finalizers.is_empty())
}

/// What a delete answered: the object, or a success `Status` for kinds the server does not
/// return on delete.
fn deleted_answer(kind: Kind, object: &Value) -> Value {
    if kind == Kind::Pod || has_finalizers(object) {
        return object.clone();
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {
            "name": object.pointer("/metadata/name").cloned().unwrap_or(Value::Null),
            "kind": kind.resource(),
            "uid": object.pointer("/metadata/uid").cloned().unwrap_or(Value::Null),
        },
    })
}

/// `DELETE .../{resource}/{name}`.
pub(crate) fn delete(
    shared: &Arc<Shared>,
    kind: Kind,
    namespace: &str,
    name: &str,
    request: &DeleteRequest,
) -> Result<Value, ApiError> {
    let key = ObjectKey::new(kind, namespace, name);
    let mut store = lock(&shared.store);
    let mut object = store
        .get(&key)
        .cloned()
        .ok_or_else(|| ApiError::not_found(kind.resource(), name))?;
    let uid = uid_of(&object).unwrap_or("").to_owned();
    if let Some(expected) = &request.uid_precondition
        && *expected != uid
    {
        return Err(ApiError::conflict(
            kind.resource(),
            name,
            &format!(
                "Precondition failed: UID in precondition: {expected}, UID in object meta: {uid}"
            ),
        ));
    }
    let version = object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if let Some(expected) = &request.resource_version_precondition
        && *expected != version
    {
        return Err(ApiError::conflict(
            kind.resource(),
            name,
            &format!(
                "Precondition failed: ResourceVersion in precondition: {expected}, ResourceVersion in object meta: {version}"
            ),
        ));
    }
    if kind == Kind::Pod {
        let grace = pod_grace_seconds(&object, request.grace_period_seconds);
        if grace > 0 {
            let current = object
                .pointer("/metadata/deletionGracePeriodSeconds")
                .and_then(Value::as_i64);
            if current.is_some_and(|current| current <= grace) {
                return Ok(object);
            }
            let deadline = crate::store::now()
                .checked_add(k8s_openapi::jiff::SignedDuration::from_secs(grace))
                .unwrap_or(k8s_openapi::jiff::Timestamp::MAX);
            object["metadata"]["deletionTimestamp"] = serde_json::to_value(
                k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(deadline),
            )
            .unwrap_or(Value::Null);
            object["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
            let updated = store.replace(&key, object);
            drop(store);
            if request.propagation == Propagation::Orphan {
                orphan_dependents(shared, &uid);
            }
            let sender = lock(&shared.kubelet_pods).get(&uid).cloned();
            // A Pod no kubelet here runs (bound to another node) stays, as nothing confirms it.
            if let Some(sender) = sender {
                let _ = sender.send(Some(Termination {
                    grace_seconds: grace.unsigned_abs(),
                }));
            }
            return Ok(updated);
        }
    } else if has_finalizers(&object) {
        if object.pointer("/metadata/deletionTimestamp").is_none() {
            object["metadata"]["deletionTimestamp"] = now_json();
            object["metadata"]["deletionGracePeriodSeconds"] = json!(0);
            object = store.replace(&key, object);
        }
        drop(store);
        if kind == Kind::PersistentVolumeClaim {
            release_claims(shared);
        }
        return Ok(object);
    }
    let removed = store.remove(&key).unwrap_or(object);
    drop(store);
    after_removal(shared, kind, &removed, request.propagation);
    Ok(deleted_answer(kind, &removed))
}

/// The grace period a Pod deletion gets: none for a Pod no kubelet runs or one that has
/// finished, else the request's or the Pod's own.
fn pod_grace_seconds(object: &Value, requested: Option<i64>) -> i64 {
    let unbound = object
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty);
    let phase = object
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("");
    if unbound || phase == "Succeeded" || phase == "Failed" {
        return 0;
    }
    requested
        .or_else(|| {
            object
                .pointer("/spec/terminationGracePeriodSeconds")
                .and_then(Value::as_i64)
        })
        .unwrap_or(30)
        .max(0)
}

/// `DELETE .../{resource}` with selectors: deletes each selected object, answers the list of
/// them.
pub(crate) fn delete_collection(
    shared: &Arc<Shared>,
    kind: Kind,
    namespace: &str,
    query: &Query,
    request: &DeleteRequest,
) -> Result<Value, ApiError> {
    let (labels, fields) = selectors(kind, query)?;
    let names: Vec<String> = lock(&shared.store)
        .list(kind, Some(namespace))
        .filter(|(_, object)| labels.matches(object) && fields.matches(kind, object))
        .map(|(key, _)| key.name.clone())
        .collect();
    let mut items = Vec::new();
    for name in names {
        match delete(shared, kind, namespace, &name, request) {
            Ok(answer) if answer.get("kind").and_then(Value::as_str) == Some("Status") => {}
            Ok(object) => items.push(list_item(&object)),
            Err(error) if error.code == 404 => {}
            Err(error) => return Err(error),
        }
    }
    let revision = lock(&shared.store).revision();
    Ok(json!({
        "kind": format!("{}List", kind.name()),
        "apiVersion": "v1",
        "metadata": {"resourceVersion": revision.to_string()},
        "items": items,
    }))
}

/// Removes a Pod the kubelet has finished terminating, if it is still the same Pod.
pub(crate) fn remove_terminated_pod(shared: &Arc<Shared>, key: &ObjectKey, uid: &str) {
    let removed = {
        let mut store = lock(&shared.store);
        if store.get(key).and_then(uid_of) != Some(uid) {
            return;
        }
        store.remove(key)
    };
    if let Some(removed) = removed {
        after_removal(shared, Kind::Pod, &removed, Propagation::Background);
    }
}

/// What follows an object's removal: a removed Pod's containers are killed at once and its
/// logs dropped, and the garbage collector deletes its dependents.
fn after_removal(shared: &Arc<Shared>, kind: Kind, removed: &Value, propagation: Propagation) {
    let uid = uid_of(removed).unwrap_or("").to_owned();
    if kind == Kind::Pod {
        if let Some(sender) = lock(&shared.kubelet_pods).get(&uid) {
            let _ = sender.send(Some(Termination { grace_seconds: 0 }));
        }
        lock(&shared.logs).retain(|(pod, _), _| *pod != uid);
        release_claims(shared);
    }
    if kind == Kind::PersistentVolumeClaim {
        crate::claims::remove_claim_directory(shared, &uid);
    }
    match propagation {
        Propagation::Orphan => orphan_dependents(shared, &uid),
        Propagation::Background => {
            let shared = Arc::clone(shared);
            tokio::spawn(async move { collect_dependents(&shared, &uid) });
        }
    }
}

fn owner_uids(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|owners| {
            owners
                .iter()
                .filter_map(|owner| owner.get("uid").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn without_owner(object: &Value, uid: &str) -> Value {
    let mut object = object.clone();
    if let Some(owners) = object
        .pointer_mut("/metadata/ownerReferences")
        .and_then(Value::as_array_mut)
    {
        owners.retain(|owner| owner.get("uid").and_then(Value::as_str) != Some(uid));
        if owners.is_empty()
            && let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut)
        {
            metadata.remove("ownerReferences");
        }
    }
    object
}

/// Every object that names `uid` among its owners.
fn dependents_of(store: &Store, uid: &str) -> Vec<(ObjectKey, Value)> {
    Kind::ALL
        .into_iter()
        .flat_map(|kind| store.list(kind, None))
        .filter(|(_, object)| owner_uids(object).iter().any(|owner| owner == uid))
        .map(|(key, object)| (key.clone(), object.clone()))
        .collect()
}

fn orphan_dependents(shared: &Arc<Shared>, uid: &str) {
    let mut store = lock(&shared.store);
    for (key, object) in dependents_of(&store, uid) {
        store.replace(&key, without_owner(&object, uid));
    }
}

/// The garbage collector: deletes every object whose owners are all gone, and drops the
/// reference to a gone owner from objects that still have another.
fn collect_dependents(shared: &Arc<Shared>, uid: &str) {
    let mut to_delete = Vec::new();
    {
        let mut store = lock(&shared.store);
        for (key, object) in dependents_of(&store, uid) {
            let owners = owner_uids(&object);
            if owners
                .iter()
                .any(|owner| owner != uid && store.uid_exists(owner))
            {
                store.replace(&key, without_owner(&object, uid));
            } else {
                to_delete.push((key, uid_of(&object).unwrap_or("").to_owned()));
            }
        }
    }
    for (key, dependent_uid) in to_delete {
        let request = DeleteRequest {
            uid_precondition: Some(dependent_uid),
            ..DeleteRequest::background()
        };
        let _ = delete(shared, key.kind, &key.namespace, &key.name, &request);
    }
}

/// The claims used by a Pod that may still run.
fn claims_in_use(shared: &Shared) -> Vec<(String, String)> {
    let store = lock(&shared.store);
    store
        .list(Kind::Pod, None)
        .filter(|(_, pod)| {
            let phase = pod
                .pointer("/status/phase")
                .and_then(Value::as_str)
                .unwrap_or("");
            phase != "Succeeded" && phase != "Failed"
        })
        .flat_map(|(key, pod)| {
            pod.pointer("/spec/volumes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|volume| {
                    volume
                        .pointer("/persistentVolumeClaim/claimName")
                        .and_then(Value::as_str)
                })
                .map(|claim| (key.namespace.clone(), claim.to_owned()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The claim protection controller: a claim being deleted loses its finalizer, and so goes,
/// once no Pod that may still run uses it.
pub(crate) fn release_claims(shared: &Arc<Shared>) {
    let in_use = claims_in_use(shared);
    let mut removed = Vec::new();
    {
        let mut store = lock(&shared.store);
        let releasable: Vec<(ObjectKey, Value)> = store
            .list(Kind::PersistentVolumeClaim, None)
            .filter(|(key, claim)| {
                claim.pointer("/metadata/deletionTimestamp").is_some()
                    && !in_use.contains(&(key.namespace.clone(), key.name.clone()))
            })
            .map(|(key, claim)| (key.clone(), claim.clone()))
            .collect();
        for (key, mut claim) in releasable {
            if let Some(finalizers) = claim
                .pointer_mut("/metadata/finalizers")
                .and_then(Value::as_array_mut)
            {
                finalizers.retain(|finalizer| finalizer != PVC_PROTECTION);
            }
            if has_finalizers(&claim) {
                store.replace(&key, claim);
            } else {
                if let Some(metadata) = claim.get_mut("metadata").and_then(Value::as_object_mut) {
                    metadata.remove("finalizers");
                }
                store.replace(&key, claim);
                if let Some(gone) = store.remove(&key) {
                    removed.push(gone);
                }
            }
        }
    }
    for claim in removed {
        after_removal(
            shared,
            Kind::PersistentVolumeClaim,
            &claim,
            Propagation::Background,
        );
    }
}

/// A claim named by a Pod, for the scheduler: `Err` with the reason it cannot be used.
pub(crate) fn claim_usable(shared: &Shared, namespace: &str, name: &str) -> Result<(), String> {
    let store = lock(&shared.store);
    match store.get(&ObjectKey::new(
        Kind::PersistentVolumeClaim,
        namespace,
        name,
    )) {
        None => Err(format!("persistentvolumeclaim {} not found", quote(name))),
        Some(claim) if claim.pointer("/metadata/deletionTimestamp").is_some() => Err(format!(
            "persistentvolumeclaim {} is being deleted",
            quote(name)
        )),
        Some(_) => Ok(()),
    }
}
