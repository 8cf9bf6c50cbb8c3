//! The JSON Schema (draft-07) of a Drakefile of one version of the spec, for editors such as
//! yaml-language-server and for `eider schema`.
//!
//! Everything about fields (which exist, which are required, their types and descriptions) comes
//! from the table in [`crate::fields`], the same table that rejects undocumented fields, so the
//! schema and the validator cannot disagree on the field set. This module adds only what the table
//! does not say: the defaults the spec gives and the patterns the reference parser checks.

use serde_json::{Map, Value, json};

use crate::fields::{self, Field, FieldType, ObjectKind};
use crate::version::{SPEC_URI, SpecVersion};

/// The meta-schema every generated schema declares.
const DRAFT_07: &str = "http://json-schema.org/draft-07/schema#";

/// Job, pipeline, container and pipeline-job names: the reference parser's pattern (ASCII word
/// characters, then word characters or `-`; `\w` is ASCII-only in ECMA-262 regular expressions).
const NAME_PATTERN: &str = r"^\w[\w-]*$";

/// A trigger spec's version: `v` and dot-separated numbers.
const TRIGGER_VERSION_PATTERN: &str = r"^v[0-9]+(\.[0-9]+)*$";

/// The kinds that become `definitions`, in the order they are written.
const DEFINED_KINDS: [ObjectKind; 8] = [
    ObjectKind::Job,
    ObjectKind::Container,
    ObjectKind::Resources,
    ObjectKind::Cpu,
    ObjectKind::Memory,
    ObjectKind::Pipeline,
    ObjectKind::PipelineJob,
    ObjectKind::Trigger,
];

/// A default value the spec gives a field.
#[derive(Debug, Clone, Copy)]
enum DefaultValue {
    Text(&'static str),
    Boolean(bool),
    Integer(i64),
}

impl DefaultValue {
    fn to_json(self) -> Value {
        match self {
            Self::Text(text) => Value::from(text),
            Self::Boolean(boolean) => Value::from(boolean),
            Self::Integer(integer) => Value::from(integer),
        }
    }
}

/// The defaults of sections 1.3 and 1.4 of the spec. A field gets its default only in the versions
/// that define the field.
const DEFAULTS: &[(ObjectKind, &str, DefaultValue)] = {
    use DefaultValue::{Boolean, Integer, Text};
    use ObjectKind::{Container, Cpu, Job, Memory};
    &[
        (Job, "sourceMountMode", Text("RO")),
        (Job, "osFamily", Text("linux")),
        (Job, "cpuArch", Text("amd64")),
        (Container, "imagePullPolicy", Text("IfNotPresent")),
        (Container, "tty", Boolean(false)),
        (Container, "privileged", Boolean(false)),
        (Container, "mountDockerSocket", Boolean(false)),
        (Cpu, "requestedMillicores", Integer(100)),
        (Cpu, "maxMillicores", Integer(200)),
        (Memory, "requestedMegabytes", Integer(128)),
        (Memory, "maxMegabytes", Integer(256)),
    ]
};

/// Patterns of string fields that the spec leaves free but the reference parser checks.
const PATTERNS: &[(ObjectKind, &str, &str)] = &[
    (ObjectKind::Container, "name", NAME_PATTERN),
    (ObjectKind::PipelineJob, "name", NAME_PATTERN),
    (ObjectKind::Trigger, "specVersion", TRIGGER_VERSION_PATTERN),
];

/// The JSON Schema of a Drakefile of `version`.
#[must_use]
pub fn json_schema(version: SpecVersion) -> Value {
    let description = if version.is_seed() {
        format!(
            "A Drakefile following the DrakeSpec seed draft ({SPEC_URI}), written with `uri` and \
             `version: {version}`."
        )
    } else {
        format!("A Drakefile following DrakeSpec {version} ({SPEC_URI}).")
    };
    let mut schema = Map::new();
    schema.insert("$schema".to_owned(), Value::from(DRAFT_07));
    schema.insert(
        "title".to_owned(),
        Value::from(format!("Drakefile (DrakeSpec {version})")),
    );
    schema.extend(object_schema(ObjectKind::Document, version, &description));
    let mut definitions = Map::new();
    for kind in reachable_kinds(version) {
        let description = definition_description(kind);
        definitions.insert(
            definition_name(kind).to_owned(),
            Value::Object(object_schema(kind, version, description)),
        );
    }
    schema.insert("definitions".to_owned(), Value::Object(definitions));
    Value::Object(schema)
}

/// The JSON Schema of a Drakefile of `version` as pretty JSON text with a trailing newline: what
/// `eider schema` prints and what `schema/` holds.
#[must_use]
pub fn json_schema_text(version: SpecVersion) -> String {
    // The alternate form of `Display` is `serde_json::to_string_pretty`, without its `Result`
    // (writing a `Value` to a string cannot fail).
    format!("{:#}\n", json_schema(version))
}

/// The name of the checked-in schema file of `version`, e.g. `drakefile-v0.6.0.json`.
#[must_use]
pub fn file_name(version: SpecVersion) -> String {
    format!("drakefile-{version}.json")
}

/// The schema of one kind of object: its properties in table order, then `required`, closed to
/// every other property.
fn object_schema(kind: ObjectKind, version: SpecVersion, description: &str) -> Map<String, Value> {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in fields::fields_in(kind, version) {
        properties.insert(
            field.name.to_owned(),
            Value::Object(field_schema(kind, field, version)),
        );
        if field.required {
            required.push(Value::from(field.name));
        }
    }
    let mut schema = Map::new();
    schema.insert("description".to_owned(), Value::from(description));
    schema.insert("type".to_owned(), Value::from("object"));
    schema.insert("properties".to_owned(), Value::Object(properties));
    if !required.is_empty() {
        schema.insert("required".to_owned(), Value::Array(required));
    }
    schema.insert("additionalProperties".to_owned(), Value::Bool(false));
    schema
}

/// The schema of one field: its description, its type, then any pattern and default.
fn field_schema(kind: ObjectKind, field: &Field, version: SpecVersion) -> Map<String, Value> {
    let mut description = field.description.to_owned();
    if field.field_type == FieldType::Environment && version.accepts_environment_mapping() {
        description.push_str(" Also accepted: a mapping from names to string values.");
    }
    let mut schema = Map::new();
    schema.insert("description".to_owned(), Value::from(description));
    if let Value::Object(keywords) = type_schema(field.field_type, version) {
        schema.extend(keywords);
    }
    if let Some((_, _, pattern)) = PATTERNS
        .iter()
        .find(|(pattern_kind, name, _)| *pattern_kind == kind && *name == field.name)
    {
        schema.insert("pattern".to_owned(), Value::from(*pattern));
    }
    if let Some((_, _, default)) = DEFAULTS
        .iter()
        .find(|(default_kind, name, _)| *default_kind == kind && *name == field.name)
    {
        schema.insert("default".to_owned(), default.to_json());
    }
    schema
}

/// The keywords that constrain a value of `field_type`, as one JSON object.
fn type_schema(field_type: FieldType, version: SpecVersion) -> Value {
    match field_type {
        FieldType::String => json!({ "type": "string" }),
        FieldType::SpecUri => json!({ "const": SPEC_URI }),
        FieldType::Version => json!({ "const": version.as_str() }),
        FieldType::Boolean => json!({ "type": "boolean" }),
        FieldType::Integer { minimum } => json!({ "type": "integer", "minimum": minimum }),
        FieldType::Enumeration(values) => json!({ "enum": values }),
        FieldType::Command if version.has_command_string() => json!({ "type": "string" }),
        FieldType::Environment if version.accepts_environment_mapping() => json!({
            "oneOf": [
                string_list(),
                { "type": "object", "additionalProperties": { "type": "string" } },
            ],
        }),
        FieldType::StringList | FieldType::Command | FieldType::Environment => string_list(),
        FieldType::Object(kind) => reference(kind),
        FieldType::ObjectList(kind) => json!({ "type": "array", "items": reference(kind) }),
        FieldType::NamedObjects(kind) => json!({
            "type": "object",
            "propertyNames": { "pattern": NAME_PATTERN },
            "additionalProperties": reference(kind),
        }),
        FieldType::Any => json!({}),
        FieldType::AnyList => json!({ "type": "array" }),
    }
}

/// A list of strings.
fn string_list() -> Value {
    json!({ "type": "array", "items": { "type": "string" } })
}

/// A reference to the definition of `kind`.
fn reference(kind: ObjectKind) -> Value {
    json!({ "$ref": format!("#/definitions/{}", definition_name(kind)) })
}

/// The object kinds a Drakefile of `version` can contain, in [`DEFINED_KINDS`] order: a version
/// without `resources` gets no `resources`, `cpu` or `memory` definitions.
fn reachable_kinds(version: SpecVersion) -> Vec<ObjectKind> {
    let mut reached = vec![ObjectKind::Document];
    let mut next = 0;
    while let Some(&kind) = reached.get(next) {
        for field in fields::fields_in(kind, version) {
            let (FieldType::Object(child)
            | FieldType::ObjectList(child)
            | FieldType::NamedObjects(child)) = field.field_type
            else {
                continue;
            };
            if !reached.contains(&child) {
                reached.push(child);
            }
        }
        next += 1;
    }
    DEFINED_KINDS
        .into_iter()
        .filter(|kind| reached.contains(kind))
        .collect()
}

/// The key of `kind` under `definitions`.
fn definition_name(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Document => "drakefile",
        ObjectKind::Job => "job",
        ObjectKind::Container => "container",
        ObjectKind::Resources => "resources",
        ObjectKind::Cpu => "cpu",
        ObjectKind::Memory => "memory",
        ObjectKind::Pipeline => "pipeline",
        ObjectKind::PipelineJob => "pipelineJob",
        ObjectKind::Trigger => "trigger",
    }
}

/// What a definition describes, for editors.
fn definition_description(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Document => "A Drakefile.",
        ObjectKind::Job => "A job; its name is its key under `jobs`.",
        ObjectKind::Container => "A container of a job.",
        ObjectKind::Resources => "CPU and memory requests and limits of a container.",
        ObjectKind::Cpu => "CPU requests and limits in millicores (thousandths of a core).",
        ObjectKind::Memory => "Memory requests and limits in megabytes (10^6 bytes).",
        ObjectKind::Pipeline => "A pipeline; its name is its key under `pipelines`.",
        ObjectKind::PipelineJob => "A job of a pipeline and the earlier jobs it depends on.",
        ObjectKind::Trigger => "A trigger: a trigger spec, its version and its configuration.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::SpecVersion::{Seed, V0_1_0, V0_2_0, V0_3_0, V0_5_0, V0_6_0};

    /// The object schema of `kind` in `schema`: the root for the document, else its definition.
    fn object(schema: &Value, kind: ObjectKind) -> Option<&Value> {
        if kind == ObjectKind::Document {
            Some(schema)
        } else {
            schema.get("definitions")?.get(definition_name(kind))
        }
    }

    /// The property names of `kind` in `schema`, in order; empty when the kind is not defined.
    fn property_names(schema: &Value, kind: ObjectKind) -> Vec<String> {
        object(schema, kind)
            .and_then(|object| object.get("properties"))
            .and_then(Value::as_object)
            .map(|properties| properties.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn property<'schema>(schema: &'schema Value, kind: ObjectKind, name: &str) -> &'schema Value {
        object(schema, kind)
            .and_then(|object| object.get("properties"))
            .and_then(|properties| properties.get(name))
            .expect("the property exists")
    }

    fn has(schema: &Value, kind: ObjectKind, name: &str) -> bool {
        property_names(schema, kind)
            .iter()
            .any(|property| property == name)
    }

    fn collect_references(value: &Value, references: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    if key == "$ref" {
                        references.push(child.as_str().expect("`$ref` is a string").to_owned());
                    } else {
                        collect_references(child, references);
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    collect_references(item, references);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn header_names_the_draft_and_the_version() {
        let schema = json_schema(V0_6_0);
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
        assert_eq!(schema["title"], "Drakefile (DrakeSpec v0.6.0)");
        assert!(schema.get("$id").is_none());
        assert_eq!(json_schema(Seed)["title"], "Drakefile (DrakeSpec v0.0.0)");
        assert_eq!(file_name(V0_6_0), "drakefile-v0.6.0.json");
    }

    #[test]
    fn every_object_has_exactly_the_fields_of_its_version() {
        for version in SpecVersion::ALL {
            let schema = json_schema(version);
            for kind in [ObjectKind::Document].into_iter().chain(DEFINED_KINDS) {
                let expected: Vec<&str> = fields::fields_in(kind, version)
                    .map(|field| field.name)
                    .collect();
                assert_eq!(
                    property_names(&schema, kind),
                    expected,
                    "{kind:?} in {version}"
                );
                let required: Vec<&str> = fields::fields_in(kind, version)
                    .filter(|field| field.required)
                    .map(|field| field.name)
                    .collect();
                if let Some(object) = object(&schema, kind) {
                    assert_eq!(object["type"], "object", "{kind:?} in {version}");
                    assert_eq!(
                        object["additionalProperties"], false,
                        "{kind:?} in {version}"
                    );
                    let actual: Vec<&str> = object
                        .get("required")
                        .and_then(Value::as_array)
                        .map(|names| names.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    assert_eq!(actual, required, "{kind:?} in {version}");
                }
            }
        }
    }

    #[test]
    fn each_version_has_its_own_closed_set() {
        let seed = json_schema(Seed);
        assert!(has(&seed, ObjectKind::Document, "uri"));
        assert!(has(&seed, ObjectKind::Document, "version"));
        assert!(!has(&seed, ObjectKind::Document, "specUri"));
        assert!(!has(&seed, ObjectKind::Document, "snippets"));
        assert!(has(&seed, ObjectKind::Job, "containers"));
        assert!(!has(&seed, ObjectKind::Container, "args"));
        assert!(!has(&seed, ObjectKind::Job, "sourceMountMode"));
        assert_eq!(
            property(&seed, ObjectKind::Document, "version")["const"],
            "v0.0.0"
        );
        assert_eq!(
            property(&seed, ObjectKind::Document, "uri")["const"],
            SPEC_URI
        );

        let first = json_schema(V0_1_0);
        assert!(has(&first, ObjectKind::Document, "specUri"));
        assert!(has(&first, ObjectKind::Document, "snippets"));
        assert!(!has(&first, ObjectKind::Document, "uri"));
        assert!(has(&first, ObjectKind::Container, "args"));
        assert!(!has(&first, ObjectKind::Container, "resources"));
        assert!(!has(&first, ObjectKind::Job, "primaryContainer"));
        assert!(has(&first, ObjectKind::Job, "containers"));
        assert_eq!(
            property(&first, ObjectKind::Document, "specVersion")["const"],
            "v0.1.0"
        );

        let second = json_schema(V0_2_0);
        assert!(has(&second, ObjectKind::Job, "primaryContainer"));
        assert!(!has(&second, ObjectKind::Job, "containers"));
        assert!(!has(&second, ObjectKind::Container, "imagePullPolicy"));

        let third = json_schema(V0_3_0);
        assert!(has(&third, ObjectKind::Container, "resources"));
        assert!(has(&third, ObjectKind::Cpu, "maxMillicores"));

        let fifth = json_schema(V0_5_0);
        assert!(has(&fifth, ObjectKind::Job, "osFamily"));
        assert!(!has(&fifth, ObjectKind::Job, "cpuArch"));

        let sixth = json_schema(V0_6_0);
        assert!(has(&sixth, ObjectKind::Job, "cpuArch"));
        assert!(has(&sixth, ObjectKind::Container, "imagePullPolicy"));
        assert_eq!(
            property(&sixth, ObjectKind::Document, "specVersion")["const"],
            "v0.6.0"
        );

        for version in SpecVersion::ALL {
            assert!(!json_schema_text(version).contains("timeout"), "{version}");
        }
    }

    #[test]
    fn definitions_are_only_the_reachable_kinds_and_every_reference_resolves() {
        let seed: Vec<String> = json_schema(Seed)["definitions"]
            .as_object()
            .expect("definitions")
            .keys()
            .cloned()
            .collect();
        assert_eq!(seed, ["job", "container", "pipeline", "pipelineJob"]);
        let latest: Vec<String> = json_schema(V0_6_0)["definitions"]
            .as_object()
            .expect("definitions")
            .keys()
            .cloned()
            .collect();
        assert_eq!(
            latest,
            [
                "job",
                "container",
                "resources",
                "cpu",
                "memory",
                "pipeline",
                "pipelineJob",
                "trigger"
            ]
        );
        for version in SpecVersion::ALL {
            let schema = json_schema(version);
            let mut references = Vec::new();
            collect_references(&schema, &mut references);
            assert!(!references.is_empty());
            for reference in references {
                let name = reference
                    .strip_prefix("#/definitions/")
                    .expect("references point into definitions");
                assert!(
                    schema["definitions"].get(name).is_some(),
                    "{reference} in {version}"
                );
            }
        }
    }

    #[test]
    fn field_types_follow_the_version() {
        let seed = json_schema(Seed);
        assert_eq!(
            property(&seed, ObjectKind::Container, "command")["type"],
            "string"
        );
        assert_eq!(
            property(&seed, ObjectKind::Pipeline, "triggers")["type"],
            "array"
        );
        assert!(
            property(&seed, ObjectKind::Pipeline, "triggers")
                .get("items")
                .is_none()
        );
        assert_eq!(
            property(&seed, ObjectKind::Container, "environment")["type"],
            "array"
        );

        let first = json_schema(V0_1_0);
        let command = property(&first, ObjectKind::Container, "command");
        assert_eq!(command["type"], "array");
        assert_eq!(command["items"]["type"], "string");
        assert_eq!(
            property(&first, ObjectKind::Pipeline, "triggers")["items"]["$ref"],
            "#/definitions/trigger"
        );

        let fifth = json_schema(V0_5_0);
        assert_eq!(
            property(&fifth, ObjectKind::Container, "environment")["type"],
            "array"
        );
        assert!(
            property(&fifth, ObjectKind::Container, "environment")
                .get("oneOf")
                .is_none()
        );

        let sixth = json_schema(V0_6_0);
        let environment = property(&sixth, ObjectKind::Container, "environment");
        assert_eq!(environment["oneOf"][0]["items"]["type"], "string");
        assert_eq!(
            environment["oneOf"][1]["additionalProperties"]["type"],
            "string"
        );
        assert_eq!(
            property(&sixth, ObjectKind::Job, "primaryContainer")["$ref"],
            "#/definitions/container"
        );
        let jobs = property(&sixth, ObjectKind::Document, "jobs");
        assert_eq!(jobs["propertyNames"]["pattern"], NAME_PATTERN);
        assert_eq!(jobs["additionalProperties"]["$ref"], "#/definitions/job");
        assert_eq!(
            property(&sixth, ObjectKind::Container, "name")["pattern"],
            r"^\w[\w-]*$"
        );
        assert_eq!(
            property(&sixth, ObjectKind::PipelineJob, "name")["pattern"],
            r"^\w[\w-]*$"
        );
        assert_eq!(
            property(&sixth, ObjectKind::Trigger, "specVersion")["pattern"],
            TRIGGER_VERSION_PATTERN
        );
        assert_eq!(
            property(&sixth, ObjectKind::Memory, "maxMegabytes")["minimum"],
            4
        );
        assert_eq!(
            property(&sixth, ObjectKind::Document, "snippets")
                .as_object()
                .map(Map::len),
            Some(1)
        );
        assert_eq!(
            property(&sixth, ObjectKind::Job, "sourceMountMode")["enum"],
            json!(["RO", "COPY", "RW"])
        );
    }

    #[test]
    fn defaults_are_the_specs() {
        let sixth = json_schema(V0_6_0);
        assert_eq!(
            property(&sixth, ObjectKind::Job, "sourceMountMode")["default"],
            "RO"
        );
        assert_eq!(
            property(&sixth, ObjectKind::Job, "osFamily")["default"],
            "linux"
        );
        assert_eq!(
            property(&sixth, ObjectKind::Job, "cpuArch")["default"],
            "amd64"
        );
        assert_eq!(
            property(&sixth, ObjectKind::Container, "imagePullPolicy")["default"],
            "IfNotPresent"
        );
        assert_eq!(
            property(&sixth, ObjectKind::Container, "tty")["default"],
            false
        );
        assert_eq!(
            property(&sixth, ObjectKind::Cpu, "requestedMillicores")["default"],
            100
        );
        assert_eq!(
            property(&sixth, ObjectKind::Cpu, "maxMillicores")["default"],
            200
        );
        assert_eq!(
            property(&sixth, ObjectKind::Memory, "requestedMegabytes")["default"],
            128
        );
        assert_eq!(
            property(&sixth, ObjectKind::Memory, "maxMegabytes")["default"],
            256
        );
        assert!(
            property(&sixth, ObjectKind::Container, "image")
                .get("default")
                .is_none()
        );
    }

    /// The extra tables name fields that exist, and every default fits its field's type.
    #[test]
    fn defaults_and_patterns_name_real_fields() {
        for (kind, name, default) in DEFAULTS {
            let field = fields::all_fields(*kind)
                .iter()
                .find(|field| field.name == *name)
                .expect("a default names a field of the table");
            let fits = match (field.field_type, default) {
                (FieldType::Enumeration(values), DefaultValue::Text(text)) => values.contains(text),
                (FieldType::String, DefaultValue::Text(_))
                | (FieldType::Boolean, DefaultValue::Boolean(_)) => true,
                (FieldType::Integer { minimum }, DefaultValue::Integer(integer)) => {
                    *integer >= minimum
                }
                _ => false,
            };
            assert!(fits, "default of {kind:?}.{name}");
        }
        for (kind, name, _) in PATTERNS {
            let field = fields::all_fields(*kind)
                .iter()
                .find(|field| field.name == *name)
                .expect("a pattern names a field of the table");
            assert_eq!(field.field_type, FieldType::String, "{kind:?}.{name}");
        }
    }

    #[test]
    fn text_is_stable_and_ends_with_a_newline() {
        for version in SpecVersion::ALL {
            let text = json_schema_text(version);
            assert_eq!(text, json_schema_text(version));
            assert!(text.ends_with("}\n"));
            assert!(text.starts_with("{\n  \"$schema\""));
            let parsed: Value = serde_json::from_str(&text).expect("the text is JSON");
            assert_eq!(parsed, json_schema(version));
        }
    }
}
