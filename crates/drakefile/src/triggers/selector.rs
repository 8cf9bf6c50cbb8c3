//! Which pipelines an event selects: each pipeline's triggers walked in order, the first match
//! deciding.

use std::fmt;

use crate::{Drakefile, Pipeline, Trigger};

use super::event::Event;
use super::github::GithubConfigError;
use super::reading::{self, Reading};

/// A pipeline the event selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The pipeline's name.
    pub pipeline: String,
    /// The index in the pipeline's `triggers` of the trigger that matched.
    pub trigger: usize,
}

/// A trigger eider skipped, and why (the warning the spec asks for). What a config says (fields
/// ignored, selectors that select nothing) is a warning of the parsed Drakefile instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The pipeline's name.
    pub pipeline: String,
    /// The index of the trigger in the pipeline's `triggers`.
    pub trigger: usize,
    /// What happened, as a lowercase fragment.
    pub message: String,
}

impl fmt::Display for Note {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "pipelines.{}.triggers[{}]: {}",
            self.pipeline, self.trigger, self.message
        )
    }
}

/// What an event selected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Selected pipelines, in the Drakefile's pipeline order.
    pub selected: Vec<Selection>,
    /// Notes about triggers, in the Drakefile's order; they do not depend on the event.
    pub notes: Vec<Note>,
}

/// Why triggers could not be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    /// A supported trigger's config is invalid. The first such trigger, in the Drakefile's order,
    /// is reported.
    #[error(
        "pipelines.{pipeline}.triggers[{trigger}]: invalid config for {spec_uri} {spec_version}"
    )]
    InvalidConfig {
        /// The pipeline's name.
        pipeline: String,
        /// The index of the trigger in the pipeline's `triggers`.
        trigger: usize,
        /// The trigger's spec.
        spec_uri: String,
        /// The trigger spec's version.
        spec_version: String,
        /// What is wrong.
        #[source]
        problem: Box<GithubConfigError>,
    },
}

/// Selects the pipelines `event` triggers. Every trigger of every pipeline is read, so an invalid
/// config is an error and the notes are the same whatever the event.
pub fn select(drakefile: &Drakefile, event: &Event) -> Result<Outcome, TriggerError> {
    let mut outcome = Outcome::default();
    for pipeline in &drakefile.pipelines {
        if let Some(trigger) = evaluate(pipeline, event, &mut outcome.notes)? {
            outcome.selected.push(Selection {
                pipeline: pipeline.name.clone(),
                trigger,
            });
        }
    }
    Ok(outcome)
}

/// The index of the first trigger of `pipeline` that matches `event`.
fn evaluate(
    pipeline: &Pipeline,
    event: &Event,
    notes: &mut Vec<Note>,
) -> Result<Option<usize>, TriggerError> {
    let mut first_match = None;
    for (index, trigger) in pipeline.triggers.iter().enumerate() {
        let mut note = |message: String| {
            notes.push(Note {
                pipeline: pipeline.name.clone(),
                trigger: index,
                message,
            });
        };
        let (spec_uri, spec_version, config) = match trigger {
            Trigger::Spec {
                spec_uri,
                spec_version,
                config,
            } => (spec_uri, spec_version, config),
            Trigger::Draft { .. } => {
                note(
                    "skipped: the seed draft defines no trigger spec, so its triggers are not \
                     supported"
                        .to_owned(),
                );
                continue;
            }
        };
        let (reading, messages) =
            reading::read(spec_uri, spec_version, config.as_ref()).map_err(|problem| {
                TriggerError::InvalidConfig {
                    pipeline: pipeline.name.clone(),
                    trigger: index,
                    spec_uri: spec_uri.clone(),
                    spec_version: spec_version.clone(),
                    problem: Box::new(problem),
                }
            })?;
        // Notes about the config itself are warnings of the parsed Drakefile already, at their
        // line and column (`crate::parse`); only what depends on eider's support is noted here.
        drop(messages);
        match reading {
            Reading::Unsupported(reason) => note(reason),
            Reading::Never => {}
            Reading::Github(github) => {
                if first_match.is_none() && github.matches(event) {
                    first_match = Some(index);
                }
            }
        }
    }
    Ok(first_match)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  build:
    primaryContainer:
      name: main
      image: busybox:1.36
      command: [\"true\"]
pipelines:
";

    /// A v0.6.0 Drakefile whose pipelines are `pipelines` (YAML indented by two spaces).
    fn drakefile(pipelines: &str) -> Drakefile {
        let text = format!("{HEADER}{pipelines}");
        match crate::parse("Drakefile.yaml", &text) {
            Ok(parsed) => parsed.drakefile,
            Err(report) => panic!("invalid test Drakefile: {report:?}"),
        }
    }

    fn branch(name: &str) -> Event {
        Event::PushBranch(name.to_owned())
    }

    fn tag(name: &str) -> Event {
        Event::PushTag(name.to_owned())
    }

    fn pull_request(target: &str) -> Event {
        Event::PullRequest {
            target_branch: target.to_owned(),
        }
    }

    /// `(pipeline, trigger)` of every selection.
    fn selected(drakefile: &Drakefile, event: &Event) -> Vec<(String, usize)> {
        select(drakefile, event)
            .expect("valid triggers")
            .selected
            .into_iter()
            .map(|selection| (selection.pipeline, selection.trigger))
            .collect()
    }

    fn pairs(expected: &[(&str, usize)]) -> Vec<(String, usize)> {
        expected
            .iter()
            .map(|(pipeline, trigger)| ((*pipeline).to_owned(), *trigger))
            .collect()
    }

    #[test]
    fn only_and_ignore_select_branches() {
        let file = drakefile(
            "  ci:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        push:
          branches:
            only: [main, /^release-/]
            ignore: [release-old]
    jobs:
    - name: build
",
        );
        assert_eq!(selected(&file, &branch("main")), pairs(&[("ci", 0)]));
        assert_eq!(selected(&file, &branch("release-2")), pairs(&[("ci", 0)]));
        assert!(selected(&file, &branch("release-old")).is_empty());
        assert!(selected(&file, &branch("feature")).is_empty());
    }

    #[test]
    fn an_empty_only_lets_every_name_pass_but_ignore() {
        let file = drakefile(
            "  ci:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        push:
          branches:
            only: []
            ignore: [/^wip-/]
    jobs:
    - name: build
",
        );
        assert_eq!(selected(&file, &branch("anything")), pairs(&[("ci", 0)]));
        assert!(selected(&file, &branch("wip-parser")).is_empty());
    }

    #[test]
    fn an_expression_is_an_unanchored_search_and_a_plain_entry_an_exact_match() {
        let file = drakefile(
            "  release:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        push:
          tags:
            only: [\"/v[0-9]+/\", stable]
    jobs:
    - name: build
",
        );
        assert_eq!(selected(&file, &tag("xv1")), pairs(&[("release", 0)]));
        assert_eq!(selected(&file, &tag("v2.0.0")), pairs(&[("release", 0)]));
        assert_eq!(selected(&file, &tag("stable")), pairs(&[("release", 0)]));
        assert!(selected(&file, &tag("stable-1")).is_empty());
        assert!(selected(&file, &tag("unstable")).is_empty());
    }

    #[test]
    fn tags_branches_and_pull_requests_use_their_own_selectors() {
        let file = drakefile(
            "  ci:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        pullRequest:
          targetBranches:
            only: [main]
        push:
          branches:
            only: [develop]
          tags:
            only: [v1]
    jobs:
    - name: build
",
        );
        assert_eq!(selected(&file, &branch("develop")), pairs(&[("ci", 0)]));
        assert_eq!(selected(&file, &tag("v1")), pairs(&[("ci", 0)]));
        assert_eq!(selected(&file, &pull_request("main")), pairs(&[("ci", 0)]));
        // A name that passes one selector does not pass another kind's.
        assert!(selected(&file, &branch("v1")).is_empty());
        assert!(selected(&file, &branch("main")).is_empty());
        assert!(selected(&file, &tag("develop")).is_empty());
        assert!(selected(&file, &pull_request("develop")).is_empty());
    }

    #[test]
    fn a_missing_selector_never_matches() {
        // Every branch push passes; a tag push or a pull request has no selector, so no match.
        let file = drakefile(
            "  ci:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        push:
          branches: {}
    jobs:
    - name: build
",
        );
        assert_eq!(selected(&file, &branch("any")), pairs(&[("ci", 0)]));
        assert!(selected(&file, &tag("v1")).is_empty());
        assert!(selected(&file, &pull_request("main")).is_empty());
    }

    #[test]
    fn the_first_matching_trigger_decides() {
        let file = drakefile(
            "  ci:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        push:
          tags: {}
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        push:
          branches:
            only: [main]
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        push:
          branches: {}
    jobs:
    - name: build
",
        );
        assert_eq!(selected(&file, &tag("v1")), pairs(&[("ci", 0)]));
        assert_eq!(selected(&file, &branch("main")), pairs(&[("ci", 1)]));
        assert_eq!(selected(&file, &branch("feature")), pairs(&[("ci", 2)]));
    }

    #[test]
    fn unsupported_triggers_are_skipped_with_notes_and_the_next_one_still_decides() {
        let file = drakefile(
            "  ci:
    triggers:
    - specUri: example.com/acme/cron-trigger
      specVersion: v2.0.0
      config: \"0 3 * * *\"
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.1.0
      config:
        push:
          branches: {}
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        push:
          branches:
            only: [main]
    jobs:
    - name: build
",
        );
        let outcome = select(&file, &branch("main")).expect("valid triggers");
        assert_eq!(
            outcome.selected,
            [Selection {
                pipeline: "ci".to_owned(),
                trigger: 2
            }]
        );
        let notes: Vec<String> = outcome.notes.iter().map(ToString::to_string).collect();
        assert_eq!(
            notes,
            [
                "pipelines.ci.triggers[0]: skipped: trigger spec `example.com/acme/cron-trigger` \
                 is not supported (eider supports github.com/lovethedrake/drakespec-github \
                 v1.0.0, github.com/lovethedrake/drakespec-brig v1.0.0)",
                "pipelines.ci.triggers[1]: skipped: version `v1.1.0` of trigger spec \
                 `github.com/lovethedrake/drakespec-github` is not supported (eider supports \
                 v1.0.0)",
            ]
        );
        // The unsupported version would have matched every branch; it is skipped all the same.
        assert!(
            select(&file, &branch("feature"))
                .expect("valid triggers")
                .selected
                .is_empty()
        );
    }

    #[test]
    fn notes_do_not_depend_on_the_event_or_on_an_earlier_match() {
        let file = drakefile(
            "  ci:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        push:
          branches: {}
    - specUri: example.com/acme/cron-trigger
      specVersion: v1.0.0
      config: {schedule: daily}
    jobs:
    - name: build
",
        );
        let after_match = select(&file, &branch("main")).expect("valid triggers");
        let without_match = select(&file, &tag("v1")).expect("valid triggers");
        assert_eq!(after_match.selected.len(), 1);
        assert!(without_match.selected.is_empty());
        assert_eq!(after_match.notes, without_match.notes);
        assert_eq!(after_match.notes.len(), 1);
        assert_eq!(after_match.notes[0].trigger, 1);
    }

    #[test]
    fn seed_draft_triggers_are_never_supported() {
        let text = "\
uri: github.com/lovethedrake/drakespec
version: v0.0.0
jobs:
  build:
    containers:
    - name: main
      image: busybox:1.36
      command: echo build
pipelines:
  ci:
    triggers:
    - spec:
        uri: github.com/lovethedrake/drakespec-github
        version: v1.0.0
      config:
        push:
          branches: {}
    jobs:
    - name: build
";
        let file = crate::parse("Drakefile.yaml", text)
            .expect("a valid seed-draft Drakefile")
            .drakefile;
        let outcome = select(&file, &branch("main")).expect("valid triggers");
        assert!(outcome.selected.is_empty());
        assert_eq!(
            outcome.notes,
            [Note {
                pipeline: "ci".to_owned(),
                trigger: 0,
                message: "skipped: the seed draft defines no trigger spec, so its triggers are \
                          not supported"
                    .to_owned(),
            }]
        );
    }

    #[test]
    fn a_pipeline_without_triggers_is_never_selected() {
        let file = drakefile(
            "  manual:
    jobs:
    - name: build
  ci:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        push:
          branches: {}
    jobs:
    - name: build
",
        );
        let outcome = select(&file, &branch("main")).expect("valid triggers");
        assert_eq!(
            outcome.selected,
            [Selection {
                pipeline: "ci".to_owned(),
                trigger: 0
            }]
        );
        assert!(outcome.notes.is_empty());
    }

    #[test]
    fn several_pipelines_are_selected_in_drakefile_order() {
        let file = drakefile(
            "  lint:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        push:
          branches: {}
    jobs:
    - name: build
  release:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        push:
          tags: {}
    jobs:
    - name: build
  ci:
    triggers:
    - specUri: example.com/other
      specVersion: v1.0.0
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        push:
          branches:
            only: [main]
    jobs:
    - name: build
",
        );
        assert_eq!(
            selected(&file, &branch("main")),
            pairs(&[("lint", 0), ("ci", 1)])
        );
        assert_eq!(selected(&file, &tag("v1")), pairs(&[("release", 0)]));
        assert_eq!(selected(&file, &branch("feature")), pairs(&[("lint", 0)]));
    }

    #[test]
    fn a_bad_expression_is_an_error_naming_the_pipeline_and_the_trigger() {
        let file = drakefile(
            "  ci:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        push:
          branches: {}
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        push:
          tags:
            ignore: [\"/v[0-9/\"]
    jobs:
    - name: build
",
        );
        // The first trigger matches a branch push, yet the second is still read.
        let error = select(&file, &branch("main")).expect_err("a bad expression");
        assert!(matches!(
            &error,
            TriggerError::InvalidConfig { pipeline, trigger: 1, .. } if pipeline == "ci"
        ));
        assert_eq!(
            error.to_string(),
            "pipelines.ci.triggers[1]: invalid config for github.com/lovethedrake/drakespec-github \
             v1.0.0"
        );
        let problem = std::error::Error::source(&error).expect("a cause");
        assert_eq!(
            problem.to_string(),
            "`config.push.tags.ignore[0]`: `/v[0-9/` is not a valid regular expression"
        );
    }

    #[test]
    fn a_config_that_is_not_a_mapping_is_an_error() {
        let file = drakefile(
            "  ci:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config: [main]
    jobs:
    - name: build
",
        );
        let error = select(&file, &pull_request("main")).expect_err("an invalid config");
        let problem = std::error::Error::source(&error).expect("a cause");
        assert_eq!(
            problem.to_string(),
            "`config` must be a mapping, found a list"
        );
    }

    #[test]
    fn a_selector_entry_that_is_not_a_string_is_an_error() {
        let file = drakefile(
            "  ci:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        push:
          tags:
            only: [1.0]
    jobs:
    - name: build
",
        );
        let error = select(&file, &tag("1.0")).expect_err("an invalid config");
        let problem = std::error::Error::source(&error).expect("a cause");
        assert_eq!(
            problem.to_string(),
            "`config.push.tags.only[0]` must be a name, found a number (quote it to write a name)"
        );
    }

    #[test]
    fn the_example_drakefile_runs_its_pipeline_on_main() {
        let text = include_str!("../../../../examples/v0.6.0/Drakefile.yaml");
        let file = crate::parse("Drakefile.yaml", text)
            .expect("the example is valid")
            .drakefile;
        let names = |event: &Event| -> Vec<String> {
            select(&file, event)
                .expect("valid triggers")
                .selected
                .into_iter()
                .map(|selection| selection.pipeline)
                .collect()
        };
        assert_eq!(names(&branch("main")), ["ci"]);
        assert!(names(&branch("feature")).is_empty());
    }

    #[test]
    fn a_brig_trigger_never_selects_and_an_october_2019_trigger_selects_pushed_branches() {
        let file = drakefile(
            "  ci:
    triggers:
    - specUri: github.com/lovethedrake/drakespec-brig
      specVersion: v1.0.0
      config:
        eventTypes: [push]
    - specUri: github.com/lovethedrake/drakespec-github
      specVersion: v1.0.0
      config:
        checkSuiteRequest:
          branches:
            ignore: [master]
    jobs:
    - name: build
",
        );
        assert_eq!(selected(&file, &branch("feature")), pairs(&[("ci", 1)]));
        assert!(selected(&file, &branch("master")).is_empty());
        // What the configs say is a warning of the parsed file, at its place, not a note here.
        let outcome = select(&file, &branch("master")).expect("valid triggers");
        assert!(outcome.notes.is_empty(), "{:?}", outcome.notes);
    }
}
