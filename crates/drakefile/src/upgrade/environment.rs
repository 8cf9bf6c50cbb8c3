//! `environment` in the form the target version wants: a list of `KEY=value` strings. A mapping
//! (`KEY: value`, which only v0.6.0 accepts) becomes that list, entry by entry in place, when the
//! upgrade's target is older (a mapping in an older file that goes to v0.6.0 stays); a list item
//! written as a one-entry mapping (`- KEY: value`) becomes its `KEY=value` string in every
//! version, as the validator suggests.

use crate::yaml::emit;
use crate::yaml::written::{NodeId, ScalarStyle, WrittenKind};

use super::layout::trim_end;
use super::pass::Pass;
use super::sites::{Location, containers, named};

/// Converts the environment of every container.
pub(super) fn convert(pass: &mut Pass<'_>) {
    let document = pass.document;
    for job in named(document, "jobs") {
        for container in containers(document, &job) {
            let Some(field) = document.field(container.mapping, "environment") else {
                continue;
            };
            let value = document.resolve(field.value);
            if !pass.first_visit(value) {
                continue;
            }
            let location = container.location.key("environment");
            match &document.node(value).kind {
                WrittenKind::Mapping { .. } if !pass.target.accepts_environment_mapping() => {
                    mapping_to_list(pass, value, &location);
                }
                WrittenKind::Sequence { items, .. } => {
                    for (index, item) in items.iter().enumerate() {
                        item_to_string(pass, *item, &location.index(index));
                    }
                }
                _ => {}
            }
        }
    }
}

/// The value of an entry as the validator's hint writes it: a string as itself, a number or a
/// boolean as written, nothing as the empty string.
fn entry_value(pass: &Pass<'_>, value: NodeId) -> Option<String> {
    let document = pass.document;
    if let Some(text) = document.string(value) {
        return Some(text.to_owned());
    }
    match &document.node(value).kind {
        WrittenKind::Scalar {
            value: text,
            style: ScalarStyle::Plain,
        } => Some(
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL") {
                String::new()
            } else {
                text.clone()
            },
        ),
        _ => None,
    }
}

/// Why an entry cannot become a `KEY=value` string, if it cannot.
fn entry_problem(pass: &Pass<'_>, key: NodeId, value: NodeId) -> Option<&'static str> {
    let document = pass.document;
    if document.is_merge_key(key) {
        return Some("the mapping merges another one (`<<`), which a list cannot do");
    }
    if document.is_alias(value) {
        return Some(
            "a value repeats an anchored one (`*name`), which a `KEY=value` string cannot",
        );
    }
    if document.alias_count(value) > 0 || document.alias_count(key) > 0 {
        return Some(
            "a value is anchored and repeated elsewhere, which a `KEY=value` string cannot be",
        );
    }
    if document.string(key).is_none() || entry_value(pass, value).is_none() {
        return Some("an entry is not a name and a text value");
    }
    None
}

/// Where the entry `key: value` ends: after its value, or after its `:` when the value is
/// written as nothing.
fn entry_end(pass: &Pass<'_>, key: NodeId, value: NodeId) -> Option<usize> {
    let text = pass.text;
    let key_end = pass.document.node(key).span.end as usize;
    let value_span = pass.document.node(value).span;
    if value_span.is_empty() {
        let colon = text[key_end..].find(':')?;
        text[key_end..key_end + colon]
            .trim()
            .is_empty()
            .then_some(key_end + colon + 1)
    } else {
        Some(trim_end(text, key_end, value_span.end as usize))
    }
}

fn mapping_to_list(pass: &mut Pass<'_>, mapping: NodeId, location: &Location) {
    let document = pass.document;
    let WrittenKind::Mapping { flow, entries } = &document.node(mapping).kind else {
        return;
    };
    if let Some(problem) = entries
        .iter()
        .find_map(|(key, value)| entry_problem(pass, *key, *value))
    {
        pass.refuse(
            pass.span(mapping),
            location,
            format!(
                "{} writes environment as a list, and {problem}",
                pass.target.title()
            ),
            "write the environment as a list of `KEY=value` strings by hand",
        );
        return;
    }
    for (key, value) in entries {
        let start = document.written_start(*key);
        let Some(end) = entry_end(pass, *key, *value) else {
            pass.refuse(
                pass.span(*key),
                location,
                "this entry is laid out in a way the upgrade cannot convert",
                "write the environment as a list of `KEY=value` strings by hand",
            );
            return;
        };
        let name = document.string(*key).unwrap_or_default();
        let variable = format!("{name}={}", entry_value(pass, *value).unwrap_or_default());
        let written = emit::string(&variable);
        pass.edits.replace(
            start,
            end,
            if *flow {
                written
            } else {
                format!("- {written}")
            },
        );
    }
    if *flow {
        let span = pass.span(mapping);
        pass.edits
            .replace(span.start as usize, span.start as usize + 1, "[");
        pass.edits
            .replace(span.end as usize - 1, span.end as usize, "]");
    }
    pass.converted(
        pass.span(mapping),
        location,
        format!(
            "the mapping became a list of `KEY=value` strings, the form {} takes",
            pass.target.title()
        ),
    );
}

fn item_to_string(pass: &mut Pass<'_>, item: NodeId, location: &Location) {
    let document = pass.document;
    if document.is_alias(item) {
        return;
    }
    let Some([(key, value)]) = document.entries(item) else {
        return;
    };
    if entry_problem(pass, *key, *value).is_some() || document.node(item).anchor.is_some() {
        return;
    }
    let name = document.string(*key).unwrap_or_default();
    let variable = format!("{name}={}", entry_value(pass, *value).unwrap_or_default());
    let start = document.written_start(item);
    let Some(end) = entry_end(pass, *key, *value) else {
        return;
    };
    pass.edits.replace(start, end, emit::string(&variable));
    pass.converted(
        pass.span(item),
        location,
        format!("`{name}: ...` became the string `{name}=...`"),
    );
}

#[cfg(test)]
mod tests {
    use crate::version::SpecVersion;

    use super::super::test_support::{refused, upgraded};

    #[test]
    fn a_mapping_becomes_a_list_where_the_version_wants_one() {
        let text = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.5.0
jobs:
  test:
    primaryContainer:
      name: main
      image: node:12
      environment:
        # Where the tests find the database.
        DATABASE_URL: \"postgres://db:5432/test\"
        CI: true
        EMPTY:
        GREETING: hello world  # kept
      command: [\"npm\", \"test\"]
  inline:
    primaryContainer:
      name: main
      image: node:12
      environment: {A: \"1\", B: x y}
";
        assert_eq!(
            upgraded(text, SpecVersion::V0_5_0).text,
            "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.5.0
jobs:
  test:
    primaryContainer:
      name: main
      image: node:12
      environment:
        # Where the tests find the database.
        - DATABASE_URL=postgres://db:5432/test
        - CI=true
        - EMPTY=
        - GREETING=hello world  # kept
      command: [\"npm\", \"test\"]
  inline:
    primaryContainer:
      name: main
      image: node:12
      environment: [A=1, B=x y]
"
        );
    }

    #[test]
    fn a_mapping_stays_in_v0_6_0_which_takes_it() {
        let text = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  test:
    primaryContainer:
      name: main
      image: node:12
      environment:
        CI: \"true\"
";
        assert!(upgraded(text, SpecVersion::V0_6_0).is_unchanged(text));
    }

    #[test]
    fn list_items_written_as_mappings_become_strings() {
        let text = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  test:
    primaryContainer:
      name: main
      image: node:12
      environment:
      - NODE_ENV: test
      - CI=true
";
        assert_eq!(
            upgraded(text, SpecVersion::V0_6_0).text,
            text.replace("- NODE_ENV: test", "- NODE_ENV=test")
        );
    }

    #[test]
    fn a_mapping_that_merges_another_is_refused_for_a_list() {
        let text = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.2.0
snippets:
  common: &common {CI: \"true\"}
jobs:
  test:
    primaryContainer:
      name: main
      image: node:12
      environment:
        <<: *common
        NODE_ENV: test
";
        assert_eq!(
            refused(text, SpecVersion::V0_5_0),
            "11:9 jobs.test.primaryContainer.environment: DrakeSpec v0.5.0 writes environment as a list, and the mapping merges another one (`<<`), which a list cannot do\n"
        );
        // v0.6.0 takes the mapping as it is.
        assert_eq!(
            upgraded(text, SpecVersion::V0_6_0).text,
            text.replace("v0.2.0", "v0.6.0")
        );
    }
}
