//! Drakefiles from before the DrakeSpec (drakecore, August to October 2019): `version: v1.0.0`
//! without `uri`, anchors held in top-level fields, pipeline `criteria` and `stages`, triggers
//! written `spec: {uri, version}`, `command` as one string. eider does not run them; it says
//! what the file is and, at each place, what DrakeSpec v0.1.0 (the closest release: `snippets`,
//! `triggers`, `containers` lists) writes instead.
//!
//! The shapes follow drakecore as vendored by BrigDrake: v0.3.0 (`bf98539`, 2019-08-02:
//! `criteria: {branches, tags}`, `stages: [{jobs: [..]}]`, stages run one after another) and
//! the triggers of 2019-10-01 (`e7ce783`: `- spec: {uri, version}` + `config`).

use crate::command_line::split_command_line;
use crate::diagnostic::{Code, Diagnostic};
use crate::fields::ObjectKind;
use crate::path::FieldPath;
use crate::version::SPEC_URI;
use crate::yaml::{Entry, Node};

use super::Validator;

/// What DrakeSpec v0.1.0 writes in place of a pre-DrakeSpec field `key` of `kind`.
pub(super) fn replacement(kind: ObjectKind, key: &str) -> Option<&'static str> {
    match (kind, key) {
        (ObjectKind::Pipeline, "criteria") => Some(
            "`criteria` is the pre-DrakeSpec trigger: write `triggers:` with one trigger \
             `specUri: github.com/lovethedrake/drakespec-github`, `specVersion: v1.0.0` whose \
             `config.push` holds the `branches` and `tags` selectors as written",
        ),
        (ObjectKind::Pipeline, "stages") => Some(
            "`stages` is the pre-DrakeSpec job list: list every job under `jobs:` as \
             `- name: JOB`, each with `dependencies:` naming the jobs of the stage before",
        ),
        (ObjectKind::Trigger, "spec") => Some(
            "`spec: {uri, version}` is the pre-DrakeSpec spelling: write `specUri:` and \
             `specVersion:` in the trigger itself, and a config's `branches` and `tags` under \
             `config.push`",
        ),
        (ObjectKind::Document, "targets") => {
            Some("`targets` is not a DrakeSpec field: write the jobs under `jobs:`")
        }
        _ => None,
    }
}

/// Whether the top level is a pre-DrakeSpec Drakefile: `version` without `uri`, and either the
/// pre-DrakeSpec `v1.0.0` or one of its pipeline or trigger fields.
pub(super) fn is_pre_spec(entries: &[Entry], version: &str) -> bool {
    let has = |key: &str| entries.iter().any(|entry| entry.key_text() == Some(key));
    !has("uri") && (version == "v1.0.0" || has_pre_spec_pipeline_fields(entries))
}

fn has_pre_spec_pipeline_fields(entries: &[Entry]) -> bool {
    pipelines(entries).any(|(_, pipeline)| {
        pipeline.iter().any(|entry| {
            matches!(entry.key_text(), Some("criteria" | "stages"))
                || entry.key_text() == Some("triggers") && triggers(entry).next().is_some()
        })
    })
}

fn pipelines(entries: &[Entry]) -> impl Iterator<Item = (&Entry, &[Entry])> {
    entries
        .iter()
        .filter(|entry| entry.key_text() == Some("pipelines"))
        .filter_map(|entry| entry.value.as_mapping())
        .flatten()
        .filter_map(|pipeline| Some((pipeline, pipeline.value.as_mapping()?)))
}

/// The `spec` entries of a pipeline's `triggers`.
fn triggers(entry: &Entry) -> impl Iterator<Item = (usize, &Entry)> {
    entry
        .value
        .as_sequence()
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(index, item)| {
            let spec = item
                .node
                .as_mapping()?
                .iter()
                .find(|field| field.key_text() == Some("spec"))?;
            Some((index, spec))
        })
}

/// Reports the file as pre-DrakeSpec at its `version`, then every place to change.
pub(super) fn report(validator: &mut Validator<'_>, entries: &[Entry], version: &Entry) {
    let written = validator.source(version.value.span).to_owned();
    validator.report(
        Diagnostic::error(
            Code::UnsupportedVersion,
            "version",
            version.value.span,
            format!(
                "`version: {written}` without `uri` is a pre-DrakeSpec Drakefile (drakecore, \
                 August to October 2019), which eider does not run"
            ),
        )
        .with_label("pre-DrakeSpec version")
        .with_help(format!(
            "convert it to DrakeSpec v0.1.0, the closest release: replace this line with\n\
             specUri: {SPEC_URI}\nspecVersion: v0.1.0\nand change what the errors below point at"
        )),
    );
    let root = FieldPath::root();
    for entry in entries {
        let Some(key) = entry.key_text() else {
            continue;
        };
        match key {
            "version" | "uri" => {}
            "jobs" => report_jobs(validator, &entry.value, &root.key("jobs")),
            "pipelines" => report_pipelines(validator, &entry.value, &root.key("pipelines")),
            other => {
                let help = replacement(ObjectKind::Document, other).map_or_else(
                    || {
                        format!(
                            "DrakeSpec keeps values that hold anchors under `snippets:`: move \
                             `{other}` there (`snippets:` then `  {other}: ...`)"
                        )
                    },
                    str::to_owned,
                );
                validator.report(
                    Diagnostic::error(
                        Code::UnknownField,
                        root.key(other),
                        entry.key.span,
                        format!("top-level `{other}` is a pre-DrakeSpec field"),
                    )
                    .with_help(help),
                );
            }
        }
    }
}

/// `command` strings of pre-DrakeSpec containers; v0.1.0 writes lists.
fn report_jobs(validator: &mut Validator<'_>, jobs: &Node, path: &FieldPath<'_>) {
    for job in jobs.as_mapping().into_iter().flatten() {
        let Some(name) = job.key_text() else {
            continue;
        };
        let job_path = path.key(name);
        let Some(containers) = job
            .value
            .as_mapping()
            .and_then(|fields| {
                fields
                    .iter()
                    .find(|field| field.key_text() == Some("containers"))
            })
            .and_then(|field| field.value.as_sequence())
        else {
            continue;
        };
        let containers_path = job_path.key("containers");
        for (index, item) in containers.iter().enumerate() {
            let Some(command) = item.node.as_mapping().and_then(|fields| {
                fields
                    .iter()
                    .find(|field| field.key_text() == Some("command"))
            }) else {
                continue;
            };
            let Some(line) = command.value.as_str() else {
                continue;
            };
            let list = match split_command_line(line) {
                Ok(words) => serde_json::to_string(&words).unwrap_or_default(),
                Err(_) => format!(
                    "[\"sh\", \"-c\", {}]",
                    serde_json::to_string(line).unwrap_or_default()
                ),
            };
            let item_path = containers_path.index(index);
            validator.report(
                Diagnostic::error(
                    Code::WrongType,
                    item_path.key("command"),
                    command.value.span,
                    "a pre-DrakeSpec `command` is one string; DrakeSpec v0.1.0 writes a list",
                )
                .with_help(format!("write `command: {list}`")),
            );
        }
    }
}

/// `criteria`, `stages` and `spec: {uri, version}` triggers of pre-DrakeSpec pipelines.
fn report_pipelines(validator: &mut Validator<'_>, pipelines: &Node, path: &FieldPath<'_>) {
    for pipeline in pipelines.as_mapping().into_iter().flatten() {
        let (Some(name), Some(fields)) = (pipeline.key_text(), pipeline.value.as_mapping()) else {
            continue;
        };
        let pipeline_path = path.key(name);
        for field in fields {
            let Some(key) = field.key_text() else {
                continue;
            };
            if let Some(help) = replacement(ObjectKind::Pipeline, key) {
                validator.report(
                    Diagnostic::error(
                        Code::UnknownField,
                        pipeline_path.key(key),
                        field.key.span,
                        format!("pipeline `{key}` is a pre-DrakeSpec field"),
                    )
                    .with_help(help),
                );
            }
            if key == "triggers" {
                let triggers_path = pipeline_path.key("triggers");
                for (index, spec) in triggers(field) {
                    let help = replacement(ObjectKind::Trigger, "spec").unwrap_or_default();
                    validator.report(
                        Diagnostic::error(
                            Code::UnknownField,
                            triggers_path.index(index).key("spec"),
                            spec.key.span,
                            "trigger `spec` is a pre-DrakeSpec field",
                        )
                        .with_help(help),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::diagnostics;

    #[test]
    fn a_pre_drakespec_file_is_named_so_with_every_place_to_convert() {
        let text = "\
version: v1.0.0
baseGoContainer: &go
  name: go
  image: golang:1.12
jobs:
  test:
    containers:
    - <<: *go
      command: go test ./...
pipelines:
  master:
    criteria:
      branches:
        only: [master]
    stages:
    - jobs: [test]
";
        assert_eq!(
            diagnostics(text),
            "\
1:10 error[unsupported-version] version: `version: v1.0.0` without `uri` is a pre-DrakeSpec Drakefile (drakecore, August to October 2019), which eider does not run
  help: convert it to DrakeSpec v0.1.0, the closest release: replace this line with
  help: specUri: github.com/lovethedrake/drakespec
  help: specVersion: v0.1.0
  help: and change what the errors below point at
2:1 error[unknown-field] baseGoContainer: top-level `baseGoContainer` is a pre-DrakeSpec field
  help: DrakeSpec keeps values that hold anchors under `snippets:`: move `baseGoContainer` there (`snippets:` then `  baseGoContainer: ...`)
9:16 error[wrong-type] jobs.test.containers[0].command: a pre-DrakeSpec `command` is one string; DrakeSpec v0.1.0 writes a list
  help: write `command: [\"go\",\"test\",\"./...\"]`
12:5 error[unknown-field] pipelines.master.criteria: pipeline `criteria` is a pre-DrakeSpec field
  help: `criteria` is the pre-DrakeSpec trigger: write `triggers:` with one trigger `specUri: github.com/lovethedrake/drakespec-github`, `specVersion: v1.0.0` whose `config.push` holds the `branches` and `tags` selectors as written
15:5 error[unknown-field] pipelines.master.stages: pipeline `stages` is a pre-DrakeSpec field
  help: `stages` is the pre-DrakeSpec job list: list every job under `jobs:` as `- name: JOB`, each with `dependencies:` naming the jobs of the stage before
"
        );
    }

    #[test]
    fn a_pre_drakespec_field_in_a_drakespec_file_says_what_replaced_it() {
        let text = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.1.0
pipelines:
  master:
    criteria:
      tags:
        only: [/v1/]
";
        assert_eq!(
            diagnostics(text),
            "\
5:5 error[unknown-field] pipelines.master.criteria: unknown field `criteria` in a pipeline (DrakeSpec v0.1.0)
  help: `criteria` is the pre-DrakeSpec trigger: write `triggers:` with one trigger `specUri: github.com/lovethedrake/drakespec-github`, `specVersion: v1.0.0` whose `config.push` holds the `branches` and `tags` selectors as written
"
        );
    }
}
