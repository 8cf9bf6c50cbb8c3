//! A pipeline's jobs as a dependency graph: indices in pipeline order, edges both ways, the
//! `--dry-run` stages and the critical path.
//!
//! The pipeline lists every dependency before the job that needs it (validation guarantees it),
//! so pipeline order is a topological order: every computation here is one pass forward or
//! backward over the jobs, with no cycle to detect.

use std::collections::HashMap;

use drakefile::Pipeline;

/// The weight of a job when none is given: every job counts as one unit of time.
const DEFAULT_WEIGHT: f64 = 1.0;

/// The dependency graph of a pipeline. Jobs are identified by their index in pipeline order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dag {
    /// Job names, in pipeline order.
    names: Vec<String>,
    /// For each job, the jobs it needs, in the order written, each once.
    dependencies: Vec<Vec<usize>>,
    /// For each job, the jobs that need it, in pipeline order.
    dependents: Vec<Vec<usize>>,
}

impl Dag {
    /// The graph of `pipeline`.
    ///
    /// A dependency repeated in one job counts once. A dependency that names no earlier job
    /// cannot occur in a validated pipeline; it is left out rather than allowed to form a cycle,
    /// so that a model built by hand still gives an acyclic graph in pipeline order.
    #[must_use]
    pub fn from_pipeline(pipeline: &Pipeline) -> Dag {
        let count = pipeline.jobs.len();
        let mut earlier: HashMap<&str, usize> = HashMap::with_capacity(count);
        let mut names = Vec::with_capacity(count);
        let mut dependencies = Vec::with_capacity(count);
        let mut dependents = vec![Vec::new(); count];
        for (index, job) in pipeline.jobs.iter().enumerate() {
            // Only names seen so far resolve, which keeps every edge pointing forward.
            let mut needed: Vec<usize> = Vec::with_capacity(job.dependencies.len());
            for name in &job.dependencies {
                if let Some(&dependency) = earlier.get(name.as_str())
                    && !needed.contains(&dependency)
                {
                    needed.push(dependency);
                }
            }
            for &dependency in &needed {
                dependents[dependency].push(index);
            }
            dependencies.push(needed);
            names.push(job.name.clone());
            earlier.entry(job.name.as_str()).or_insert(index);
        }
        Dag {
            names,
            dependencies,
            dependents,
        }
    }

    /// The number of jobs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the pipeline has no job.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The name of `job`.
    #[must_use]
    pub fn name(&self, job: usize) -> &str {
        &self.names[job]
    }

    /// The job names, in pipeline order.
    #[must_use]
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The jobs that `job` needs, in the order written.
    #[must_use]
    pub fn dependencies(&self, job: usize) -> &[usize] {
        &self.dependencies[job]
    }

    /// Every edge as `(dependency, job)`, ordered by job, then as the dependencies are written.
    pub fn edges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.dependencies
            .iter()
            .enumerate()
            .flat_map(|(job, dependencies)| dependencies.iter().map(move |&from| (from, job)))
    }

    /// The jobs that need `job`, in pipeline order.
    #[must_use]
    pub fn dependents(&self, job: usize) -> &[usize] {
        &self.dependents[job]
    }

    /// Stages for `--dry-run`: jobs grouped by depth (the longest dependency chain leading to
    /// them, zero for a job without dependencies), each stage in pipeline order.
    #[must_use]
    pub fn stages(&self) -> Vec<Vec<usize>> {
        let mut depths = Vec::with_capacity(self.len());
        let mut stages: Vec<Vec<usize>> = Vec::new();
        for job in 0..self.len() {
            let depth = self.dependencies[job]
                .iter()
                .map(|&dependency| depths[dependency] + 1)
                .max()
                .unwrap_or(0);
            depths.push(depth);
            if stages.len() <= depth {
                stages.resize_with(depth + 1, Vec::new);
            }
            stages[depth].push(job);
        }
        stages
    }

    /// The longest remaining path from each job: its own weight plus the longest remaining path
    /// among its dependents. `weights` holds one estimated duration per job in pipeline order; a
    /// job past the end of `weights` weighs 1.
    #[must_use]
    pub fn remaining_path(&self, weights: &[f64]) -> Vec<f64> {
        let mut remaining = vec![0.0; self.len()];
        // Dependents come later in pipeline order, so a backward pass sees them first.
        for job in (0..self.len()).rev() {
            let longest_after = self.dependents[job]
                .iter()
                .map(|&dependent| remaining[dependent])
                .fold(0.0, f64::max);
            remaining[job] = weight(weights, job) + longest_after;
        }
        remaining
    }

    /// The length of the critical path (the longest remaining path from a job without
    /// dependencies) and its jobs in order; `(0.0, [])` for an empty pipeline. Ties go to the
    /// job earlier in pipeline order. `weights` is read as in [`Dag::remaining_path`].
    #[must_use]
    pub fn critical_path(&self, weights: &[f64]) -> (f64, Vec<usize>) {
        let remaining = self.remaining_path(weights);
        let heaviest = |jobs: &mut dyn Iterator<Item = usize>| {
            jobs.fold(None, |best: Option<usize>, job| match best {
                Some(best) if remaining[job].total_cmp(&remaining[best]).is_le() => Some(best),
                _ => Some(job),
            })
        };
        let roots = &mut (0..self.len()).filter(|&job| self.dependencies[job].is_empty());
        let Some(start) = heaviest(roots) else {
            return (0.0, Vec::new());
        };
        let mut path = vec![start];
        let mut current = start;
        while let Some(next) = heaviest(&mut self.dependents[current].iter().copied()) {
            path.push(next);
            current = next;
        }
        (remaining[start], path)
    }
}

/// The weight of `job`, or the default when `weights` is too short.
fn weight(weights: &[f64], job: usize) -> f64 {
    weights.get(job).copied().unwrap_or(DEFAULT_WEIGHT)
}

/// A pipeline built directly from `(name, dependencies)` pairs, for tests.
#[cfg(test)]
pub(super) fn test_pipeline(jobs: &[(&str, &[&str])]) -> Pipeline {
    Pipeline {
        name: "test".to_owned(),
        triggers: Vec::new(),
        jobs: jobs
            .iter()
            .map(|(name, dependencies)| drakefile::PipelineJob {
                name: (*name).to_owned(),
                dependencies: dependencies
                    .iter()
                    .map(|dependency| (*dependency).to_owned())
                    .collect(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diamond() -> Dag {
        Dag::from_pipeline(&test_pipeline(&[
            ("a", &[]),
            ("b", &["a"]),
            ("c", &["a"]),
            ("d", &["b", "c"]),
        ]))
    }

    fn chain(length: usize) -> Dag {
        let names: Vec<String> = (0..length).map(|index| format!("step-{index}")).collect();
        let jobs: Vec<(&str, Vec<&str>)> = names
            .iter()
            .enumerate()
            .map(|(index, name)| {
                let dependencies = match index {
                    0 => Vec::new(),
                    _ => vec![names[index - 1].as_str()],
                };
                (name.as_str(), dependencies)
            })
            .collect();
        let borrowed: Vec<(&str, &[&str])> = jobs
            .iter()
            .map(|(name, dependencies)| (*name, dependencies.as_slice()))
            .collect();
        Dag::from_pipeline(&test_pipeline(&borrowed))
    }

    #[test]
    fn edges_point_both_ways_in_pipeline_order() {
        let dag = diamond();
        assert_eq!(dag.len(), 4);
        assert!(!dag.is_empty());
        assert_eq!(dag.name(3), "d");
        assert_eq!(dag.dependencies(0), &[] as &[usize]);
        assert_eq!(dag.dependencies(3), &[1, 2]);
        assert_eq!(dag.dependents(0), &[1, 2]);
        assert_eq!(dag.dependents(3), &[] as &[usize]);
    }

    #[test]
    fn a_repeated_dependency_counts_once() {
        let dag = Dag::from_pipeline(&test_pipeline(&[("a", &[]), ("b", &["a", "a"])]));
        assert_eq!(dag.dependencies(1), &[0]);
        assert_eq!(dag.dependents(0), &[1]);
    }

    #[test]
    fn unknown_later_and_repeated_dependencies_are_left_out_and_the_rest_keep_their_order() {
        let dag = Dag::from_pipeline(&test_pipeline(&[
            ("a", &["b"]),
            ("b", &["a", "a", "missing"]),
            ("c", &["b", "c"]),
            ("d", &["c", "a", "b"]),
        ]));
        assert_eq!(
            dag.edges().collect::<Vec<_>>(),
            [(0, 1), (1, 2), (2, 3), (0, 3), (1, 3)]
        );
        assert_eq!(dag.dependents(0), &[1, 3]);
    }

    #[test]
    fn stages_of_a_diamond() {
        assert_eq!(diamond().stages(), vec![vec![0], vec![1, 2], vec![3]]);
    }

    #[test]
    fn stages_follow_the_longest_chain_and_pipeline_order() {
        // `late` needs `a` directly and through `b`, so it waits for the deeper one.
        let dag = Dag::from_pipeline(&test_pipeline(&[
            ("a", &[]),
            ("b", &["a"]),
            ("lone", &[]),
            ("late", &["a", "b"]),
            ("next", &["a"]),
        ]));
        assert_eq!(dag.stages(), vec![vec![0, 2], vec![1, 4], vec![3]]);
    }

    #[test]
    fn an_empty_pipeline_has_no_stage_and_no_critical_path() {
        let dag = Dag::from_pipeline(&test_pipeline(&[]));
        assert!(dag.is_empty());
        assert!(dag.stages().is_empty());
        assert_eq!(dag.critical_path(&[]), (0.0, Vec::new()));
    }

    #[test]
    fn remaining_path_of_a_diamond_adds_the_heavier_branch() {
        let remaining = diamond().remaining_path(&[1.0, 5.0, 2.0, 1.0]);
        assert_eq!(remaining, vec![7.0, 6.0, 3.0, 1.0]);
    }

    #[test]
    fn missing_weights_default_to_one() {
        assert_eq!(diamond().remaining_path(&[]), vec![3.0, 2.0, 2.0, 1.0]);
    }

    #[test]
    fn critical_path_of_a_chain_of_ten_is_ten() {
        let dag = chain(10);
        let (length, path) = dag.critical_path(&[1.0; 10]);
        assert!((length - 10.0).abs() < f64::EPSILON, "length {length}");
        assert_eq!(path, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn critical_path_takes_the_heavier_branch_and_the_earlier_on_ties() {
        let dag = diamond();
        assert_eq!(
            dag.critical_path(&[1.0, 1.0, 3.0, 1.0]),
            (5.0, vec![0, 2, 3])
        );
        assert_eq!(dag.critical_path(&[1.0; 4]), (3.0, vec![0, 1, 3]));
    }

    #[test]
    fn critical_path_starts_at_the_heaviest_root() {
        let dag = Dag::from_pipeline(&test_pipeline(&[
            ("short", &[]),
            ("long", &[]),
            ("after-long", &["long"]),
        ]));
        assert_eq!(dag.critical_path(&[]), (2.0, vec![1, 2]));
    }

    #[test]
    fn built_from_a_parsed_drakefile() {
        let text = "\
specUri: github.com/lovethedrake/drakespec
specVersion: v0.6.0
jobs:
  build:
    primaryContainer:
      name: main
      image: busybox:1.36
  test:
    primaryContainer:
      name: main
      image: busybox:1.36
  lint:
    primaryContainer:
      name: main
      image: busybox:1.36
  publish:
    primaryContainer:
      name: main
      image: busybox:1.36
pipelines:
  ci:
    jobs:
    - name: build
    - name: test
      dependencies: [build]
    - name: lint
      dependencies: [build]
    - name: publish
      dependencies: [test, lint]
";
        let parsed = drakefile::parse("Drakefile.yaml", text).expect("the Drakefile is valid");
        let pipeline = parsed
            .drakefile
            .pipeline("ci")
            .expect("the pipeline exists");
        let dag = Dag::from_pipeline(pipeline);
        assert_eq!(dag, diamond_named(["build", "test", "lint", "publish"]));
        assert_eq!(dag.stages(), vec![vec![0], vec![1, 2], vec![3]]);
    }

    fn diamond_named([a, b, c, d]: [&str; 4]) -> Dag {
        Dag::from_pipeline(&test_pipeline(&[
            (a, &[]),
            (b, &[a]),
            (c, &[a]),
            (d, &[b, c]),
        ]))
    }
}
