//! Text edits: byte ranges of the old text and what replaces them. Everything outside the edits
//! is kept byte for byte, which is how an upgrade keeps comments, anchors, key order, quoting
//! and indentation it has no reason to touch.

/// One replacement of `start..end` (an insertion when the range is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Edit {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) replacement: String,
}

/// Two edits of one pass touch the same text: a bug of the conversions, reported rather than
/// guessed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Overlap {
    /// Where the second edit starts, in the old text.
    pub(super) offset: usize,
}

/// The edits of one pass over a text, in the order they were asked for.
#[derive(Debug, Default)]
pub(super) struct Edits {
    edits: Vec<Edit>,
}

impl Edits {
    /// Replaces `start..end` with `replacement`.
    pub(super) fn replace(&mut self, start: usize, end: usize, replacement: impl Into<String>) {
        self.edits.push(Edit {
            start,
            end: end.max(start),
            replacement: replacement.into(),
        });
    }

    /// Inserts `text` at `offset`. Insertions at one offset keep the order they were asked in.
    pub(super) fn insert(&mut self, offset: usize, text: impl Into<String>) {
        self.replace(offset, offset, text);
    }

    /// Adds the edits of `other`, after those already asked for.
    pub(super) fn append(&mut self, other: Self) {
        self.edits.extend(other.edits);
    }

    /// Whether nothing was asked for.
    pub(super) fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// Applies the edits to `text` (the text they were computed on).
    pub(super) fn apply(mut self, text: &str) -> Result<(String, Applied), Overlap> {
        // Stable: insertions at one offset stay in the order asked, before a replacement there.
        self.edits
            .sort_by_key(|edit| (edit.start, edit.start != edit.end));
        let mut output = String::with_capacity(text.len() + 256);
        let mut position = 0;
        for edit in &self.edits {
            let in_bounds = edit.end <= text.len()
                && text.is_char_boundary(edit.start)
                && text.is_char_boundary(edit.end);
            if edit.start < position || !in_bounds {
                return Err(Overlap { offset: edit.start });
            }
            output.push_str(&text[position..edit.start]);
            output.push_str(&edit.replacement);
            position = edit.end;
        }
        output.push_str(&text[position..]);
        Ok((output, Applied::new(self.edits)))
    }
}

/// Edits as applied, to find where a place of the new text was in the old one.
#[derive(Debug, Clone, Default)]
pub(super) struct Applied {
    edits: Vec<Edit>,
    /// Where each edit's replacement starts in the new text, in order.
    new_starts: Vec<usize>,
}

impl Applied {
    fn new(edits: Vec<Edit>) -> Self {
        let mut shift: isize = 0;
        let new_starts = edits
            .iter()
            .map(|edit| {
                let start = edit.start.saturating_add_signed(shift);
                shift +=
                    edit.replacement.len().cast_signed() - (edit.end - edit.start).cast_signed();
                start
            })
            .collect();
        Self { edits, new_starts }
    }

    /// The offset in the old text of `offset` in the new text. A place inside replaced text maps
    /// to the start of what it replaced.
    pub(super) fn old_offset(&self, offset: usize) -> usize {
        // The last edit that starts at or before `offset` in the new text.
        let index = self.new_starts.partition_point(|start| *start <= offset);
        let Some(index) = index.checked_sub(1) else {
            return offset;
        };
        let edit = &self.edits[index];
        let new_start = self.new_starts[index];
        let new_end = new_start + edit.replacement.len();
        if offset < new_end {
            return edit.start;
        }
        edit.end + (offset - new_end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_in_offset_order_and_keep_the_rest() {
        let mut edits = Edits::default();
        edits.replace(6, 11, "there");
        edits.insert(0, "> ");
        edits.insert(0, "# ");
        let (text, _) = edits.apply("hello world!").expect("no overlap");
        assert_eq!(text, "> # hello there!");
    }

    #[test]
    fn overlapping_edits_are_refused() {
        let mut edits = Edits::default();
        edits.replace(0, 5, "a");
        edits.replace(3, 7, "b");
        assert_eq!(
            edits.apply("0123456789").expect_err("overlap"),
            Overlap { offset: 3 }
        );
    }

    #[test]
    fn new_offsets_map_back_to_old_ones() {
        let mut edits = Edits::default();
        edits.replace(2, 4, "XYZW");
        edits.insert(6, "++");
        let (text, applied) = edits.apply("0123456789").expect("no overlap");
        assert_eq!(text, "01XYZW45++6789");
        assert_eq!(applied.old_offset(0), 0);
        assert_eq!(applied.old_offset(3), 2, "inside a replacement");
        assert_eq!(applied.old_offset(6), 4);
        assert_eq!(applied.old_offset(8), 6, "inside an insertion");
        assert_eq!(applied.old_offset(10), 6);
        assert_eq!(applied.old_offset(13), 9);
    }
}
