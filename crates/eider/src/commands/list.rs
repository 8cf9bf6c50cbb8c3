//! `eider list`: job (or pipeline) names sorted, one per line, or the normalized model as JSON.

use super::{json_text, print_stdout};
use crate::cli::ListOptions;
use crate::discover::Located;
use crate::failure::Failure;
use crate::render::Output;

pub fn run(options: &ListOptions, located: &Located, output: Output) -> Result<(), Failure> {
    let parsed = super::load(located, output)?;
    let model = &parsed.drakefile;
    if options.json {
        return print_stdout(&json_text(model)?);
    }
    let mut names: Vec<&str> = if options.pipelines {
        model
            .pipelines
            .iter()
            .map(|pipeline| pipeline.name.as_str())
            .collect()
    } else {
        model.jobs.iter().map(|job| job.name.as_str()).collect()
    };
    if let Some(kind) = options.event {
        // Which pipelines the event would run, and why others' triggers were skipped.
        let root = located
            .path
            .parent()
            .filter(|parent| !parent.as_str().is_empty())
            .unwrap_or(camino::Utf8Path::new("."));
        let event = super::run::event_from(
            kind,
            options.event_ref.branch.as_deref(),
            options.event_ref.tag.as_deref(),
            root,
        )?;
        let outcome = drakefile::triggers::select(model, &event)
            .map_err(|error| Failure::input(error.to_string()).with_sources_of(&error))?;
        for note in &outcome.notes {
            output.note(&note.to_string());
        }
        names = outcome
            .selected
            .iter()
            .filter_map(|selection| model.pipeline(&selection.pipeline))
            .map(|pipeline| pipeline.name.as_str())
            .collect();
    } else {
        names.sort_unstable();
    }
    let mut text = String::new();
    for name in names {
        text.push_str(name);
        text.push('\n');
    }
    print_stdout(&text)
}
