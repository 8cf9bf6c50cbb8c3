//! Secret masking: replaces every occurrence of a secret value in job output with [`MASK`].
//!
//! One Aho-Corasick automaton holds every pattern, so masking costs one pass over the output
//! whatever the number of secrets. Matching is leftmost-longest: where a whole multi-line value
//! and its first line both match, the whole value is masked.

use std::borrow::Cow;
use std::fmt;

use aho_corasick::{AhoCorasick, MatchKind};

/// What replaces a secret in output.
pub const MASK: &str = "***";

/// Secret values shorter than this many bytes are not masked: masking a value like `a` or `on`
/// would replace that text everywhere in the output and make logs unreadable while hiding
/// nothing a reader could not guess. [`Masker::unmasked_names`] lists such secrets so that the
/// caller can warn about them.
pub const MIN_SECRET_LENGTH: usize = 4;

/// Masks secret values in output. Cheap to share between tasks (`Send + Sync`).
///
/// Its `Debug` output shows how many patterns it holds, never the patterns.
pub struct Masker {
    /// `None` when there is nothing to mask.
    matcher: Option<Matcher>,
    /// Number of distinct patterns.
    pattern_count: usize,
    /// Length in bytes of the longest pattern.
    longest: usize,
    /// Names of secrets too short to mask, sorted and deduplicated.
    unmasked_names: Vec<String>,
}

enum Matcher {
    /// The normal case.
    Automaton(AhoCorasick),
    /// The automaton could not be built (only possible beyond billions of pattern bytes, far past
    /// anything a secrets file holds). Failing closed, every line is then replaced by one mask
    /// rather than risk printing a secret.
    RedactEverything,
}

impl Masker {
    /// A masker for `secrets`, given as `(name, value)` pairs.
    ///
    /// Each value of at least [`MIN_SECRET_LENGTH`] bytes becomes a pattern. A multi-line value
    /// (such as a PEM key) also contributes each of its lines (without a trailing `\r`) of at least
    /// [`MIN_SECRET_LENGTH`] bytes, so that the value stays masked when a program prints it line
    /// by line and the lines reach the masker separately.
    pub fn new<'a>(secrets: impl IntoIterator<Item = (&'a str, &'a str)>) -> Masker {
        let mut patterns: Vec<String> = Vec::new();
        let mut unmasked_names = Vec::new();
        for (name, value) in secrets {
            if value.is_empty() {
                continue;
            }
            if value.len() < MIN_SECRET_LENGTH {
                unmasked_names.push(name.to_owned());
                continue;
            }
            patterns.push(value.to_owned());
            // A program may print the secret encoded (issue 6: base64, JSON, URL).
            patterns.extend(crate::mask_encodings::encoded_forms(value));
            if value.contains('\n') {
                patterns.extend(
                    value
                        .split('\n')
                        .map(|line| line.strip_suffix('\r').unwrap_or(line))
                        .filter(|line| line.len() >= MIN_SECRET_LENGTH)
                        .map(str::to_owned),
                );
            }
        }
        patterns.sort_unstable();
        patterns.dedup();
        unmasked_names.sort_unstable();
        unmasked_names.dedup();
        let longest = patterns.iter().map(String::len).max().unwrap_or(0);
        let matcher = if patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&patterns)
                    .map_or(Matcher::RedactEverything, Matcher::Automaton),
            )
        };
        Masker {
            matcher,
            pattern_count: patterns.len(),
            longest,
            unmasked_names,
        }
    }

    /// A masker that masks nothing.
    #[must_use]
    pub fn none() -> Masker {
        Masker {
            matcher: None,
            pattern_count: 0,
            longest: 0,
            unmasked_names: Vec::new(),
        }
    }

    /// Whether there is nothing to mask (output passes through unchanged).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.matcher.is_none()
    }

    /// Names of the non-empty secrets left unmasked for being shorter than
    /// [`MIN_SECRET_LENGTH`], sorted and deduplicated.
    #[must_use]
    pub fn unmasked_names(&self) -> &[String] {
        &self.unmasked_names
    }

    /// Length in bytes of the longest pattern; 0 when there is none.
    ///
    /// A text cut `longest() - 1` bytes or more before its end cannot cut a match that starts
    /// before the cut, which is what lets output be masked in pieces.
    #[must_use]
    pub fn longest(&self) -> usize {
        self.longest
    }

    /// `input` with every secret replaced by [`MASK`]; borrowed when nothing matched.
    #[must_use]
    pub fn mask_bytes<'b>(&self, input: &'b [u8]) -> Cow<'b, [u8]> {
        match &self.matcher {
            None => Cow::Borrowed(input),
            Some(Matcher::Automaton(automaton)) => {
                let mut matches = automaton.find_iter(input).peekable();
                if matches.peek().is_none() {
                    return Cow::Borrowed(input);
                }
                let mut output = Vec::with_capacity(input.len());
                let mut copied = 0;
                for found in matches {
                    output.extend_from_slice(&input[copied..found.start()]);
                    output.extend_from_slice(MASK.as_bytes());
                    copied = found.end();
                }
                output.extend_from_slice(&input[copied..]);
                Cow::Owned(output)
            }
            Some(Matcher::RedactEverything) => Cow::Owned(redact_every_line(input)),
        }
    }

    /// Where `input` can be cut at `position` or after it without cutting a match: `position`,
    /// or the end of the match (in a leftmost-longest scan of `input`) that straddles it.
    ///
    /// Masking the two parts separately then gives the same result as masking `input` whole,
    /// provided `input` extends at least `longest() - 1` bytes past `position`.
    pub(crate) fn cut_point(&self, input: &[u8], position: usize) -> usize {
        if let Some(Matcher::Automaton(automaton)) = &self.matcher {
            for found in automaton.find_iter(input) {
                if found.start() >= position {
                    break;
                }
                if found.end() > position {
                    return found.end();
                }
            }
        }
        position
    }

    /// `text` with every secret replaced by [`MASK`]; borrowed when nothing matched.
    #[must_use]
    pub fn mask_text<'b>(&self, text: &'b str) -> Cow<'b, str> {
        match self.mask_bytes(text.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            // Patterns are UTF-8 strings, and a match of a UTF-8 pattern in UTF-8 text starts and
            // ends on character boundaries, so the conversion cannot fail; the lossy path only
            // keeps the code free of a panic.
            Cow::Owned(bytes) => Cow::Owned(match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
            }),
        }
    }
}

/// Replaces the content of every non-empty line by [`MASK`], keeping the line breaks.
fn redact_every_line(input: &[u8]) -> Vec<u8> {
    let mut output = Vec::new();
    for (index, line) in input.split(|byte| *byte == b'\n').enumerate() {
        if index > 0 {
            output.push(b'\n');
        }
        if !line.is_empty() {
            output.extend_from_slice(MASK.as_bytes());
        }
    }
    output
}

impl fmt::Debug for Masker {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Masker")
            .field("patterns", &self.pattern_count)
            .field("longest", &self.longest)
            .field("unmasked_names", &self.unmasked_names)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masker(secrets: &[(&str, &str)]) -> Masker {
        Masker::new(secrets.iter().copied())
    }

    /// The longest pattern `value` gives: itself or one of its encoded forms.
    fn longest_form(value: &str) -> usize {
        crate::mask_encodings::encoded_forms(value)
            .iter()
            .map(String::len)
            .chain([value.len()])
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn encoded_secrets_are_masked() {
        let masker = masker(&[("TOKEN", "s3cr3t %&\"value")]);
        let json = serde_json::json!({ "token": "s3cr3t %&\"value" }).to_string();
        assert_eq!(masker.mask_text(&json), r#"{"token":"***"}"#);
        assert_eq!(
            masker.mask_text("url=s3cr3t%20%25%26%22value&x=1"),
            "url=***&x=1"
        );
        for prefix in ["", "a", "ab"] {
            let encoded = base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("{prefix}s3cr3t %&\"value!"),
            );
            assert!(
                masker.mask_text(&encoded).contains(MASK),
                "base64 at offset {} not masked: {encoded}",
                prefix.len()
            );
        }
    }

    #[test]
    fn masker_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Masker>();
    }

    #[test]
    fn every_occurrence_is_masked() {
        let masker = masker(&[("TOKEN", "hunter2"), ("KEY", "s3cr3t-key")]);
        assert_eq!(
            masker.mask_text("token=hunter2 key=s3cr3t-key again hunter2"),
            "token=*** key=*** again ***"
        );
    }

    #[test]
    fn text_without_secrets_is_borrowed() {
        let masker = masker(&[("TOKEN", "hunter2")]);
        assert!(matches!(masker.mask_text("nothing here"), Cow::Borrowed(_)));
        assert!(matches!(
            masker.mask_bytes(b"nothing here"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn empty_masker_masks_nothing() {
        for masker in [Masker::none(), masker(&[]), masker(&[("EMPTY", "")])] {
            assert!(masker.is_empty());
            assert_eq!(masker.longest(), 0);
            assert!(masker.unmasked_names().is_empty());
            assert!(matches!(masker.mask_bytes(b"any text"), Cow::Borrowed(_)));
        }
    }

    #[test]
    fn short_values_are_not_masked_and_are_listed_once() {
        let masker = masker(&[("B", "abc"), ("A", "on"), ("B", "xyz"), ("LONG", "abcd")]);
        assert_eq!(masker.unmasked_names(), ["A", "B"]);
        assert_eq!(masker.mask_text("abc on abcd"), "abc on ***");
        assert_eq!(masker.longest(), 4);
    }

    #[test]
    fn longest_match_wins() {
        let masker = masker(&[("SHORT", "pass"), ("LONG", "password")]);
        assert_eq!(masker.mask_text("password pass"), "*** ***");
        assert_eq!(masker.longest(), longest_form("password"));
    }

    #[test]
    fn multi_line_values_are_masked_whole_and_line_by_line() {
        let key = "-----BEGIN KEY-----\r\nMIIBOgIBAAJBAK\r\nab\r\n-----END KEY-----\r\n";
        let masker = masker(&[("KEY", key)]);
        assert_eq!(
            masker.mask_text(&format!("before\n{key}after")),
            "before\n***after"
        );
        // Lines printed one at a time, with or without the carriage return.
        assert_eq!(masker.mask_text("MIIBOgIBAAJBAK\n"), "***\n");
        assert_eq!(masker.mask_text("-----END KEY-----\r\n"), "***\r\n");
        // A line shorter than the minimum is not a pattern of its own.
        assert_eq!(masker.mask_text("ab"), "ab");
        assert_eq!(masker.longest(), longest_form(key));
    }

    #[test]
    fn invalid_utf8_and_nul_bytes_pass_through() {
        let masker = masker(&[("TOKEN", "hunter2")]);
        let input = b"\xff\x00hunter2\xfe\x00";
        assert_eq!(masker.mask_bytes(input).as_ref(), b"\xff\x00***\xfe\x00");
    }

    #[test]
    fn non_ascii_secrets_keep_text_valid() {
        let masker = masker(&[("WORD", "pässwörd")]);
        assert_eq!(masker.mask_text("é pässwörd é"), "é *** é");
    }

    #[test]
    fn debug_output_names_no_secret_value() {
        let masker = masker(&[("TOKEN", "hunter2"), ("PIN", "123")]);
        let debug = format!("{masker:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("123"), "{debug}");
        assert!(debug.contains("PIN"), "{debug}");
    }

    #[test]
    fn redacting_every_line_keeps_line_breaks() {
        assert_eq!(redact_every_line(b"a\n\nbc\n"), b"***\n\n***\n");
        assert_eq!(redact_every_line(b""), b"");
    }
}
