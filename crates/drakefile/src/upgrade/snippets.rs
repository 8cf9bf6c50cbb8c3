//! Anchors held at the top level (`baseGoContainer: &base ...` beside `jobs`), as Drakefiles did
//! before v0.1.0 added `snippets`: from v0.1.0 on such a field is an error, and `snippets` is
//! the place for them. The holders move under a new `snippets:` line where they are, one
//! indentation step deeper, so anchors are still defined before their aliases.

use crate::fields::{self, ObjectKind};
use crate::version::SpecVersion;
use crate::yaml::written::{NodeId, WrittenDocument};

use super::layout::{
    column, leading_comments_start, line_start, only_spaces_before, shift_lines, trim_end,
};
use super::pass::Pass;
use super::scalar::key_like;
use super::sites::Location;

/// A top-level field the target version does not define, whose value defines anchors.
struct Holder {
    index: usize,
    key: NodeId,
    value: NodeId,
    location: Location,
}

/// Whether [`convert`] has anything to do.
pub(super) fn applies(document: &WrittenDocument, to: SpecVersion) -> bool {
    !to.is_seed() && !holders(document, to).is_empty()
}

/// The top-level fields that hold anchors where `to` defines no such field.
fn holders(document: &WrittenDocument, to: SpecVersion) -> Vec<Holder> {
    let Some(entries) = document.root().and_then(|root| document.entries(root)) else {
        return Vec::new();
    };
    entries
        .iter()
        .enumerate()
        .filter_map(|(index, (key, value))| {
            let name = document.scalar(*key)?;
            let undefined = !document.is_merge_key(*key)
                && fields::find(ObjectKind::Document, to, name).is_none();
            (undefined && document.defines_anchor(*value)).then(|| Holder {
                index,
                key: *key,
                value: *value,
                location: Location::default().key(name),
            })
        })
        .collect()
}

/// Moves the anchor holders under `snippets`.
pub(super) fn convert(pass: &mut Pass<'_>) {
    if pass.to.is_seed() {
        return;
    }
    let document = pass.document;
    let Some(root) = document.root() else {
        return;
    };
    let holders = holders(document, pass.to);
    let (Some(first), Some(last)) = (holders.first(), holders.last()) else {
        return;
    };
    let refusal = if document.is_flow(root) {
        Some("the top level is written in braces, where the upgrade cannot add `snippets`")
    } else if document.field(root, "snippets").is_some() {
        Some("the file already has `snippets`, and the upgrade does not merge into it")
    } else if last.index - first.index + 1 != holders.len() {
        Some(
            "the fields holding anchors are not next to each other, so they cannot move under one `snippets` together",
        )
    } else if !only_spaces_before(pass.text, document.written_start(first.key)) {
        Some("the field is laid out in a way the upgrade cannot move")
    } else {
        None
    };
    if let Some(message) = refusal {
        for holder in &holders {
            pass.refuse(
                pass.span(holder.key),
                &holder.location,
                message,
                "move the fields that hold anchors under `snippets:` by hand (they have no meaning of their own), then upgrade",
            );
        }
        return;
    }
    let text = pass.text;
    let first_start = document.written_start(first.key);
    let region_start = leading_comments_start(text, line_start(text, first_start));
    let region_end = trim_end(
        text,
        first_start,
        document.node(last.value).span.end as usize,
    );
    let snippets = format!(
        "{}{}:{}",
        " ".repeat(column(text, first_start)),
        key_like(pass, first.key, "snippets"),
        pass.layout.line_ending
    );
    pass.edits.insert(region_start, snippets);
    let unit = pass.layout.indentation_unit.cast_signed();
    shift_lines(text, &mut pass.edits, region_start, region_end, unit);
    for holder in &holders {
        pass.converted(
            pass.span(holder.key),
            &holder.location,
            "moved under `snippets`, the place for anchors",
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::version::SpecVersion;

    use super::super::test_support::{refused, upgraded};

    #[test]
    fn anchor_holders_move_under_snippets_with_their_comments() {
        let text = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.1.0

# The Go toolchain every job uses.
baseGoContainer: &baseGoContainer
  name: go
  image: quay.io/deis/lightweight-docker-go:v0.7.0
  command: [sh, -c]
  args:
  - |
    set -e
    go test ./...
baseNodeContainer: &baseNodeContainer
  image: node:12

jobs:
  test:
    containers:
    - *baseGoContainer
";
        assert_eq!(
            upgraded(text, SpecVersion::V0_1_0).text,
            "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.1.0

snippets:
  # The Go toolchain every job uses.
  baseGoContainer: &baseGoContainer
    name: go
    image: quay.io/deis/lightweight-docker-go:v0.7.0
    command: [sh, -c]
    args:
    - |
      set -e
      go test ./...
  baseNodeContainer: &baseNodeContainer
    image: node:12

jobs:
  test:
    containers:
    - *baseGoContainer
"
        );
    }

    #[test]
    fn seed_anchor_holders_move_when_leaving_the_seed_draft() {
        let text = "\
uri: github.com/lovethedrake/drakespec
version: v0.0.0
base: &base
  image: busybox
jobs:
  test:
    containers:
    - <<: *base
      name: main
";
        assert!(
            upgraded(text, SpecVersion::V0_1_0)
                .text
                .contains("snippets:\n  base: &base\n    image: busybox\njobs:")
        );
    }

    #[test]
    fn holders_apart_from_each_other_are_refused() {
        let text = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.1.0
first: &first {image: busybox}
jobs:
  test:
    containers:
    - <<: *first
      name: main
second: &second {image: busybox}
";
        assert_eq!(
            refused(text, SpecVersion::V0_1_0),
            "\
3:1 first: the fields holding anchors are not next to each other, so they cannot move under one `snippets` together
9:1 second: the fields holding anchors are not next to each other, so they cannot move under one `snippets` together
"
        );
    }
}
