//! Rendering for people: diagnostics with the source line and a caret (colored on a terminal,
//! plain ASCII when piped or with NO_COLOR), and other failures as `error:` / `Caused by:` /
//! `hint:` lines. Everything here goes to stderr; stdout carries only data.

use std::io::{IsTerminal, Write};

use drakefile::Report;
use miette::{GraphicalReportHandler, GraphicalTheme};
use owo_colors::OwoColorize;

use crate::cli::ColorChoice;
use crate::failure::Failure;

/// At most this many diagnostics are drawn; a file with thousands of problems is better read
/// with `--json`, and drawing each costs a scan of the file.
const MAX_RENDERED: usize = 50;

/// Width used when `COLUMNS` is not set and stderr is not a terminal, so that logs and snapshots
/// do not depend on where they were made.
const PLAIN_WIDTH: usize = 100;

/// How to write to stderr.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    color: bool,
}

impl Output {
    /// Decides on color from the flag, `NO_COLOR` and whether stderr is a terminal.
    pub fn new(choice: ColorChoice) -> Self {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
                    && std::io::stderr().is_terminal()
            }
        };
        Self { color }
    }

    /// Writes every diagnostic of a report, then a one-line summary when there are errors.
    pub fn report(self, report: &Report) {
        let mut text = self.diagnostics(report);
        let errors = report.error_count();
        if errors > 0 {
            let warnings = report.warning_count();
            let summary = format!(
                "{} is invalid: {}{}; nothing was run",
                report.name(),
                plural(errors, "error"),
                if warnings > 0 {
                    format!(", {}", plural(warnings, "warning"))
                } else {
                    String::new()
                }
            );
            text = format!("{text}{}: {summary}\n", self.label("error", true));
        }
        write_stderr(&text);
    }

    /// Every diagnostic of a report, drawn with its source line and caret.
    fn diagnostics(self, report: &Report) -> String {
        let theme = if self.color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::none()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(width())
            .with_links(false)
            .with_context_lines(1);
        let handler = crate::wrap::keep_copyable_text_whole(handler);
        let mut text = String::new();
        for diagnostic in report.renderable().take(MAX_RENDERED) {
            // Rendering into a String cannot fail; an error here would only lose decoration.
            let _ = handler.render_report(&mut text, &diagnostic);
            text.push('\n');
        }
        let hidden = report.diagnostics().len().saturating_sub(MAX_RENDERED);
        if hidden > 0 {
            text =
                format!("{text}... and {hidden} more (`eider validate --json` lists them all)\n");
        }
        text
    }

    /// Writes a failure.
    pub fn failure(self, failure: &Failure) {
        match failure {
            Failure::Invalid(report) => self.report(report),
            Failure::Diagnostics(explained) => {
                let mut text = self.diagnostics(&explained.report);
                text = format!(
                    "{text}{}: {}\n",
                    self.label("error", true),
                    explained.summary
                );
                if let Some(hint) = &explained.hint {
                    text = format!("{text}{}: {hint}\n", self.label("hint", false));
                }
                write_stderr(&text);
            }
            Failure::Reported { .. } => {}
            Failure::Message {
                message,
                causes,
                hint,
                ..
            } => {
                let mut text = format!("{}: {message}\n", self.label("error", true));
                for cause in causes {
                    // A cause of several lines (a regular expression's caret display) stays
                    // under its label, so none of its lines reads like a new `error:`.
                    let cause = cause.replace('\n', "\n             ");
                    text = format!("{text}  Caused by: {cause}\n");
                }
                if let Some(hint) = hint {
                    text = format!("{text}{}: {hint}\n", self.label("hint", false));
                }
                write_stderr(&text);
            }
        }
    }

    /// Writes a note (progress, confirmations) to stderr.
    pub fn note(self, message: &str) {
        write_stderr(&format!("{message}\n"));
    }

    /// Writes a warning (something ignored, something that may not be what was meant) to
    /// stderr.
    pub fn warning(self, message: &str) {
        write_stderr(&format!("{}: {message}\n", self.label("warning", false)));
    }

    fn label(self, label: &str, is_error: bool) -> String {
        match (self.color, is_error) {
            (false, _) => label.to_owned(),
            (true, true) => label.red().bold().to_string(),
            (true, false) => label.cyan().bold().to_string(),
        }
    }
}

/// `1 error`, `2 errors`.
pub fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// How wide diagnostics are drawn: `COLUMNS` when set (with or without color, on a terminal or
/// not), else the terminal's width, else [`PLAIN_WIDTH`].
fn width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|columns| columns.trim().parse().ok())
        .filter(|columns| *columns > 0)
        .or_else(|| {
            terminal_size::terminal_size_of(std::io::stderr())
                .map(|(terminal_size::Width(columns), _)| usize::from(columns))
        })
        .unwrap_or(PLAIN_WIDTH)
}

fn write_stderr(text: &str) {
    // A closed stderr leaves nowhere to report to; the exit code still tells the story.
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
