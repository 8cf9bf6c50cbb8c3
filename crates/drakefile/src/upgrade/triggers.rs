//! Triggers across versions: the one place where an upgrade converts trigger configurations.
//!
//! DrakeSpec versions never changed the trigger object itself (`specUri`, `specVersion`,
//! `config` from v0.1.0 on); what changed is what trigger specs put in `config`. The October
//! 2019 `drakespec-github` config (`checkSuiteRequest.branches`, `tagPush.tags`) becomes the
//! current one (`push.branches`, `push.tags`) by the mapping of `crate::triggers::dialect`, in
//! every step to a newer version, as the validator's warning suggests. A `drakespec-brig` trigger selects nothing
//! outside Brigade, in every version: it is kept as written, and selects nothing still.
//!
//! The seed draft named a `triggers` field but never defined what goes in it, and eider never
//! evaluated seed-draft triggers; nothing in a release means the same, so a seed-draft pipeline
//! with triggers is refused.

use std::fmt::Write as _;

use serde_json::Value;

use crate::model::Trigger;
use crate::triggers::dialect::{CurrentForm, current_form};
use crate::yaml::emit;
use crate::yaml::written::{NodeId, ScalarStyle, WrittenDocument, WrittenKind};

use super::layout::{column, has_comment, trim_end};
use super::pass::Pass;
use super::sites::{Location, named};

/// Converts the triggers of every pipeline, or refuses those that have no equivalent.
pub(super) fn convert(pass: &mut Pass<'_>) {
    let document = pass.document;
    for pipeline in named(document, "pipelines") {
        let Some(field) = document.field(pipeline.mapping, "triggers") else {
            continue;
        };
        let location = pipeline.location.key("triggers");
        let items = document
            .items(document.resolve(field.value))
            .unwrap_or_default();
        if pass.from.is_seed() && !pass.to.is_seed() {
            if !items.is_empty() {
                pass.refuse(
                    pass.span(field.key),
                    &location,
                    format!(
                        "pipeline `{}` has seed-draft triggers, which the draft never defined and eider never evaluated; no release trigger means the same",
                        pipeline.name
                    ),
                    "remove them (the pipeline then runs when named, as it does now), or rewrite them as DrakeSpec v0.1.0 triggers (`specUri`, `specVersion`, `config`), then upgrade",
                );
            }
            continue;
        }
        // Only a step to a newer version rewrites a valid file's triggers: fixing a file at
        // its own version changes only what the validator refuses.
        if pass.from.is_seed() || pass.from == pass.to {
            continue;
        }
        for (index, item) in items.iter().enumerate() {
            convert_dialect(pass, document.resolve(*item), &location.index(index));
        }
    }
}

/// Converts one release trigger written in an older dialect of its trigger spec into the
/// current one: its `config` is written again in the current form, where it was (a block
/// mapping at its indentation, a flow mapping in braces). A config that has no faithful
/// equivalent, or that is shared through an anchor, is refused.
fn convert_dialect(pass: &mut Pass<'_>, trigger: NodeId, location: &Location) {
    let document = pass.document;
    let text_of = |name: &str| {
        document
            .field(trigger, name)
            .and_then(|field| document.string(document.resolve(field.value)))
    };
    let (Some(uri), Some(version)) = (text_of("specUri"), text_of("specVersion")) else {
        return;
    };
    let Some(field) = document.field(trigger, "config") else {
        return;
    };
    let config = document.resolve(field.value);
    let location = location.key("config");
    let Some(written) = json(document, config) else {
        return;
    };
    let converted = match current_form(uri, version, Some(&written)) {
        CurrentForm::AlreadyCurrent | CurrentForm::UnknownSpec => return,
        // A brig trigger selects nothing outside Brigade whatever its version: kept as it is.
        CurrentForm::NoEquivalent(_) if uri == crate::triggers::BRIG_SPEC_URI => return,
        CurrentForm::NoEquivalent(reason) => {
            pass.refuse(
                pass.span(config),
                &location,
                format!("this trigger config has no current equivalent: {reason}"),
                "write it with `push.branches` and `push.tags` by hand, then upgrade",
            );
            return;
        }
        CurrentForm::Converted(converted) => converted,
    };
    if field.merged || document.is_alias(field.value) || document.alias_count(config) > 0 {
        pass.refuse(
            pass.span(config),
            &location,
            "this trigger config is shared through an anchor, and converting it here would change the other places that repeat it",
            "write each trigger's config in full, then upgrade",
        );
        return;
    }
    if !pass.first_visit(config) {
        return;
    }
    let span = pass.span(config);
    let start = span.start as usize;
    let end = trim_end(pass.text, start, span.end as usize);
    let replacement = if document.is_flow(config) {
        flow(&converted)
    } else {
        let mut lines = String::new();
        block(&converted, column(pass.text, start), &mut lines);
        lines.trim().to_owned()
    };
    let comments = if has_comment(pass.text, start, end) {
        "; the comments inside it could not be kept"
    } else {
        ""
    };
    pass.edits.replace(start, end, replacement);
    pass.converted(
        span,
        &location,
        format!(
            "the October 2019 `{uri}` config became its current form, with `push.branches` and `push.tags`{comments}"
        ),
    );
}

/// A written config as the model reads it: strings as strings, an empty plain scalar as
/// nothing. `None` for what a config of a trigger spec eider reads never holds.
fn json(document: &WrittenDocument, node: NodeId) -> Option<Value> {
    let node = document.resolve(node);
    match &document.node(node).kind {
        WrittenKind::Scalar { value, style } => Some(
            if *style == ScalarStyle::Plain && matches!(value.as_str(), "" | "~" | "null") {
                Value::Null
            } else {
                Value::String(value.clone())
            },
        ),
        WrittenKind::Sequence { items, .. } => items
            .iter()
            .map(|item| json(document, *item))
            .collect::<Option<Vec<_>>>()
            .map(Value::Array),
        WrittenKind::Mapping { entries, .. } => {
            let mut fields = serde_json::Map::new();
            for (key, value) in entries {
                if document.is_merge_key(*key) {
                    return None;
                }
                fields.insert(document.string(*key)?.to_owned(), json(document, *value)?);
            }
            Some(Value::Object(fields))
        }
        WrittenKind::Alias { .. } => None,
    }
}

/// `value` as block YAML lines indented by `indent` spaces, each ending in a line break. Lists
/// of strings are written in brackets, as the DrakeSpec's examples write selectors.
fn block(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(fields) if !fields.is_empty() => {
            for (key, value) in fields {
                let key = emit::string(key);
                match value {
                    Value::Object(inner) if !inner.is_empty() => {
                        let _infallible = writeln!(out, "{pad}{key}:");
                        block(value, indent + 2, out);
                    }
                    Value::Null => {
                        let _infallible = writeln!(out, "{pad}{key}:");
                    }
                    _ => {
                        let _infallible = writeln!(out, "{pad}{key}: {}", flow(value));
                    }
                }
            }
        }
        _ => {
            let _infallible = writeln!(out, "{pad}{}", flow(value));
        }
    }
}

/// `value` as flow YAML: `{push: {tags: {only: ["/v.*/"]}}}`.
fn flow(value: &Value) -> String {
    match value {
        Value::Object(fields) => {
            let entries: Vec<String> = fields
                .iter()
                .map(|(key, value)| format!("{}: {}", emit::string(key), flow(value)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
        Value::Array(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|item| match item {
                    Value::String(text) => emit::double_quoted(text),
                    other => flow(other),
                })
                .collect();
            format!("[{}]", items.join(", "))
        }
        Value::String(text) => emit::string(text),
        Value::Null => "null".to_owned(),
        other => other.to_string(),
    }
}

/// Whether the triggers of a pipeline before an upgrade and after it select the same events:
/// equal once each is in its current form.
pub(super) fn equivalent(before: &[Trigger], after: &[Trigger]) -> bool {
    before.len() == after.len()
        && before
            .iter()
            .zip(after)
            .all(|(before, after)| current(before) == current(after))
}

/// A trigger with its config in the current form, where it has one.
fn current(trigger: &Trigger) -> Trigger {
    let Trigger::Spec {
        spec_uri,
        spec_version,
        config,
    } = trigger
    else {
        return trigger.clone();
    };
    match current_form(spec_uri, spec_version, config.as_ref()) {
        CurrentForm::Converted(converted) => Trigger::Spec {
            spec_uri: spec_uri.clone(),
            spec_version: spec_version.clone(),
            config: Some(converted),
        },
        _ => trigger.clone(),
    }
}

#[cfg(test)]
mod tests {
    use crate::version::SpecVersion;

    use super::super::test_support::{refused, upgraded};

    #[test]
    fn the_october_2019_github_config_becomes_push_in_place() {
        let text = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.2.0
jobs:
  a: {primaryContainer: {name: main, image: busybox}}
pipelines:
  ci:
    triggers:
    # Builds master and release tags.
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        checkSuiteRequest:
          branches:
            only: [master]
        tagPush:
          tags:
            only: [/^v.*/]
    jobs:
    - name: a   # the only job
  release:
    triggers:
    - {specUri: github.com/lovethedrake/drakespec-github, specVersion: v1.0.0, config: {tagPush: {tags: {only: [/v.*/]}}}}
    jobs:
    - name: a
";
        let expected = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  a: {primaryContainer: {name: main, image: busybox}}
pipelines:
  ci:
    triggers:
    # Builds master and release tags.
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        push:
          branches:
            only: [\"master\"]
          tags:
            only: [\"/^v.*/\"]
    jobs:
    - name: a   # the only job
  release:
    triggers:
    - {specUri: github.com/lovethedrake/drakespec-github, specVersion: v1.0.0, config: {push: {tags: {only: [\"/v.*/\"]}}}}
    jobs:
    - name: a
";
        assert_eq!(upgraded(text, SpecVersion::V0_6_0).text, expected);
    }

    #[test]
    fn a_brig_trigger_is_kept_as_written_and_current_triggers_are_untouched() {
        let text = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.2.0
jobs:
  a: {primaryContainer: {name: main, image: busybox}}
pipelines:
  ci:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-brig
      specVersion: v1.0.0
      config:
        eventTypes: [exec]
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        push:
          branches: {only: [main]}   # current already
    jobs:
    - name: a
";
        assert_eq!(
            upgraded(text, SpecVersion::V0_6_0).text,
            text.replace("v0.2.0", "v0.6.0")
        );
    }

    #[test]
    fn old_and_current_selectors_of_one_kind_are_refused() {
        let text = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.2.0
jobs:
  a: {primaryContainer: {name: main, image: busybox}}
pipelines:
  ci:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        checkSuiteRequest: {branches: {only: [master]}}
        push: {branches: {only: [main]}}
    jobs:
    - name: a
";
        assert_eq!(
            refused(text, SpecVersion::V0_6_0),
            "11:9 pipelines.ci.triggers[0].config: this trigger config has no current equivalent: `config.checkSuiteRequest` and `config.push.branches` both select pushed branches; join them by hand\n"
        );
    }

    #[test]
    fn seed_draft_triggers_are_refused() {
        let text = "\
uri: github.com/lovethedrake/drakespec
version: v0.0.0
jobs:
  a: {containers: [{name: main, image: busybox}]}
pipelines:
  ci:
    triggers:
    - spec: {uri: github.com/lovethedrake/drakespec-github, version: v1.0.0}
      config: {tagPush: {tags: {only: [/v.*/]}}}
    jobs:
    - name: a
  nothing:
    triggers: []
";
        assert_eq!(
            refused(text, SpecVersion::V0_1_0),
            "7:5 pipelines.ci.triggers: pipeline `ci` has seed-draft triggers, which the draft never defined and eider never evaluated; no release trigger means the same\n"
        );
    }
}
