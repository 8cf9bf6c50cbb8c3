//! Strings where lists of strings belong: the seed draft's `command` line (and a release's
//! `command`, `args` or `dependencies` written as one string, which the validator suggests
//! writing as a list) becomes the list of its words, split as the seed draft splits a command.

use crate::command_line::split_command_line;
use crate::version::SpecVersion;
use crate::yaml::emit;
use crate::yaml::written::NodeId;

use super::pass::Pass;
use super::scalar::{scalar_range, with_comment};
use super::sites::{Location, containers, named};

/// Converts every such string of the text to a list.
pub(super) fn convert(pass: &mut Pass<'_>) {
    let document = pass.document;
    for job in named(document, "jobs") {
        for container in containers(document, &job) {
            if !pass.to.has_command_string() {
                convert_field(pass, container.mapping, "command", &container.location);
            }
            if pass.to >= SpecVersion::V0_1_0 {
                convert_field(pass, container.mapping, "args", &container.location);
            }
        }
    }
    for pipeline in named(document, "pipelines") {
        let Some(jobs) = document.field(pipeline.mapping, "jobs") else {
            continue;
        };
        let items = document
            .items(document.resolve(jobs.value))
            .unwrap_or_default();
        for (index, item) in items.iter().enumerate() {
            let location = pipeline.location.key("jobs").index(index);
            convert_field(pass, document.resolve(*item), "dependencies", &location);
        }
    }
}

fn convert_field(pass: &mut Pass<'_>, mapping: NodeId, name: &str, owner: &Location) {
    let document = pass.document;
    let Some(field) = document.field(mapping, name) else {
        return;
    };
    let value = document.resolve(field.value);
    // Null, numbers and booleans are not strings: the validator reports them as they are.
    let Some(line) = document.string(value) else {
        return;
    };
    if !pass.first_visit(value) {
        return;
    }
    let location = owner.key(name);
    let words = match split_command_line(line) {
        Ok(words) => words,
        Err(error) => {
            pass.refuse(
                pass.span(value),
                &location,
                format!(
                    "this command line cannot be split into words: {}",
                    error.message
                ),
                error.help,
            );
            return;
        }
    };
    let Some(range) = scalar_range(pass, value) else {
        pass.refuse(
            pass.span(value),
            &location,
            "this string is written in a way the upgrade cannot replace",
            format!("write it as a list: `{}`", emit::flow_list(&words)),
        );
        return;
    };
    let list = emit::flow_list(&words);
    pass.edits
        .replace(range.start, range.end, with_comment(&range, &list));
    pass.converted(
        pass.span(value),
        &location,
        format!("the string became the list `{list}`"),
    );
}

#[cfg(test)]
mod tests {
    use crate::version::SpecVersion;

    use super::super::test_support::{refused, upgraded};

    #[test]
    fn a_seed_command_line_becomes_the_list_of_its_words_in_place() {
        let text = "\
uri: github.com/lovethedrake/drakespec
version: v0.0.0
jobs:
  test:
    containers:
    - name: main
      image: golang:1.13
      command: go test -v ./...   # every package
  quoted:
    containers:
    - name: main
      image: node:12
      command: \"sh -c 'npm ci && npm test'\"
  folded:
    containers:
    - name: main
      image: node:12
      command: >- # one line, folded
        sh -c
        'npm run lint'
  anchored:
    containers:
    - name: main
      image: golang:1.13
      command: &vet go vet ./...
";
        assert_eq!(
            upgraded(text, SpecVersion::V0_1_0).text,
            "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.1.0
jobs:
  test:
    containers:
    - name: main
      image: golang:1.13
      command: [\"go\", \"test\", \"-v\", \"./...\"]   # every package
  quoted:
    containers:
    - name: main
      image: node:12
      command: [\"sh\", \"-c\", \"npm ci && npm test\"]
  folded:
    containers:
    - name: main
      image: node:12
      command: [\"sh\", \"-c\", \"npm run lint\"] # one line, folded
  anchored:
    containers:
    - name: main
      image: golang:1.13
      command: &vet [\"go\", \"vet\", \"./...\"]
"
        );
    }

    #[test]
    fn a_release_string_where_a_list_belongs_becomes_a_list() {
        let text = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.1.0
jobs:
  build:
    containers:
    - name: main
      image: golang:1.13
      command: go
      args: build -o bin/app ./cmd/app
pipelines:
  ci:
    jobs:
    - name: build
      dependencies: []
";
        let upgrade = upgraded(text, SpecVersion::V0_1_0);
        assert_eq!(
            upgrade.text,
            text.replace("command: go", "command: [\"go\"]").replace(
                "args: build -o bin/app ./cmd/app",
                "args: [\"build\", \"-o\", \"bin/app\", \"./cmd/app\"]"
            )
        );
        assert_eq!(upgrade.changes.len(), 2);
        assert_eq!(upgrade.changes[0].field, "jobs.build.containers[0].command");
        assert_eq!(upgrade.changes[0].line, 8);
    }

    #[test]
    fn a_dependency_written_as_a_string_becomes_a_list() {
        let text = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.2.0
jobs:
  a: {primaryContainer: {name: main, image: busybox}}
  b: {primaryContainer: {name: main, image: busybox}}
pipelines:
  ci:
    jobs:
    - name: a
    - name: b
      dependencies: a
";
        assert_eq!(
            upgraded(text, SpecVersion::V0_2_0).text,
            text.replace("dependencies: a", "dependencies: [\"a\"]")
        );
    }

    #[test]
    fn a_command_line_that_cannot_be_split_is_refused() {
        let text = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.1.0
jobs:
  build:
    containers:
    - name: main
      image: golang:1.13
      command: make build && make test
";
        assert_eq!(
            refused(text, SpecVersion::V0_6_0),
            "8:16 jobs.build.containers[0].command: this command line cannot be split into words: unquoted shell operator `&`\n"
        );
    }
}
