//! Containers: image, environment, command, mounts (see `mounts.rs`), flags and resources.

use crate::command_line::split_command_line;
use crate::diagnostic::{Code, Diagnostic};
use crate::fields::{ObjectKind, PULL_POLICIES};
use crate::image_reference;
use crate::model::{Container, OsFamily, PullPolicy, Resources};
use crate::path::FieldPath;
use crate::yaml::{Node, Span};

use super::Validator;
use super::document::check_name_text;
use super::environment::read_environment;
use super::mounts::read_mounts;

/// Validates one container; returns it, or `None` after reporting why.
pub(super) fn validate_container(
    validator: &mut Validator<'_>,
    node: &Node,
    path: &FieldPath<'_>,
    owner: Span,
    os_family: OsFamily,
) -> Option<Container> {
    let errors_before = validator.error_count();
    let entries = validator.mapping(node, path, "a container (a mapping of fields)")?;
    let fields = validator.object(entries, ObjectKind::Container, path, owner);
    let version = validator.version;

    let name = fields.get("name").and_then(|field| {
        let name_path = path.key("name");
        let name = validator.string(&field.value, &name_path)?;
        check_name_text(validator, name, field.value.span, &name_path, "container");
        Some(name)
    });
    let image = fields.get("image").and_then(|field| {
        let image_path = path.key("image");
        let image = validator.string(&field.value, &image_path)?;
        if let Some(problem) = image_reference::problem(image) {
            validator.report(
                Diagnostic::error(Code::InvalidValue, image_path, field.value.span, format!("`{image}` is not a valid image reference: {problem}"))
                    .with_label("invalid image reference")
                    .with_help("write `[registry/]repository[:tag][@digest]`, e.g. `busybox:1.36` or `localhost:5000/team/tool:1.0`"),
            );
        }
        Some(image)
    });
    let pull_policy = match fields.get("imagePullPolicy") {
        Some(field) => {
            match validator.enumeration(&field.value, &path.key("imagePullPolicy"), PULL_POLICIES) {
                Some("Always") => PullPolicy::Always,
                _ => PullPolicy::IfNotPresent,
            }
        }
        None => PullPolicy::IfNotPresent,
    };
    let environment = fields
        .get("environment")
        .map(|field| read_environment(validator, &field.value, &path.key("environment")))
        .unwrap_or_default();
    let working_directory = fields.get("workingDirectory").and_then(|field| {
        absolute_path(
            validator,
            &field.value,
            &path.key("workingDirectory"),
            os_family,
            false,
        )
    });
    let (command, args) = read_command(validator, &fields, path);
    let mut flag = |name: &str| {
        fields
            .get(name)
            .and_then(|field| validator.boolean(&field.value, &path.key(name)))
            .unwrap_or(false)
    };
    let tty = flag("tty");
    let privileged = flag("privileged");
    let mount_docker_socket = flag("mountDockerSocket");
    let socket = fields
        .get("mountDockerSocket")
        .filter(|_| mount_docker_socket)
        .map(|field| field.value.span);
    let (source_mount_path, shared_storage_mount_path) =
        read_mounts(validator, &fields, path, os_family, socket);
    let resources = (version >= crate::SpecVersion::V0_3_0).then(|| {
        fields
            .get("resources")
            .map(|field| read_resources(validator, &field.value, &path.key("resources")))
            .unwrap_or_default()
    });

    if validator.error_count() != errors_before {
        return None;
    }
    let container = Container {
        name: name?.to_owned(),
        image: image?.to_owned(),
        pull_policy,
        environment,
        working_directory,
        command,
        args,
        tty,
        privileged,
        mount_docker_socket,
        source_mount_path,
        shared_storage_mount_path,
        resources,
    };
    Some(container)
}

/// A seed-draft command line, split into the words of the main process.
fn command_from_line(
    validator: &mut Validator<'_>,
    node: &Node,
    path: &FieldPath<'_>,
) -> Option<Vec<String>> {
    let line = validator.string(node, path)?;
    match split_command_line(line) {
        Ok(words) if words.is_empty() => {
            validator.report(
                Diagnostic::warning(
                    Code::Suspicious,
                    path,
                    node.span,
                    "the command is empty, so the image's own command runs",
                )
                .with_help("remove `command`, or write the command to run"),
            );
            None
        }
        Ok(words) => {
            if let Some(word) = words.iter().find(|word| word.contains('$')) {
                validator.report(
                    Diagnostic::warning(
                        Code::Suspicious,
                        path,
                        node.span,
                        format!(
                            "`{word}` is passed as written: no shell expands variables in a command"
                        ),
                    )
                    .with_help("to expand variables, run a shell: `sh -c 'echo $HOME'`"),
                );
            }
            Some(words)
        }
        Err(error) => {
            let span = span_within(validator, node, line, error.offset);
            validator.report(
                Diagnostic::error(Code::CommandSyntax, path, span, error.message)
                    .with_label("here")
                    .with_help(error.help),
            );
            None
        }
    }
}

/// Points at byte `offset` of a scalar's value, when the value is written as-is (plain or simply
/// quoted); otherwise at the whole scalar.
fn span_within(validator: &Validator<'_>, node: &Node, value: &str, offset: usize) -> Span {
    let written = validator.source(node.span);
    let start = node.span.start as usize;
    let character_length = value[offset..].chars().next().map_or(1, char::len_utf8);
    if written == value {
        Span::new(start + offset, start + offset + character_length)
    } else if written.len() == value.len() + 2 && written.get(1..written.len() - 1) == Some(value) {
        Span::new(start + 1 + offset, start + 1 + offset + character_length)
    } else {
        node.span
    }
}

/// A list of strings where an empty list means "leave it to the image", as the reference
/// executor treated it.
fn non_empty_list(
    validator: &mut Validator<'_>,
    node: &Node,
    path: &FieldPath<'_>,
    image_part: &str,
) -> Option<Vec<String>> {
    let words = validator.string_list(node, path)?;
    if words.is_empty() {
        validator.report(
            Diagnostic::warning(
                Code::Suspicious,
                path,
                node.span,
                format!("an empty list keeps {image_part}"),
            )
            .with_help("remove the field, or list the words to run"),
        );
        return None;
    }
    Some(words.into_iter().map(str::to_owned).collect())
}

/// A path inside the container; `None` when `optional_when_empty` and the value is empty.
pub(super) fn absolute_path(
    validator: &mut Validator<'_>,
    node: &Node,
    path: &FieldPath<'_>,
    os_family: OsFamily,
    optional_when_empty: bool,
) -> Option<String> {
    let text = validator.string(node, path)?;
    if text.is_empty() && optional_when_empty {
        return None;
    }
    let is_absolute = text.starts_with('/')
        || os_family == OsFamily::Windows && {
            let bytes = text.as_bytes();
            bytes.len() >= 3
                && bytes[0].is_ascii_alphabetic()
                && bytes[1] == b':'
                && matches!(bytes[2], b'\\' | b'/')
        };
    if !is_absolute {
        let help = if text.is_empty() {
            "write an absolute path such as `/src`, or remove the field".to_owned()
        } else {
            format!(
                "write an absolute path, e.g. `/{}`",
                text.trim_start_matches("./")
            )
        };
        validator.report(
            Diagnostic::error(
                Code::InvalidValue,
                path,
                node.span,
                format!("`{text}` is not an absolute path"),
            )
            .with_label("relative path")
            .with_help(help),
        );
        return None;
    }
    Some(text.to_owned())
}

fn read_resources(validator: &mut Validator<'_>, node: &Node, path: &FieldPath<'_>) -> Resources {
    let mut resources = Resources::default();
    let Some(entries) = validator.mapping(node, path, "a mapping with `cpu` and `memory`") else {
        return resources;
    };
    let fields = validator.object(entries, ObjectKind::Resources, path, node.span);
    if let Some(field) = fields.get("cpu") {
        let cpu_path = path.key("cpu");
        if let Some((requested, max)) = read_pair(
            validator,
            &field.value,
            &cpu_path,
            ObjectKind::Cpu,
            ["requestedMillicores", "maxMillicores"],
            (resources.requested_millicores, resources.max_millicores),
        ) {
            (resources.requested_millicores, resources.max_millicores) = (requested, max);
        }
    }
    if let Some(field) = fields.get("memory") {
        let memory_path = path.key("memory");
        if let Some((requested, max)) = read_pair(
            validator,
            &field.value,
            &memory_path,
            ObjectKind::Memory,
            ["requestedMegabytes", "maxMegabytes"],
            (resources.requested_megabytes, resources.max_megabytes),
        ) {
            (resources.requested_megabytes, resources.max_megabytes) = (requested, max);
        }
    }
    resources
}

/// Reads a requested/max pair, warning when the request exceeds the limit.
fn read_pair(
    validator: &mut Validator<'_>,
    node: &Node,
    path: &FieldPath<'_>,
    kind: ObjectKind,
    names: [&'static str; 2],
    defaults: (u32, u32),
) -> Option<(u32, u32)> {
    let entries = validator.mapping(node, path, "a mapping")?;
    let fields = validator.object(entries, kind, path, node.span);
    let mut values = [defaults.0, defaults.1];
    for (slot, name) in values.iter_mut().zip(names) {
        let Some(field) = fields.get(name) else {
            continue;
        };
        let minimum = crate::fields::find(kind, validator.version, name)
            .and_then(|field| match field.field_type {
                crate::fields::FieldType::Integer { minimum } => Some(minimum),
                _ => None,
            })
            .unwrap_or(1);
        let field_path = path.key(name);
        let Some(value) = validator.integer(&field.value, &field_path, minimum) else {
            continue;
        };
        match u32::try_from(value) {
            Ok(value) => *slot = value,
            Err(_) => validator.report(
                Diagnostic::error(
                    Code::InvalidValue,
                    field_path,
                    field.value.span,
                    format!("{value} is too large"),
                )
                .with_label("too large"),
            ),
        }
    }
    if values[0] > values[1] {
        let span = fields
            .get(names[0])
            .map_or(node.span, |field| field.value.span);
        validator.report(
            Diagnostic::warning(
                Code::Suspicious,
                path.key(names[0]),
                span,
                format!(
                    "`{}` ({}) is more than `{}` ({})",
                    names[0], values[0], names[1], values[1]
                ),
            )
            .with_help(format!(
                "the limit `{}` applies; lower the request or raise the limit",
                names[1]
            )),
        );
    }
    Some((values[0], values[1]))
}

/// `command` (a command line in the seed draft, the ENTRYPOINT afterwards) and `args` (the CMD).
fn read_command(
    validator: &mut Validator<'_>,
    fields: &super::values::Fields<'_>,
    path: &FieldPath<'_>,
) -> (Option<Vec<String>>, Option<Vec<String>>) {
    let version = validator.version;
    let command = fields.get("command").and_then(|field| {
        let command_path = path.key("command");
        if version.has_command_string() {
            command_from_line(validator, &field.value, &command_path)
        } else {
            non_empty_list(
                validator,
                &field.value,
                &command_path,
                "the image's ENTRYPOINT",
            )
        }
    });
    let args = fields.get("args").and_then(|field| {
        non_empty_list(
            validator,
            &field.value,
            &path.key("args"),
            "the image's CMD",
        )
    });
    (command, args)
}
