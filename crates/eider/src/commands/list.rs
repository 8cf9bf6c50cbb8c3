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
        return print_stdout(&json_text(&listed(model)?)?);
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

/// The model as `list --json` prints it: each container also says whether it is its job's
/// primary (the last one), which a reader of the list of containers cannot otherwise know.
fn listed(model: &drakefile::Drakefile) -> Result<serde_json::Value, Failure> {
    let mut value = serde_json::to_value(model)
        .map_err(|error| Failure::input("cannot encode JSON").with_cause(error.to_string()))?;
    let jobs = value
        .get_mut("jobs")
        .and_then(serde_json::Value::as_array_mut)
        .into_iter()
        .flatten();
    for job in jobs {
        let containers = job
            .get_mut("containers")
            .and_then(serde_json::Value::as_array_mut)
            .into_iter()
            .flatten();
        let mut containers: Vec<&mut serde_json::Value> = containers.collect();
        let count = containers.len();
        for (index, container) in containers.iter_mut().enumerate() {
            if let Some(fields) = container.as_object_mut() {
                fields.insert(
                    "primary".to_owned(),
                    serde_json::Value::Bool(index + 1 == count),
                );
            }
        }
    }
    Ok(value)
}
