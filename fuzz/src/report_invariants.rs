//! Invariants of a Drakefile [`Report`]: every place it points at is inside the text.

use drakefile::{Report, Severity};

/// Panics when a diagnostic of `report` points outside `text`, inside a character, or at a line
/// or column the text does not have; or when the counts disagree with the outcome.
pub fn check(report: &Report, text: &str, expect_errors: bool) {
    assert_eq!(
        report.error_count() > 0,
        expect_errors,
        "an invalid file has errors, a valid one none: {:?}",
        report.diagnostics()
    );
    let line_count = text.split('\n').count();
    for diagnostic in report.diagnostics() {
        if !expect_errors {
            assert_eq!(diagnostic.severity, Severity::Warning);
        }
        let spans = std::iter::once(diagnostic.span)
            .chain(diagnostic.related.iter().map(|related| related.span));
        for span in spans {
            let (start, end) = (span.start as usize, span.end as usize);
            assert!(start <= end, "span ends before it starts: {diagnostic:?}");
            assert!(end <= text.len(), "span past the end: {diagnostic:?}");
            assert!(
                text.is_char_boundary(start) && text.is_char_boundary(end),
                "span inside a character: {diagnostic:?}"
            );
            let (line, column) = report.position(span.start);
            assert!(
                (1..=line_count).contains(&line),
                "line {line} of {line_count}: {diagnostic:?}"
            );
            let line_text = text.split('\n').nth(line - 1).unwrap_or_default();
            assert!(
                column >= 1 && column <= line_text.chars().count() + 1,
                "column {column} of a line of {} characters: {diagnostic:?}",
                line_text.chars().count()
            );
        }
    }
    for record in report.records() {
        assert_eq!(record.file, report.name());
    }
}
