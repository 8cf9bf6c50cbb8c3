//! Replacing scalars in place: a key renamed in its own quoting, a value replaced with its tag
//! (which would contradict the new value) and, for `|` and `>` blocks, its indicator line.

use crate::yaml::written::{NodeId, ScalarStyle, WrittenDocument, WrittenKind};

use super::edit::Edits;
use super::layout::{line_end, line_start, trim_end};
use super::pass::Pass;

/// The text a scalar value occupies, to be replaced as a whole.
pub(super) struct ScalarRange {
    pub(super) start: usize,
    pub(super) end: usize,
    /// A comment on a block scalar's indicator line (` # ...`), which the replacement keeps.
    pub(super) comment: Option<String>,
}

/// Where the scalar `node` is written, tag and block indicator included (its anchor, which
/// comes first, is not part of it). `None` for a layout this does not know.
pub(super) fn scalar_range(pass: &Pass<'_>, node: NodeId) -> Option<ScalarRange> {
    let text = pass.text;
    let written = pass.document.node(node);
    let WrittenKind::Scalar { style, .. } = written.kind else {
        return None;
    };
    let span = written.span;
    if !style.is_block() {
        return Some(ScalarRange {
            start: tag_start(text, span.start as usize),
            end: span.end as usize,
            comment: None,
        });
    }
    // The indicator (`|`, `>-`, `|2+`, ...) ends the last non-blank line before the text.
    let mut header = line_start(text, span.start as usize);
    loop {
        if header == 0 {
            return None;
        }
        header = line_start(text, header - 1);
        if !text[header..line_end(text, header)].trim().is_empty() {
            break;
        }
    }
    let line = &text[header..line_end(text, header)];
    let (before_comment, comment) = match comment_start(line) {
        Some(index) => (&line[..index], Some(line[index..].trim_end().to_owned())),
        None => (line, None),
    };
    let indicator = before_comment.trim_end();
    let token_start = indicator.rfind(' ').map_or(0, |index| index + 1);
    if !indicator[token_start..].starts_with(['|', '>']) {
        return None;
    }
    let start = tag_start(text, header + token_start);
    let end = trim_end(text, start, span.end as usize);
    Some(ScalarRange {
        start,
        end,
        comment,
    })
}

/// The replacement for a [`ScalarRange`]: `value`, then the indicator line's comment if any.
pub(super) fn with_comment(range: &ScalarRange, value: &str) -> String {
    match &range.comment {
        Some(comment) => format!("{value} {comment}"),
        None => value.to_owned(),
    }
}

/// Where a `#` comment starts in a line that holds no quoted scalar before it.
fn comment_start(line: &str) -> Option<usize> {
    if line.trim_start().starts_with('#') {
        return line.find('#');
    }
    line.find(" #").map(|index| index + 1)
}

/// The start of a `!tag` written just before `start` on its line, or `start`.
fn tag_start(text: &str, start: usize) -> usize {
    let before = &text[line_start(text, start)..start];
    let trimmed = before.trim_end_matches(' ');
    let token_start = trimmed
        .rfind([' ', ':', '-', '[', '{', ','])
        .map_or(0, |index| index + 1);
    if trimmed[token_start..].starts_with('!') {
        start - (before.len() - token_start)
    } else {
        start
    }
}

/// Renames the key `key` to `name` in the key's own quoting.
pub(super) fn rename_key(document: &WrittenDocument, edits: &mut Edits, key: NodeId, name: &str) {
    let node = document.node(key);
    let (start, end) = (node.span.start as usize, node.span.end as usize);
    match node.kind {
        WrittenKind::Scalar {
            style: ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted,
            ..
        } if end >= start + 2 => edits.replace(start + 1, end - 1, name),
        _ => edits.replace(start, end, name),
    }
}

/// `name` written as a new key of the mapping whose keys look like `sample`: in double quotes
/// when they are (a file written as JSON), plain otherwise.
pub(super) fn key_like(pass: &Pass<'_>, sample: NodeId, name: &str) -> String {
    match pass.document.node(sample).kind {
        WrittenKind::Scalar {
            style: ScalarStyle::DoubleQuoted,
            ..
        } => format!("\"{name}\""),
        _ => name.to_owned(),
    }
}

/// A string value written for the mapping whose keys look like `sample`: double-quoted in a
/// file written as JSON, plain when safe otherwise.
pub(super) fn string_like(pass: &Pass<'_>, sample: NodeId, value: &str) -> String {
    match pass.document.node(sample).kind {
        WrittenKind::Scalar {
            style: ScalarStyle::DoubleQuoted,
            ..
        } => crate::yaml::emit::double_quoted(value),
        _ => crate::yaml::emit::string(value),
    }
}
