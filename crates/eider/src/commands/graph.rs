//! `eider graph [PIPELINE]`: a pipeline's DAG as Graphviz DOT, Mermaid or SVG, on stdout.

use crate::cli::{GraphFormat, GraphOptions};
use crate::commands::{load, print_stdout};
use crate::discover::Located;
use crate::failure::Failure;
use crate::graph::{self, Format};
use crate::render::Output;

/// Prints the graph of one pipeline, or of every pipeline.
pub fn run(options: &GraphOptions, located: &Located, output: Output) -> Result<(), Failure> {
    let drakefile = load(located, output)?.drakefile;
    let pipelines: Vec<&drakefile::Pipeline> = match &options.pipeline {
        Some(name) => vec![drakefile.pipeline(name).ok_or_else(|| {
            let mut names: Vec<&str> = drakefile
                .pipelines
                .iter()
                .map(|pipeline| pipeline.name.as_str())
                .collect();
            names.sort_unstable();
            Failure::input(format!("no pipeline named `{name}` in the Drakefile")).with_hint(
                if names.is_empty() {
                    "the Drakefile defines no pipelines".to_owned()
                } else {
                    format!("pipelines: {}", names.join(", "))
                },
            )
        })?],
        None => drakefile.pipelines.iter().collect(),
    };
    if pipelines.is_empty() {
        return Err(Failure::input("the Drakefile defines no pipelines"));
    }
    let format = match options.format {
        GraphFormat::Dot => Format::Dot,
        GraphFormat::Mermaid => Format::Mermaid,
        GraphFormat::Svg => Format::Svg,
    };
    let mut text = graph::render(&pipelines, format);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    print_stdout(&text)
}
