//! Mermaid flowcharts, which GitHub and GitLab draw inside Markdown.
//!
//! Node identifiers are generated (`j0`, `j1`, ...) rather than taken from job names: a name such
//! as `end` or one containing `-` can change how Mermaid parses a line. The name is the label.

use std::fmt::{self, Display, Formatter, Write as _};

use drakefile::Pipeline;

use eider_engine::schedule::Dag;

/// The Mermaid text of some pipelines; several pipelines become one subgraph each.
pub(super) struct Mermaid<'a>(pub &'a [&'a Pipeline]);

impl Display for Mermaid<'_> {
    fn fmt(&self, formatter: &mut Formatter<'_>) -> fmt::Result {
        writeln!(formatter, "flowchart LR")?;
        match self.0 {
            [pipeline] => write_jobs(formatter, "    ", 0, &Dag::from_pipeline(pipeline)),
            pipelines => {
                // Identifiers are numbered across all pipelines, so that a job appearing in two
                // pipelines is drawn once in each.
                let mut first = 0;
                for (number, pipeline) in pipelines.iter().enumerate() {
                    let dag = Dag::from_pipeline(pipeline);
                    writeln!(
                        formatter,
                        "    subgraph p{number}[\"{}\"]",
                        Label(&pipeline.name)
                    )?;
                    write_jobs(formatter, "        ", first, &dag)?;
                    writeln!(formatter, "    end")?;
                    first += dag.len();
                }
                Ok(())
            }
        }
    }
}

/// The nodes, then the edges, of one pipeline whose first job is `j{first}`.
fn write_jobs(formatter: &mut Formatter<'_>, indent: &str, first: usize, dag: &Dag) -> fmt::Result {
    for (index, name) in dag.names().iter().enumerate() {
        writeln!(formatter, "{indent}j{}[\"{}\"]", first + index, Label(name))?;
    }
    for (from, to) in dag.edges() {
        writeln!(formatter, "{indent}j{} --> j{}", first + from, first + to)?;
    }
    Ok(())
}

/// Text inside a quoted Mermaid label.
///
/// Mermaid has no backslash escapes; it reads `#name;` and `#123;` as character entities. Quotes
/// would end the label, `#` could start an entity, `<`, `>` and `&` would be read as HTML, and a
/// leading backtick would start a Markdown string. Line breaks would end the statement.
struct Label<'a>(&'a str);

impl Display for Label<'_> {
    fn fmt(&self, formatter: &mut Formatter<'_>) -> fmt::Result {
        for character in self.0.chars() {
            match character {
                '"' => formatter.write_str("#quot;")?,
                '#' => formatter.write_str("#35;")?,
                '&' => formatter.write_str("#amp;")?,
                '<' => formatter.write_str("#lt;")?,
                '>' => formatter.write_str("#gt;")?,
                '`' => formatter.write_str("#96;")?,
                control if control.is_control() => formatter.write_char(' ')?,
                other => formatter.write_char(other)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::graph::fixtures::{diamond, generated, isolated, pipeline};
    use crate::graph::{Format, render};

    #[test]
    fn a_diamond() {
        insta::assert_snapshot!(render(&[&diamond()], Format::Mermaid));
    }

    #[test]
    fn reserved_words_and_dashes_only_appear_in_labels() {
        let pipeline = pipeline(
            "words",
            &[
                ("end", &[]),
                ("build-x", &["end"]),
                ("say \"<hi> & #1`\"", &["build-x"]),
            ],
        );
        insta::assert_snapshot!(render(&[&pipeline], Format::Mermaid));
    }

    #[test]
    fn an_isolated_job_is_still_a_node() {
        insta::assert_snapshot!(render(&[&isolated()], Format::Mermaid));
    }

    #[test]
    fn several_pipelines_are_subgraphs_with_their_own_nodes() {
        let release = pipeline("release", &[("a", &[]), ("publish", &["a"])]);
        insta::assert_snapshot!(render(&[&diamond(), &release], Format::Mermaid));
    }

    #[test]
    fn a_hundred_jobs_list_every_job_and_edge_once() {
        let pipeline = generated(100);
        let text = render(&[&pipeline], Format::Mermaid);
        let edges: usize = pipeline.jobs.iter().map(|job| job.dependencies.len()).sum();
        assert_eq!(text.matches(" --> ").count(), edges);
        assert_eq!(text.matches("[\"").count(), 100);
        assert!(text.contains("    j99[\"job-099\"]\n"), "{text}");
    }
}
