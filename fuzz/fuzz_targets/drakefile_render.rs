//! Drakefile diagnostics rendered as `eider` renders them (miette's graphical handler with the
//! settings of `crates/eider/src/render.rs`, plain and colored) and as `eider validate --json`
//! records: rendering never panics, whatever the spans.

#![no_main]

use libfuzzer_sys::fuzz_target;
use miette::{GraphicalReportHandler, GraphicalTheme};

/// The CLI draws at most this many diagnostics.
const MAX_RENDERED: usize = 50;

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let report = match drakefile::parse("Drakefile.yaml", text) {
        Ok(parsed) => parsed.warnings,
        Err(report) => report,
    };
    let handlers = [
        GraphicalReportHandler::new_themed(GraphicalTheme::none()).with_width(100),
        GraphicalReportHandler::new_themed(GraphicalTheme::unicode()).with_width(20),
    ];
    for handler in handlers {
        let handler = handler.with_links(false).with_context_lines(1);
        let mut rendered = String::new();
        for diagnostic in report.renderable().take(MAX_RENDERED) {
            // Only a formatter error can come back; the point is that nothing panics.
            let _ = handler.render_report(&mut rendered, &diagnostic);
        }
    }
    let records = report.records();
    let json = serde_json::to_string(&records).expect("records always serialize");
    assert!(records.is_empty() || json.contains("\"line\""));
});
