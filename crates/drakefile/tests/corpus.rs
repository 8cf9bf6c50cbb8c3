//! The fixture corpus: real Drakefiles of every DrakeSpec version under `tests/corpus/`, laid out
//! as `<version>/{valid,invalid}/<case>.yaml` (`any/` holds version-independent cases).
//!
//! Every file is parsed and snapshotted: a valid file as its normalized model (pretty JSON) plus
//! its warnings, an invalid file as every diagnostic in a compact text form. Files under `valid/`
//! must parse, files under `invalid/` must not. The first line of each file says what it tests.
//!
//! Write new or changed snapshots with `INSTA_UPDATE=always cargo test -p drakefile --test corpus`,
//! then read every changed `.snap` file before keeping it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use drakefile::{Diagnostic, Report, Severity, SpecVersion};

/// Where the corpus lives.
const CORPUS_DIRECTORY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");

/// Where insta keeps the snapshots of this test file.
const SNAPSHOT_DIRECTORY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots");

/// Every snapshot of this test file starts with this (insta prepends the module name).
const SNAPSHOT_PREFIX: &str = "corpus__";

/// The version directories, with the version their valid files must declare (`any/` holds
/// version-independent cases).
const VERSION_DIRECTORIES: [(&str, Option<SpecVersion>); 8] = [
    ("any", None),
    ("seed-draft", Some(SpecVersion::Seed)),
    ("v0.1.0", Some(SpecVersion::V0_1_0)),
    ("v0.2.0", Some(SpecVersion::V0_2_0)),
    ("v0.3.0", Some(SpecVersion::V0_3_0)),
    ("v0.4.0", Some(SpecVersion::V0_4_0)),
    ("v0.5.0", Some(SpecVersion::V0_5_0)),
    ("v0.6.0", Some(SpecVersion::V0_6_0)),
];

/// Excerpts of the text under a diagnostic are cut to this many characters.
const EXCERPT_LENGTH: usize = 60;

/// One corpus file.
struct Case {
    /// The path relative to the corpus directory, with `/` separators, e.g.
    /// `v0.1.0/invalid/timeout.yaml`.
    relative: String,
    /// The file on disk.
    path: PathBuf,
    /// Whether it sits under `valid/`.
    expect_valid: bool,
    /// The version its directory names, if any.
    version: Option<SpecVersion>,
}

impl Case {
    /// The snapshot name: the relative path without `.yaml`, `/` replaced by `__`.
    fn snapshot_name(&self) -> String {
        self.relative.trim_end_matches(".yaml").replace('/', "__")
    }
}

/// Sorted entries of a directory.
fn sorted_entries(directory: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(directory)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", directory.display()))
        .map(|entry| entry.expect("a directory entry can be read").path())
        .collect();
    entries.sort();
    entries
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .expect("a corpus path has a file name")
        .to_string_lossy()
        .into_owned()
}

/// Every corpus file, in a deterministic order; panics on anything that does not belong.
fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for version_path in sorted_entries(Path::new(CORPUS_DIRECTORY)) {
        let version_name = file_name(&version_path);
        let Some((_, version)) = VERSION_DIRECTORIES
            .iter()
            .find(|(name, _)| *name == version_name)
        else {
            panic!(
                "unexpected entry in the corpus: {version_name} (expected one of the version directories)"
            );
        };
        for kind_path in sorted_entries(&version_path) {
            let kind = file_name(&kind_path);
            let expect_valid = match kind.as_str() {
                "valid" => true,
                "invalid" => false,
                _ => {
                    panic!("unexpected entry {version_name}/{kind}: expected `valid` or `invalid`")
                }
            };
            for path in sorted_entries(&kind_path) {
                let name = file_name(&path);
                assert!(
                    path.is_file()
                        && path
                            .extension()
                            .is_some_and(|extension| extension == "yaml"),
                    "unexpected entry {version_name}/{kind}/{name}: corpus files end with `.yaml`"
                );
                cases.push(Case {
                    relative: format!("{version_name}/{kind}/{name}"),
                    path,
                    expect_valid,
                    version: *version,
                });
            }
        }
    }
    cases
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The source text under a diagnostic, quoted and cut short, so a snapshot shows what the
/// caret points at.
fn excerpt(text: &str, diagnostic: &Diagnostic) -> String {
    let covered = diagnostic.span.slice(text);
    let mut excerpt: String = covered.chars().take(EXCERPT_LENGTH).collect();
    if covered.chars().count() > EXCERPT_LENGTH {
        excerpt.push('…');
    }
    format!("{excerpt:?}")
}

/// Writes `value` after `prefix`, indenting continuation lines to line up under the first.
fn write_indented(output: &mut String, prefix: &str, value: &str) {
    let continuation = " ".repeat(prefix.chars().count());
    for (index, line) in value.lines().enumerate() {
        let lead = if index == 0 { prefix } else { &continuation };
        writeln!(output, "{lead}{line}").expect("writing to a String cannot fail");
    }
}

/// Every diagnostic as `LINE:COLUMN severity[code] field: message`, then indented `label:`
/// (with the text it covers), `help:` and `related:` lines.
fn render_diagnostics(report: &Report, text: &str) -> String {
    let records = report.records();
    let diagnostics = report.diagnostics();
    assert_eq!(
        records.len(),
        diagnostics.len(),
        "one record per diagnostic"
    );
    if diagnostics.is_empty() {
        return "(none)\n".to_owned();
    }
    let mut output = String::new();
    for (record, diagnostic) in records.iter().zip(diagnostics) {
        let headline = if record.field.is_empty() {
            record.message.to_owned()
        } else {
            format!("{}: {}", record.field, record.message)
        };
        writeln!(
            output,
            "{}:{} {}[{}] {headline}",
            record.line,
            record.column,
            severity_name(record.severity),
            record.code.as_str(),
        )
        .expect("writing to a String cannot fail");
        let label = diagnostic.label.as_deref().unwrap_or("here");
        writeln!(output, "  label: {label} @ {}", excerpt(text, diagnostic))
            .expect("writing to a String cannot fail");
        if let Some(help) = record.help {
            write_indented(&mut output, "  help: ", help);
        }
        for related in &diagnostic.related {
            let (line, column) = report.position(related.span.start);
            writeln!(output, "  related: {line}:{column} {}", related.message)
                .expect("writing to a String cannot fail");
        }
    }
    output
}

/// Parses one case, checks its outcome, and returns the text to snapshot.
fn snapshot_text(case: &Case, text: &str) -> String {
    match drakefile::parse(&case.relative, text) {
        Ok(parsed) => {
            assert!(
                case.expect_valid,
                "{} is under invalid/ but parsed without errors",
                case.relative
            );
            if let Some(version) = case.version {
                assert_eq!(
                    parsed.drakefile.spec_version, version,
                    "{} declares another version than its directory",
                    case.relative
                );
            }
            assert_eq!(
                parsed.warnings.error_count(),
                0,
                "{}: warnings only",
                case.relative
            );
            let model = serde_json::to_string_pretty(&parsed.drakefile)
                .expect("the model serializes to JSON");
            format!(
                "{model}\n\nwarnings:\n{}",
                render_diagnostics(&parsed.warnings, text)
            )
        }
        Err(report) => {
            let rendered = render_diagnostics(&report, text);
            assert!(
                !case.expect_valid,
                "{} is under valid/ but was rejected:\n{rendered}",
                case.relative
            );
            assert!(
                report.error_count() > 0,
                "{}: a rejected file has an error",
                case.relative
            );
            rendered
        }
    }
}

#[test]
fn every_corpus_file_matches_its_snapshot() {
    let cases = cases();
    assert!(!cases.is_empty(), "the corpus is empty");
    let mut failures = Vec::new();
    for case in &cases {
        let text = std::fs::read_to_string(&case.path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", case.relative));
        // One failing file should not hide the others: catch each failure, report all at the end.
        let outcome = std::panic::catch_unwind(|| {
            let snapshot = snapshot_text(case, &text);
            let mut settings = insta::Settings::clone_current();
            settings.set_input_file(&case.path);
            settings.set_description(text.lines().next().unwrap_or_default());
            settings.set_omit_expression(true);
            settings.bind(|| insta::assert_snapshot!(case.snapshot_name(), snapshot));
        });
        if outcome.is_err() {
            failures.push(case.relative.clone());
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus files failed (see above):\n  {}",
        failures.len(),
        cases.len(),
        failures.join("\n  ")
    );
}

#[test]
fn every_version_has_valid_and_invalid_cases() {
    let cases = cases();
    for (version, _) in VERSION_DIRECTORIES {
        for expect_valid in [true, false] {
            assert!(
                cases
                    .iter()
                    .any(|case| case.relative.starts_with(&format!("{version}/"))
                        && case.expect_valid == expect_valid),
                "{version}/{} has no case",
                if expect_valid { "valid" } else { "invalid" }
            );
        }
    }
}

/// A snapshot whose corpus file was renamed or deleted would never be checked again.
#[test]
fn no_snapshot_without_its_corpus_file() {
    let expected: Vec<String> = cases()
        .iter()
        .map(|case| format!("{SNAPSHOT_PREFIX}{}.snap", case.snapshot_name()))
        .collect();
    let Ok(entries) = std::fs::read_dir(SNAPSHOT_DIRECTORY) else {
        // No snapshot yet: `every_corpus_file_matches_its_snapshot` reports them missing.
        return;
    };
    let mut orphans = Vec::new();
    for entry in entries {
        let path = entry.expect("a snapshot entry can be read").path();
        let name = file_name(&path);
        let is_snapshot = path
            .extension()
            .is_some_and(|extension| extension == "snap");
        if is_snapshot && name.starts_with(SNAPSHOT_PREFIX) && !expected.contains(&name) {
            orphans.push(name);
        }
    }
    orphans.sort();
    assert!(
        orphans.is_empty(),
        "these snapshots belong to no corpus file; delete them:\n  {}",
        orphans.join("\n  ")
    );
}
