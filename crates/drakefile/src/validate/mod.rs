//! Validation and normalization: one walk over the located tree that checks every rule of the
//! declared DrakeSpec version, collects every problem, and builds the model when there is none.

mod container;
mod document;
mod environment;
mod job;
mod mounts;
pub(crate) mod names;
mod pipeline;
mod pre_spec;
#[cfg(test)]
pub(crate) mod test_support;
mod values;

use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::model::Drakefile;
use crate::version::SpecVersion;
use crate::yaml::{self, Span};

/// Validates `text`; the model is `Some` only when no error was found.
pub(crate) fn validate(text: &str) -> (Option<Drakefile>, Vec<Diagnostic>) {
    let syntax_error = |error: yaml::SyntaxError| {
        let mut diagnostic = Diagnostic::error(Code::YamlSyntax, "", error.span, error.message)
            .with_label("invalid YAML here");
        diagnostic.help = error.help;
        if let Some((span, message)) = error.related {
            diagnostic = diagnostic.with_related(span, message);
        }
        diagnostic
    };
    let loaded = match yaml::load_reporting(text) {
        Ok(loaded) => loaded,
        Err(error) => return (None, vec![syntax_error(error)]),
    };
    let mut validator = Validator {
        text,
        version: SpecVersion::LATEST,
        diagnostics: Vec::new(),
        errors: 0,
    };
    // Every problem at once: a key set twice does not stop the check of the rest.
    for problem in loaded.problems {
        validator.report(syntax_error(problem));
    }
    let drakefile = document::validate_document(&mut validator, loaded.root.as_deref());
    let has_errors = validator.errors > 0;
    let mut diagnostics = validator.diagnostics;
    // Stable: problems at the same place keep the order in which the rules found them.
    diagnostics.sort_by_key(|diagnostic| diagnostic.span.start);
    (drakefile.filter(|_| !has_errors), diagnostics)
}

/// The state of one validation: the text, the declared version and what was found so far.
pub(crate) struct Validator<'text> {
    text: &'text str,
    version: SpecVersion,
    diagnostics: Vec<Diagnostic>,
    errors: usize,
}

impl Validator<'_> {
    fn report(&mut self, diagnostic: Diagnostic) {
        if diagnostic.severity == Severity::Error {
            self.errors += 1;
        }
        self.diagnostics.push(diagnostic);
    }

    /// How many errors (not warnings) were reported so far.
    fn error_count(&self) -> usize {
        self.errors
    }

    /// The source text of a span, for quoting it back in messages.
    fn source(&self, span: Span) -> &str {
        span.slice(self.text)
    }
}
