//! Upgrading a Drakefile to a newer DrakeSpec version by rewriting its text in place.
//!
//! An upgrade is a chain of one-version steps (seed draft → v0.1.0 → ... → the target); each
//! step is a few passes of conversions, each pass a set of edits of the text computed from the
//! parser's spans (`edit.rs`), applied, then parsed again for the next pass. Everything no
//! conversion touches stays byte for byte: comments, anchors, key order, quoting, indentation.
//! Before the chain, one pass at the declared version applies the fixes the validator suggests
//! (a string where a list belongs, root anchors outside `snippets`, `containers` in a v0.2.0+
//! file, environment in a form the version does not take), so that a file written in the shapes
//! of its time upgrades too.
//!
//! The conversions, in the order a step applies them:
//! - `header.rs`: `uri`/`version` → `specUri`/`specVersion`, and the version;
//! - `lists.rs`: a string where a list of strings belongs (the seed draft's `command` line);
//! - `source_mode.rs`: `sourceMountMode: COPY` for seed-draft jobs that mount the source;
//! - `environment.rs`: environment as the target version writes it;
//! - `triggers.rs`: triggers (the place where older trigger dialects are converted);
//! - `containers.rs` (a pass of its own): `containers` → `sidecarContainers` + `primaryContainer`;
//! - `snippets.rs` (a pass of its own): anchor holders at the top level → under `snippets`.
//!
//! What has no faithful equivalent is refused with its place and reason, and nothing is
//! written. Every upgrade checks its own result: it must be valid, and its normalized jobs must
//! equal the original's apart from what the newer version adds (`compare.rs`).

mod compare;
mod containers;
mod edit;
mod environment;
mod header;
mod layout;
mod lists;
mod pass;
mod scalar;
mod sites;
mod snippets;
mod source_mode;
mod triggers;

use std::collections::HashSet;
use std::sync::Arc;

use crate::diagnostic::{Code, Diagnostic, Related, Report};
use crate::model::Drakefile;
use crate::version::SpecVersion;
use crate::yaml::Span;
use crate::yaml::written::WrittenDocument;

use edit::Applied;
use pass::{Conversion, Pass, Refusal};

/// A successful upgrade.
#[derive(Debug, Clone)]
pub struct Upgrade {
    /// The version the file declared.
    pub from: SpecVersion,
    /// The version it declares now.
    pub to: SpecVersion,
    /// The new text; equal to the old one when there was nothing to do.
    pub text: String,
    /// What was converted, in document order, with places in the original text.
    pub changes: Vec<Change>,
    /// What behaves differently under the new version although the file says the same (new
    /// defaults), for the user to check.
    pub notes: Vec<String>,
}

impl Upgrade {
    /// Whether the text is unchanged: the file was already at the target and needed no fix.
    #[must_use]
    pub fn is_unchanged(&self, original: &str) -> bool {
        self.text == original
    }
}

/// One conversion, located in the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The field path, e.g. `jobs.test.containers`.
    pub field: String,
    /// What was done, as a lowercase fragment.
    pub description: String,
}

/// Why a file was not upgraded. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    /// The file is not a Drakefile whose version can be read: the validator's diagnostics.
    #[error("{} does not say which DrakeSpec version it follows", .0.name())]
    Unreadable(Report),
    /// The target is older than the declared version.
    #[error("{file} declares {declared}, which is newer than {target}; an upgrade never goes back")]
    Downgrade {
        /// The file, as shown.
        file: String,
        /// What it declares.
        declared: SpecVersion,
        /// What was asked for.
        target: SpecVersion,
    },
    /// Parts of the file have no faithful equivalent in the target version: one diagnostic
    /// each, located in the original text.
    #[error("{} cannot be upgraded faithfully", .0.name())]
    Refused(Report),
    /// The upgraded file would still have errors the upgrade does not fix: the validator's
    /// diagnostics of the upgraded file, located in the original text.
    #[error("{} has errors that the upgrade does not fix", .0.name())]
    Invalid(Report),
    /// The upgraded file would run other jobs: a conversion went wrong, and nothing is written.
    #[error("the upgraded {file} would not run the same jobs")]
    WouldChangeJobs {
        /// The file, as shown.
        file: String,
        /// What would differ, as `path: before -> after` lines.
        differences: Vec<String>,
    },
}

/// Upgrades the Drakefile `text` (shown as `name`) to `target`.
pub fn upgrade(name: &str, text: &str, target: SpecVersion) -> Result<Upgrade, UpgradeError> {
    let original = crate::parse(name, text);
    let declared = match &original {
        Ok(parsed) => parsed.drakefile.spec_version,
        Err(report) => {
            declared_version(text).ok_or_else(|| UpgradeError::Unreadable(report.clone()))?
        }
    };
    if declared > target {
        return Err(UpgradeError::Downgrade {
            file: name.to_owned(),
            declared,
            target,
        });
    }
    let mut chain = Chain {
        name,
        original: text,
        current: text.to_owned(),
        document: None,
        history: Vec::new(),
        refusals: Vec::new(),
        conversions: Vec::new(),
        reference: original.ok().map(|parsed| parsed.drakefile),
        target,
    };
    // Fix the file in its own version first, then step up one version at a time.
    chain.step(declared, declared);
    let steps = SpecVersion::ALL
        .into_iter()
        .filter(|version| *version > declared && *version <= target);
    let mut from = declared;
    for to in steps {
        chain.step(from, to);
        from = to;
    }
    chain.finish(declared)
}

/// The version a file declares, read without validating it (`uri` + `version: v0.0.0`, or
/// `specVersion`), when it declares one eider knows.
fn declared_version(text: &str) -> Option<SpecVersion> {
    let document = WrittenDocument::parse(text).ok()?;
    let root = document.root()?;
    let read = |key: &str| {
        document
            .field(root, key)
            .and_then(|field| document.string(document.resolve(field.value)))
            .and_then(SpecVersion::from_written)
    };
    match (read("version"), read("specVersion")) {
        (Some(SpecVersion::Seed), None) => Some(SpecVersion::Seed),
        (None, Some(version)) if !version.is_seed() => Some(version),
        _ => None,
    }
}

/// The state of an upgrade between steps.
struct Chain<'text> {
    name: &'text str,
    original: &'text str,
    /// The text after every pass so far.
    current: String,
    /// Its written form, once parsed.
    document: Option<std::rc::Rc<WrittenDocument>>,
    /// The edits of every pass, in order, to find where a place of `current` was originally.
    history: Vec<Applied>,
    /// Refusals, located in the original text.
    refusals: Vec<Refusal>,
    /// Conversions, located in the original text.
    conversions: Vec<Conversion>,
    /// The first valid text's model, which the result must match.
    reference: Option<Drakefile>,
    /// The version the upgrade goes to.
    target: SpecVersion,
}

impl Chain<'_> {
    /// One step: `from` → `to` (or fixes only, when they are equal), pass by pass.
    fn step(&mut self, from: SpecVersion, to: SpecVersion) {
        // A text that no longer parses has already been refused or will fail validation.
        let Some(document) = self.written() else {
            return;
        };
        // Parsing is most of the work: a pass that has nothing to do is not run (the first pass
        // never adds or removes the jobs' `containers` or top-level fields they look for).
        let moves_containers = containers::applies(&document, to);
        let moves_holders = snippets::applies(&document, to);
        self.pass(
            from,
            to,
            &[
                header::convert,
                lists::convert,
                source_mode::convert,
                environment::convert,
                triggers::convert,
            ],
        );
        if moves_containers {
            self.pass(from, to, &[containers::convert]);
        }
        if moves_holders {
            self.pass(from, to, &[snippets::convert]);
        }
        if self.reference.is_none()
            && let Ok(parsed) = crate::parse(self.name, &self.current)
        {
            self.reference = Some(parsed.drakefile);
        }
    }

    /// The written form of the current text, parsed once per text.
    fn written(&mut self) -> Option<std::rc::Rc<WrittenDocument>> {
        if self.document.is_none() {
            self.document = WrittenDocument::parse(&self.current)
                .ok()
                .map(std::rc::Rc::new);
        }
        self.document.clone()
    }

    fn pass(&mut self, from: SpecVersion, to: SpecVersion, conversions: &[fn(&mut Pass<'_>)]) {
        let Some(document) = self.written() else {
            return;
        };
        let mut pass = Pass::new(&self.current, &document, from, to, self.target);
        for convert in conversions {
            convert(&mut pass);
        }
        let Pass {
            edits,
            refusals,
            conversions,
            ..
        } = pass;
        for refusal in refusals {
            let span = self.original_span(refusal.span);
            self.refusals.push(Refusal { span, ..refusal });
        }
        for conversion in conversions {
            let span = self.original_span(conversion.span);
            self.conversions.push(Conversion { span, ..conversion });
        }
        if edits.is_empty() {
            return;
        }
        match edits.apply(&self.current) {
            Ok((text, applied)) => {
                self.current = text;
                self.document = None;
                self.history.push(applied);
            }
            Err(overlap) => {
                let span = self.original_span(Span::new(overlap.offset, overlap.offset));
                self.refusals.push(Refusal {
                    span,
                    location: sites::Location::default(),
                    message: "two conversions would change the same text here".to_owned(),
                    help: "convert this part by hand, then upgrade".to_owned(),
                });
            }
        }
    }

    /// Where a span of the current text was in the original.
    fn original_span(&self, span: Span) -> Span {
        let map = |offset: usize| {
            self.history
                .iter()
                .rev()
                .fold(offset, |offset, applied| applied.old_offset(offset))
        };
        Span::new(map(span.start as usize), map(span.end as usize))
    }

    fn report(&self, diagnostics: Vec<Diagnostic>) -> Report {
        Report::new(self.name, Arc::from(self.original), diagnostics)
    }

    fn finish(self, declared: SpecVersion) -> Result<Upgrade, UpgradeError> {
        if !self.refusals.is_empty() {
            let mut seen = HashSet::new();
            let mut diagnostics: Vec<Diagnostic> = self
                .refusals
                .iter()
                .filter(|refusal| seen.insert((refusal.span.start, refusal.message.clone())))
                .map(|refusal| {
                    Diagnostic::error(
                        Code::CannotUpgrade,
                        &refusal.location,
                        refusal.span,
                        refusal.message.clone(),
                    )
                    .with_label("no faithful equivalent")
                    .with_help(refusal.help.clone())
                })
                .collect();
            diagnostics.sort_by_key(|diagnostic| diagnostic.span.start);
            return Err(UpgradeError::Refused(self.report(diagnostics)));
        }
        let upgraded = match crate::parse(self.name, &self.current) {
            Ok(parsed) => parsed,
            Err(report) => {
                let diagnostics = report
                    .diagnostics()
                    .iter()
                    .map(|diagnostic| self.relocated(diagnostic))
                    .collect();
                return Err(UpgradeError::Invalid(self.report(diagnostics)));
            }
        };
        if let Some(reference) = &self.reference {
            let differences = compare::differences(reference, &upgraded.drakefile);
            if !differences.is_empty() {
                return Err(UpgradeError::WouldChangeJobs {
                    file: self.name.to_owned(),
                    differences,
                });
            }
        }
        let positions = self.report(Vec::new());
        let mut conversions = self.conversions.clone();
        conversions.sort_by_key(|conversion| conversion.span.start);
        let changes = conversions
            .into_iter()
            .map(|conversion| {
                let (line, column) = positions.position(conversion.span.start);
                Change {
                    line,
                    column,
                    field: conversion.location.to_string(),
                    description: conversion.description,
                }
            })
            .collect();
        Ok(Upgrade {
            from: declared,
            to: self.target,
            notes: notes(declared, self.target, &upgraded.drakefile),
            text: self.current,
            changes,
        })
    }

    /// A diagnostic of the current text, placed in the original.
    fn relocated(&self, diagnostic: &Diagnostic) -> Diagnostic {
        let mut relocated = diagnostic.clone();
        relocated.span = self.original_span(diagnostic.span);
        relocated.related = diagnostic
            .related
            .iter()
            .map(|related| Related {
                span: self.original_span(related.span),
                message: related.message.clone(),
            })
            .collect();
        relocated
    }
}

/// What runs differently under `to` although the file says the same.
fn notes(from: SpecVersion, to: SpecVersion, upgraded: &Drakefile) -> Vec<String> {
    let mut notes = Vec::new();
    let mounting = upgraded
        .jobs
        .iter()
        .filter(|job| {
            job.containers
                .iter()
                .any(|container| container.source_mount_path.is_some())
        })
        .count();
    if from.is_seed() && !to.is_seed() && mounting > 1 {
        notes.push(
            "the jobs of a seed-draft run shared one writable copy of the source; with \
             `sourceMountMode: COPY` each job gets a copy of its own, so a job no longer sees \
             what an earlier job of its run wrote into the source (pass files on with \
             `sharedStorageMountPath`)"
                .to_owned(),
        );
    }
    let has_containers = upgraded.jobs.iter().any(|job| !job.containers.is_empty());
    if from < SpecVersion::V0_3_0 && to >= SpecVersion::V0_3_0 && has_containers {
        notes.push(
            "from DrakeSpec v0.3.0 on, a container without `resources` gets the default \
             limits of 200 millicores of CPU and 256 MB of memory, where no limit applied \
             before; add `resources` to the containers that need more"
                .to_owned(),
        );
    }
    notes
}

#[cfg(test)]
pub(super) mod test_support {
    use super::{Upgrade, UpgradeError, upgrade};
    use crate::version::SpecVersion;

    /// `text` upgraded to `target`; panics with the reasons when it is not.
    pub(crate) fn upgraded(text: &str, target: SpecVersion) -> Upgrade {
        match upgrade("Drakefile.yaml", text, target) {
            Ok(upgrade) => upgrade,
            Err(error) => panic!("not upgraded: {}", describe(&error)),
        }
    }

    /// Why `text` is not upgraded to `target`, one `LINE:COLUMN field: message` line per
    /// reason; panics when it is.
    pub(crate) fn refused(text: &str, target: SpecVersion) -> String {
        match upgrade("Drakefile.yaml", text, target) {
            Ok(upgrade) => panic!("upgraded:\n{}", upgrade.text),
            Err(error) => describe(&error),
        }
    }

    fn describe(error: &UpgradeError) -> String {
        match error {
            UpgradeError::Refused(report)
            | UpgradeError::Invalid(report)
            | UpgradeError::Unreadable(report) => report
                .records()
                .iter()
                .map(|record| {
                    format!(
                        "{}:{} {}: {}\n",
                        record.line, record.column, record.field, record.message
                    )
                })
                .collect::<Vec<_>>()
                .concat(),
            other => format!("{other}\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{refused, upgraded};
    use super::*;

    const V0_6_0: &str = "specUri: github.com/lovethedrake/drakespec\nspecVersion: v0.6.0\njobs:\n  a:\n    primaryContainer:\n      name: main\n      image: busybox:1.36\n";

    #[test]
    fn a_file_at_the_target_is_left_as_it_is() {
        let upgrade = upgraded(V0_6_0, SpecVersion::V0_6_0);
        assert!(upgrade.is_unchanged(V0_6_0));
        assert!(upgrade.changes.is_empty());
        assert!(upgrade.notes.is_empty());
    }

    #[test]
    fn a_target_older_than_the_file_is_refused() {
        let error = upgrade("Drakefile.yaml", V0_6_0, SpecVersion::V0_2_0).expect_err("downgrade");
        assert_eq!(
            error.to_string(),
            "Drakefile.yaml declares v0.6.0, which is newer than v0.2.0; an upgrade never goes back"
        );
    }

    #[test]
    fn a_file_without_a_version_cannot_be_read() {
        let error =
            upgrade("Drakefile.yaml", "jobs: {}\n", SpecVersion::V0_6_0).expect_err("no version");
        assert!(matches!(error, UpgradeError::Unreadable(_)), "{error:?}");
    }

    #[test]
    fn errors_the_upgrade_does_not_fix_are_placed_in_the_original_text() {
        let text = "\
uri: github.com/lovethedrake/drakespec
version: v0.0.0
jobs:
  build:
    containers:
    - name: main
      image: busybox:1.36
      command: make build
      enviroment: [A=1]
";
        assert_eq!(
            refused(text, SpecVersion::V0_6_0),
            "9:7 jobs.build.primaryContainer.enviroment: unknown field `enviroment` in a container (DrakeSpec v0.6.0)\n"
        );
    }

    #[test]
    fn every_refusal_is_listed_at_its_place_in_the_original() {
        let text = "\
uri: github.com/lovethedrake/drakespec
version: v0.0.0
jobs:
  empty: {}
  build:
    containers:
    - name: main
      image: busybox:1.36
      command: make build
pipelines:
  ci:
    triggers:
    - push: main
    jobs:
    - name: build
";
        assert_eq!(
            refused(text, SpecVersion::V0_6_0),
            "\
4:3 jobs.empty: job `empty` has no containers, and from DrakeSpec v0.2.0 on a job needs a `primaryContainer`
12:5 pipelines.ci.triggers: pipeline `ci` has seed-draft triggers, which the draft never defined and eider never evaluated; no release trigger means the same
"
        );
        // The same file goes to v0.1.0, which still allows a job without containers, except
        // for its triggers.
        assert_eq!(
            refused(text, SpecVersion::V0_1_0),
            "12:5 pipelines.ci.triggers: pipeline `ci` has seed-draft triggers, which the draft never defined and eider never evaluated; no release trigger means the same\n"
        );
    }

    #[test]
    fn new_lines_take_the_files_line_endings() {
        let text = "uri: github.com/lovethedrake/drakespec\r\nversion: v0.0.0\r\njobs:\r\n  build:\r\n    containers:\r\n    - name: main\r\n      image: busybox:1.36\r\n      sourceMountPath: /src\r\n";
        let upgrade = upgraded(text, SpecVersion::V0_6_0);
        assert_eq!(
            upgrade.text,
            "specUri: github.com/lovethedrake/drakespec\r\nspecVersion: v0.6.0\r\njobs:\r\n  build:\r\n    sourceMountMode: COPY\r\n    primaryContainer:\r\n      name: main\r\n      image: busybox:1.36\r\n      sourceMountPath: /src\r\n"
        );
    }

    #[test]
    fn notes_name_the_defaults_a_newer_version_applies() {
        let text = "specUri: github.com/lovethedrake/drakespec\nspecVersion: v0.2.0\njobs:\n  a:\n    primaryContainer:\n      name: main\n      image: busybox:1.36\n";
        let to_v0_2_0 = upgraded(text, SpecVersion::V0_2_0);
        assert!(to_v0_2_0.notes.is_empty());
        let to_v0_3_0 = upgraded(text, SpecVersion::V0_3_0);
        assert_eq!(to_v0_3_0.notes.len(), 1);
        assert!(
            to_v0_3_0.notes[0].contains("200 millicores"),
            "{:?}",
            to_v0_3_0.notes
        );
        assert_eq!(to_v0_3_0.text, text.replace("v0.2.0", "v0.3.0"));
    }
}
