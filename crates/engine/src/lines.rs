//! Turns a container's output, which arrives in chunks cut anywhere, into masked complete lines
//! with bounded memory.
//!
//! Masking works on complete lines, so a secret split across two chunks is still found. Bytes
//! are never lost, reordered or altered, except that secrets become [`MASK`](crate::mask::MASK)
//! and that a `\n` is appended to an unterminated last line and to each piece of an overlong line.
//! Invalid UTF-8 and NUL bytes pass through untouched: decoding is the reader's business.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use crate::mask::Masker;

/// A line that grows past this many bytes without a newline is emitted in pieces, so that a
/// program printing one endless line cannot exhaust memory.
pub const MAX_LINE: usize = 1 << 20;

/// Assembles output chunks into masked complete lines.
///
/// Its `Debug` output shows how many bytes are pending, never the bytes: they are not masked yet.
pub struct LineAssembler {
    masker: Arc<Masker>,
    /// The unterminated end of the output so far.
    pending: BytesMut,
    /// [`MAX_LINE`], smaller in tests.
    max_line: usize,
}

impl LineAssembler {
    /// An assembler that masks with `masker`.
    #[must_use]
    pub fn new(masker: Arc<Masker>) -> Self {
        Self::with_max_line(masker, MAX_LINE)
    }

    fn with_max_line(masker: Arc<Masker>, max_line: usize) -> Self {
        Self {
            masker,
            pending: BytesMut::new(),
            max_line,
        }
    }

    /// Appends a chunk; returns the complete lines now available, masked, each ending with
    /// `b'\n'` (many lines in one [`Bytes`]), or `None`.
    ///
    /// A line is emitted whole when its newline arrives, so it may exceed [`MAX_LINE`] by up to
    /// the size of the chunk that completes it. An unterminated line that grows past
    /// [`MAX_LINE`] is emitted in pieces of about [`MAX_LINE`] bytes, each with a `\n` appended;
    /// a cut never falls inside a secret, and at least [`Masker::longest`] − 1 bytes stay pending
    /// so that a secret that starts before a cut is recognized whole.
    ///
    /// When nothing is pending and no secret matches, the lines are a slice of `chunk`, without
    /// a copy.
    pub fn push(&mut self, chunk: Bytes) -> Option<Bytes> {
        let complete = match memchr::memrchr(b'\n', &chunk) {
            None => {
                self.pending.extend_from_slice(&chunk);
                None
            }
            Some(last_newline) => {
                let mut lines = chunk;
                let rest = lines.split_off(last_newline + 1);
                if !self.pending.is_empty() {
                    self.pending.extend_from_slice(&lines);
                    lines = self.pending.split().freeze();
                }
                self.pending.extend_from_slice(&rest);
                Some(self.mask(lines))
            }
        };
        if self.pending.len() <= self.max_line {
            return complete;
        }
        let mut output = BytesMut::new();
        if let Some(complete) = complete {
            output.extend_from_slice(&complete);
        }
        self.cut_pieces(&mut output);
        (!output.is_empty()).then(|| output.freeze())
    }

    /// End of the output: the unterminated last line, masked, with `b'\n'` appended; `None` when
    /// nothing is pending.
    pub fn finish(&mut self) -> Option<Bytes> {
        if self.pending.is_empty() {
            return None;
        }
        let rest = self.pending.split().freeze();
        let masked = self.masker.mask_bytes(&rest);
        let mut line = BytesMut::with_capacity(masked.len() + 1);
        line.extend_from_slice(&masked);
        line.extend_from_slice(b"\n");
        Some(line.freeze())
    }

    /// Masks `lines`, keeping them (and their allocation) when nothing matches.
    fn mask(&self, lines: Bytes) -> Bytes {
        let masked = match self.masker.mask_bytes(&lines) {
            std::borrow::Cow::Borrowed(_) => None,
            std::borrow::Cow::Owned(masked) => Some(masked),
        };
        masked.map_or(lines, Bytes::from)
    }

    /// Moves pieces of the pending (newline-free) text to `output` while it is longer than the
    /// limit.
    fn cut_pieces(&mut self, output: &mut BytesMut) {
        let keep = self.masker.longest().saturating_sub(1);
        while self.pending.len() > self.max_line {
            let cut = self.max_line.min(self.pending.len().saturating_sub(keep));
            if cut == 0 {
                // A secret longer than the limit may be arriving: wait for the rest of it.
                break;
            }
            // Every match that starts before `cut` ends within `cut + keep` bytes, so this window
            // shows exactly the matches that masking the whole output would find there.
            let cut = self.masker.cut_point(&self.pending[..cut + keep], cut);
            let piece = self.pending.split_to(cut);
            output.extend_from_slice(&self.masker.mask_bytes(&piece));
            output.extend_from_slice(b"\n");
        }
    }
}

impl std::fmt::Debug for LineAssembler {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("LineAssembler")
            .field("masker", &self.masker)
            .field("pending_bytes", &self.pending.len())
            .field("max_line", &self.max_line)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::mask::MIN_SECRET_LENGTH;

    fn assembler(secrets: &[(&str, &str)], max_line: usize) -> LineAssembler {
        LineAssembler::with_max_line(Arc::new(Masker::new(secrets.iter().copied())), max_line)
    }

    /// Feeds `text` cut at `cuts` (sorted offsets), then finishes; returns every output.
    fn run(assembler: &mut LineAssembler, text: &[u8], cuts: &[usize]) -> Vec<Bytes> {
        let mut outputs = Vec::new();
        let mut start = 0;
        for &cut in cuts.iter().chain(std::iter::once(&text.len())) {
            let cut = cut.clamp(start, text.len());
            outputs.extend(assembler.push(Bytes::copy_from_slice(&text[start..cut])));
            start = cut;
        }
        outputs.extend(assembler.finish());
        outputs
    }

    fn concatenated(outputs: &[Bytes]) -> Vec<u8> {
        outputs
            .iter()
            .flat_map(|output| output.iter().copied())
            .collect()
    }

    /// Whether `expected` is `actual` with some of its `\n` bytes removed.
    fn equal_but_for_added_newlines(actual: &[u8], expected: &[u8]) -> bool {
        let mut expected = expected.iter().peekable();
        for byte in actual {
            if expected.peek() == Some(&byte) {
                expected.next();
            } else if *byte != b'\n' {
                return false;
            }
        }
        expected.peek().is_none()
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        memchr::memmem::find(haystack, needle).is_some()
    }

    #[test]
    fn complete_lines_without_secrets_are_sliced_without_a_copy() {
        let mut assembler = assembler(&[], MAX_LINE);
        let chunk = Bytes::from_static(b"one\ntwo\nthr");
        let lines = assembler.push(chunk.clone()).expect("two lines");
        assert_eq!(lines, "one\ntwo\n");
        assert_eq!(lines.as_ptr(), chunk.as_ptr());
        assert_eq!(assembler.push(Bytes::from_static(b"ee")), None);
        assert_eq!(
            assembler.push(Bytes::from_static(b"\n")).expect("line"),
            "three\n"
        );
        assert_eq!(assembler.finish(), None);
    }

    #[test]
    fn lines_without_a_match_are_not_copied_when_masking() {
        let mut assembler = assembler(&[("TOKEN", "hunter2")], MAX_LINE);
        let chunk = Bytes::from_static(b"nothing secret\n");
        let lines = assembler.push(chunk.clone()).expect("a line");
        assert_eq!(lines.as_ptr(), chunk.as_ptr());
    }

    #[test]
    fn a_secret_split_across_chunks_is_masked() {
        let mut assembler = assembler(&[("TOKEN", "hunter2")], MAX_LINE);
        let outputs = run(&mut assembler, b"pass=hunter2\nhun", &[7, 9, 10]);
        assert_eq!(concatenated(&outputs), b"pass=***\nhun\n");
    }

    #[test]
    fn the_unterminated_last_line_gets_a_newline() {
        let mut assembler = assembler(&[], MAX_LINE);
        assert_eq!(assembler.push(Bytes::from_static(b"no newline")), None);
        assert_eq!(assembler.finish().expect("the rest"), "no newline\n");
        assert_eq!(assembler.finish(), None);
    }

    #[test]
    fn debug_output_shows_no_pending_bytes() {
        let mut assembler = assembler(&[("TOKEN", "hunter2")], MAX_LINE);
        assert_eq!(assembler.push(Bytes::from_static(b"hunter")), None);
        let debug = format!("{assembler:?}");
        assert!(!debug.contains("hunter"), "{debug}");
        assert!(debug.contains("pending_bytes: 6"), "{debug}");
    }

    #[test]
    fn empty_chunks_produce_nothing() {
        let mut assembler = assembler(&[], MAX_LINE);
        assert_eq!(assembler.push(Bytes::new()), None);
        assert_eq!(assembler.finish(), None);
    }

    #[test]
    fn empty_lines_are_kept() {
        let mut assembler = assembler(&[], MAX_LINE);
        assert_eq!(
            assembler.push(Bytes::from_static(b"\n\n")).expect("lines"),
            "\n\n"
        );
    }

    #[test]
    fn invalid_utf8_and_nul_bytes_pass_through() {
        let mut assembler = assembler(&[("TOKEN", "hunter2")], MAX_LINE);
        let outputs = run(&mut assembler, b"\xff\x00hunter2\xc3\n\x00", &[3]);
        assert_eq!(concatenated(&outputs), b"\xff\x00***\xc3\n\x00\n");
    }

    #[test]
    fn an_overlong_line_is_emitted_in_pieces() {
        let mut assembler = assembler(&[], MAX_LINE);
        let long = vec![b'x'; MAX_LINE * 2 + 10];
        let output = assembler.push(Bytes::from(long)).expect("pieces");
        assert_eq!(output.len(), MAX_LINE * 2 + 2);
        assert_eq!(memchr::memchr_iter(b'\n', &output).count(), 2);
        assert_eq!(assembler.finish().expect("the rest").len(), 11);
    }

    #[test]
    fn a_cut_never_falls_inside_a_secret() {
        // With a limit of 8, a cut at 8 would split the secret at offsets 6..13.
        let mut assembler = assembler(&[("TOKEN", "s3cr3t!")], 8);
        let outputs = run(&mut assembler, b"abcdefs3cr3t!ghijklmnopqrstuvwxyz", &[]);
        let all = concatenated(&outputs);
        assert!(!contains(&all, b"s3cr3t!"));
        assert!(equal_but_for_added_newlines(
            &all,
            b"abcdef***ghijklmnopqrstuvwxyz\n"
        ));
    }

    #[test]
    fn a_secret_longer_than_the_limit_is_still_masked() {
        let secret = "0123456789abcdefghij";
        let mut assembler = assembler(&[("LONG", secret)], 8);
        let text = format!("xx{secret}yy{secret}");
        let outputs = run(&mut assembler, text.as_bytes(), &[3, 9, 15, 21, 30]);
        let all = concatenated(&outputs);
        assert!(
            equal_but_for_added_newlines(&all, b"xx***yy***\n"),
            "{all:?}"
        );
    }

    #[test]
    fn a_multi_line_secret_printed_line_by_line_is_masked() {
        let key = "-----BEGIN-----\nAAAABBBB\n-----END-----\n";
        let mut assembler = assembler(&[("KEY", key)], MAX_LINE);
        let mut all = Vec::new();
        for line in key.split_inclusive('\n') {
            all.extend_from_slice(
                &assembler
                    .push(Bytes::copy_from_slice(line.as_bytes()))
                    .expect("a line"),
            );
        }
        assert_eq!(all, b"***\n***\n***\n");
    }

    /// Text made of a few letters, newlines, odd bytes and copies of the secrets, with runs long
    /// enough to need cutting at the test's small limit.
    fn text_strategy(secrets: Vec<String>) -> impl Strategy<Value = Vec<u8>> {
        let segment = prop_oneof![
            4 => proptest::collection::vec(
                prop_oneof![Just(b'a'), Just(b's'), Just(b'3'), Just(b'\n'), Just(0xff), Just(0)],
                0..12,
            ),
            2 => (0..secrets.len().max(1)).prop_map(move |index| {
                secrets.get(index).map(|secret| secret.as_bytes().to_vec()).unwrap_or_default()
            }),
            1 => (1..80_usize).prop_map(|length| vec![b'a'; length]),
        ];
        proptest::collection::vec(segment, 0..24).prop_map(|segments| segments.concat())
    }

    fn secret_strategy() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![Just('a'), Just('s'), Just('3'), Just('x')],
            1..10,
        )
        .prop_map(|characters| characters.into_iter().collect())
    }

    fn case_strategy() -> impl Strategy<Value = (Vec<String>, Vec<u8>, Vec<usize>, usize)> {
        proptest::collection::vec(secret_strategy(), 0..4).prop_flat_map(|secrets| {
            let text = text_strategy(secrets.clone());
            (
                Just(secrets),
                text,
                proptest::collection::vec(0..400_usize, 0..12),
                4..24_usize,
            )
        })
    }

    proptest! {
        #[test]
        fn chunked_output_equals_masking_the_whole_text(
            (secrets, text, mut cuts, max_line) in case_strategy()
        ) {
            cuts.sort_unstable();
            let named: Vec<(&str, &str)> =
                secrets.iter().map(|secret| ("NAME", secret.as_str())).collect();
            let masker = Masker::new(named.iter().copied());
            let mut assembler = assembler(&named, max_line);
            let mut outputs = Vec::new();
            let mut start = 0;
            for &cut in cuts.iter().chain(std::iter::once(&text.len())) {
                let cut = cut.clamp(start, text.len());
                outputs.extend(assembler.push(Bytes::copy_from_slice(&text[start..cut])));
                start = cut;
                prop_assert!(
                    assembler.pending.len() <= max_line.max(masker.longest().saturating_sub(1))
                );
            }
            outputs.extend(assembler.finish());
            let mut expected = masker.mask_bytes(&text).into_owned();
            if expected.last().is_some_and(|byte| *byte != b'\n') {
                expected.push(b'\n');
            }
            for output in &outputs {
                prop_assert!(output.ends_with(b"\n"));
            }
            let all = concatenated(&outputs);
            prop_assert!(equal_but_for_added_newlines(&all, &expected), "{all:?} vs {expected:?}");
            for secret in secrets.iter().filter(|secret| secret.len() >= MIN_SECRET_LENGTH) {
                prop_assert!(!contains(&all, secret.as_bytes()), "{secret} in {all:?}");
            }
        }

        #[test]
        fn no_line_of_a_multi_line_secret_appears(
            lines in proptest::collection::vec(secret_strategy(), 1..4),
            prefix in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'\n')], 0..20),
            mut cuts in proptest::collection::vec(0..200_usize, 0..12),
            max_line in 4..24_usize,
        ) {
            cuts.sort_unstable();
            let secret = lines.join("\r\n");
            let mut text = prefix.clone();
            text.extend_from_slice(secret.as_bytes());
            text.extend_from_slice(&prefix);
            text.extend_from_slice(lines.join("\n").as_bytes());
            let mut assembler = assembler(&[("KEY", &secret)], max_line);
            let all = concatenated(&run(&mut assembler, &text, &cuts));
            for line in lines.iter().filter(|line| line.len() >= MIN_SECRET_LENGTH) {
                prop_assert!(!contains(&all, line.as_bytes()), "{line} in {all:?}");
            }
        }
    }
}
