//! The seed draft's source: its executors gave containers a writable view of the source, and
//! eider gives seed-draft jobs a writable copy. From v0.1.0 on the default is read-only, so a
//! job that mounts the source gets `sourceMountMode: COPY`, the writable copy that leaves the
//! tree untouched. (A job that mounts no source gets nothing: its mode has no effect.)

use crate::yaml::written::{NodeId, WrittenKind};

use super::layout::{column, leading_comments_start, line_start, only_spaces_before};
use super::pass::Pass;
use super::scalar::{key_like, string_like};
use super::sites::{mounts_source, named};

/// Adds `sourceMountMode: COPY` to the jobs that need it when leaving the seed draft.
pub(super) fn convert(pass: &mut Pass<'_>) {
    if !pass.from.is_seed() || pass.to.is_seed() {
        return;
    }
    let document = pass.document;
    for job in named(document, "jobs") {
        // A seed-draft file that already says `sourceMountMode` (an error there) keeps its own.
        let written = document.field(job.mapping, "sourceMountMode").is_some();
        if written || !mounts_source(document, &job) || !pass.first_visit(job.mapping) {
            continue;
        }
        if insert_first_entry(pass, job.mapping, "sourceMountMode", "COPY") {
            pass.converted(
                pass.span(job.key),
                &job.location,
                "added `sourceMountMode: COPY`: the seed draft gave containers a writable copy of the source",
            );
        } else {
            pass.refuse(
                pass.span(job.key),
                &job.location.key("sourceMountMode"),
                "the job is written in a way the upgrade cannot add `sourceMountMode` to",
                "write each key of the job on a line of its own",
            );
        }
    }
}

/// Inserts `key: value` as the first entry of `mapping`; `false` when its layout is not one
/// this knows.
fn insert_first_entry(pass: &mut Pass<'_>, mapping: NodeId, key: &str, value: &str) -> bool {
    let document = pass.document;
    let WrittenKind::Mapping { flow, entries } = &document.node(mapping).kind else {
        return false;
    };
    let text = pass.text;
    if *flow {
        let open = document.node(mapping).span.start as usize;
        if !text[open..].starts_with('{') {
            return false;
        }
        let (key_text, value_text, separator) = match entries.first() {
            Some((sample, _)) => (
                key_like(pass, *sample, key),
                string_like(pass, *sample, value),
                ", ",
            ),
            None => (key.to_owned(), value.to_owned(), ""),
        };
        pass.edits
            .insert(open + 1, format!("{key_text}: {value_text}{separator}"));
        return true;
    }
    let Some((first, _)) = entries.first() else {
        return false;
    };
    let first_start = document.written_start(*first);
    if !only_spaces_before(text, first_start) {
        return false;
    }
    let at = leading_comments_start(text, line_start(text, first_start));
    let line = format!(
        "{}{}: {}{}",
        " ".repeat(column(text, first_start)),
        key_like(pass, *first, key),
        string_like(pass, *first, value),
        pass.layout.line_ending
    );
    pass.edits.insert(at, line);
    true
}

#[cfg(test)]
mod tests {
    use crate::version::SpecVersion;

    use super::super::test_support::upgraded;

    #[test]
    fn seed_jobs_that_mount_the_source_get_a_writable_copy() {
        let text = "\
uri: github.com/lovethedrake/drakespec
version: v0.0.0
jobs:
  build:
    # Builds into the source tree.
    containers:
    - name: main
      image: golang:1.13
      sourceMountPath: /go/src/app
  hello:
    containers:
    - name: main
      image: busybox
  inline: {containers: [{name: main, image: node:12, sourceMountPath: /app}]}
  json: {\"containers\": [{\"name\": \"main\", \"image\": \"node:12\", \"sourceMountPath\": \"/app\"}]}
";
        assert_eq!(
            upgraded(text, SpecVersion::V0_1_0).text,
            "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.1.0
jobs:
  build:
    sourceMountMode: COPY
    # Builds into the source tree.
    containers:
    - name: main
      image: golang:1.13
      sourceMountPath: /go/src/app
  hello:
    containers:
    - name: main
      image: busybox
  inline: {sourceMountMode: COPY, containers: [{name: main, image: node:12, sourceMountPath: /app}]}
  json: {\"sourceMountMode\": \"COPY\", \"containers\": [{\"name\": \"main\", \"image\": \"node:12\", \"sourceMountPath\": \"/app\"}]}
"
        );
    }
}
