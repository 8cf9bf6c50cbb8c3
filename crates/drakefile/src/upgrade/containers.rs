//! v0.2.0 replaced a job's `containers` list (the last one is the primary) with
//! `primaryContainer` and `sidecarContainers`. The list is renamed `sidecarContainers` and its
//! last item becomes `primaryContainer`, in place: the primary was written after the sidecars
//! and still is, so every anchor is still defined before the aliases that use it. A job with one
//! container gets only `primaryContainer`. A job without containers has no equivalent.

use crate::version::SpecVersion;
use crate::yaml::written::{NodeId, WrittenDocument, WrittenKind};

use super::edit::Edits;
use super::layout::{
    column, has_comment, item_dash, line_end, line_start, next_line_start, only_spaces_before,
    shift_lines, trim_end,
};
use super::pass::Pass;
use super::scalar::{key_like, rename_key};
use super::sites::{Named, named};

const HELP_BY_HAND: &str = "write `sidecarContainers` (the containers but the last) and \
     `primaryContainer` (the last one) by hand, then upgrade";

/// Whether [`convert`] has anything to do: the version has no `containers`, and a job lists
/// them or has no `primaryContainer`.
pub(super) fn applies(document: &WrittenDocument, to: SpecVersion) -> bool {
    !to.has_container_list()
        && named(document, "jobs").iter().any(|job| {
            document.field(job.mapping, "primaryContainer").is_none()
                || document.field(job.mapping, "containers").is_some()
        })
}

/// Converts the `containers` of every job, when the target version has none.
pub(super) fn convert(pass: &mut Pass<'_>) {
    if pass.to.has_container_list() {
        return;
    }
    let document = pass.document;
    for job in named(document, "jobs") {
        if document.entries(job.mapping).is_none() || !pass.first_visit(job.mapping) {
            continue;
        }
        if document.field(job.mapping, "containers").is_some() {
            convert_job(pass, &job);
        } else if document.field(job.mapping, "primaryContainer").is_none() {
            refuse_trivial(pass, &job);
        }
    }
}

fn refuse_trivial(pass: &mut Pass<'_>, job: &Named) {
    pass.refuse(
        pass.span(job.key),
        &job.location,
        format!(
            "job `{}` has no containers, and from DrakeSpec v0.2.0 on a job needs a `primaryContainer`",
            job.name
        ),
        "give the job a container, or remove it (it does nothing and succeeds at once)",
    );
}

fn convert_job(pass: &mut Pass<'_>, job: &Named) {
    let document = pass.document;
    let Some(field) = document.field(job.mapping, "containers") else {
        return;
    };
    let location = job.location.key("containers");
    let span = pass.span(field.key);
    if field.merged {
        pass.refuse(
            span,
            &location,
            "`containers` comes into this job through a merge key (`<<`), so converting it would change every job that merges it",
            HELP_BY_HAND,
        );
        return;
    }
    if document.is_alias(field.value) {
        pass.refuse(
            span,
            &location,
            "`containers` repeats a list anchored elsewhere, which the upgrade would have to split",
            HELP_BY_HAND,
        );
        return;
    }
    let container_list = field.value;
    if let Some(anchor) = &document.node(container_list).anchor {
        pass.refuse(
            span,
            &location,
            format!(
                "the list is anchored as `&{}`, and the upgrade would have to split it",
                anchor.name
            ),
            HELP_BY_HAND,
        );
        return;
    }
    for other in ["primaryContainer", "sidecarContainers"] {
        if document.field(job.mapping, other).is_some() {
            pass.refuse(
                span,
                &location,
                format!("the job has both `containers` and `{other}`"),
                "keep one way of listing the job's containers",
            );
            return;
        }
    }
    let items = match &document.node(container_list).kind {
        WrittenKind::Sequence { items, .. } => items.clone(),
        // `containers:` with nothing after it: a job without containers.
        WrittenKind::Scalar { .. } if document.string(container_list).is_none() => Vec::new(),
        // Not a container_list: the validator says so.
        _ => return,
    };
    let Some(&last) = items.last() else {
        refuse_trivial(pass, job);
        return;
    };
    let edits = if document.is_flow(container_list) {
        convert_flow(pass, job, field.key, container_list, &items)
    } else {
        convert_block(pass, job, field.key, last, items.len() > 1)
    };
    if let Some(edits) = edits {
        pass.edits.append(edits);
        let description = if items.len() > 1 {
            "`containers` became `sidecarContainers` and `primaryContainer` (its last container)"
        } else {
            "`containers` became `primaryContainer` (its only container)"
        };
        pass.converted(span, &location, description);
    } else {
        pass.refuse(
            span,
            &location,
            "the list is laid out in a way the upgrade cannot convert",
            HELP_BY_HAND,
        );
    }
}

/// `containers: [a, b]`: `b` leaves the brackets and follows them as `primaryContainer`.
fn convert_flow(
    pass: &Pass<'_>,
    job: &Named,
    key: NodeId,
    sequence: NodeId,
    items: &[NodeId],
) -> Option<Edits> {
    let document = pass.document;
    let text = pass.text;
    let mut edits = Edits::default();
    let (&last, others) = items.split_last()?;
    let last_start = document.written_start(last);
    let last_end = document.node(last).span.end as usize;
    let primary = text[last_start..last_end].to_owned();
    let sequence_span = document.node(sequence).span;
    let primary_key = key_like(pass, key, "primaryContainer");
    let Some(&previous) = others.last() else {
        // The only container: it replaces the brackets.
        if has_comment(text, sequence_span.start as usize, last_start)
            || has_comment(text, last_end, sequence_span.end as usize)
        {
            return None;
        }
        rename_key(document, &mut edits, key, "primaryContainer");
        edits.replace(
            sequence_span.start as usize,
            sequence_span.end as usize,
            primary,
        );
        return Some(edits);
    };
    let previous_end = document.node(previous).span.end as usize;
    if has_comment(text, previous_end, last_start) {
        return None;
    }
    rename_key(document, &mut edits, key, "sidecarContainers");
    edits.replace(previous_end, last_end, "");
    let closing = sequence_span.end as usize;
    if document.is_flow(job.mapping) {
        edits.insert(closing, format!(", {primary_key}: {primary}"));
    } else {
        let key_start = document.node(key).span.start as usize;
        if !only_spaces_before(text, key_start) {
            return None;
        }
        edits.insert(
            line_end(text, closing),
            format!(
                "{}{}{primary_key}: {primary}",
                pass.layout.line_ending,
                " ".repeat(column(text, key_start))
            ),
        );
    }
    Some(edits)
}

/// A block list: the last `- ` item becomes `primaryContainer:` where it is written, its lines
/// re-indented under the new key.
fn convert_block(
    pass: &Pass<'_>,
    job: &Named,
    key: NodeId,
    last: NodeId,
    several: bool,
) -> Option<Edits> {
    let document = pass.document;
    let text = pass.text;
    if document.is_flow(job.mapping) {
        return None;
    }
    let key_start = document.node(key).span.start as usize;
    if !only_spaces_before(text, key_start) {
        return None;
    }
    let mut edits = Edits::default();
    let key_column = column(text, key_start);
    let new_column = key_column + pass.layout.indentation_unit;
    let dash = item_dash(text, document.written_start(last))?;
    let dash_line = line_start(text, dash);
    let dash_line_end = line_end(text, dash);
    let rest = &text[dash + 1..dash_line_end];
    let rest_trimmed = rest.trim_start();
    let content_start = document.node(last).span.start as usize;
    let item_end = trim_end(text, content_start, document.node(last).span.end as usize);
    let is_block_mapping = matches!(
        document.node(last).kind,
        WrittenKind::Mapping { flow: false, .. }
    );
    let indent = |width: usize| " ".repeat(width);
    let line_ending = pass.layout.line_ending;
    rename_key(
        document,
        &mut edits,
        key,
        if several {
            "sidecarContainers"
        } else {
            "primaryContainer"
        },
    );
    if line_start(text, content_start) != dash_line {
        // The item's content starts on a later line; the dash line holds nothing, a comment,
        // or the item's anchor.
        let shift = new_column.cast_signed() - column(text, content_start).cast_signed();
        if several {
            edits.replace(
                dash_line,
                dash + 1,
                format!("{}primaryContainer:", indent(key_column)),
            );
        } else if rest_trimmed.starts_with('&') {
            // `containers:` then `- &anchor`: the anchor moves up to the key's line.
            let after_colon = after_colon(text, document.node(key).span.end as usize, dash)?;
            edits.replace(
                after_colon,
                dash_line_end,
                format!(" {}", rest_trimmed.trim_end()),
            );
        } else if rest_trimmed.is_empty() {
            edits.replace(dash_line, next_line_start(text, dash), "");
        } else {
            edits.replace(dash, dash + 1, " ");
        }
        shift_lines(
            text,
            &mut edits,
            next_line_start(text, dash),
            item_end,
            shift,
        );
        return Some(edits);
    }
    let body = dash_line_end - rest_trimmed.len();
    if is_block_mapping {
        // `- name: main` and the keys below it.
        let new_start = if several {
            format!(
                "{}primaryContainer:{line_ending}{}",
                indent(key_column),
                indent(new_column)
            )
        } else {
            indent(new_column)
        };
        edits.replace(dash_line, body, new_start);
        let shift = new_column.cast_signed() - column(text, body).cast_signed();
        shift_lines(
            text,
            &mut edits,
            next_line_start(text, dash),
            item_end,
            shift,
        );
    } else if several {
        // `- *base` or `- {name: main}`: the value follows the new key on its line.
        edits.replace(
            dash_line,
            body,
            format!("{}primaryContainer: ", indent(key_column)),
        );
    } else if let Some(after_colon) = after_colon(text, document.node(key).span.end as usize, dash)
    {
        // `- *base` alone: it follows the renamed key on its line.
        edits.replace(after_colon, body, " ");
    } else {
        edits.replace(dash_line, body, indent(new_column));
    }
    Some(edits)
}

/// Just past the `:` after a key ending at `key_end`, when only spaces and line breaks lie
/// between it and `dash` (no comment that joining the lines would swallow).
fn after_colon(text: &str, key_end: usize, dash: usize) -> Option<usize> {
    let between = &text[key_end..dash];
    let colon = between.find(':')?;
    let blank = between[..colon].trim().is_empty() && between[colon + 1..].trim().is_empty();
    blank.then_some(key_end + colon + 1)
}

#[cfg(test)]
mod tests {
    use crate::version::SpecVersion;

    use super::super::test_support::{refused, upgraded};

    const HEADER: &str = "specUri: github.com/lovethedrake/drakespec\nspecVersion: v0.1.0\n";

    fn to_v0_2_0(body: &str) -> String {
        let upgrade = upgraded(&format!("{HEADER}{body}"), SpecVersion::V0_2_0);
        upgrade
            .text
            .strip_prefix(&HEADER.replace("v0.1.0", "v0.2.0"))
            .expect("the header is upgraded")
            .to_owned()
    }

    #[test]
    fn several_containers_become_sidecars_and_the_last_one_the_primary() {
        let body = "\
snippets:
  base: &base
    image: golang:1.13
jobs:
  test:
    containers:   # the last one is the primary
    # A database for the tests.
    - name: db
      image: postgres:11
    - &redis
      name: redis
      image: redis:5
    # The tests themselves.
    - <<: *base
      name: test
      command: [\"go\", \"test\", \"./...\"] # all packages

  lint:
    containers:
    - {name: lint, image: golangci/golangci-lint:v1.21}
    - *redis
";
        assert_eq!(
            to_v0_2_0(body),
            "\
snippets:
  base: &base
    image: golang:1.13
jobs:
  test:
    sidecarContainers:   # the last one is the primary
    # A database for the tests.
    - name: db
      image: postgres:11
    - &redis
      name: redis
      image: redis:5
    # The tests themselves.
    primaryContainer:
      <<: *base
      name: test
      command: [\"go\", \"test\", \"./...\"] # all packages

  lint:
    sidecarContainers:
    - {name: lint, image: golangci/golangci-lint:v1.21}
    primaryContainer: *redis
"
        );
    }

    #[test]
    fn one_container_becomes_the_primary_with_its_anchor() {
        let body = "\
jobs:
  build:
    containers:
    - &build
      name: main
      image: golang:1.13
  again:
    containers:
    - *build
";
        assert_eq!(
            to_v0_2_0(body),
            "\
jobs:
  build:
    primaryContainer: &build
      name: main
      image: golang:1.13
  again:
    primaryContainer: *build
"
        );
    }

    #[test]
    fn an_indented_list_is_reindented_by_the_files_own_step() {
        let body = "\
jobs:
    build:
        containers:
            -   name: db
                image: postgres:11
            -   name: main
                image: golang:1.13
                command:
                -   make
";
        assert_eq!(
            to_v0_2_0(body),
            "\
jobs:
    build:
        sidecarContainers:
            -   name: db
                image: postgres:11
        primaryContainer:
            name: main
            image: golang:1.13
            command:
            -   make
"
        );
    }

    #[test]
    fn a_list_in_brackets_splits_at_its_last_item() {
        let body = "\
jobs:
  build:
    containers: [{name: db, image: postgres}, {name: main, image: golang}]  # two
  single: {containers: [{name: main, image: golang}]}
  pair: {\"containers\": [{name: db, image: postgres}, {name: main, image: golang}]}
";
        assert_eq!(
            to_v0_2_0(body),
            "\
jobs:
  build:
    sidecarContainers: [{name: db, image: postgres}]  # two
    primaryContainer: {name: main, image: golang}
  single: {primaryContainer: {name: main, image: golang}}
  pair: {\"sidecarContainers\": [{name: db, image: postgres}], \"primaryContainer\": {name: main, image: golang}}
"
        );
    }

    #[test]
    fn a_job_without_containers_is_refused() {
        let text = format!("{HEADER}jobs:\n  nothing:\n    containers: []\n  absent: {{}}\n");
        assert_eq!(
            refused(&text, SpecVersion::V0_2_0),
            "\
4:3 jobs.nothing: job `nothing` has no containers, and from DrakeSpec v0.2.0 on a job needs a `primaryContainer`
6:3 jobs.absent: job `absent` has no containers, and from DrakeSpec v0.2.0 on a job needs a `primaryContainer`
"
        );
    }

    #[test]
    fn containers_that_a_merge_key_or_an_alias_brings_are_refused() {
        let text = format!(
            "{HEADER}snippets:\n  job: &job\n    containers:\n    - {{name: main, image: golang}}\n  list: &list\n  - {{name: main, image: golang}}\njobs:\n  merged:\n    <<: *job\n  aliased:\n    containers: *list\n"
        );
        assert_eq!(
            refused(&text, SpecVersion::V0_2_0),
            "\
5:5 jobs.merged.containers: `containers` comes into this job through a merge key (`<<`), so converting it would change every job that merges it
13:5 jobs.aliased.containers: `containers` repeats a list anchored elsewhere, which the upgrade would have to split
"
        );
    }
}
