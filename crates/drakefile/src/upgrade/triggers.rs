//! Triggers across versions: the one place where an upgrade converts trigger configurations.
//!
//! DrakeSpec versions never changed the trigger object itself (`specUri`, `specVersion`,
//! `config` from v0.1.0 on); what changed is what trigger specs put in `config`. The October
//! 2019 dialects (the `drakespec-github` config with `checkSuiteRequest` and `tagPush`, the
//! `drakespec-brig` one with `eventTypes`) map to the current configs in `crate::triggers`;
//! [`convert_dialect`] is where an upgrade applies that mapping to each trigger, and
//! [`equivalent`] is how the check of an upgrade's result compares triggers before and after.
//! Until the mapping exists, release triggers are kept as written.
//!
//! The seed draft named a `triggers` field but never defined what goes in it, and eider never
//! evaluated seed-draft triggers; nothing in a release means the same, so a seed-draft pipeline
//! with triggers is refused.

use crate::model::Trigger;

use super::pass::Pass;
use super::sites::{Location, named};

/// Converts the triggers of every pipeline, or refuses those that have no equivalent.
pub(super) fn convert(pass: &mut Pass<'_>) {
    let document = pass.document;
    for pipeline in named(document, "pipelines") {
        let Some(field) = document.field(pipeline.mapping, "triggers") else {
            continue;
        };
        let location = pipeline.location.key("triggers");
        let items = document
            .items(document.resolve(field.value))
            .unwrap_or_default();
        if pass.from.is_seed() && !pass.to.is_seed() {
            if !items.is_empty() {
                pass.refuse(
                    pass.span(field.key),
                    &location,
                    format!(
                        "pipeline `{}` has seed-draft triggers, which the draft never defined and eider never evaluated; no release trigger means the same",
                        pipeline.name
                    ),
                    "remove them (the pipeline then runs when named, as it does now), or rewrite them as DrakeSpec v0.1.0 triggers (`specUri`, `specVersion`, `config`), then upgrade",
                );
            }
            continue;
        }
        for (index, item) in items.iter().enumerate() {
            convert_dialect(pass, document.resolve(*item), &location.index(index));
        }
    }
}

/// Converts one release trigger written in an older dialect of its trigger spec into the
/// current one, with edits of the text as the other conversions make them (see `scalar.rs`)
/// and a refusal for a config that has no faithful equivalent.
///
/// The dialects and their mapping to the current configs belong to `crate::triggers`; until it
/// has them, every trigger is kept as written.
fn convert_dialect(
    _pass: &mut Pass<'_>,
    _trigger: crate::yaml::written::NodeId,
    _location: &Location,
) {
}

/// Whether the triggers of a pipeline before an upgrade and after it select the same events.
/// [`convert_dialect`] keeps triggers as written, so they must be equal.
pub(super) fn equivalent(before: &[Trigger], after: &[Trigger]) -> bool {
    before == after
}

#[cfg(test)]
mod tests {
    use crate::version::SpecVersion;

    use super::super::test_support::{refused, upgraded};

    #[test]
    fn release_triggers_are_kept_as_written() {
        let text = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.2.0
jobs:
  a: {primaryContainer: {name: main, image: busybox}}
pipelines:
  ci:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        checkSuiteRequest:    # the October 2019 dialect
          branches:
            only: [master]
    jobs:
    - name: a
";
        assert_eq!(
            upgraded(text, SpecVersion::V0_6_0).text,
            text.replace("v0.2.0", "v0.6.0")
        );
    }

    #[test]
    fn seed_draft_triggers_are_refused() {
        let text = "\
uri: github.com/lovethedrake/drakespec
version: v0.0.0
jobs:
  a: {containers: [{name: main, image: busybox}]}
pipelines:
  ci:
    triggers:
    - spec: {uri: github.com/lovethedrake/drakespec-github, version: v1.0.0}
      config: {tagPush: {tags: {only: [/v.*/]}}}
    jobs:
    - name: a
  nothing:
    triggers: []
";
        assert_eq!(
            refused(text, SpecVersion::V0_1_0),
            "7:5 pipelines.ci.triggers: pipeline `ci` has seed-draft triggers, which the draft never defined and eider never evaluated; no release trigger means the same\n"
        );
    }
}
