//! Graphviz DOT: the jobs as rounded boxes, left to right, in pipeline order.

use std::fmt::{self, Display, Formatter, Write as _};

use drakefile::Pipeline;

use eider_engine::schedule::Dag;

/// The DOT text of some pipelines; several pipelines become one cluster each.
pub(super) struct Dot<'a>(pub &'a [&'a Pipeline]);

impl Display for Dot<'_> {
    fn fmt(&self, formatter: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            [pipeline] => {
                writeln!(formatter, "digraph {} {{", Quoted(&pipeline.name))?;
                write_defaults(formatter)?;
                let dag = Dag::from_pipeline(pipeline);
                for name in dag.names() {
                    writeln!(formatter, "  {};", Quoted(name))?;
                }
                for (from, to) in dag.edges() {
                    writeln!(
                        formatter,
                        "  {} -> {};",
                        Quoted(dag.name(from)),
                        Quoted(dag.name(to))
                    )?;
                }
            }
            pipelines => {
                writeln!(formatter, "digraph \"pipelines\" {{")?;
                write_defaults(formatter)?;
                for (number, pipeline) in pipelines.iter().enumerate() {
                    write_cluster(formatter, number, pipeline)?;
                }
            }
        }
        writeln!(formatter, "}}")
    }
}

fn write_defaults(formatter: &mut Formatter<'_>) -> fmt::Result {
    writeln!(formatter, "  rankdir=LR;")?;
    writeln!(formatter, "  node [shape=box, style=rounded];")
}

/// One pipeline among several. A job may appear in more than one pipeline, so node identifiers
/// carry the pipeline's number and the label carries the job's name.
fn write_cluster(formatter: &mut Formatter<'_>, number: usize, pipeline: &Pipeline) -> fmt::Result {
    let dag = Dag::from_pipeline(pipeline);
    let identifiers: Vec<String> = dag
        .names()
        .iter()
        .map(|name| format!("p{number}/{name}"))
        .collect();
    writeln!(formatter, "  subgraph \"cluster_{number}\" {{")?;
    writeln!(formatter, "    label={};", Quoted(&pipeline.name))?;
    for (identifier, name) in identifiers.iter().zip(dag.names()) {
        writeln!(
            formatter,
            "    {} [label={}];",
            Quoted(identifier),
            Quoted(name)
        )?;
    }
    for (from, to) in dag.edges() {
        writeln!(
            formatter,
            "    {} -> {};",
            Quoted(&identifiers[from]),
            Quoted(&identifiers[to])
        )?;
    }
    writeln!(formatter, "  }}")
}

/// A DOT double-quoted string.
///
/// The DOT lexer only unescapes `\"`; Graphviz then reads backslash sequences in labels (`\n`,
/// `\N`, `\\`, ...). Doubling every backslash keeps a name's backslashes literal in both places,
/// and line breaks become `\n` so the statement stays on one line.
struct Quoted<'a>(&'a str);

impl Display for Quoted<'_> {
    fn fmt(&self, formatter: &mut Formatter<'_>) -> fmt::Result {
        formatter.write_char('"')?;
        for character in self.0.chars() {
            match character {
                '"' => formatter.write_str("\\\"")?,
                '\\' => formatter.write_str("\\\\")?,
                '\n' => formatter.write_str("\\n")?,
                '\r' => formatter.write_str("\\r")?,
                other => formatter.write_char(other)?,
            }
        }
        formatter.write_char('"')
    }
}

#[cfg(test)]
mod tests {
    use crate::graph::fixtures::{diamond, generated, isolated, pipeline};
    use crate::graph::{Format, render};

    #[test]
    fn a_diamond() {
        insta::assert_snapshot!(render(&[&diamond()], Format::Dot));
    }

    #[test]
    fn names_are_quoted_and_escaped() {
        let pipeline = pipeline(
            "say \"hi\"",
            &[
                ("plain", &[]),
                ("with \"quotes\"", &["plain"]),
                ("back\\slash", &["with \"quotes\""]),
                ("two\nlines", &["plain"]),
                ("node", &["back\\slash"]),
            ],
        );
        insta::assert_snapshot!(render(&[&pipeline], Format::Dot));
    }

    #[test]
    fn an_isolated_job_is_still_a_node() {
        let text = render(&[&isolated()], Format::Dot);
        assert!(text.contains("  \"alone\";\n"), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn several_pipelines_are_clusters_with_their_own_nodes() {
        let release = pipeline("release", &[("lint", &[]), ("publish", &["lint"])]);
        insta::assert_snapshot!(render(&[&diamond(), &release], Format::Dot));
    }

    #[test]
    fn a_hundred_jobs_list_every_job_and_edge_once() {
        let pipeline = generated(100);
        let text = render(&[&pipeline], Format::Dot);
        let edges: usize = pipeline.jobs.iter().map(|job| job.dependencies.len()).sum();
        assert_eq!(text.matches(" -> ").count(), edges);
        assert_eq!(
            text.lines()
                .filter(|line| line.ends_with("\";") && !line.contains(" -> "))
                .count(),
            100
        );
        assert!(text.starts_with("digraph \"generated\" {\n") && text.ends_with("}\n"));
    }
}
