//! Pipelines: ordered jobs whose dependencies name earlier entries, and triggers.

use std::collections::HashMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::fields::ObjectKind;
use crate::model::{Pipeline, PipelineJob, SourceMountMode, Trigger};
use crate::path::FieldPath;
use crate::suggest;
use crate::triggers::{ConfigPath, ConfigStep};
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
            check_trigger_config(
                validator,
                &item.node,
                &trigger_path,
                (spec_uri, spec_version),
                config.as_ref(),
            );
            triggers.push(Trigger::Spec {
                spec_uri: spec_uri.to_owned(),
                spec_version: spec_version.to_owned(),
                config,
            });
        }
    }
    triggers
}

/// Warns about what would make a trigger select nothing or not what was meant, each at its line
/// and column: the notes `eider run --event` gives, and the problem that makes it refuse the
/// trigger (a warning here: a trigger does not stop the jobs from running by name).
fn check_trigger_config(
    validator: &mut Validator<'_>,
    trigger: &Node,
    path: &FieldPath<'_>,
    (spec_uri, spec_version): (&str, &str),
    config: Option<&serde_json::Value>,
) {
    let check = crate::triggers::check(spec_uri, spec_version, config);
    for note in check.notes {
        let span = locate(trigger, &note.path);
        let mut diagnostic = Diagnostic::warning(Code::Suspicious, path, span, note.message);
        if let Some(help) = note.help {
            diagnostic = diagnostic.with_help(help);
        }
        validator.report(diagnostic);
    }
    if let Some(problem) = check.problem {
        let span = locate(trigger, problem.path());
        validator.report(
            Diagnostic::warning(Code::InvalidValue, path, span, problem.to_string())
                .with_label("`eider run --event` refuses this trigger"),
        );
    }
}

/// Where a trigger's config path points: the key of a field, the entry of a list, the trigger's
/// `specUri` for the trigger itself; as far down as the text goes (aliases and merges included).
fn locate(trigger: &Node, path: &ConfigPath) -> Span {
    let spec_uri = trigger.as_mapping().and_then(|entries| {
        entries
            .iter()
            .find(|entry| entry.key_text() == Some("specUri"))
            .map(|entry| entry.value.span)
    });
    let mut span = spec_uri.unwrap_or(trigger.span);
    let mut node = trigger;
    for step in path.steps() {
        match step {
            ConfigStep::Key(key) => {
                let Some(entry) = node.as_mapping().and_then(|entries| {
                    entries
                        .iter()
                        .find(|entry| entry.key_text() == Some(key.as_str()))
                }) else {
                    break;
                };
                span = entry.key.span;
                node = &entry.value;
            }
            ConfigStep::Index(index) => {
                let Some(item) = node.as_sequence().and_then(|items| items.get(*index)) else {
                    break;
                };
                span = item.node.span;
                node = &item.node;
            }
        }
    }
    span
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

    const JOBS: &str = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.1.0
jobs:
  test:
    containers:
    - name: go
      image: golang:1.13
";

    #[test]
    fn unknown_fields_of_a_supported_trigger_config_are_warnings_with_their_place_and_spelling() {
        let text = format!(
            "{JOBS}\
pipelines:
  ci:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        pull_request:
          targetBranches: {{}}
        push:
          branch:
            onyl: [master]
          tags:
    jobs:
    - name: test
"
        );
        assert_eq!(
            diagnostics(&text),
            "\
13:7 warning[suspicious] pipelines.ci.triggers[0]: the trigger selects no event: it has none of `config.pullRequest.targetBranches`, `config.push.branches` and `config.push.tags`
14:9 warning[suspicious] pipelines.ci.triggers[0]: unknown field `config.pull_request` is ignored (expected `pullRequest`, `push`, `checkSuiteRequest` or `tagPush`)
  help: did you mean `pullRequest`?
17:11 warning[suspicious] pipelines.ci.triggers[0]: unknown field `config.push.branch` is ignored (expected `branches` or `tags`)
  help: did you mean `branches`?
19:11 warning[suspicious] pipelines.ci.triggers[0]: `config.push.tags` has no value, so it selects nothing (write `{}` to select every name)
"
        );
    }

    #[test]
    fn a_trigger_config_eider_run_would_refuse_is_a_warning_at_its_place() {
        let text = format!(
            "{JOBS}\
pipelines:
  ci:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        push:
          tags:
            only: [\"/^v[0-9+/\"]
    jobs:
    - name: test
"
        );
        assert_eq!(
            diagnostics(&text),
            "\
16:20 warning[invalid-value] pipelines.ci.triggers[0]: `config.push.tags.only[0]`: `/^v[0-9+/` is not a valid regular expression
"
        );
    }

    #[test]
    fn the_october_2019_github_trigger_is_read_with_a_warning_naming_the_current_spelling() {
        let text = format!(
            "{JOBS}\
pipelines:
  ci:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        checkSuiteRequest:
          branches:
            ignore: [master, gh-pages]
        tagPush:
          tags:
            only: [\"/^v[0-9]+/\"]
    jobs:
    - name: test
"
        );
        assert_eq!(
            diagnostics(&text),
            "\
14:9 warning[suspicious] pipelines.ci.triggers[0]: `config.checkSuiteRequest` is the October 2019 form of this trigger: its `branches` is matched against pushed branches, as `config.push.branches`
  help: write `push: {branches: ...}`, the current form of drakespec-github v1.0.0
17:9 warning[suspicious] pipelines.ci.triggers[0]: `config.tagPush` is the October 2019 form of this trigger: its `tags` is matched against pushed tags, as `config.push.tags`
  help: write `push: {tags: ...}`, the current form of drakespec-github v1.0.0
"
        );
    }

    #[test]
    fn a_brig_trigger_warns_that_it_never_selects_the_pipeline() {
        let text = format!(
            "{JOBS}\
pipelines:
  ci:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-brig
      specVersion: v1.0.0
      config:
        eventTypes: [test]
    jobs:
    - name: test
"
        );
        assert_eq!(
            diagnostics(&text),
            "\
11:16 warning[suspicious] pipelines.ci.triggers[0]: trigger spec `github.com/lovethedrake/drakespec-brig` matches only events sent by Brigade's `brig run` (event types: `test`); they have no git counterpart, so this trigger never selects the pipeline
  help: run the pipeline by name (`eider run -p PIPELINE`), or give it a drakespec-github trigger
"
        );
    }
}
