//! Jobs: their containers in launch order (primary last), source mount mode and platform.

use std::collections::HashMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::fields::{OS_FAMILIES, ObjectKind, SOURCE_MOUNT_MODES};
use crate::model::{Container, Job, OsFamily, SourceMountMode};
use crate::path::FieldPath;
use crate::yaml::{Entry, Node, Span};

use super::Validator;
use super::container::validate_container;
use super::values::Fields;

/// What pipelines need to know about a job, valid or not (an invalid job is still defined, so
/// pipelines that name it do not get a second, misleading error).
pub(super) struct JobSummary {
    pub(super) source_mount_mode: Option<(SourceMountMode, Span)>,
}

pub(super) fn validate_job<'node>(
    validator: &mut Validator<'_>,
    entry: &'node Entry,
    name: &'node str,
    path: &FieldPath<'_>,
) -> (Option<Job>, JobSummary) {
    let errors_before = validator.error_count();
    let mut summary = JobSummary {
        source_mount_mode: None,
    };
    let Some(entries) = validator.mapping(&entry.value, path, "a job (a mapping of fields)") else {
        return (None, summary);
    };
    let fields = validator.object(entries, ObjectKind::Job, path, entry.key.span);
    let version = validator.version;

    let (source_mount_mode, os_family, cpu_arch) =
        read_platform(validator, &fields, path, &mut summary);

    let mut containers: Vec<Container> = Vec::new();
    let mut names: HashMap<String, Span> = HashMap::new();
    let mut add = |validator: &mut Validator<'_>,
                   node: &Node,
                   container_path: &FieldPath<'_>,
                   owner: Span| {
        // Uniqueness is checked on the written names, so that a container with other problems
        // still takes part.
        if let Some((name, name_span)) = written_name(node) {
            if let Some(first) = names.get(name) {
                validator.report(
                    Diagnostic::error(Code::DuplicateName, container_path.key("name"), name_span, format!("container name `{name}` is used twice in this job"))
                        .with_label("second use")
                        .with_related(*first, "first use")
                        .with_help("container names identify output and must be unique within a job (primary and sidecars together)"),
                );
            } else {
                names.insert(name.to_owned(), name_span);
            }
        }
        if let Some(container) =
            validate_container(validator, node, container_path, owner, os_family)
        {
            containers.push(container);
        }
    };
    if version.has_container_list() {
        if let Some(field) = fields.get("containers") {
            let list_path = path.key("containers");
            if let Some(items) =
                validator.sequence(&field.value, &list_path, "a list of containers")
            {
                for (index, item) in items.iter().enumerate() {
                    add(
                        validator,
                        &item.node,
                        &list_path.index(index),
                        item.via.unwrap_or(item.node.span),
                    );
                }
                if items.is_empty() {
                    warn_trivial(validator, entry, path);
                }
            }
        } else {
            warn_trivial(validator, entry, path);
        }
    } else {
        if let Some(field) = fields.get("sidecarContainers") {
            let list_path = path.key("sidecarContainers");
            if let Some(items) =
                validator.sequence(&field.value, &list_path, "a list of containers")
            {
                for (index, item) in items.iter().enumerate() {
                    add(
                        validator,
                        &item.node,
                        &list_path.index(index),
                        item.via.unwrap_or(item.node.span),
                    );
                }
            }
        }
        if let Some(field) = fields.get("primaryContainer") {
            add(
                validator,
                &field.value,
                &path.key("primaryContainer"),
                field.key.span,
            );
        }
    }

    let job = (validator.error_count() == errors_before).then(|| Job {
        name: name.to_owned(),
        containers,
        source_mount_mode,
        os_family,
        cpu_arch,
    });
    (job, summary)
}

fn warn_trivial(validator: &mut Validator<'_>, entry: &Entry, path: &FieldPath<'_>) {
    validator.report(
        Diagnostic::warning(
            Code::Suspicious,
            path,
            entry.key.span,
            "this job has no containers; it does nothing and succeeds at once",
        )
        .with_help("add a container under `containers:` (the last one is the primary)"),
    );
}

fn written_name(node: &Node) -> Option<(&str, Span)> {
    let entry = node
        .as_mapping()?
        .iter()
        .find(|entry| entry.key_text() == Some("name"))?;
    Some((entry.value.as_str()?, entry.value.span))
}

/// The job's source mount mode, operating system family and CPU architecture, with the defaults
/// of the declared version.
fn read_platform(
    validator: &mut Validator<'_>,
    fields: &Fields<'_>,
    path: &FieldPath<'_>,
    summary: &mut JobSummary,
) -> (SourceMountMode, OsFamily, String) {
    let version = validator.version;
    let source_mount_mode = if version.is_seed() {
        SourceMountMode::Copy
    } else {
        match fields.get("sourceMountMode") {
            None => SourceMountMode::ReadOnly,
            Some(field) => {
                let mode = match validator.enumeration(
                    &field.value,
                    &path.key("sourceMountMode"),
                    SOURCE_MOUNT_MODES,
                ) {
                    Some("COPY") => SourceMountMode::Copy,
                    Some("RW") => SourceMountMode::ReadWrite,
                    _ => SourceMountMode::ReadOnly,
                };
                summary.source_mount_mode = Some((mode, field.value.span));
                mode
            }
        }
    };
    let os_family = match fields.get("osFamily") {
        Some(field) => {
            match validator.enumeration(&field.value, &path.key("osFamily"), OS_FAMILIES) {
                Some("windows") => OsFamily::Windows,
                _ => OsFamily::Linux,
            }
        }
        None => OsFamily::Linux,
    };
    let cpu_arch = match fields.get("cpuArch") {
        Some(field) => {
            let field_path = path.key("cpuArch");
            let architecture = validator
                .string(&field.value, &field_path)
                .unwrap_or_default();
            if (architecture.is_empty() || architecture.contains(char::is_whitespace))
                && field.value.as_str().is_some()
            {
                validator.report(
                    Diagnostic::error(
                        Code::InvalidValue,
                        field_path,
                        field.value.span,
                        "the CPU architecture must be a single word",
                    )
                    .with_help(
                        "e.g. `amd64` or `arm64`, or remove the field for the default `amd64`",
                    ),
                );
            }
            architecture.to_owned()
        }
        None => "amd64".to_owned(),
    };

    (source_mount_mode, os_family, cpu_arch)
}
