//! Lines and indentation of the text being rewritten: new lines take the file's own line ending
//! and indentation step, and moved blocks are re-indented line by line.

use crate::yaml::written::{NodeId, WrittenDocument, WrittenKind};

use super::edit::Edits;

/// How the file writes what the rewrite adds.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    /// `"\n"`, or `"\r\n"` when the file's first line ends so.
    pub(super) line_ending: &'static str,
    /// How many spaces a nested block is indented by (2 when nothing says otherwise).
    pub(super) indentation_unit: usize,
}

impl Layout {
    /// The layout of `text`, whose written form is `document`.
    pub(super) fn of(text: &str, document: &WrittenDocument) -> Self {
        let line_ending = match text.find('\n') {
            Some(index) if index > 0 && text.as_bytes()[index - 1] == b'\r' => "\r\n",
            _ => "\n",
        };
        let indentation_unit = document
            .root()
            .and_then(|root| nested_step(text, document, root, 0))
            .unwrap_or(2);
        Self {
            line_ending,
            indentation_unit,
        }
    }
}

/// The first indentation step of a block mapping inside a block mapping.
fn nested_step(
    text: &str,
    document: &WrittenDocument,
    mapping: NodeId,
    depth: usize,
) -> Option<usize> {
    if depth > 8 {
        return None;
    }
    let WrittenKind::Mapping {
        flow: false,
        entries,
    } = &document.node(mapping).kind
    else {
        return None;
    };
    for (key, value) in entries {
        if let WrittenKind::Mapping { flow: false, .. } = &document.node(*value).kind {
            let key_start = document.node(*key).span.start as usize;
            let value_start = document.node(*value).span.start as usize;
            let (outer, inner) = (column(text, key_start), column(text, value_start));
            let own_line = line_start(text, value_start) != line_start(text, key_start);
            if inner > outer && own_line {
                return Some(inner - outer);
            }
            if let Some(step) = nested_step(text, document, *value, depth + 1) {
                return Some(step);
            }
        }
    }
    None
}

/// The offset where the line holding `offset` starts.
pub(super) fn line_start(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |index| index + 1)
}

/// The offset just past the line break that ends the line holding `offset` (the text's end for
/// its last line).
pub(super) fn next_line_start(text: &str, offset: usize) -> usize {
    text[offset.min(text.len())..]
        .find('\n')
        .map_or(text.len(), |index| offset + index + 1)
}

/// The offset of the line break (or `\r\n`) that ends the line holding `offset`.
pub(super) fn line_end(text: &str, offset: usize) -> usize {
    let next = next_line_start(text, offset);
    let mut end = next;
    if text[..end].ends_with('\n') {
        end -= 1;
    }
    if text[..end].ends_with('\r') {
        end -= 1;
    }
    end.max(offset.min(text.len()))
}

/// The column (in bytes; indentation is spaces) of `offset` in its line.
pub(super) fn column(text: &str, offset: usize) -> usize {
    offset - line_start(text, offset)
}

/// How many spaces the line starting at `start` begins with.
pub(super) fn indentation(text: &str, start: usize) -> usize {
    text[start..]
        .bytes()
        .take_while(|byte| *byte == b' ')
        .count()
}

/// Whether the line holding `offset` has only spaces before `offset`.
pub(super) fn only_spaces_before(text: &str, offset: usize) -> bool {
    text[line_start(text, offset)..offset]
        .bytes()
        .all(|byte| byte == b' ')
}

/// Whether the line starting at `start` is blank or a comment.
fn is_blank_or_comment(text: &str, start: usize) -> bool {
    let line = text[start..line_end(text, start)].trim_start();
    line.is_empty() || line.starts_with('#')
}

/// Where the comment lines directly above the line starting at `start` begin (`start` when there
/// are none): a comment written just above a key belongs with it.
pub(super) fn leading_comments_start(text: &str, start: usize) -> usize {
    let mut first = start;
    while first > 0 {
        let previous = line_start(text, first - 1);
        let line = text[previous..line_end(text, previous)].trim_start();
        if !line.starts_with('#') {
            break;
        }
        first = previous;
    }
    first
}

/// The end of the text of a node that ends at `end`, without the line breaks and spaces that
/// a block scalar's span carries up to the next token.
pub(super) fn trim_end(text: &str, start: usize, end: usize) -> usize {
    let trimmed = text[start..end].trim_end_matches([' ', '\n', '\r', '\t']);
    start + trimmed.len()
}

/// Whether `start..end` holds a comment (the text between tokens, never inside a scalar).
pub(super) fn has_comment(text: &str, start: usize, end: usize) -> bool {
    text[start..end].contains('#')
}

/// Re-indents every line that starts in `from..=to` by `shift` spaces (removing at most the
/// spaces a line has when `shift` is negative). Blank lines are left alone.
pub(super) fn shift_lines(text: &str, edits: &mut Edits, from: usize, to: usize, shift: isize) {
    if shift == 0 {
        return;
    }
    let mut start = line_start(text, from);
    while start <= to && start < text.len() {
        let blank = text[start..line_end(text, start)].trim().is_empty();
        if !blank {
            if shift > 0 {
                edits.insert(start, " ".repeat(shift.unsigned_abs()));
            } else {
                let removed = indentation(text, start).min(shift.unsigned_abs());
                if removed > 0 {
                    edits.replace(start, start + removed, "");
                }
            }
        }
        let next = next_line_start(text, start);
        if next <= start {
            break;
        }
        start = next;
    }
}

/// The offset of the `-` that opens the block sequence item whose text starts at `item_start`,
/// when the layout is the usual one (the `-` first on its line, then the item or a comment
/// before it).
pub(super) fn item_dash(text: &str, item_start: usize) -> Option<usize> {
    let mut position = item_start;
    loop {
        let start = line_start(text, position);
        let before = &text[start..position];
        let trimmed = before.trim_start();
        let dash = start + (before.len() - trimmed.len());
        if trimmed.starts_with('-') && text[dash + 1..position].trim().is_empty() {
            return Some(dash);
        }
        if !trimmed.is_empty() {
            return None;
        }
        // Only spaces before the item on its line: the `-` is on an earlier line, possibly
        // followed by a comment.
        if start == 0 {
            return None;
        }
        let previous = line_start(text, start - 1);
        let line = &text[previous..line_end(text, previous)];
        let content = line.trim_start();
        let dash = previous + (line.len() - content.len());
        if let Some(rest) = content.strip_prefix('-') {
            let rest = rest.trim_start();
            if rest.is_empty() || rest.starts_with('#') {
                return Some(dash);
            }
            return None;
        }
        if !is_blank_or_comment(text, previous) {
            return None;
        }
        position = previous;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let text = "a: 1\r\n  b: 2\nlast";
        assert_eq!(line_start(text, 9), 6);
        assert_eq!(line_end(text, 1), 4);
        assert_eq!(next_line_start(text, 1), 6);
        assert_eq!(line_end(text, 14), text.len());
        assert_eq!(column(text, 8), 2);
        assert_eq!(indentation(text, 6), 2);
    }

    #[test]
    fn the_layout_follows_the_file() {
        let text = "a:\r\n    b:\r\n        c: 1\r\n";
        let document = WrittenDocument::parse(text).expect("valid");
        let layout = Layout::of(text, &document);
        assert_eq!(layout.line_ending, "\r\n");
        assert_eq!(layout.indentation_unit, 4);
        let document = WrittenDocument::parse("a: 1\n").expect("valid");
        assert_eq!(Layout::of("a: 1\n", &document).indentation_unit, 2);
    }

    #[test]
    fn comments_directly_above_belong_to_the_line() {
        let text = "a: 1\n\n# one\n  # two\nb: 2\n";
        let b = text.find("b:").expect("b");
        assert_eq!(
            &text[leading_comments_start(text, b)..b],
            "# one\n  # two\n"
        );
        assert_eq!(leading_comments_start(text, 0), 0);
    }

    #[test]
    fn dashes_are_found_before_items() {
        let text = "- a\n  -   b\n-\n  c\n- # note\n  d\nx - e\n";
        for (item, dash) in [("a", 0), ("b", 6), ("c", 12), ("d", 18)] {
            let start = text.find(item).expect("item");
            assert_eq!(item_dash(text, start), Some(dash), "{item}");
        }
        assert_eq!(item_dash(text, text.find('e').expect("e")), None);
    }

    #[test]
    fn lines_shift_both_ways_and_blank_lines_stay() {
        let text = "a:\n  b: 1\n\n  c: 2\nd: 3\n";
        let mut edits = Edits::default();
        shift_lines(text, &mut edits, 3, 12, 2);
        let (shifted, _) = edits.apply(text).expect("no overlap");
        assert_eq!(shifted, "a:\n    b: 1\n\n    c: 2\nd: 3\n");
        let mut edits = Edits::default();
        shift_lines(text, &mut edits, 3, 12, -4);
        let (shifted, _) = edits.apply(text).expect("no overlap");
        assert_eq!(shifted, "a:\nb: 1\n\nc: 2\nd: 3\n");
    }
}
