//! What the pipeline benchmarks run: their Drakefile, and the shell scripts that run the same
//! containers with the docker CLI in a schedule written by hand.

use std::fmt::Write as _;

use crate::engine::IMAGE;
use crate::pipeline::graph::Graph;

/// What each job of the two-lane pipeline runs: long enough that the order of the jobs decides
/// the wall time, short enough that a round stays under 20 seconds.
pub const SLEEP_SECONDS: &str = "0.2";

/// Lines each job of the output pipeline prints.
pub const OUTPUT_LINES: u64 = 100_000;

/// The two jobs of the output pipeline. Each prints `NAME NUMBER PAYLOAD` lines, numbered from
/// 1, with a payload of its own letter, so that a line made of pieces of both is never the
/// line either job printed.
pub const OUTPUT_JOBS: [(&str, char); 2] = [("left", 'L'), ("right", 'R')];

/// Characters of payload on each output line.
pub const PAYLOAD_CHARACTERS: usize = 64;

/// The single no-op job, timed alone to compute the DAG's bound.
pub const SINGLE_JOB: &str = "no-op";

/// Jobs at once of the DAG run that shows how fast the engine goes through no-op jobs at all:
/// four times `-c 2`, as many as the DAG's fan-outs ever hold ready.
pub const WIDE_CONCURRENCY: usize = 8;

/// Runs of the no-op job one after the other in one `eider run`: against a run of one, the
/// processor time that one more no-op job costs the machine.
pub const SEQUENCE_JOBS: usize = 4;

/// The benchmark pipelines, by name in the Drakefile.
pub const LANES_PIPELINE: &str = "lanes";
/// The 100-job DAG of no-op jobs.
pub const DAG_PIPELINE: &str = "dag";
/// The two jobs that print many lines at once.
pub const OUTPUT_PIPELINE: &str = "output";

/// The line that job `name` (payload `letter`) prints as its `number`th, newline included.
pub fn output_line(name: &str, letter: char, number: u64) -> String {
    let payload: String = std::iter::repeat_n(letter, PAYLOAD_CHARACTERS).collect();
    format!("{name} {number:06} {payload}\n")
}

/// The Drakefile of every pipeline benchmark: the jobs of `lanes` sleep, those of `dag` and
/// the single job do nothing, those of `output` print [`OUTPUT_LINES`] lines each.
pub fn drakefile(lanes: &Graph, dag: &Graph) -> String {
    let mut text = format!(
        "specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
snippets:
  sleep: &sleep
    name: main
    image: {IMAGE}
    imagePullPolicy: IfNotPresent
    command: [\"sleep\", \"{SLEEP_SECONDS}\"]
  no-op: &no-op
    name: main
    image: {IMAGE}
    imagePullPolicy: IfNotPresent
    command: [\"true\"]
jobs:
  {SINGLE_JOB}:
    primaryContainer: *no-op
"
    );
    for node in &lanes.nodes {
        let _infallible = writeln!(text, "  {}:\n    primaryContainer: *sleep", node.name);
    }
    for node in &dag.nodes {
        let _infallible = writeln!(text, "  {}:\n    primaryContainer: *no-op", node.name);
    }
    for (name, letter) in OUTPUT_JOBS {
        let payload: String = std::iter::repeat_n(letter, PAYLOAD_CHARACTERS).collect();
        // Single-quoted YAML keeps the backslash, so awk sees `\n` in its string.
        let _infallible = writeln!(
            text,
            "  {name}:
    primaryContainer:
      name: main
      image: {IMAGE}
      imagePullPolicy: IfNotPresent
      command: ['awk', 'BEGIN {{ for (i = 1; i <= {OUTPUT_LINES}; i++) printf \"{name} %06d \
             {payload}\\n\", i }}']"
        );
    }
    text.push_str("pipelines:\n");
    pipeline(&mut text, LANES_PIPELINE, lanes);
    pipeline(&mut text, DAG_PIPELINE, dag);
    let _infallible = writeln!(text, "  {OUTPUT_PIPELINE}:\n    jobs:");
    for (name, _) in OUTPUT_JOBS {
        let _infallible = writeln!(text, "    - name: {name}");
    }
    text
}

fn pipeline(text: &mut String, name: &str, graph: &Graph) {
    let _infallible = writeln!(text, "  {name}:\n    jobs:");
    for node in &graph.nodes {
        let _infallible = writeln!(text, "    - name: {}", node.name);
        if !node.dependencies.is_empty() {
            let names: Vec<&str> = node
                .dependencies
                .iter()
                .map(|&dependency| graph.nodes[dependency].name.as_str())
                .collect();
            let _infallible = writeln!(text, "      dependencies: [{}]", names.join(", "));
        }
    }
}

/// Two lanes by hand: each runs `$3` containers one after the other, `docker run --rm` of the
/// image `$1` on the network `$2` with the command that follows. For the two-lane pipeline this
/// is the best schedule (the chain in one lane, the independent jobs in the other); for the
/// no-op DAG, the best packing of its jobs, dependencies aside.
pub const TWO_LANES_BY_HAND: &str = r#"image=$1 network=$2 count=$3
shift 3
lane() {
    n=$1
    shift
    i=0
    while [ "$i" -lt "$n" ]; do
        docker run --rm --network "$network" "$image" "$@" || return
        i=$((i + 1))
    done
}
lane "$count" "$@" & first=$!
lane "$count" "$@" & second=$!
status=0
wait "$first" || status=$?
wait "$second" || status=$?
exit "$status""#;

/// The two-lane pipeline by hand in pipeline order: both lanes share out the `$3` independent
/// jobs, then the chain of `$3` runs alone. Arguments as for [`TWO_LANES_BY_HAND`].
pub const PIPELINE_ORDER_BY_HAND: &str = r#"image=$1 network=$2 count=$3
shift 3
lane() {
    n=$1
    shift
    i=0
    while [ "$i" -lt "$n" ]; do
        docker run --rm --network "$network" "$image" "$@" || return
        i=$((i + 1))
    done
}
half=$((count / 2))
lane "$half" "$@" & first=$!
lane "$((count - half))" "$@" & second=$!
status=0
wait "$first" || status=$?
wait "$second" || status=$?
[ "$status" -eq 0 ] || exit "$status"
lane "$count" "$@""#;

#[cfg(test)]
mod tests {
    use super::{
        DAG_PIPELINE, LANES_PIPELINE, OUTPUT_PIPELINE, SINGLE_JOB, drakefile, output_line,
    };
    use crate::pipeline::graph::Graph;

    #[test]
    fn the_drakefile_is_valid_and_has_every_pipeline() {
        let text = drakefile(&Graph::lanes(), &Graph::no_op_dag());
        let parsed = match drakefile::parse("Drakefile.yaml", &text) {
            Ok(parsed) => parsed,
            Err(report) => panic!("invalid: {:?}\n{text}", report.records()),
        };
        assert_eq!(parsed.warnings.warning_count(), 0);
        assert!(parsed.drakefile.job(SINGLE_JOB).is_some());
        let lanes = Graph::lanes();
        let dag = Graph::no_op_dag();
        for (name, graph) in [(LANES_PIPELINE, &lanes), (DAG_PIPELINE, &dag)] {
            let pipeline = parsed
                .drakefile
                .pipeline(name)
                .expect("the pipeline exists");
            let written: Vec<(String, Vec<String>)> = pipeline
                .jobs
                .iter()
                .map(|job| (job.name.clone(), job.dependencies.clone()))
                .collect();
            let expected: Vec<(String, Vec<String>)> = graph
                .nodes
                .iter()
                .map(|node| {
                    let dependencies = node
                        .dependencies
                        .iter()
                        .map(|&dependency| graph.nodes[dependency].name.clone())
                        .collect();
                    (node.name.clone(), dependencies)
                })
                .collect();
            assert_eq!(written, expected, "pipeline `{name}`");
        }
        let output = parsed
            .drakefile
            .pipeline(OUTPUT_PIPELINE)
            .expect("the output pipeline exists");
        assert_eq!(output.jobs.len(), 2);
        // YAML keeps the backslash of `\n` for awk, in single quotes.
        assert!(text.contains(r#"printf "left %06d LLLL"#));
        assert!(text.contains(r#"L\n", i }']"#));
    }

    #[test]
    fn output_lines_are_numbered_and_padded() {
        let line = output_line("left", 'L', 7);
        assert!(line.starts_with("left 000007 LLLL"));
        assert!(line.ends_with("L\n"));
        assert_eq!(line.len(), "left 000007 ".len() + 64 + 1);
    }
}
