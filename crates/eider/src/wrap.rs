//! Where diagnostics may break a line: only at spaces outside code spans. What a user must copy
//! (a code span, a path, a URL, a suggested `command` list) stays whole on one line, even when
//! it is wider than the terminal: a line that overflows is still pasted right, a split one gives
//! a different argv. The default word separator of textwrap (Unicode line breaking) breaks
//! after `/` and at hyphens, and splits any word wider than the line.

use miette::GraphicalReportHandler;
use textwrap::core::Word;
use textwrap::{WordSeparator, WordSplitter};

/// Makes `handler` wrap its messages, help and labels the way this module says.
pub fn keep_copyable_text_whole(handler: GraphicalReportHandler) -> GraphicalReportHandler {
    handler
        .with_word_separator(WordSeparator::Custom(words_outside_code_spans))
        .with_word_splitter(WordSplitter::NoHyphenation)
        .with_break_words(false)
}

/// textwrap options for `width` columns that wrap the way this module says, as the handler of
/// [`keep_copyable_text_whole`] does.
#[cfg(test)]
pub fn options(width: usize) -> textwrap::Options<'static> {
    textwrap::Options::new(width)
        .word_separator(WordSeparator::Custom(words_outside_code_spans))
        .word_splitter(WordSplitter::NoHyphenation)
        .break_words(false)
}

/// The words of `line`: each run of ASCII spaces outside a code span ends one. A backtick
/// without a closing one on the same line opens no span, so a stray one (in a value the
/// diagnostic quotes) does not glue the rest of the line together.
fn words_outside_code_spans(line: &str) -> Box<dyn Iterator<Item = Word<'_>> + '_> {
    let mut words = Vec::new();
    let mut start = 0;
    let mut in_spaces = false;
    let mut in_code_span = false;
    for (index, character) in line.char_indices() {
        if character == ' ' && !in_code_span {
            in_spaces = true;
            continue;
        }
        if in_spaces {
            words.push(Word::from(&line[start..index]));
            start = index;
            in_spaces = false;
        }
        if character == '`' {
            in_code_span = !in_code_span && line[index + 1..].contains('`');
        }
    }
    if start < line.len() {
        words.push(Word::from(&line[start..]));
    }
    Box::new(words.into_iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(text: &str, width: usize) -> String {
        textwrap::fill(text, options(width))
    }

    #[test]
    fn a_code_span_with_spaces_is_never_broken() {
        let text = "run `eider validate --json --file ci/Drakefile.yaml` to list them all";
        assert_eq!(
            fill(text, 20),
            "run\n`eider validate --json --file ci/Drakefile.yaml`\nto list them all"
        );
    }

    #[test]
    fn a_path_is_never_broken_after_a_slash_or_at_a_hyphen() {
        let text = "cannot read ./build-tools/cmd/long-named-directory/Drakefile.yaml now";
        assert_eq!(
            fill(text, 24),
            "cannot read\n./build-tools/cmd/long-named-directory/Drakefile.yaml\nnow"
        );
    }

    #[test]
    fn a_url_wider_than_the_line_overflows_whole() {
        let text = "see https://example.com/lovethedrake/drakespec/blob/main/spec.md for more";
        assert_eq!(
            fill(text, 16),
            "see\nhttps://example.com/lovethedrake/drakespec/blob/main/spec.md\nfor more"
        );
    }

    #[test]
    fn a_suggested_command_list_stays_on_one_line() {
        let text =
            r#"write it as a list: ["go","test","-covermode=atomic","./cmd/...","./internal/..."]"#;
        assert_eq!(
            fill(text, 40),
            "write it as a list:\n[\"go\",\"test\",\"-covermode=atomic\",\"./cmd/...\",\"./internal/...\"]"
        );
    }

    #[test]
    fn prose_still_wraps_at_spaces() {
        assert_eq!(
            fill("the quick brown fox jumps over the lazy dog", 15),
            "the quick brown\nfox jumps over\nthe lazy dog"
        );
    }

    #[test]
    fn an_unclosed_backtick_opens_no_code_span() {
        assert_eq!(fill("a `b c d e f", 5), "a `b\nc d e\nf");
    }

    #[test]
    fn words_keep_their_spaces_and_leading_indentation() {
        let words: Vec<(&str, &str)> = words_outside_code_spans("  a `b  c`  d")
            .map(|word| (word.word, word.whitespace))
            .collect();
        assert_eq!(words, [("", "  "), ("a", " "), ("`b  c`", "  "), ("d", "")]);
    }
}
