//! Drawings of a pipeline's DAG of jobs: Graphviz DOT, Mermaid flowcharts, and standalone SVG laid
//! out here, without Graphviz.
//!
//! Every renderer is a pure function of the pipelines: the same input gives the same bytes, so a
//! drawing can be checked in and diffed.

mod dot;
mod layout;
mod mermaid;
mod svg;

#[cfg(test)]
mod fixtures;

use drakefile::Pipeline;

/// The text format of a drawing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Graphviz DOT, for `dot -Tsvg` and the tools that read it.
    Dot,
    /// A Mermaid flowchart, which GitHub and GitLab draw inside Markdown.
    Mermaid,
    /// A standalone SVG 1.1 image, laid out by eider.
    Svg,
}

/// Renders one pipeline (or several, each as its own cluster/subgraph, when `pipelines.len() > 1`).
#[must_use]
pub fn render(pipelines: &[&Pipeline], format: Format) -> String {
    match format {
        Format::Dot => dot::Dot(pipelines).to_string(),
        Format::Mermaid => mermaid::Mermaid(pipelines).to_string(),
        Format::Svg => svg::Svg(pipelines).to_string(),
    }
}
