//! `eider validate`: one OK line, or every diagnostic and exit code 2.

use drakefile::Report;
use serde::Serialize;

use super::{json_text, print_stdout};
use crate::cli::ValidateOptions;
use crate::discover::Located;
use crate::failure::Failure;
use crate::render::Output;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Outcome<'a> {
    file: &'a str,
    valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    spec_version: Option<drakefile::SpecVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jobs: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pipelines: Option<usize>,
    diagnostics: Vec<drakefile::DiagnosticRecord<'a>>,
}

pub fn run(options: &ValidateOptions, located: &Located, output: Output) -> Result<(), Failure> {
    let text = drakefile::read_source(&located.path)?;
    let result = drakefile::parse(&located.display, &text);
    if options.json {
        let (report, model): (&Report, _) = match &result {
            Ok(parsed) => (&parsed.warnings, Some(&parsed.drakefile)),
            Err(report) => (report, None),
        };
        let outcome = Outcome {
            file: &located.display,
            valid: model.is_some(),
            spec_version: model.map(|model| model.spec_version),
            jobs: model.map(|model| model.jobs.len()),
            pipelines: model.map(|model| model.pipelines.len()),
            diagnostics: report.records(),
        };
        print_stdout(&json_text(&outcome)?)?;
        return match result {
            Ok(_) => Ok(()),
            // Already described on stdout; the exit code still says "invalid".
            Err(_) => Err(Failure::Reported {
                exit_code: crate::exit_code::INVALID_INPUT,
            }),
        };
    }
    let parsed = result.map_err(Failure::Invalid)?;
    if !parsed.warnings.diagnostics().is_empty() {
        output.report(&parsed.warnings);
    }
    let model = &parsed.drakefile;
    print_stdout(&format!(
        "{}: OK ({}, {}, {})\n",
        located.display,
        model.spec_version.title(),
        count(model.jobs.len(), "job"),
        count(model.pipelines.len(), "pipeline"),
    ))
}

fn count(number: usize, noun: &str) -> String {
    if number == 1 {
        format!("1 {noun}")
    } else {
        format!("{number} {noun}s")
    }
}
