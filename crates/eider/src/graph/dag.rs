//! A pipeline's jobs and dependencies as indices, the shape every renderer walks.

use std::collections::HashMap;

use drakefile::Pipeline;

/// The jobs of one pipeline, numbered in pipeline order.
#[derive(Debug)]
pub(super) struct Dag<'a> {
    /// Job names in pipeline order.
    pub names: Vec<&'a str>,
    /// For each job, the jobs it depends on in the order written, without repeats. Each is smaller
    /// than the job's own index, so pipeline order is a topological order.
    pub dependencies: Vec<Vec<usize>>,
}

impl<'a> Dag<'a> {
    /// Numbers the jobs of `pipeline`.
    ///
    /// A valid Drakefile only names earlier jobs as dependencies. Any other name is left out, so
    /// that the drawing stays acyclic and in pipeline order even for a model built by hand.
    pub fn new(pipeline: &'a Pipeline) -> Self {
        let count = pipeline.jobs.len();
        let mut index_of: HashMap<&str, usize> = HashMap::with_capacity(count);
        let mut names = Vec::with_capacity(count);
        let mut dependencies = Vec::with_capacity(count);
        for (index, job) in pipeline.jobs.iter().enumerate() {
            let mut own: Vec<usize> = Vec::with_capacity(job.dependencies.len());
            for dependency in &job.dependencies {
                if let Some(&earlier) = index_of.get(dependency.as_str())
                    && !own.contains(&earlier)
                {
                    own.push(earlier);
                }
            }
            names.push(job.name.as_str());
            dependencies.push(own);
            index_of.insert(job.name.as_str(), index);
        }
        Self {
            names,
            dependencies,
        }
    }

    /// The number of jobs.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Every edge as `(dependency, job)`, ordered by job, then as the dependencies are written.
    pub fn edges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.dependencies
            .iter()
            .enumerate()
            .flat_map(|(job, dependencies)| dependencies.iter().map(move |&from| (from, job)))
    }
}

#[cfg(test)]
mod tests {
    use super::Dag;
    use crate::graph::fixtures::pipeline;

    #[test]
    fn unknown_later_and_repeated_dependencies_are_left_out() {
        let pipeline = pipeline(
            "odd",
            &[
                ("a", &["b"]),
                ("b", &["a", "a", "missing"]),
                ("c", &["b", "c"]),
            ],
        );
        let dag = Dag::new(&pipeline);
        assert_eq!(dag.edges().collect::<Vec<_>>(), [(0, 1), (1, 2)]);
    }
}
