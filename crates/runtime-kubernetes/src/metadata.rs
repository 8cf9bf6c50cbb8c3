//! What every object eider creates on a cluster carries: its labels, as label values may be,
//! the exact labels in an annotation (a label value cannot hold every character of eider's, and
//! cleanup must read them back whole), and the version of eider that made it.

use std::collections::BTreeMap;

use eider_runtime::Labels;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::names::label_value;

/// The annotation that holds an object's labels exactly as eider gave them, as a JSON object.
pub(crate) const LABELS_ANNOTATION: &str = "eider.labels";

/// The label naming the tool that manages the object, as Kubernetes recommends.
const MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// The label naming the version of that tool.
const VERSION: &str = "app.kubernetes.io/version";

/// Metadata of an object named `name` in `namespace` with eider's `labels`.
#[must_use]
pub(crate) fn object_meta(name: &str, namespace: &str, labels: &Labels) -> ObjectMeta {
    let mut meta = ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(namespace.to_owned()),
        ..ObjectMeta::default()
    };
    label(&mut meta, labels);
    meta
}

/// Puts eider's `labels` on `meta`, with the managing tool and its version.
pub(crate) fn label(meta: &mut ObjectMeta, labels: &Labels) {
    let mut values: BTreeMap<String, String> = labels
        .iter()
        .map(|(key, value)| (key.clone(), label_value(value)))
        .collect();
    values.insert(MANAGED_BY.to_owned(), "eider".to_owned());
    values.insert(VERSION.to_owned(), env!("CARGO_PKG_VERSION").to_owned());
    meta.labels = Some(values);
    let exact: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .map(|(key, value)| (key.clone(), serde_json::Value::String(value.clone())))
        .collect();
    meta.annotations.get_or_insert_with(BTreeMap::new).insert(
        LABELS_ANNOTATION.to_owned(),
        serde_json::Value::Object(exact).to_string(),
    );
}

/// eider's labels of an object, exact where the annotation holds them.
pub(crate) fn labels_of(meta: &ObjectMeta) -> Labels {
    let exact = meta
        .annotations
        .as_ref()
        .and_then(|annotations| annotations.get(LABELS_ANNOTATION))
        .and_then(|text| serde_json::from_str::<BTreeMap<String, String>>(text).ok());
    match exact {
        Some(labels) => labels.into_iter().collect(),
        None => meta
            .labels
            .iter()
            .flatten()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_back_exactly_though_a_label_value_cannot_hold_them() {
        let labels: Labels = vec![
            ("eider.run-id".to_owned(), "0a1b2c3d4e".to_owned()),
            (
                "eider.pid-namespace".to_owned(),
                "5e1f-77:4026531836".to_owned(),
            ),
        ];
        let meta = object_meta("x", "default", &labels);
        let stored = meta.labels.clone().expect("labels");
        assert_eq!(stored["eider.pid-namespace"], "5e1f-77_4026531836");
        assert_eq!(stored[MANAGED_BY], "eider");
        let mut read = labels_of(&meta);
        read.sort();
        let mut expected = labels;
        expected.sort();
        assert_eq!(read, expected);
    }
}
