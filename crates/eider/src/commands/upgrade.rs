//! `eider upgrade`: the Drakefile rewritten in place for a newer DrakeSpec version (the library's
//! `drakefile::upgrade`), written whole or shown as a unified diff; what was converted and what
//! behaves differently under the new version on stderr.

use std::fmt::Write as _;

use drakefile::{SpecVersion, Upgrade, UpgradeError};

use super::print_stdout;
use crate::cli::UpgradeOptions;
use crate::discover::Located;
use crate::failure::{Explained, Failure};
use crate::render::{Output, plural};
use crate::whole_file::write_whole;

pub fn run(options: &UpgradeOptions, located: &Located, output: Output) -> Result<(), Failure> {
    let text = drakefile::read_source(&located.path)?;
    let target = options.to.unwrap_or(SpecVersion::LATEST);
    let upgrade = drakefile::upgrade(&located.display, &text, target)
        .map_err(|error| failure(error, target))?;
    if upgrade.is_unchanged(&text) {
        output.note(&format!(
            "{} already follows {}: nothing to upgrade",
            located.display,
            target.title()
        ));
        return Ok(());
    }
    if options.dry_run {
        print_stdout(&unified_diff(&located.display, &text, &upgrade.text))?;
    } else {
        // Reading drops a byte-order mark; the rewrite keeps the file's.
        let mut bytes = Vec::with_capacity(upgrade.text.len() + BYTE_ORDER_MARK.len());
        if starts_with_byte_order_mark(&located.path) {
            bytes.extend_from_slice(BYTE_ORDER_MARK);
        }
        bytes.extend_from_slice(upgrade.text.as_bytes());
        write_whole(&located.path, &bytes, ".eider-upgrade-").map_err(|error| {
            Failure::input(format!("cannot write {}", located.display)).with_error(&error)
        })?;
    }
    summarize(&upgrade, &located.display, options.dry_run, output);
    Ok(())
}

/// The UTF-8 byte-order mark.
const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

/// Whether the file at `path` starts with a byte-order mark.
fn starts_with_byte_order_mark(path: &camino::Utf8Path) -> bool {
    use std::io::Read as _;
    let mut start = [0_u8; 3];
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut start))
        .is_ok()
        && start == BYTE_ORDER_MARK
}

/// What was done (or would be), each conversion at its place, then what now behaves
/// differently.
fn summarize(upgrade: &Upgrade, file: &str, dry_run: bool, output: Output) {
    let what = if upgrade.from == upgrade.to {
        format!("fixed {file} for {}", upgrade.to.title())
    } else {
        format!(
            "upgraded {file} from {} to {}",
            upgrade.from.title(),
            upgrade.to.title()
        )
    };
    let mut text = if dry_run {
        format!("{what} (dry run: nothing was written)")
    } else {
        what
    };
    for change in &upgrade.changes {
        // Writing to a String cannot fail.
        let _ = write!(
            text,
            "\n  {}:{} {}: {}",
            change.line, change.column, change.field, change.description
        );
    }
    output.note(&text);
    for note in &upgrade.notes {
        output.warning(note);
    }
}

/// The change as a unified diff, `a/FILE` to `b/FILE`, three lines of context.
fn unified_diff(file: &str, old: &str, new: &str) -> String {
    // Patience matches unique lines first: Drakefiles repeat lines (`- name: main`) that make
    // Myers' algorithm slow on large files, and hunks read better anchored on unique lines.
    similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Patience)
        .diff_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{file}"), &format!("b/{file}"))
        .to_string()
}

fn failure(error: UpgradeError, target: SpecVersion) -> Failure {
    let nothing = "nothing was written";
    match error {
        UpgradeError::Unreadable(report) => Failure::Invalid(report),
        UpgradeError::Refused(report) => {
            let summary = format!(
                "{} cannot be upgraded to {} faithfully: {}; {nothing}",
                report.name(),
                target.title(),
                plural(report.error_count(), "part")
            );
            Failure::Diagnostics(Box::new(Explained {
                report,
                summary,
                hint: Some(
                    "change these parts by hand (or upgrade to an older version with `--to`), \
                     then run `eider upgrade` again"
                        .to_owned(),
                ),
            }))
        }
        UpgradeError::Invalid(report) => {
            let summary = format!(
                "upgraded to {}, {} would still be invalid: {} that `eider upgrade` does not fix; {nothing}",
                target.title(),
                report.name(),
                plural(report.error_count(), "error"),
            );
            Failure::Diagnostics(Box::new(Explained {
                report,
                summary,
                hint: Some("fix them, then run `eider upgrade` again".to_owned()),
            }))
        }
        error @ UpgradeError::Downgrade { declared, .. } => Failure::input(error.to_string())
            .with_hint(format!("`--to` takes {declared} or a newer version")),
        UpgradeError::WouldChangeJobs { file, differences } => {
            let mut failure = Failure::input(format!(
                "the upgraded {file} would not run the same jobs; {nothing}"
            ));
            for difference in differences {
                failure = failure.with_cause(difference);
            }
            failure
                .with_hint("this is a bug of `eider upgrade`: please report it with the Drakefile")
        }
    }
}
