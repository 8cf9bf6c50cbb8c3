//! The top level: which DrakeSpec the file follows, then its jobs and pipelines.

use crate::diagnostic::{Code, Diagnostic};
use crate::fields::ObjectKind;
use crate::model::Drakefile;
use crate::path::FieldPath;
use crate::version::{SPEC_URI, SpecVersion, is_version_shaped};
use crate::yaml::{Entry, Node, Span};

use super::Validator;
use super::job::validate_job;
use super::names::{NAME_PATTERN, is_valid_name, suggest_name};
use super::pipeline::validate_pipeline;

/// The two lines that make a file a Drakefile of the latest version.
fn header_lines() -> String {
    format!("specUri: {SPEC_URI}\nspecVersion: {}", SpecVersion::LATEST)
}

pub(super) fn validate_document(
    validator: &mut Validator<'_>,
    root: Option<&Node>,
) -> Option<Drakefile> {
    let Some(root) = root else {
        validator.report(
            Diagnostic::error(Code::EmptyFile, "", Span::new(0, 0), "the Drakefile is empty")
                .with_help(format!(
                    "a Drakefile starts with these two lines:\n{}\n(`eider init` writes a commented starter Drakefile)",
                    header_lines()
                )),
        );
        return None;
    };
    let root_path = FieldPath::root();
    let entries = validator.mapping(root, &root_path, "a mapping of fields at the top level")?;
    validator.version = detect_version(validator, entries, root.span)?;
    let fields = validator.object(entries, ObjectKind::Document, &root_path, Span::new(0, 0));
    let uri_key = validator.version.uri_key();
    if let Some(entry) = fields.get(uri_key) {
        check_spec_uri(validator, entry, &root_path.key(uri_key));
    }

    let mut jobs = Vec::new();
    let mut summaries = std::collections::HashMap::new();
    let mut all_jobs_valid = true;
    let mut jobs_readable = true;
    if let Some(entry) = fields.get("jobs") {
        let jobs_path = root_path.key("jobs");
        let job_entries =
            validator.mapping(&entry.value, &jobs_path, "a mapping of job names to jobs");
        jobs_readable = job_entries.is_some();
        if let Some(job_entries) = job_entries {
            for job_entry in job_entries {
                let Some(name) = job_entry.key.as_str() else {
                    validator.wrong_type(&job_entry.key, &jobs_path, "a job name");
                    all_jobs_valid = false;
                    continue;
                };
                check_name(validator, job_entry, &jobs_path.key(name), "job");
                let (job, summary) = validate_job(validator, job_entry, name, &jobs_path.key(name));
                summaries.insert(name, summary);
                match job {
                    Some(job) => jobs.push(job),
                    None => all_jobs_valid = false,
                }
            }
        }
    }

    let mut pipelines = Vec::new();
    let mut all_pipelines_valid = true;
    if let Some(entry) = fields.get("pipelines") {
        let pipelines_path = root_path.key("pipelines");
        if let Some(pipeline_entries) = validator.mapping(
            &entry.value,
            &pipelines_path,
            "a mapping of pipeline names to pipelines",
        ) {
            for pipeline_entry in pipeline_entries {
                let Some(name) = pipeline_entry.key.as_str() else {
                    validator.wrong_type(&pipeline_entry.key, &pipelines_path, "a pipeline name");
                    all_pipelines_valid = false;
                    continue;
                };
                let path = pipelines_path.key(name);
                check_name(validator, pipeline_entry, &path, "pipeline");
                let jobs = jobs_readable.then_some(&summaries);
                match validate_pipeline(validator, pipeline_entry, name, &path, jobs) {
                    Some(pipeline) => pipelines.push(pipeline),
                    None => all_pipelines_valid = false,
                }
            }
        }
    }

    (all_jobs_valid && all_pipelines_valid).then(|| Drakefile {
        spec_version: validator.version,
        jobs,
        pipelines,
    })
}

/// Reports a name that breaks the naming rule.
pub(super) fn check_name(
    validator: &mut Validator<'_>,
    entry: &Entry,
    path: &FieldPath<'_>,
    what: &str,
) {
    let Some(name) = entry.key.as_str() else {
        return;
    };
    check_name_text(validator, name, entry.key.span, path, what);
}

/// Reports a name (of a job, pipeline or container) that breaks the naming rule.
pub(super) fn check_name_text(
    validator: &mut Validator<'_>,
    name: &str,
    span: Span,
    path: &FieldPath<'_>,
    what: &str,
) {
    if !is_valid_name(name) {
        validator.report(
            Diagnostic::error(Code::InvalidName, path, span, format!("`{name}` is not a valid {what} name"))
                .with_label(format!("must match {NAME_PATTERN}"))
                .with_help(format!(
                    "{what} names start with a letter, digit or `_`, then letters, digits, `_` or `-`, e.g. `{}`",
                    suggest_name(name)
                )),
        );
    }
}

/// Finds which version the file declares, reporting why when it cannot.
fn detect_version(
    validator: &mut Validator<'_>,
    entries: &[Entry],
    root_span: Span,
) -> Option<SpecVersion> {
    let find = |key: &str| entries.iter().find(|entry| entry.key_text() == Some(key));
    let seed_keys = [find("uri"), find("version")];
    let release_keys = [find("specUri"), find("specVersion")];
    let seed = seed_keys.iter().flatten().next();
    let release = release_keys.iter().flatten().next();
    match (seed, release) {
        (Some(seed), Some(_)) => {
            validator.report(
                Diagnostic::error(
                    Code::MissingSpec,
                    seed.key_text().unwrap_or_default(),
                    seed.key.span,
                    "the file mixes the seed draft's `uri`/`version` with `specUri`/`specVersion`",
                )
                .with_label("seed-draft spelling")
                .with_help(format!(
                    "releases (v0.1.0 and later) use only:\n{}\nthe seed draft uses only `uri` and `version: v0.0.0`",
                    header_lines()
                )),
            );
            None
        }
        (None, None) => {
            let first_line_end = validator.text.find('\n').unwrap_or(validator.text.len());
            let span = if root_span.start == 0 {
                Span::new(0, first_line_end)
            } else {
                root_span
            };
            validator.report(
                Diagnostic::error(
                    Code::MissingSpec,
                    "",
                    span,
                    "the file does not say which DrakeSpec version it follows",
                )
                .with_label("no `specUri`/`specVersion` in this file")
                .with_help(format!(
                    "add these two lines at the top of the file:\n{}",
                    header_lines()
                )),
            );
            None
        }
        (Some(_), None) => {
            let pre_spec = seed_keys[1].filter(|entry| {
                entry.value.as_str().is_some_and(|written| {
                    SpecVersion::from_written(written).is_none()
                        && super::pre_spec::is_pre_spec(entries, written)
                })
            });
            if let Some(version) = pre_spec {
                super::pre_spec::report(validator, entries, version);
                return None;
            }
            version_from(validator, seed_keys[1], true, root_span)
        }
        (None, Some(_)) => {
            let version = version_from(validator, release_keys[1], false, root_span);
            if version.is_none() && release_keys[0].is_none() {
                // Every problem at once: a version that cannot be read stops the validation of
                // the rest, but not the report of the field missing beside it.
                validator.report(
                    Diagnostic::error(
                        Code::MissingField,
                        "",
                        Span::new(root_span.start as usize, root_span.start as usize),
                        "missing required field `specUri`",
                    )
                    .with_label("the top level of a Drakefile needs `specUri`")
                    .with_help(format!("add `specUri: {SPEC_URI}`")),
                );
            }
            version
        }
    }
}

fn version_from(
    validator: &mut Validator<'_>,
    entry: Option<&Entry>,
    seed: bool,
    root_span: Span,
) -> Option<SpecVersion> {
    let key = if seed { "version" } else { "specVersion" };
    let path = FieldPath::root();
    let path = path.key(key);
    let Some(entry) = entry else {
        let example = if seed {
            "version: v0.0.0".to_owned()
        } else {
            format!("specVersion: {}", SpecVersion::LATEST)
        };
        validator.report(
            Diagnostic::error(
                Code::MissingField,
                "",
                Span::new(root_span.start as usize, root_span.start as usize),
                format!("missing required field `{key}`"),
            )
            .with_help(format!("add `{example}`")),
        );
        return None;
    };
    let node = &entry.value;
    let Some(written) = node.as_str() else {
        let written = validator.source(node.span).to_owned();
        let diagnostic = validator
            .type_error(node, &path, "a version string such as `v0.6.0`")
            .with_help(format!(
                "write the version as `v` + three numbers: `{key}: v{written}`, e.g. `{key}: {}`",
                if seed {
                    SpecVersion::Seed
                } else {
                    SpecVersion::LATEST
                }
            ));
        validator.report(diagnostic);
        return None;
    };
    let unsupported =
        |message: String| Diagnostic::error(Code::UnsupportedVersion, path, node.span, message);
    if !is_version_shaped(written) {
        let mut diagnostic =
            unsupported(format!("`{written}` is not a version of the form vX.Y.Z"))
                .with_label("malformed version");
        let candidate = format!("v{}", written.trim_start_matches(['v', 'V']));
        // Every problem at once: when the meant version is plain and of this spelling, the rest
        // of the file is checked against it (the file stays invalid for the typo).
        let meant =
            SpecVersion::from_written(&candidate).filter(|version| version.is_seed() == seed);
        if let Some(version) = meant {
            diagnostic = diagnostic.with_help(format!(
                "did you mean `{candidate}`? (the rest of the file was checked as {})",
                version.title()
            ));
        } else if SpecVersion::from_written(&candidate).is_some() {
            diagnostic = diagnostic.with_help(format!("did you mean `{candidate}`?"));
        }
        validator.report(diagnostic);
        return meant;
    }
    let supported_releases = SpecVersion::ALL
        .into_iter()
        .filter(|version| !version.is_seed())
        .map(SpecVersion::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    match (SpecVersion::from_written(written), seed) {
        (Some(SpecVersion::Seed), true) => Some(SpecVersion::Seed),
        (Some(version), false) if !version.is_seed() => Some(version),
        (Some(version), true) => {
            validator.report(
                unsupported(format!("DrakeSpec {version} is written with `specUri`/`specVersion`, not `uri`/`version`"))
                    .with_label("the seed draft spelling takes only v0.0.0")
                    .with_help(format!("write:\nspecUri: {SPEC_URI}\nspecVersion: {version}\nor, for the seed draft, `version: v0.0.0`")),
            );
            None
        }
        (Some(_), false) => {
            validator.report(
                unsupported("v0.0.0 is the seed draft, which is written with `uri` and `version`".to_owned())
                    .with_help(format!("write `uri: {SPEC_URI}` and `version: v0.0.0`, or declare a release: {supported_releases}")),
            );
            None
        }
        (None, _) => {
            validator.report(
                unsupported(format!("DrakeSpec {written} is not supported; the file is taken at its word, so nothing is run"))
                    .with_label("unsupported version")
                    .with_help(format!(
                        "eider supports {supported_releases} (`specVersion`) and the seed draft (`uri` + `version: v0.0.0`)"
                    )),
            );
            None
        }
    }
}

fn check_spec_uri(validator: &mut Validator<'_>, entry: &Entry, path: &FieldPath<'_>) {
    let Some(uri) = validator.string(&entry.value, path) else {
        return;
    };
    if uri == SPEC_URI {
        return;
    }
    let stripped = uri
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let help = if stripped == SPEC_URI {
        format!("write it without the scheme: `{SPEC_URI}`")
    } else {
        format!("the only value is `{SPEC_URI}`")
    };
    validator.report(
        Diagnostic::error(
            Code::WrongSpecUri,
            path,
            entry.value.span,
            format!("`{uri}` is not the DrakeSpec URI"),
        )
        .with_label("unknown spec")
        .with_help(help),
    );
}

#[cfg(test)]
mod tests {
    use super::super::test_support::diagnostics;

    #[test]
    fn a_malformed_version_with_a_plain_meaning_does_not_stop_the_check_of_the_rest() {
        let text = "\
specUri: github.com/lovethedrake/drakespec
specVersion: vv0.5.0
jobs:
  lint:
    primaryContainer:
      name: golangci
      image: golangci/golangci-lint:v1.21.0
      comand: [golangci-lint, run]
";
        assert_eq!(
            diagnostics(text),
            "\
2:14 error[unsupported-version] specVersion: `vv0.5.0` is not a version of the form vX.Y.Z
  help: did you mean `v0.5.0`? (the rest of the file was checked as DrakeSpec v0.5.0)
8:7 error[unknown-field] jobs.lint.primaryContainer.comand: unknown field `comand` in a container (DrakeSpec v0.5.0)
  help: did you mean `command`?
"
        );
    }

    #[test]
    fn a_duplicate_key_does_not_stop_the_check_of_the_rest() {
        let text = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  test:
    primaryContainer:
      name: jest
      image: node:12.13-alpine
      image: node:12.13
      tty: maybe
";
        assert_eq!(
            diagnostics(text),
            "\
8:7 error[yaml-syntax] duplicate key `image`
  help: a mapping may set `image` only once; keep one of them
9:12 error[wrong-type] jobs.test.primaryContainer.tty: expected `true` or `false`, found a string
  help: write `true` or `false` without quotes
"
        );
    }

    #[test]
    fn jobs_that_cannot_be_read_do_not_make_every_pipeline_job_unknown() {
        let text = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
- name: build
pipelines:
  ci:
    jobs:
    - name: build
    - name: 'publish!'
      dependencies: [build]
";
        assert_eq!(
            diagnostics(text),
            "\
4:3 error[wrong-type] jobs: expected a mapping of job names to jobs, found a list
"
        );
    }
}
