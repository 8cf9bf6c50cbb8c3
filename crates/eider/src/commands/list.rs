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
    names.sort_unstable();
    let mut text = String::new();
    for name in names {
        text.push_str(name);
        text.push('\n');
    }
    print_stdout(&text)
}
