//! Standalone SVG 1.1 drawings, laid out by [`super::layout`] without Graphviz.
//!
//! Jobs are rounded boxes with their names, edges are cubic Bézier curves from the right side of
//! a dependency to the left side of the job that needs it, ending in an arrowhead. Styles are
//! presentation attributes rather than CSS so that every SVG viewer draws the same thing, and
//! numbers have one decimal so that the output is byte-for-byte stable.

use std::fmt::{self, Display, Formatter, Write as _};

use drakefile::Pipeline;

use super::layout::{FONT_SIZE, Layout, Point, lay_out, text_width};
use eider_engine::schedule::Dag;

/// Space around the whole drawing.
const MARGIN: f64 = 16.0;
const TITLE_FONT_SIZE: f64 = 16.0;
/// From the top of a pipeline's block to the top of its first box.
const TITLE_HEIGHT: f64 = 32.0;
/// Space inside a pipeline's frame when several pipelines are drawn.
const CLUSTER_PADDING: f64 = 12.0;
/// Space between the frames of several pipelines.
const CLUSTER_GAP: f64 = 24.0;
/// Where the baseline of a name sits below the middle of its box, so that it looks centered.
const BASELINE_OFFSET: f64 = 0.35 * FONT_SIZE;

const EDGE_COLOR: &str = "#5b6770";
const BOX_FILL: &str = "#f4f7fb";
const BOX_STROKE: &str = "#34495e";
const TEXT_COLOR: &str = "#1b1f23";
const CLUSTER_STROKE: &str = "#9aa5b1";

/// The SVG document of some pipelines; several pipelines are stacked, each in a frame.
pub(super) struct Svg<'a>(pub &'a [&'a Pipeline]);

/// One pipeline's part of the drawing.
struct Block<'a> {
    name: &'a str,
    dag: Dag,
    layout: Layout,
    width: f64,
    height: f64,
}

impl Display for Svg<'_> {
    fn fmt(&self, formatter: &mut Formatter<'_>) -> fmt::Result {
        let framed = self.0.len() > 1;
        let padding = if framed { CLUSTER_PADDING } else { 0.0 };
        let blocks: Vec<Block<'_>> = self
            .0
            .iter()
            .map(|pipeline| {
                let dag = Dag::from_pipeline(pipeline);
                let layout = lay_out(&dag);
                let title = text_width(&pipeline.name, TITLE_FONT_SIZE);
                Block {
                    name: &pipeline.name,
                    width: layout.width.max(title) + 2.0 * padding,
                    height: TITLE_HEIGHT + layout.height + 2.0 * padding,
                    dag,
                    layout,
                }
            })
            .collect();
        let content_width = blocks.iter().map(|block| block.width).fold(0.0, f64::max);
        let content_height = blocks.iter().map(|block| block.height).sum::<f64>()
            + CLUSTER_GAP * float_gaps(blocks.len());
        let width = content_width + 2.0 * MARGIN;
        let height = content_height + 2.0 * MARGIN;

        writeln!(formatter, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(
            formatter,
            r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{w}" height="{h}" viewBox="0 0 {w} {h}">"#,
            w = Number(width),
            h = Number(height),
        )?;
        let names: Vec<&str> = blocks.iter().map(|block| block.name).collect();
        writeln!(formatter, "  <title>{}</title>", Escaped(&names.join(", ")))?;
        writeln!(formatter, "  <defs>")?;
        writeln!(
            formatter,
            r#"    <marker id="arrowhead" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto">"#
        )?;
        writeln!(
            formatter,
            r#"      <polygon points="0,1 10,5 0,9" fill="{EDGE_COLOR}"/>"#
        )?;
        writeln!(formatter, "    </marker>")?;
        writeln!(formatter, "  </defs>")?;
        writeln!(
            formatter,
            r#"  <g font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="{}">"#,
            Number(FONT_SIZE)
        )?;
        let mut top = MARGIN;
        for block in &blocks {
            if framed {
                writeln!(
                    formatter,
                    r#"    <rect x="{}" y="{}" width="{}" height="{}" rx="8" ry="8" fill="none" stroke="{CLUSTER_STROKE}" stroke-dasharray="4,3"/>"#,
                    Number(MARGIN),
                    Number(top),
                    Number(block.width),
                    Number(block.height),
                )?;
            }
            write_block(formatter, block, MARGIN + padding, top + padding)?;
            top += block.height + CLUSTER_GAP;
        }
        writeln!(formatter, "  </g>")?;
        writeln!(formatter, "</svg>")
    }
}

/// The title, edges, boxes and names of one pipeline, with its top-left corner at `(left, top)`.
fn write_block(
    formatter: &mut Formatter<'_>,
    block: &Block<'_>,
    left: f64,
    top: f64,
) -> fmt::Result {
    writeln!(
        formatter,
        r#"    <text x="{}" y="{}" font-size="{}" font-weight="bold" fill="{TEXT_COLOR}">{}</text>"#,
        Number(left),
        Number(top + TITLE_FONT_SIZE),
        Number(TITLE_FONT_SIZE),
        Escaped(block.name),
    )?;
    writeln!(
        formatter,
        r#"    <g transform="translate({},{})">"#,
        Number(left),
        Number(top + TITLE_HEIGHT)
    )?;
    // Edges first, so that boxes sit on top of them.
    writeln!(
        formatter,
        r#"      <g fill="none" stroke="{EDGE_COLOR}" stroke-width="1.4" marker-end="url(#arrowhead)">"#
    )?;
    for route in &block.layout.routes {
        writeln!(formatter, r#"        <path d="{}"/>"#, PathData(route))?;
    }
    writeln!(formatter, "      </g>")?;
    writeln!(
        formatter,
        r#"      <g fill="{BOX_FILL}" stroke="{BOX_STROKE}" stroke-width="1.2">"#
    )?;
    for job in &block.layout.boxes {
        writeln!(
            formatter,
            r#"        <rect x="{}" y="{}" width="{}" height="{}" rx="6" ry="6"/>"#,
            Number(job.x),
            Number(job.y),
            Number(job.width),
            Number(job.height),
        )?;
    }
    writeln!(formatter, "      </g>")?;
    writeln!(
        formatter,
        r#"      <g fill="{TEXT_COLOR}" text-anchor="middle">"#
    )?;
    for (job, name) in block.layout.boxes.iter().zip(block.dag.names()) {
        let center = job.center();
        writeln!(
            formatter,
            r#"        <text x="{}" y="{}">{}</text>"#,
            Number(center.x),
            Number(center.y + BASELINE_OFFSET),
            Escaped(name),
        )?;
    }
    writeln!(formatter, "      </g>")?;
    writeln!(formatter, "    </g>")
}

/// The number of gaps between `count` stacked blocks, as a float.
fn float_gaps(count: usize) -> f64 {
    f64::from(u32::try_from(count.saturating_sub(1)).unwrap_or(u32::MAX))
}

/// The `d` attribute of a route: a cubic curve across each gap between columns, whose control
/// points are level with its ends so that it leaves and arrives horizontally, and a straight
/// line through each column it crosses.
struct PathData<'a>(&'a [Point]);

impl Display for PathData<'_> {
    fn fmt(&self, formatter: &mut Formatter<'_>) -> fmt::Result {
        let Some((first, rest)) = self.0.split_first() else {
            return Ok(());
        };
        write!(formatter, "M{},{}", Number(first.x), Number(first.y))?;
        let mut from = *first;
        for (index, &to) in rest.iter().enumerate() {
            if index % 2 == 0 {
                let bend = (to.x - from.x) / 2.0;
                write!(
                    formatter,
                    " C{},{} {},{} {},{}",
                    Number(from.x + bend),
                    Number(from.y),
                    Number(to.x - bend),
                    Number(to.y),
                    Number(to.x),
                    Number(to.y),
                )?;
            } else {
                write!(formatter, " L{},{}", Number(to.x), Number(to.y))?;
            }
            from = to;
        }
        Ok(())
    }
}

/// A coordinate with one decimal, never `-0.0`.
struct Number(f64);

impl Display for Number {
    fn fmt(&self, formatter: &mut Formatter<'_>) -> fmt::Result {
        let rounded = (self.0 * 10.0).round() / 10.0;
        // Adding zero turns `-0.0` into `0.0`.
        write!(formatter, "{:.1}", rounded + 0.0)
    }
}

/// Text for XML content or a quoted attribute. Characters that XML 1.0 forbids become U+FFFD.
struct Escaped<'a>(&'a str);

impl Display for Escaped<'_> {
    fn fmt(&self, formatter: &mut Formatter<'_>) -> fmt::Result {
        for character in self.0.chars() {
            match character {
                '&' => formatter.write_str("&amp;")?,
                '<' => formatter.write_str("&lt;")?,
                '>' => formatter.write_str("&gt;")?,
                '"' => formatter.write_str("&quot;")?,
                '\'' => formatter.write_str("&apos;")?,
                '\t' | '\n' | '\r' => formatter.write_char(character)?,
                '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {
                    formatter.write_char(char::REPLACEMENT_CHARACTER)?;
                }
                other => formatter.write_char(other)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::graph::fixtures::{assert_well_formed, diamond, generated, isolated, pipeline};
    use crate::graph::{Format, render};

    #[test]
    fn a_diamond() {
        let text = render(&[&diamond()], Format::Svg);
        assert_well_formed(&text);
        insta::assert_snapshot!(text);
    }

    #[test]
    fn an_isolated_job_gets_a_box() {
        let text = render(&[&isolated()], Format::Svg);
        assert_well_formed(&text);
        assert_eq!(text.matches("<rect").count(), 3);
        assert_eq!(text.matches("<path").count(), 1);
        insta::assert_snapshot!(text);
    }

    #[test]
    fn names_are_escaped() {
        let pipeline = pipeline(
            "<ci> & 'more'",
            &[("a<b", &[]), ("\"c\" & d", &["a<b"]), ("bell\u{7}", &[])],
        );
        let text = render(&[&pipeline], Format::Svg);
        assert_well_formed(&text);
        assert!(text.contains(">a&lt;b</text>"), "{text}");
        assert!(text.contains(">&quot;c&quot; &amp; d</text>"), "{text}");
        assert!(text.contains(">bell\u{fffd}</text>"), "{text}");
        assert!(
            text.contains("<title>&lt;ci&gt; &amp; &apos;more&apos;</title>"),
            "{text}"
        );
    }

    #[test]
    fn several_pipelines_are_framed_one_below_the_other() {
        let release = pipeline("release", &[("a", &[]), ("publish", &["a"])]);
        let text = render(&[&diamond(), &release], Format::Svg);
        assert_well_formed(&text);
        insta::assert_snapshot!(text);
    }

    #[test]
    fn no_pipeline_is_an_empty_drawing() {
        let empty = pipeline("empty", &[]);
        assert_well_formed(&render(&[&empty], Format::Svg));
        assert_well_formed(&render(&[], Format::Svg));
    }

    #[test]
    fn the_same_pipeline_gives_the_same_bytes() {
        let pipeline = generated(100);
        assert_eq!(
            render(&[&pipeline], Format::Svg),
            render(&[&pipeline], Format::Svg)
        );
    }

    /// Renders `count` generated jobs in every format within `limit`, and checks the SVG.
    fn render_generated(count: usize, limit: Duration) {
        let pipeline = generated(count);
        let edges: usize = pipeline.jobs.iter().map(|job| job.dependencies.len()).sum();
        let started = Instant::now();
        let svg = render(&[&pipeline], Format::Svg);
        let dot = render(&[&pipeline], Format::Dot);
        let mermaid = render(&[&pipeline], Format::Mermaid);
        let elapsed = started.elapsed();
        assert!(elapsed < limit, "{count} jobs took {elapsed:?}");
        assert!(!dot.is_empty() && !mermaid.is_empty());
        assert_well_formed(&svg);
        assert_eq!(svg.matches("<rect").count(), count);
        assert_eq!(svg.matches("<path").count(), edges);
        assert_eq!(svg.matches("<text").count(), count + 1);
    }

    #[test]
    fn a_hundred_jobs_render_quickly() {
        render_generated(100, Duration::from_secs(1));
    }

    #[test]
    fn a_thousand_jobs_render_quickly() {
        render_generated(1_000, Duration::from_secs(5));
    }
}
