//! `drakefile::upgrade` over the whole corpus (`tests/corpus/`, see `corpus.rs`).
//!
//! Every valid file of every version is upgraded to each newer version. The result must declare
//! that version, validate without errors, upgrade again to itself unchanged, keep every comment
//! and every anchor of the original, and normalize to the same jobs: the model that `eider list
//! --json` prints must equal the original's, apart from what the newer version adds, which is
//! exactly (see `allowed_differences`):
//!
//! - `specVersion`;
//! - `resources` of each container, from `null` (before v0.3.0, no limits) to the defaults
//!   v0.3.0 applies (100/200 millicores, 128/256 MB);
//! - `sourceMountMode` of a seed-draft job none of whose containers mounts the source (it has
//!   no effect there; a job that mounts the source keeps its writable copy, `COPY`).
//!
//! Files that cannot be upgraded faithfully are listed in `REFUSED` with the reason, and must be
//! refused exactly so. Invalid files either get fixed into a valid file or are refused; the
//! upgraded text of every `project-*` file (real-world-shaped Drakefiles) is snapshotted, so a
//! reader sees what an upgrade keeps.
//!
//! Write new or changed snapshots with `INSTA_UPDATE=always cargo test -p drakefile --test
//! upgrade`, then read every changed `.snap` file before keeping it.

use std::path::{Path, PathBuf};

use drakefile::{SpecVersion, UpgradeError};
use serde_json::{Value, json};

/// Where the corpus lives.
const CORPUS_DIRECTORY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");

/// Valid files that cannot be upgraded past a version, and why: (file, first version refused,
/// a fragment of the reason).
const REFUSED: &[(&str, SpecVersion, &str)] = &[
    (
        "seed-draft/valid/all-fields.yaml",
        SpecVersion::V0_1_0,
        "pipeline `ci` has seed-draft triggers",
    ),
    (
        "seed-draft/valid/draft-triggers.yaml",
        SpecVersion::V0_1_0,
        "pipeline `ci` has seed-draft triggers",
    ),
    (
        "seed-draft/valid/trivial-job-warning.yaml",
        SpecVersion::V0_2_0,
        "job `nothing` has no containers",
    ),
    (
        "v0.1.0/valid/trivial-job-warning.yaml",
        SpecVersion::V0_2_0,
        "job `nothing` has no containers",
    ),
];

/// One corpus file.
struct Case {
    /// The path relative to the corpus directory, e.g. `v0.1.0/valid/anchors.yaml`.
    relative: String,
    text: String,
}

fn sorted_files(directory: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(directory)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", directory.display()))
        .map(|entry| entry.expect("a directory entry can be read").path())
        .collect();
    entries.sort();
    entries
}

/// Every corpus file under `<version>/<kind>/`.
fn cases(kind: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    for version in sorted_files(Path::new(CORPUS_DIRECTORY)) {
        let directory = version.join(kind);
        if !directory.is_dir() {
            continue;
        }
        for path in sorted_files(&directory) {
            let relative = path
                .strip_prefix(CORPUS_DIRECTORY)
                .expect("below the corpus")
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|error| panic!("cannot read {relative}: {error}"));
            cases.push(Case { relative, text });
        }
    }
    cases
}

/// The model as `eider list --json` shows it (without the `primary` marks, which follow from the
/// order of the containers).
fn model(name: &str, text: &str) -> Value {
    let parsed = drakefile::parse(name, text)
        .unwrap_or_else(|report| panic!("{name} is invalid: {:?}", report.records()));
    serde_json::to_value(&parsed.drakefile).expect("the model serializes")
}

/// `before` with what `after`'s newer version adds: see the module documentation.
fn allowed_differences(before: &Value, after: &Value) -> Value {
    let mut expected = before.clone();
    let old_version = before["specVersion"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let new_version = after["specVersion"].as_str().unwrap_or_default().to_owned();
    expected["specVersion"] = json!(new_version);
    let adds_resources = old_version.as_str() < "v0.3.0" && new_version.as_str() >= "v0.3.0";
    let leaves_seed = old_version == "v0.0.0" && new_version != "v0.0.0";
    let jobs = expected["jobs"].as_array_mut().expect("jobs");
    for (index, job) in jobs.iter_mut().enumerate() {
        let containers = job["containers"].as_array_mut().expect("containers");
        let mut mounts_source = false;
        for container in containers {
            if adds_resources && container["resources"].is_null() {
                container["resources"] = json!({
                    "requestedMillicores": 100,
                    "maxMillicores": 200,
                    "requestedMegabytes": 128,
                    "maxMegabytes": 256
                });
            }
            mounts_source |= container["sourceMountPath"]
                .as_str()
                .is_some_and(|path| !path.is_empty());
        }
        if leaves_seed && !mounts_source {
            job["sourceMountMode"] = after["jobs"][index]["sourceMountMode"].clone();
        }
    }
    if let Some(pipelines) = expected["pipelines"].as_array_mut() {
        for pipeline in pipelines {
            if let Some(triggers) = pipeline["triggers"].as_array_mut() {
                triggers.iter_mut().for_each(october_2019_config_as_push);
            }
        }
    }
    expected
}

/// A `drakespec-github` trigger's October 2019 selectors where the current config has them:
/// `checkSuiteRequest.branches` as `push.branches`, `tagPush.tags` as `push.tags`.
fn october_2019_config_as_push(trigger: &mut Value) {
    if trigger["specUri"] != "github.com/lovethedrake/drakespec-github" {
        return;
    }
    let Some(config) = trigger["config"].as_object_mut() else {
        return;
    };
    for (old, selector) in [("checkSuiteRequest", "branches"), ("tagPush", "tags")] {
        if let Some(section) = config.remove(old) {
            config
                .entry("push")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("push is a mapping")
                .insert(selector.to_owned(), section[selector].clone());
        }
    }
}

/// The versions newer than `version`, oldest first.
fn newer(version: SpecVersion) -> impl Iterator<Item = SpecVersion> {
    SpecVersion::ALL
        .into_iter()
        .filter(move |candidate| *candidate > version)
}

/// Comment texts (from `#` to the end of the line) and anchor names (`&name`) of `text`. Both
/// are found roughly (a `#` or `&` inside a quoted string counts too), the same way in the
/// original and the upgraded text.
fn kept_marks(text: &str) -> Vec<String> {
    let mut marks = Vec::new();
    for line in text.lines() {
        if let Some(index) = line.find(" #").map(|index| index + 1).or_else(|| {
            line.trim_start()
                .starts_with('#')
                .then(|| line.find('#').unwrap_or(0))
        }) {
            marks.push(line[index..].to_owned());
        }
        for word in line.split_whitespace() {
            if let Some(name) = word.strip_prefix('&') {
                marks.push(format!("&{name}"));
            }
        }
    }
    marks
}

fn declared(case: &Case) -> SpecVersion {
    drakefile::parse(&case.relative, &case.text)
        .expect("a valid corpus file")
        .drakefile
        .spec_version
}

fn refusal_of(relative: &str, target: SpecVersion) -> Option<&'static str> {
    REFUSED
        .iter()
        .find(|(file, first, _)| *file == relative && target >= *first)
        .map(|(_, _, reason)| *reason)
}

fn error_text(error: &UpgradeError) -> String {
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

/// Checks one upgrade of a valid file; returns a failure description.
fn check(case: &Case, target: SpecVersion) -> Result<(), String> {
    let name = &case.relative;
    let outcome = drakefile::upgrade(name, &case.text, target);
    if let Some(reason) = refusal_of(name, target) {
        return match outcome {
            Err(UpgradeError::Refused(report))
                if report
                    .records()
                    .iter()
                    .any(|record| record.message.contains(reason)) =>
            {
                Ok(())
            }
            Err(error) => Err(format!(
                "refused, but not for `{reason}`:\n{}",
                error_text(&error)
            )),
            Ok(_) => Err(format!(
                "upgraded, though it should be refused for `{reason}`"
            )),
        };
    }
    let upgrade = outcome.map_err(|error| format!("not upgraded:\n{}", error_text(&error)))?;
    let parsed = drakefile::parse(name, &upgrade.text)
        .map_err(|report| format!("the result is invalid: {:?}", report.records()))?;
    if parsed.drakefile.spec_version != target || upgrade.to != target {
        return Err(format!(
            "the result declares {} instead of {target}",
            parsed.drakefile.spec_version
        ));
    }
    let before = model(name, &case.text);
    let after = model(name, &upgrade.text);
    let expected = allowed_differences(&before, &after);
    if expected != after {
        return Err(format!(
            "the jobs differ beyond what {target} adds:\nexpected {expected:#}\nfound {after:#}"
        ));
    }
    let again = drakefile::upgrade(name, &upgrade.text, target)
        .map_err(|error| format!("the result does not upgrade again: {}", error_text(&error)))?;
    if !again.is_unchanged(&upgrade.text) {
        return Err(format!(
            "upgrading the result again changes it:\n{}",
            again.text
        ));
    }
    let kept = kept_marks(&upgrade.text);
    if let Some(lost) = kept_marks(&case.text)
        .into_iter()
        .find(|mark| !kept.contains(mark))
    {
        return Err(format!("`{lost}` is lost:\n{}", upgrade.text));
    }
    Ok(())
}

#[test]
fn every_valid_file_upgrades_to_every_newer_version_with_the_same_jobs() {
    let cases = cases("valid");
    assert!(cases.len() > 50, "the corpus has its files");
    let mut failures = Vec::new();
    let mut upgrades = 0;
    for case in &cases {
        for target in newer(declared(case)) {
            upgrades += 1;
            if let Err(failure) = check(case, target) {
                failures.push(format!("{} -> {target}: {failure}", case.relative));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {upgrades} upgrades failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_refused_file_is_in_the_corpus() {
    let cases = cases("valid");
    for (file, _, _) in REFUSED {
        assert!(
            cases.iter().any(|case| case.relative == *file),
            "{file} is listed as refused but is not in the corpus"
        );
    }
}

#[test]
fn a_file_at_its_own_version_is_left_as_it_is() {
    for case in cases("valid") {
        let upgrade = drakefile::upgrade(&case.relative, &case.text, declared(&case))
            .unwrap_or_else(|error| panic!("{}: {}", case.relative, error_text(&error)));
        assert!(upgrade.is_unchanged(&case.text), "{}", case.relative);
        assert!(upgrade.changes.is_empty(), "{}", case.relative);
    }
}

/// An invalid file is fixed into a valid one, or refused with its problems; never anything else.
#[test]
fn invalid_files_are_fixed_or_refused() {
    let mut fixed = Vec::new();
    for case in cases("invalid") {
        match drakefile::upgrade(&case.relative, &case.text, SpecVersion::LATEST) {
            Ok(upgrade) => {
                let parsed = drakefile::parse(&case.relative, &upgrade.text);
                assert!(
                    parsed.is_ok(),
                    "{}: the fixed file is invalid",
                    case.relative
                );
                fixed.push(case.relative);
            }
            Err(
                UpgradeError::Unreadable(report)
                | UpgradeError::Refused(report)
                | UpgradeError::Invalid(report),
            ) => assert!(report.error_count() > 0, "{}", case.relative),
            Err(error) => panic!("{}: {error}", case.relative),
        }
    }
    insta::assert_snapshot!(fixed.join("\n"));
}

/// What an upgrade to the latest version writes for the real-world-shaped files.
#[test]
fn project_files_upgrade_to_the_latest_version_as_snapshotted() {
    for case in cases("valid").into_iter().chain(cases("invalid")) {
        let file_name = case.relative.rsplit('/').next().unwrap_or_default();
        if !file_name.starts_with("project-") {
            continue;
        }
        let outcome = match drakefile::upgrade(&case.relative, &case.text, SpecVersion::LATEST) {
            Ok(upgrade) => {
                let changes = upgrade
                    .changes
                    .iter()
                    .map(|change| {
                        format!(
                            "{}:{} {}: {}\n",
                            change.line, change.column, change.field, change.description
                        )
                    })
                    .collect::<Vec<_>>()
                    .concat();
                let notes = upgrade
                    .notes
                    .iter()
                    .map(|note| format!("{note}\n"))
                    .collect::<Vec<_>>()
                    .concat();
                format!(
                    "{}\n----- changes -----\n{changes}----- notes -----\n{notes}",
                    upgrade.text
                )
            }
            Err(error) => format!("----- refused -----\n{}", error_text(&error)),
        };
        let snapshot = case.relative.trim_end_matches(".yaml").replace('/', "__");
        insta::assert_snapshot!(snapshot, outcome);
    }
}
