//! The shapes of the benchmark pipelines, and what an ideal scheduler could do with them: the
//! critical path, the lower bound on the number of steps with a given number of lanes, and the
//! length of the schedule that starts the job with the longest remaining path first (the rule
//! eider follows), all with every job taking one step.

use std::collections::BinaryHeap;
use std::time::Duration;

/// One job of a pipeline and the jobs it depends on, by index (always earlier ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The job's name.
    pub name: String,
    /// Indices of the jobs it depends on.
    pub dependencies: Vec<usize>,
}

/// A pipeline's jobs in the order the pipeline lists them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    /// The jobs; every dependency comes before the job that names it.
    pub nodes: Vec<Node>,
}

/// Jobs in each lane of the two-lane pipeline: one chain and as many independent jobs.
pub const LANE_JOBS: usize = 10;

/// Jobs of the spine of the no-op DAG, its longest chain.
const SPINE_JOBS: usize = 40;
/// Jobs without dependencies that open the no-op DAG.
const SETUP_JOBS: usize = 4;
/// Spine jobs between two branches of the no-op DAG.
const BRANCH_EVERY: usize = 5;
/// Branches hung on the spine: even ones fan out, odd ones are chains.
const BRANCHES: usize = 8;
/// Leaves of each fan-out, between its root and its join.
const FAN_LEAVES: usize = 8;
/// Jobs of each chain branch.
const CHAIN_BRANCH_JOBS: usize = 4;

impl Graph {
    /// Adds a job; returns its index.
    fn push(&mut self, name: String, dependencies: Vec<usize>) -> usize {
        let index = self.nodes.len();
        assert!(
            dependencies.iter().all(|&dependency| dependency < index),
            "a dependency must come before the job that names it"
        );
        self.nodes.push(Node { name, dependencies });
        index
    }

    /// Ten independent jobs, then a chain of ten. Listed in that order, so that a scheduler
    /// that starts jobs in pipeline order runs the independent jobs first and the chain alone
    /// after them, while the best schedule on two lanes runs the chain in one lane and the
    /// independent jobs in the other.
    pub fn lanes() -> Self {
        let mut graph = Self::default();
        for job in 1..=LANE_JOBS {
            graph.push(format!("independent-{job:02}"), Vec::new());
        }
        let mut previous = None;
        for job in 1..=LANE_JOBS {
            let index = graph.push(format!("chain-{job:02}"), previous.into_iter().collect());
            previous = Some(index);
        }
        graph
    }

    /// A fixed DAG of 100 jobs: 4 setup jobs with no dependencies; a spine, a chain of 40
    /// jobs; and every 5 spine jobs a branch that starts after that spine job, alternately a
    /// fan-out (a root, 8 leaves after it, a join after all the leaves) and a chain of 4. The
    /// spine is the critical path (40 steps), shorter than the 50 steps that 100 jobs take on
    /// two lanes, and the longest-remaining-path-first schedule reaches that bound.
    pub fn no_op_dag() -> Self {
        let mut graph = Self::default();
        for job in 1..=SETUP_JOBS {
            graph.push(format!("setup-{job}"), Vec::new());
        }
        let mut previous_spine = None;
        for step in 0..SPINE_JOBS {
            let spine = graph.push(
                format!("spine-{:02}", step + 1),
                previous_spine.into_iter().collect(),
            );
            previous_spine = Some(spine);
            let branch = step / BRANCH_EVERY;
            if step % BRANCH_EVERY != 0 || branch >= BRANCHES {
                continue;
            }
            let number = branch / 2 + 1;
            if branch.is_multiple_of(2) {
                let root = graph.push(format!("fan{number}-root"), vec![spine]);
                let leaves: Vec<usize> = (1..=FAN_LEAVES)
                    .map(|leaf| graph.push(format!("fan{number}-leaf-{leaf}"), vec![root]))
                    .collect();
                graph.push(format!("fan{number}-join"), leaves);
            } else {
                let mut previous = spine;
                for job in 1..=CHAIN_BRANCH_JOBS {
                    previous = graph.push(format!("chain{number}-{job}"), vec![previous]);
                }
            }
        }
        graph
    }

    /// The number of jobs.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The index of the job called `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|node| node.name == name)
    }

    /// For each job, the number of jobs on the longest path that starts with it.
    fn remaining_paths(&self) -> Vec<usize> {
        let mut remaining = vec![1; self.len()];
        for job in (0..self.len()).rev() {
            for &dependency in &self.nodes[job].dependencies {
                remaining[dependency] = remaining[dependency].max(remaining[job] + 1);
            }
        }
        remaining
    }

    /// The number of jobs on the longest chain of dependencies.
    pub fn critical_path(&self) -> usize {
        self.remaining_paths().into_iter().max().unwrap_or(0)
    }

    /// No schedule on `lanes` lanes takes fewer steps than this: the critical path, and the
    /// jobs shared out evenly.
    pub fn lower_bound(&self, lanes: usize) -> usize {
        self.critical_path().max(self.len().div_ceil(lanes.max(1)))
    }

    /// No schedule on `lanes` lanes takes less time than this when each job takes the time
    /// `durations` gives it (in pipeline order): the heaviest chain of dependencies, and the
    /// total shared out evenly.
    pub fn weighted_lower_bound(&self, durations: &[Duration], lanes: usize) -> Duration {
        let mut remaining: Vec<Duration> = (0..self.len())
            .map(|job| durations.get(job).copied().unwrap_or_default())
            .collect();
        for job in (0..self.len()).rev() {
            for &dependency in &self.nodes[job].dependencies {
                let own = durations.get(dependency).copied().unwrap_or_default();
                remaining[dependency] = remaining[dependency].max(own + remaining[job]);
            }
        }
        let heaviest_chain = remaining.into_iter().max().unwrap_or_default();
        let lanes = u32::try_from(lanes.max(1)).unwrap_or(u32::MAX);
        let shared_out = durations.iter().sum::<Duration>() / lanes;
        heaviest_chain.max(shared_out)
    }

    /// The steps of the schedule that, whenever a lane is free, starts the ready job with the
    /// longest remaining path (the earlier one in pipeline order on a tie), every job taking
    /// one step.
    pub fn longest_path_first_steps(&self, lanes: usize) -> usize {
        let remaining = self.remaining_paths();
        let mut dependents = vec![Vec::new(); self.len()];
        let mut unmet: Vec<usize> = self
            .nodes
            .iter()
            .map(|node| node.dependencies.len())
            .collect();
        for (job, node) in self.nodes.iter().enumerate() {
            for &dependency in &node.dependencies {
                dependents[dependency].push(job);
            }
        }
        // The heap's maximum starts next: the longest remaining path, then the earlier job.
        let mut ready: BinaryHeap<(usize, std::cmp::Reverse<usize>)> = (0..self.len())
            .filter(|&job| unmet[job] == 0)
            .map(|job| (remaining[job], std::cmp::Reverse(job)))
            .collect();
        let mut steps = 0;
        let mut done = 0;
        while done < self.len() {
            let step: Vec<usize> = std::iter::from_fn(|| ready.pop())
                .take(lanes.max(1))
                .map(|(_, std::cmp::Reverse(job))| job)
                .collect();
            assert!(!step.is_empty(), "every job of a DAG becomes ready");
            steps += 1;
            done += step.len();
            for job in step {
                for &dependent in &dependents[job] {
                    unmet[dependent] -= 1;
                    if unmet[dependent] == 0 {
                        ready.push((remaining[dependent], std::cmp::Reverse(dependent)));
                    }
                }
            }
        }
        steps
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Graph;

    #[test]
    fn the_lanes_pipeline_is_a_chain_beside_independent_jobs() {
        let graph = Graph::lanes();
        assert_eq!(graph.len(), 20);
        assert_eq!(graph.critical_path(), 10);
        assert_eq!(graph.lower_bound(2), 10);
        assert_eq!(graph.longest_path_first_steps(2), 10);
        assert_eq!(graph.nodes[0].name, "independent-01");
        assert_eq!(graph.nodes[19].dependencies, [18]);
    }

    #[test]
    fn the_weighted_bound_is_the_heavier_of_the_chain_and_the_shared_out_total() {
        let graph = Graph::lanes();
        let ms = Duration::from_millis;
        // Every job 100 ms: the chain of 10 (1 s) equals 20 jobs on two lanes (1 s).
        assert_eq!(graph.weighted_lower_bound(&[ms(100); 20], 2), ms(1000));
        // Independent jobs heavier: their share wins.
        let mut durations = vec![ms(300); 10];
        durations.extend([ms(100); 10]);
        assert_eq!(graph.weighted_lower_bound(&durations, 2), ms(2000));
        // One slow link makes the chain the bound.
        let mut durations = vec![ms(10); 20];
        durations[15] = ms(900);
        assert_eq!(graph.weighted_lower_bound(&durations, 2), ms(990));
    }

    #[test]
    fn the_no_op_dag_has_100_jobs_and_an_attainable_bound() {
        let graph = Graph::no_op_dag();
        assert_eq!(graph.len(), 100);
        assert_eq!(graph.critical_path(), 40);
        assert_eq!(graph.lower_bound(2), 50);
        assert_eq!(graph.longest_path_first_steps(2), 50);
        let mut names: Vec<&str> = graph.nodes.iter().map(|node| node.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 100, "job names are unique");
        assert_eq!(
            graph
                .index("fan1-join")
                .map(|join| graph.nodes[join].dependencies.len()),
            Some(8)
        );
    }

    #[test]
    fn one_lane_runs_every_job_in_turn() {
        assert_eq!(Graph::no_op_dag().longest_path_first_steps(1), 100);
    }
}
