//! Validation tests read a Drakefile written inline and compare every diagnostic, rendered as
//! one compact line each (`LINE:COLUMN severity[code] field: message`, then `help:`).

use std::fmt::Write as _;
use std::sync::Arc;

use crate::diagnostic::{Report, Severity};

/// Every diagnostic of `text`, rendered; help lines follow their diagnostic, indented.
pub(crate) fn diagnostics(text: &str) -> String {
    let (_, found) = super::validate(text);
    let report = Report::new("Drakefile.yaml", Arc::from(text), found);
    let mut output = String::new();
    for diagnostic in report.diagnostics() {
        let (line, column) = report.position(diagnostic.span.start);
        let severity = match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(
            output,
            "{line}:{column} {severity}[{}] {}",
            diagnostic.code.as_str(),
            diagnostic.headline()
        );
        if let Some(help) = &diagnostic.help {
            for help_line in help.lines() {
                let _ = writeln!(output, "  help: {help_line}");
            }
        }
    }
    output
}
