//! The three stages measured on each Drakefile, each a superset of the one before: the raw YAML
//! events, the located tree, and the full parse (tree, validation, normalization).
//!
//! Before anything is timed, [`check`] runs every stage once and fails when one rejects the
//! generated text: a benchmark of an error path would measure the wrong thing.

use std::rc::Rc;

use drakefile::yaml::Node;
use granit_parser::{Parser, ScanError};

use crate::generate::Style;

/// Why a generated Drakefile was not accepted by a stage.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The YAML parser rejected the text.
    #[error("the YAML parser rejects the {style} Drakefile")]
    Events {
        /// The style of the file.
        style: &'static str,
        /// What the parser said.
        #[source]
        source: ScanError,
    },
    /// The tree loader rejected the text.
    #[error(
        "the tree loader rejects the {style} Drakefile at line {line}, column {column}: {message}"
    )]
    Tree {
        /// The style of the file.
        style: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column, in bytes.
        column: usize,
        /// What the loader said.
        message: String,
    },
    /// The tree loader found no document at all.
    #[error("the tree loader finds no document in the {style} Drakefile")]
    EmptyTree {
        /// The style of the file.
        style: &'static str,
    },
    /// Validation reported errors.
    #[error("the {style} Drakefile is invalid ({} errors)", report.error_count())]
    Invalid {
        /// The style of the file.
        style: &'static str,
        /// Every diagnostic.
        report: drakefile::Report,
    },
}

/// Iterates the raw parser events and counts them: the floor any YAML-based parser pays.
pub fn events(text: &str) -> Result<usize, ScanError> {
    let mut count = 0;
    for event in Parser::new_from_str(text) {
        event?;
        count += 1;
    }
    Ok(count)
}

/// Builds the located tree only, with aliases and merge keys resolved.
pub fn tree(text: &str) -> Result<Option<Rc<Node>>, drakefile::yaml::SyntaxError> {
    drakefile::yaml::load(text)
}

/// Parses, validates and normalizes, as `eider` does for every command.
pub fn parse(text: &str) -> Result<drakefile::Parsed, drakefile::Report> {
    drakefile::parse("Drakefile.yaml", text)
}

/// Runs every stage once and reports the first that rejects `text`. Returns the number of
/// warnings the full parse produced.
pub fn check(style: Style, text: &str) -> Result<usize, CheckError> {
    let style = style.name();
    events(text).map_err(|source| CheckError::Events { style, source })?;
    match tree(text) {
        Ok(Some(_)) => {}
        Ok(None) => return Err(CheckError::EmptyTree { style }),
        Err(error) => {
            let (line, column) = line_column(text, error.span.start as usize);
            return Err(CheckError::Tree {
                style,
                line,
                column,
                message: error.message,
            });
        }
    }
    match parse(text) {
        Ok(parsed) => Ok(parsed.warnings.warning_count()),
        Err(report) => Err(CheckError::Invalid { style, report }),
    }
}

/// The 1-based line and byte column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line_start = before
        .iter()
        .rposition(|byte| *byte == b'\n')
        .map_or(0, |index| index + 1);
    let line = before.split(|byte| *byte == b'\n').count();
    (line, offset.min(text.len()) - line_start + 1)
}

#[cfg(test)]
mod tests {
    use super::line_column;

    #[test]
    fn line_column_counts_from_one() {
        assert_eq!(line_column("a: 1\nbc: 2\n", 0), (1, 1));
        assert_eq!(line_column("a: 1\nbc: 2\n", 6), (2, 2));
    }
}
