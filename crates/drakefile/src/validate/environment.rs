//! Container environment: `KEY=VALUE` strings split at the first `=` (a string without `=` is a
//! key with an empty value), in the order written; in v0.6.0 also a mapping, in document order.

use std::collections::HashMap;

use crate::diagnostic::{Code, Diagnostic};
use crate::model::EnvironmentVariable;
use crate::path::FieldPath;
use crate::yaml::{Node, Span, Value};

use super::Validator;

pub(super) fn read_environment(
    validator: &mut Validator<'_>,
    node: &Node,
    path: &FieldPath<'_>,
) -> Vec<EnvironmentVariable> {
    let mut variables: Vec<(EnvironmentVariable, Span)> = Vec::new();
    match &node.value {
        Value::Sequence(items) => {
            for (index, item) in items.iter().enumerate() {
                let item_path = path.index(index);
                let Some(text) = item.node.as_str() else {
                    let mut diagnostic =
                        validator.type_error(&item.node, &item_path, "a `KEY=VALUE` string");
                    if let Some([entry]) = item.node.as_mapping() {
                        let key = entry.key_text().unwrap_or("KEY");
                        let value = validator.source(entry.value.span);
                        diagnostic = diagnostic.with_help(format!("write `- {key}={value}`"));
                    }
                    validator.report(diagnostic);
                    continue;
                };
                let (name, value) = text.split_once('=').unwrap_or((text, ""));
                variables.push((
                    EnvironmentVariable {
                        name: name.to_owned(),
                        value: value.to_owned(),
                    },
                    item.node.span,
                ));
            }
        }
        Value::Mapping(entries) if validator.version.accepts_environment_mapping() => {
            for entry in entries {
                let Some(name) = entry.key.as_str() else {
                    validator.wrong_type(&entry.key, path, "a variable name");
                    continue;
                };
                let entry_path = path.key(name);
                if name.contains('=') {
                    validator.report(
                        Diagnostic::error(
                            Code::InvalidValue,
                            entry_path,
                            entry.key.span,
                            "a variable name cannot contain `=`",
                        )
                        .with_label("`=` in a name"),
                    );
                    continue;
                }
                let Some(value) = entry.value.as_str() else {
                    validator.wrong_type(&entry.value, &entry_path, "a string");
                    continue;
                };
                variables.push((
                    EnvironmentVariable {
                        name: name.to_owned(),
                        value: value.to_owned(),
                    },
                    entry.key.span,
                ));
            }
        }
        Value::Mapping(entries) => {
            let example: Vec<String> = entries
                .iter()
                .take(3)
                .map(|entry| {
                    format!(
                        "- {}={}",
                        entry.key_text().unwrap_or("KEY"),
                        entry
                            .value
                            .as_str()
                            .unwrap_or_else(|| validator.source(entry.value.span))
                    )
                })
                .collect();
            let diagnostic = validator
                .type_error(node, path, "a list of `KEY=VALUE` strings")
                .with_help(format!(
                    "{} writes environment as a list (the mapping form is accepted with specVersion v0.6.0 only):\n{}",
                    validator.version.title(),
                    example.join("\n")
                ));
            validator.report(diagnostic);
        }
        _ => validator.wrong_type(node, path, "a list of `KEY=VALUE` strings"),
    }

    check_names(validator, &variables, path);
    variables
        .into_iter()
        .map(|(variable, _)| variable)
        .collect()
}

/// Reports empty names, and warns about names set twice.
fn check_names(
    validator: &mut Validator<'_>,
    variables: &[(EnvironmentVariable, Span)],
    path: &FieldPath<'_>,
) {
    let mut first_use: HashMap<&str, Span> = HashMap::new();
    let mut problems = Vec::new();
    for (index, (variable, span)) in variables.iter().enumerate() {
        if variable.name.is_empty() {
            problems.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    path.index(index),
                    *span,
                    "the variable has no name (nothing before `=`)",
                )
                .with_label("empty name")
                .with_help("write `NAME=value`"),
            );
        } else if let Some(first) = first_use.insert(&variable.name, *span) {
            problems.push(
                Diagnostic::warning(
                    Code::Suspicious,
                    path,
                    *span,
                    format!("`{}` is set twice; the later value wins", variable.name),
                )
                .with_related(first, "first set here"),
            );
        }
    }
    for problem in problems {
        validator.report(problem);
    }
}
