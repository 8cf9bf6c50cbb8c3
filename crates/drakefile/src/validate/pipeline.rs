//! Pipelines: ordered jobs whose dependencies name earlier entries, and triggers.

use std::collections::HashMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::fields::ObjectKind;
use crate::model::{Pipeline, PipelineJob, SourceMountMode, Trigger};
use crate::path::FieldPath;
use crate::suggest;
use crate::yaml::{Entry, Node, Span, Value};

use super::Validator;
use super::job::JobSummary;

/// Trigger configurations are copied into the model as JSON; aliases could make a small file
/// expand enormously, so the copy is bounded.
const MAX_TRIGGER_NODES: usize = 100_000;

pub(super) fn validate_pipeline(
    validator: &mut Validator<'_>,
    entry: &Entry,
    name: &str,
    path: &FieldPath<'_>,
    jobs: Option<&HashMap<&str, JobSummary>>,
) -> Option<Pipeline> {
    let errors_before = validator.error_count();
    let entries = validator.mapping(&entry.value, path, "a pipeline (a mapping of fields)")?;
    let fields = validator.object(entries, ObjectKind::Pipeline, path, entry.key.span);

    let triggers = fields
        .get("triggers")
        .map(|field| read_triggers(validator, &field.value, &path.key("triggers")))
        .unwrap_or_default();

    let mut pipeline_jobs: Vec<PipelineJob> = Vec::new();
    if let Some(field) = fields.get("jobs") {
        let list_path = path.key("jobs");
        if let Some(items) = validator.sequence(&field.value, &list_path, "a list of jobs") {
            // Position in this pipeline of every job listed so far, and where it was listed.
            let mut listed: HashMap<&str, (usize, Span)> = HashMap::new();
            let all_listed: Vec<Option<&str>> =
                items.iter().map(|item| listed_name(&item.node)).collect();
            for (index, item) in items.iter().enumerate() {
                let item_path = list_path.index(index);
                if let Some(pipeline_job) = read_pipeline_job(
                    validator,
                    &item.node,
                    &item_path,
                    name,
                    jobs,
                    &listed,
                    &all_listed,
                ) {
                    pipeline_jobs.push(pipeline_job);
                }
                if let Some((job_name, span)) = listed_name_span(&item.node) {
                    if let Some((_, first)) = listed.get(job_name) {
                        validator.report(
                            Diagnostic::error(
                                Code::DuplicateName,
                                item_path.key("name"),
                                span,
                                format!("job `{job_name}` is listed twice in pipeline `{name}`"),
                            )
                            .with_label("second listing")
                            .with_related(*first, "first listing")
                            .with_help("list each job once; dependencies refer to jobs by name"),
                        );
                    } else {
                        listed.insert(job_name, (index, span));
                    }
                }
            }
        }
    }

    (validator.error_count() == errors_before).then(|| Pipeline {
        name: name.to_owned(),
        triggers,
        jobs: pipeline_jobs,
    })
}

fn listed_name(node: &Node) -> Option<&str> {
    listed_name_span(node).map(|(name, _)| name)
}

fn listed_name_span(node: &Node) -> Option<(&str, Span)> {
    let entry = node
        .as_mapping()?
        .iter()
        .find(|entry| entry.key_text() == Some("name"))?;
    Some((entry.value.as_str()?, entry.value.span))
}

fn read_pipeline_job(
    validator: &mut Validator<'_>,
    node: &Node,
    path: &FieldPath<'_>,
    pipeline: &str,
    jobs: Option<&HashMap<&str, JobSummary>>,
    listed: &HashMap<&str, (usize, Span)>,
    all_listed: &[Option<&str>],
) -> Option<PipelineJob> {
    let errors_before = validator.error_count();
    let entries = validator.mapping(
        node,
        path,
        "a mapping with `name` and optional `dependencies`",
    )?;
    let owner = node.span;
    let fields = validator.object(
        entries,
        ObjectKind::PipelineJob,
        path,
        Span::new(owner.start as usize, owner.start as usize),
    );
    // Every problem at once: an entry whose name is missing or unreadable still has its
    // dependencies checked.
    let name = fields.get("name").and_then(|name_field| {
        let name_path = path.key("name");
        let name = validator.string(&name_field.value, &name_path)?;
        check_listed_job(validator, name, name_field, &name_path, jobs);
        Some(name)
    });

    let mut dependencies = Vec::new();
    if let Some(field) = fields.get("dependencies") {
        let dependencies_path = path.key("dependencies");
        let nodes = field
            .value
            .as_sequence()
            .map(|items| items.iter().map(|item| &item.node).collect::<Vec<_>>());
        if let (Some(names), Some(nodes)) = (
            validator.string_list(&field.value, &dependencies_path),
            nodes,
        ) {
            for (index, (dependency, dependency_node)) in names.into_iter().zip(nodes).enumerate() {
                let dependency_path = dependencies_path.index(index);
                let span = dependency_node.span;
                if Some(dependency) == name {
                    validator.report(
                        Diagnostic::error(
                            Code::InvalidDependency,
                            dependency_path,
                            span,
                            format!("job `{dependency}` depends on itself"),
                        )
                        .with_label("self-dependency")
                        .with_help("remove this dependency"),
                    );
                } else if let Some(jobs) = jobs
                    && !jobs.contains_key(dependency)
                {
                    report_unknown_job(validator, dependency, span, &dependency_path, jobs);
                } else if jobs.is_some() && !listed.contains_key(dependency) {
                    let name = name.unwrap_or("this job");
                    let help = if all_listed.contains(&Some(dependency)) {
                        format!(
                            "`{dependency}` is listed after `{name}` in pipeline `{pipeline}`; move it above `{name}`"
                        )
                    } else {
                        format!(
                            "`{dependency}` is not part of pipeline `{pipeline}`; add `- name: {dependency}` above `{name}`"
                        )
                    };
                    validator.report(
                        Diagnostic::error(Code::InvalidDependency, dependency_path, span, format!("`{dependency}` is not listed before `{name}` in this pipeline"))
                            .with_label("not an earlier job of this pipeline")
                            .with_help(format!("{help} (a dependency must name a job listed earlier in the same pipeline)")),
                    );
                } else if dependencies
                    .iter()
                    .any(|existing: &String| existing == dependency)
                {
                    validator.report(Diagnostic::warning(
                        Code::Suspicious,
                        dependency_path,
                        span,
                        format!("`{dependency}` is listed twice"),
                    ));
                    continue;
                }
                dependencies.push(dependency.to_owned());
            }
        }
    }

    let name = name?;
    (validator.error_count() == errors_before).then(|| PipelineJob {
        name: name.to_owned(),
        dependencies,
    })
}

/// Checks the job a pipeline lists: defined (when the jobs could be read at all), and not one
/// that mounts the source read-write.
fn check_listed_job(
    validator: &mut Validator<'_>,
    name: &str,
    name_field: &Entry,
    name_path: &FieldPath<'_>,
    jobs: Option<&HashMap<&str, JobSummary>>,
) {
    // When `jobs` itself is unreadable, "no job is named" would be a second, misleading error.
    let Some(jobs) = jobs else {
        return;
    };
    match jobs.get(name) {
        None => report_unknown_job(validator, name, name_field.value.span, name_path, jobs),
        Some(job) => {
            if let Some((SourceMountMode::ReadWrite, mode_span)) = job.source_mount_mode
                && validator.version.forbids_read_write_jobs_in_pipelines()
            {
                validator.report(
                    Diagnostic::error(Code::InvalidValue, name_path, name_field.value.span, format!("job `{name}` mounts the source read-write (`RW`), which no pipeline may include"))
                        .with_label("RW job in a pipeline")
                        .with_related(mode_span, "sourceMountMode: RW")
                        .with_help(format!("use `sourceMountMode: COPY` for a private writable copy, or run the job alone with `eider run {name}`")),
                );
            }
        }
    }
}

fn report_unknown_job(
    validator: &mut Validator<'_>,
    name: &str,
    span: Span,
    path: &FieldPath<'_>,
    jobs: &HashMap<&str, JobSummary>,
) {
    let mut diagnostic = Diagnostic::error(
        Code::UnknownJob,
        path,
        span,
        format!("no job is named `{name}`"),
    )
    .with_label("undefined job");
    diagnostic = match suggest::closest(name, jobs.keys().copied()) {
        Some(closest) => diagnostic.with_help(format!("did you mean `{closest}`?")),
        None => diagnostic.with_help("define the job under `jobs:`, or fix the name"),
    };
    validator.report(diagnostic);
}

fn read_triggers(validator: &mut Validator<'_>, node: &Node, path: &FieldPath<'_>) -> Vec<Trigger> {
    let Some(items) = validator.sequence(node, path, "a list of triggers") else {
        return Vec::new();
    };
    let mut triggers = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let trigger_path = path.index(index);
        if validator.version.is_seed() {
            // The draft named a `PipelineTrigger` type but never defined it: keep what is written,
            // and let executors skip it as unsupported.
            if let Some(content) = to_json(validator, &item.node, &trigger_path) {
                triggers.push(Trigger::Draft { content });
            }
            continue;
        }
        let Some(entries) = validator.mapping(
            &item.node,
            &trigger_path,
            "a trigger (a mapping with `specUri`, `specVersion` and `config`)",
        ) else {
            continue;
        };
        let owner = Span::new(item.node.span.start as usize, item.node.span.start as usize);
        let fields = validator.object(entries, ObjectKind::Trigger, &trigger_path, owner);
        let spec_uri = fields.get("specUri").and_then(|field| {
            let uri_path = trigger_path.key("specUri");
            let uri = validator.string(&field.value, &uri_path)?;
            if uri.trim().is_empty() {
                validator.report(
                    Diagnostic::error(
                        Code::InvalidValue,
                        uri_path,
                        field.value.span,
                        "the trigger's `specUri` is empty",
                    )
                    .with_help(
                        "name the trigger spec, e.g. `github.com/lovethedrake/drakespec-github`",
                    ),
                );
                return None;
            }
            Some(uri)
        });
        let spec_version = fields.get("specVersion").and_then(|field| {
            let version_path = trigger_path.key("specVersion");
            let version = validator.string(&field.value, &version_path)?;
            if !is_trigger_version(version) {
                validator.report(
                    Diagnostic::error(
                        Code::InvalidValue,
                        version_path,
                        field.value.span,
                        format!("`{version}` is not a version like `v1.0.0`"),
                    )
                    .with_label("malformed version"),
                );
                return None;
            }
            Some(version)
        });
        let config = match fields.get("config") {
            Some(field) => match to_json(validator, &field.value, &trigger_path.key("config")) {
                Some(config) => Some(config),
                None => continue,
            },
            None => None,
        };
        if let (Some(spec_uri), Some(spec_version)) = (spec_uri, spec_version) {
            triggers.push(Trigger::Spec {
                spec_uri: spec_uri.to_owned(),
                spec_version: spec_version.to_owned(),
                config,
            });
        }
    }
    triggers
}

/// `^v[0-9]+(\.[0-9]+)*$`, the reference schema's rule for trigger versions.
fn is_trigger_version(version: &str) -> bool {
    version.strip_prefix('v').is_some_and(|numbers| {
        numbers
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()))
    })
}

fn to_json(
    validator: &mut Validator<'_>,
    node: &Node,
    path: &FieldPath<'_>,
) -> Option<serde_json::Value> {
    let mut budget = MAX_TRIGGER_NODES;
    match json_value(node, &mut budget) {
        Ok(value) => Some(value),
        Err(problem) => {
            validator.report(
                Diagnostic::error(Code::InvalidValue, path, node.span, problem)
                    .with_label("cannot be read"),
            );
            None
        }
    }
}

fn json_value(node: &Node, budget: &mut usize) -> Result<serde_json::Value, String> {
    use serde_json::Value as Json;
    if *budget == 0 {
        return Err(format!(
            "more than {MAX_TRIGGER_NODES} values (through aliases)"
        ));
    }
    *budget -= 1;
    Ok(match &node.value {
        Value::Null => Json::Null,
        Value::Bool(value) => Json::Bool(*value),
        Value::Integer(value) => Json::from(*value),
        Value::Float(value) => serde_json::Number::from_f64(*value)
            .map_or_else(|| Json::String(value.to_string()), Json::Number),
        Value::String { text, .. } => Json::String(text.clone()),
        Value::Sequence(items) => Json::Array(
            items
                .iter()
                .map(|item| json_value(&item.node, budget))
                .collect::<Result<_, _>>()?,
        ),
        Value::Mapping(entries) => {
            let mut object = serde_json::Map::new();
            for entry in entries {
                let key = entry.key_text().ok_or("mapping keys must be strings")?;
                object.insert(key.to_owned(), json_value(&entry.value, budget)?);
            }
            Json::Object(object)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::diagnostics;

    #[test]
    fn a_pipeline_job_without_a_name_still_has_its_dependencies_checked() {
        let text = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  build:
    primaryContainer:
      name: go
      image: golang:1.13
pipelines:
  ci:
    jobs:
    - dependencies: [biuld, publish]
    - name: publish
";
        assert_eq!(
            diagnostics(text),
            "\
11:7 error[missing-field] pipelines.ci.jobs[0]: missing required field `name`
  help: add `name`: A job defined under `jobs`.
11:22 error[unknown-job] pipelines.ci.jobs[0].dependencies[0]: no job is named `biuld`
  help: did you mean `build`?
11:29 error[unknown-job] pipelines.ci.jobs[0].dependencies[1]: no job is named `publish`
  help: define the job under `jobs:`, or fix the name
12:13 error[unknown-job] pipelines.ci.jobs[1].name: no job is named `publish`
  help: define the job under `jobs:`, or fix the name
"
        );
    }
}
