//! Diagnostics: what is wrong with a Drakefile, where, and how to fix it.

use std::fmt;
use std::sync::Arc;

use miette::{LabeledSpan, NamedSource, SourceSpan};
use serde::Serialize;

use crate::yaml::Span;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The Drakefile is invalid; nothing may run.
    Error,
    /// Legal but probably not what was meant.
    Warning,
}

/// What kind of problem a diagnostic reports; stable, for tools and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// The text is not a single valid YAML document.
    YamlSyntax,
    /// The file holds no document.
    EmptyFile,
    /// The spec URI and version lines are missing.
    MissingSpec,
    /// `uri`/`specUri` is wrong.
    WrongSpecUri,
    /// The version is malformed or not supported.
    UnsupportedVersion,
    /// A field that the declared version does not define.
    UnknownField,
    /// A required field is missing.
    MissingField,
    /// A value has the wrong type.
    WrongType,
    /// A value has the right type but is not acceptable.
    InvalidValue,
    /// A job, pipeline or container name breaks the naming rule.
    InvalidName,
    /// A name used twice where it must be unique.
    DuplicateName,
    /// A reference to a job that is not defined.
    UnknownJob,
    /// A dependency that does not name an earlier job of the pipeline.
    InvalidDependency,
    /// A seed-draft command line that cannot be split into words.
    CommandSyntax,
    /// Something legal that is likely a mistake.
    Suspicious,
    /// Something `eider upgrade` cannot convert to the target version faithfully.
    CannotUpgrade,
}

impl Code {
    /// The code as printed, e.g. `unknown-field`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::YamlSyntax => "yaml-syntax",
            Self::EmptyFile => "empty-file",
            Self::MissingSpec => "missing-spec",
            Self::WrongSpecUri => "wrong-spec-uri",
            Self::UnsupportedVersion => "unsupported-version",
            Self::UnknownField => "unknown-field",
            Self::MissingField => "missing-field",
            Self::WrongType => "wrong-type",
            Self::InvalidValue => "invalid-value",
            Self::InvalidName => "invalid-name",
            Self::DuplicateName => "duplicate-name",
            Self::UnknownJob => "unknown-job",
            Self::InvalidDependency => "invalid-dependency",
            Self::CommandSyntax => "command-syntax",
            Self::Suspicious => "suspicious",
            Self::CannotUpgrade => "cannot-upgrade",
        }
    }
}

/// A secondary place that explains a diagnostic ("first defined here").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    /// Where.
    pub span: Span,
    /// What is there.
    pub message: String,
}

/// One problem in a Drakefile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The kind of problem.
    pub code: Code,
    /// The field path, e.g. `jobs.test.containers[1].environment[0]`; empty for the document.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// Where.
    pub span: Span,
    /// A short note under the caret.
    pub label: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
    /// Other places worth showing.
    pub related: Vec<Related>,
}

impl Diagnostic {
    /// An error of `code` at `span`.
    #[must_use]
    pub fn error(
        code: Code,
        field: impl fmt::Display,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Error,
            code,
            field: field.to_string(),
            message: message.into(),
            span,
            label: None,
            help: None,
            related: Vec::new(),
        }
    }

    /// A warning of `code` at `span`.
    #[must_use]
    pub fn warning(
        code: Code,
        field: impl fmt::Display,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, field, span, message)
        }
    }

    /// Adds a note under the caret.
    #[must_use]
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Adds how to fix it.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a related place.
    #[must_use]
    pub fn with_related(mut self, span: Span, message: impl Into<String>) -> Self {
        self.related.push(Related {
            span,
            message: message.into(),
        });
        self
    }

    /// Adds a related place when there is one.
    #[must_use]
    pub fn with_related_option(self, span: Option<Span>, message: impl Into<String>) -> Self {
        match span {
            Some(span) => self.with_related(span, message),
            None => self,
        }
    }

    /// The headline: the field path, then the message.
    #[must_use]
    pub fn headline(&self) -> String {
        if self.field.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.field, self.message)
        }
    }
}

/// All diagnostics of one Drakefile, with its text so they can be shown in context.
#[derive(Debug, Clone)]
pub struct Report {
    name: String,
    text: Arc<str>,
    diagnostics: Vec<Diagnostic>,
    /// Byte offsets of line starts, built on first use so positions cost a binary search.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl Report {
    /// A report on the file called `name` (as it should be shown) whose text is `text`.
    #[must_use]
    pub fn new(name: impl Into<String>, text: Arc<str>, diagnostics: Vec<Diagnostic>) -> Self {
        Self {
            name: name.into(),
            text,
            diagnostics,
            line_starts: std::sync::OnceLock::new(),
        }
    }

    /// The file's name as shown in messages.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The diagnostics, in document order.
    #[must_use]
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// How many diagnostics are errors.
    #[must_use]
    pub fn error_count(&self) -> usize {
        self.count(Severity::Error)
    }

    /// How many diagnostics are warnings.
    #[must_use]
    pub fn warning_count(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.severity == severity)
            .count()
    }

    /// The 1-based line and column (in characters) of a byte offset.
    #[must_use]
    pub fn position(&self, offset: u32) -> (usize, usize) {
        let line_starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(index, _)| index + 1))
                .collect()
        });
        let offset = (offset as usize).min(self.text.len());
        let line = line_starts.partition_point(|start| *start <= offset);
        let line_start = line_starts[line - 1];
        let column = self
            .text
            .get(line_start..offset)
            .map_or(0, |prefix| prefix.chars().count())
            + 1;
        (line, column)
    }

    /// Each diagnostic with its source, ready for `miette` to render.
    pub fn renderable(&self) -> impl Iterator<Item = RenderableDiagnostic> + '_ {
        let source = NamedSource::new(self.name.clone(), Arc::clone(&self.text));
        self.diagnostics
            .iter()
            .map(move |diagnostic| RenderableDiagnostic {
                diagnostic: diagnostic.clone(),
                source: source.clone(),
            })
    }

    /// The diagnostics as flat records for machines (`eider validate --json`).
    #[must_use]
    pub fn records(&self) -> Vec<DiagnosticRecord<'_>> {
        self.diagnostics
            .iter()
            .map(|diagnostic| {
                let (line, column) = self.position(diagnostic.span.start);
                DiagnosticRecord {
                    file: &self.name,
                    line,
                    column,
                    severity: diagnostic.severity,
                    code: diagnostic.code,
                    field: &diagnostic.field,
                    message: &diagnostic.message,
                    help: diagnostic.help.as_deref(),
                }
            })
            .collect()
    }
}

/// One diagnostic as a flat, serializable record.
#[derive(Debug, Serialize)]
pub struct DiagnosticRecord<'a> {
    /// The file, as shown.
    pub file: &'a str,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Error or warning.
    pub severity: Severity,
    /// The kind of problem.
    pub code: Code,
    /// The field path.
    pub field: &'a str,
    /// What is wrong.
    pub message: &'a str,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<&'a str>,
}

/// A diagnostic bundled with the text it points into.
#[derive(Debug)]
pub struct RenderableDiagnostic {
    diagnostic: Diagnostic,
    source: NamedSource<Arc<str>>,
}

impl RenderableDiagnostic {
    /// The diagnostic.
    #[must_use]
    pub fn diagnostic(&self) -> &Diagnostic {
        &self.diagnostic
    }
}

impl fmt::Display for RenderableDiagnostic {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.diagnostic.headline())
    }
}

impl std::error::Error for RenderableDiagnostic {}

fn source_span(span: Span) -> SourceSpan {
    SourceSpan::new((span.start as usize).into(), span.len())
}

impl miette::Diagnostic for RenderableDiagnostic {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary = LabeledSpan::new_primary_with_span(
            Some(
                self.diagnostic
                    .label
                    .clone()
                    .unwrap_or_else(|| "here".to_owned()),
            ),
            source_span(self.diagnostic.span),
        );
        let related = self.diagnostic.related.iter().map(|related| {
            LabeledSpan::new_with_span(Some(related.message.clone()), source_span(related.span))
        });
        Some(Box::new(std::iter::once(primary).chain(related)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let report = Report::new("f", Arc::from("a: 1\nbé: x\n"), Vec::new());
        assert_eq!(report.position(0), (1, 1));
        assert_eq!(report.position(4), (1, 5));
        assert_eq!(report.position(5), (2, 1));
        assert_eq!(report.position(9), (2, 4));
        assert_eq!(report.position(999), (3, 1));
    }
}
