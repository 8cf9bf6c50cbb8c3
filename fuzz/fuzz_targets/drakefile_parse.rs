//! The Drakefile parser and validator on arbitrary text: it never panics, every diagnostic
//! points inside the file, and the same text gives the same model and diagnostics twice.

#![no_main]

use eider_fuzz::report_invariants;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    // The CLI refuses text that is not UTF-8 before parsing.
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let first = drakefile::parse("Drakefile.yaml", text);
    match &first {
        Ok(parsed) => report_invariants::check(&parsed.warnings, text, false),
        Err(report) => report_invariants::check(report, text, true),
    }
    let second = drakefile::parse("Drakefile.yaml", text);
    match (first, second) {
        (Ok(first), Ok(second)) => {
            assert_eq!(first.drakefile, second.drakefile);
            assert_eq!(first.warnings.diagnostics(), second.warnings.diagnostics());
        }
        (Err(first), Err(second)) => assert_eq!(first.diagnostics(), second.diagnostics()),
        _ => panic!("the same text was once valid and once invalid"),
    }
});
