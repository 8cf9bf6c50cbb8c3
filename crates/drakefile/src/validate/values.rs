//! Typed reading of nodes: each reader returns the value or reports why it cannot, with a hint
//! written for the value that was actually found.

use crate::diagnostic::{Code, Diagnostic};
use crate::fields::{self, Field, FieldType, ObjectKind};
use crate::path::FieldPath;
use crate::suggest;
use crate::version::SpecVersion;
use crate::yaml::{Entry, Node, Span, Value, emit};

use super::Validator;

/// The fields of one object, checked against the declared version.
pub(super) struct Fields<'node> {
    entries: Vec<(&'static Field, &'node Entry)>,
}

impl<'node> Fields<'node> {
    /// The entry of field `name`, if present.
    pub(super) fn get(&self, name: &str) -> Option<&'node Entry> {
        self.entries
            .iter()
            .find(|(field, _)| field.name == name)
            .map(|(_, entry)| *entry)
    }
}

impl Validator<'_> {
    /// Reads a mapping; reports a type error otherwise.
    pub(super) fn mapping<'node>(
        &mut self,
        node: &'node Node,
        path: &FieldPath<'_>,
        expected: &str,
    ) -> Option<&'node [Entry]> {
        if let Some(entries) = node.as_mapping() {
            return Some(entries);
        }
        self.wrong_type(node, path, expected);
        None
    }

    /// Reads a sequence; reports a type error otherwise.
    pub(super) fn sequence<'node>(
        &mut self,
        node: &'node Node,
        path: &FieldPath<'_>,
        expected: &str,
    ) -> Option<&'node [crate::yaml::Item]> {
        if let Some(items) = node.as_sequence() {
            return Some(items);
        }
        self.wrong_type(node, path, expected);
        None
    }

    /// Reads a string; reports a type error otherwise.
    pub(super) fn string<'node>(
        &mut self,
        node: &'node Node,
        path: &FieldPath<'_>,
    ) -> Option<&'node str> {
        if let Some(text) = node.as_str() {
            return Some(text);
        }
        self.wrong_type(node, path, "a string");
        None
    }

    /// Reads a list of strings, reporting each element that is not one.
    pub(super) fn string_list<'node>(
        &mut self,
        node: &'node Node,
        path: &FieldPath<'_>,
    ) -> Option<Vec<&'node str>> {
        let Some(items) = node.as_sequence() else {
            let mut diagnostic = self.type_error(node, path, "a list of strings");
            if let Some(text) = node.as_str() {
                let suggestion = match crate::command_line::split_command_line(text) {
                    Ok(words) if !words.is_empty() => emit::flow_list(&words),
                    _ => emit::flow_list(&[text.to_owned()]),
                };
                diagnostic = diagnostic.with_help(format!("write it as a list: `{suggestion}`"));
            }
            self.report(diagnostic);
            return None;
        };
        let mut strings = Vec::with_capacity(items.len());
        let mut valid = true;
        for (index, item) in items.iter().enumerate() {
            match self.string(&item.node, &path.index(index)) {
                Some(text) => strings.push(text),
                None => valid = false,
            }
        }
        valid.then_some(strings)
    }

    /// Reads a boolean. Unquoted `yes`/`no`/`on`/`off` are accepted too: the reference parser
    /// read YAML 1.1, where they are booleans, and real Drakefiles use them.
    pub(super) fn boolean(&mut self, node: &Node, path: &FieldPath<'_>) -> Option<bool> {
        match &node.value {
            Value::Bool(value) => return Some(*value),
            Value::String { text, plain: true } => match text.as_str() {
                "yes" | "Yes" | "YES" | "on" | "On" | "ON" => return Some(true),
                "no" | "No" | "NO" | "off" | "Off" | "OFF" => return Some(false),
                _ => {}
            },
            _ => {}
        }
        let diagnostic = self
            .type_error(node, path, "`true` or `false`")
            .with_help("write `true` or `false` without quotes");
        self.report(diagnostic);
        None
    }

    /// Reads an integer of at least `minimum`.
    pub(super) fn integer(
        &mut self,
        node: &Node,
        path: &FieldPath<'_>,
        minimum: i64,
    ) -> Option<i64> {
        let Value::Integer(value) = node.value else {
            self.wrong_type(node, path, "a whole number");
            return None;
        };
        if value < minimum {
            self.report(
                Diagnostic::error(
                    Code::InvalidValue,
                    path,
                    node.span,
                    format!("{value} is too small; the minimum is {minimum}"),
                )
                .with_label("too small"),
            );
            return None;
        }
        Some(value)
    }

    /// Reads a string that must be one of `allowed`.
    pub(super) fn enumeration(
        &mut self,
        node: &Node,
        path: &FieldPath<'_>,
        allowed: &[&'static str],
    ) -> Option<&'static str> {
        let text = self.string(node, path)?;
        if let Some(value) = allowed.iter().find(|value| **value == text) {
            return Some(value);
        }
        let choices = allowed
            .iter()
            .map(|value| format!("`{value}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut diagnostic = Diagnostic::error(
            Code::InvalidValue,
            path,
            node.span,
            format!("`{text}` is not one of {choices}"),
        )
        .with_label("not allowed here");
        if let Some(closest) = suggest::closest(text, allowed.iter().copied()) {
            diagnostic = diagnostic.with_help(format!(
                "did you mean `{closest}`? (values are case-sensitive)"
            ));
        }
        self.report(diagnostic);
        None
    }

    /// Checks the keys of an object against the fields its kind has in the declared version:
    /// undocumented fields (with a suggestion or the version that has them) and missing required
    /// ones are reported. `owner` is where the object is named, for "missing field" errors.
    pub(super) fn object<'node>(
        &mut self,
        entries: &'node [Entry],
        kind: ObjectKind,
        path: &FieldPath<'_>,
        owner: Span,
    ) -> Fields<'node> {
        let version = self.version;
        let mut fields = Vec::with_capacity(entries.len());
        for entry in entries {
            let Some(key) = entry.key.as_str() else {
                self.wrong_type(&entry.key, path, "a field name");
                continue;
            };
            match fields::find(kind, version, key) {
                Some(field) => fields.push((field, entry)),
                None => self.unknown_field(entry, key, kind, path),
            }
        }
        for field in fields::fields_in(kind, version).filter(|field| field.required) {
            if !fields.iter().any(|(present, _)| present.name == field.name) {
                self.report(
                    Diagnostic::error(
                        Code::MissingField,
                        path,
                        owner,
                        format!("missing required field `{}`", field.name),
                    )
                    .with_label(format!("{} needs `{}`", kind.describe(), field.name))
                    .with_help(format!("add `{}`: {}", field.name, field.description)),
                );
            }
        }
        Fields { entries: fields }
    }

    fn unknown_field(&mut self, entry: &Entry, key: &str, kind: ObjectKind, path: &FieldPath<'_>) {
        let version = self.version;
        let field_path = path.key(key);
        let mut diagnostic = Diagnostic::error(
            Code::UnknownField,
            field_path,
            entry.key.span,
            format!(
                "unknown field `{key}` in {} ({})",
                kind.describe(),
                version.title()
            ),
        )
        .with_related_option(entry.via, "brought in here");
        let candidates: Vec<&str> = fields::fields_in(kind, version)
            .map(|field| field.name)
            .collect();
        let level = wrong_level(kind, version, key, path);
        diagnostic = diagnostic.with_label(if level.is_some() {
            "wrong level"
        } else {
            "not defined by this version"
        });
        let help = if let Some(note) = fields::other_version_note(kind, version, key) {
            Some(note)
        } else if let Some(replacement) = super::pre_spec::replacement(kind, key) {
            // A pre-DrakeSpec field in a DrakeSpec file: say what replaced it.
            return self.report(diagnostic.with_help(replacement));
        } else if let Some(level) = level {
            // A field of the object one level up or down is a misplaced line, not a typo: a
            // spelling hint would name another field and lead to a second error.
            return self.report(diagnostic.with_help(level));
        } else if let Some(closest) = suggest::closest(key, candidates.iter().copied()) {
            Some(format!("did you mean `{closest}`?"))
        } else if key == "timeout" {
            Some("no DrakeSpec version has a `timeout` field; set the job timeout with `eider run --timeout`".to_owned())
        } else if kind == ObjectKind::Document && !version.is_seed() {
            Some(
                "keep YAML anchors under `snippets:`; other top-level fields are reserved"
                    .to_owned(),
            )
        } else {
            None
        };
        let fields = candidates
            .iter()
            .map(|name| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let listing = format!("{} has: {fields}", capitalize(kind.describe()));
        let help = match help {
            Some(help) if help.starts_with("did you mean") => help,
            Some(help) => format!("{help}\n{listing}"),
            None => listing,
        };
        diagnostic = diagnostic.with_help(help);
        self.report(diagnostic);
    }

    /// Reports that `node` is not `expected`.
    pub(super) fn wrong_type(&mut self, node: &Node, path: &FieldPath<'_>, expected: &str) {
        let diagnostic = self.type_error(node, path, expected);
        self.report(diagnostic);
    }

    /// A type error, with a quoting hint when a scalar was meant as a string.
    pub(super) fn type_error(
        &self,
        node: &Node,
        path: &FieldPath<'_>,
        expected: &str,
    ) -> Diagnostic {
        let found = node.kind_name();
        let mut diagnostic = Diagnostic::error(
            Code::WrongType,
            path,
            node.span,
            format!("expected {expected}, found {found}"),
        )
        .with_label(format!("this is {found}"));
        let written = self.source(node.span);
        if expected.contains("string")
            && matches!(
                node.value,
                Value::Integer(_) | Value::Float(_) | Value::Bool(_)
            )
        {
            diagnostic = diagnostic.with_help(format!(
                "put it in quotes to keep it as written: \"{written}\""
            ));
        } else if matches!(node.value, Value::Null) {
            diagnostic = diagnostic.with_help("give it a value, or remove the field");
        }
        diagnostic
    }
}

/// Where `key` belongs when it is a field of the object one level up or down from the `kind` at
/// `path`: "`sourceMountMode` is a field of the job: move it up, under `jobs.vendor`".
fn wrong_level(
    kind: ObjectKind,
    version: SpecVersion,
    key: &str,
    path: &FieldPath<'_>,
) -> Option<String> {
    for (outer, field) in fields::holders(kind, version) {
        let depth = field.field_type.depth();
        let held_here = path
            .ancestor(depth - 1)
            .is_some_and(|site| site.last_key() == Some(field.name));
        let Some(outer_path) = path.ancestor(depth).filter(|_| held_here) else {
            continue;
        };
        if fields::find(outer, version, key).is_none() {
            continue;
        }
        return Some(if outer_path.is_root() {
            format!("`{key}` is a field of the top level: move it up, to the top level")
        } else {
            format!(
                "`{key}` is a field of {}: move it up, under `{outer_path}`",
                outer.describe_definite()
            )
        });
    }
    fields::held(kind, version).find_map(|(inner, field)| {
        fields::find(inner, version, key)?;
        let site = path.key(field.name);
        let place = match field.field_type {
            FieldType::Object(_) => format!("under `{site}`"),
            FieldType::NamedObjects(_) => format!("into {} under `{site}`", inner.describe()),
            _ => format!("into an entry of `{site}`"),
        };
        Some(format!(
            "`{key}` is a field of {}: move it down, {place}",
            inner.describe()
        ))
    })
}

fn capitalize(text: &str) -> String {
    let mut characters = text.chars();
    match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::diagnostics;

    const HEADER: &str = "specUri: github.com/lovethedrake/drakespec\nspecVersion: v0.6.0\n";

    #[test]
    fn a_field_at_the_wrong_level_says_where_it_belongs_instead_of_a_spelling_hint() {
        let text = format!(
            "{HEADER}\
jobs:
  vendor:
    primaryContainer:
      name: go
      image: golang:1.13
      sourceMountMode: COPY
      cpu:
        maxMillicores: 500
    sourceMountPath: /go/src/app
    pipelines: {{}}
  lint:
    sidecarContainers:
    - name: cache
      image: redis:5
      osFamily: linux
pipelines:
  ci:
    dependencies: [vendor]
    jobs:
    - name: vendor
      triggers: []
"
        );
        assert_eq!(
            diagnostics(&text),
            "\
8:7 error[unknown-field] jobs.vendor.primaryContainer.sourceMountMode: unknown field `sourceMountMode` in a container (DrakeSpec v0.6.0)
  help: `sourceMountMode` is a field of the job: move it up, under `jobs.vendor`
9:7 error[unknown-field] jobs.vendor.primaryContainer.cpu: unknown field `cpu` in a container (DrakeSpec v0.6.0)
  help: `cpu` is a field of `resources`: move it down, under `jobs.vendor.primaryContainer.resources`
11:5 error[unknown-field] jobs.vendor.sourceMountPath: unknown field `sourceMountPath` in a job (DrakeSpec v0.6.0)
  help: `sourceMountPath` is a field of a container: move it down, under `jobs.vendor.primaryContainer`
12:5 error[unknown-field] jobs.vendor.pipelines: unknown field `pipelines` in a job (DrakeSpec v0.6.0)
  help: `pipelines` is a field of the top level: move it up, to the top level
13:3 error[missing-field] jobs.lint: missing required field `primaryContainer`
  help: add `primaryContainer`: The container whose main process decides the job's result.
17:7 error[unknown-field] jobs.lint.sidecarContainers[0].osFamily: unknown field `osFamily` in a container (DrakeSpec v0.6.0)
  help: `osFamily` is a field of the job: move it up, under `jobs.lint`
20:5 error[unknown-field] pipelines.ci.dependencies: unknown field `dependencies` in a pipeline (DrakeSpec v0.6.0)
  help: `dependencies` is a field of a pipeline's job entry: move it down, into an entry of `pipelines.ci.jobs`
23:7 error[unknown-field] pipelines.ci.jobs[0].triggers: unknown field `triggers` in a pipeline's job entry (DrakeSpec v0.6.0)
  help: `triggers` is a field of the pipeline: move it up, under `pipelines.ci`
"
        );
    }
}
