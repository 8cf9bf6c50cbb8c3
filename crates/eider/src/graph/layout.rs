//! A layered drawing of one pipeline, after Sugiyama's method:
//!
//! 1. each job goes in the column of the longest chain of dependencies that leads to it (sources in
//!    column 0, left to right);
//! 2. an edge that spans several columns passes through a waypoint in each column between its
//!    ends, so that it takes a lane of its own instead of running through boxes;
//! 3. the order within each column follows the barycenter of the neighbours in the column before
//!    (or after), sweeping back and forth and keeping the order with the fewest crossings;
//! 4. each box then moves toward the mean height of its neighbours while keeping the order and the
//!    gaps of its column.
//!
//! The result is geometry only; the SVG writer draws it. Everything is deterministic: no hashing,
//! no randomness, only arithmetic that gives the same floats on every platform.

use eider_engine::schedule::Dag;

/// The font size of job names, in pixels.
pub(super) const FONT_SIZE: f64 = 14.0;
/// The advance of one character of a monospace font, as a share of the font size.
const CHARACTER_ADVANCE: f64 = 0.6;
/// Space between a name and the sides of its box.
const BOX_PADDING: f64 = 12.0;
const BOX_HEIGHT: f64 = 32.0;
const MINIMUM_BOX_WIDTH: f64 = 48.0;
/// Horizontal space between columns, where the edges bend.
const COLUMN_GAP: f64 = 72.0;
/// Vertical space between two boxes of a column.
const BOX_GAP: f64 = 16.0;
/// Vertical space between a lane (an edge passing through a column) and what is next to it.
const LANE_GAP: f64 = 10.0;
const ORDER_SWEEPS: usize = 16;
const POSITION_SWEEPS: usize = 12;
/// Waypoints cost time and output size in proportion to the columns an edge spans; beyond this
/// many, the longest remaining edges are drawn straight across instead.
const MAXIMUM_WAYPOINTS: usize = 50_000;

/// A point in the drawing, in pixels, y pointing down.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Point {
    pub x: f64,
    pub y: f64,
}

/// Where a job's box goes: its top-left corner and its size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct JobBox {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl JobBox {
    /// The middle of the box, where its label goes.
    pub fn center(&self) -> Point {
        Point {
            x: self.x + self.width / 2.0,
            y: self.y + self.height / 2.0,
        }
    }
}

/// The geometry of one pipeline, with its top-left corner at the origin.
#[derive(Debug)]
pub(super) struct Layout {
    pub width: f64,
    pub height: f64,
    /// One box per job, in pipeline order.
    pub boxes: Vec<JobBox>,
    /// One route per edge, in the order of [`Dag::edges`]: the middle of the right side of the
    /// dependency's box, then where the edge enters and leaves each column it crosses, then the
    /// middle of the left side of the job's box. Between columns the route bends; inside a column
    /// it runs straight.
    pub routes: Vec<Vec<Point>>,
}

/// The estimated width of `text` in a monospace font of `font_size` pixels.
pub(super) fn text_width(text: &str, font_size: f64) -> f64 {
    float(text.chars().count()) * CHARACTER_ADVANCE * font_size
}

/// Lays out one pipeline.
pub(super) fn lay_out(dag: &Dag) -> Layout {
    let graph = Graph::new(dag);
    let mut layers = graph.layers();
    order(&graph, &mut layers);
    let heights = place(&graph, &layers);

    let mut column_widths = vec![0.0_f64; layers.len()];
    let box_widths: Vec<f64> = dag
        .names()
        .iter()
        .map(|name| (text_width(name, FONT_SIZE) + 2.0 * BOX_PADDING).max(MINIMUM_BOX_WIDTH))
        .collect();
    for (job, &width) in box_widths.iter().enumerate() {
        let column = &mut column_widths[graph.layer[job]];
        *column = column.max(width);
    }
    let mut column_lefts = Vec::with_capacity(layers.len());
    let mut right = 0.0;
    for width in &column_widths {
        column_lefts.push(right);
        right += width + COLUMN_GAP;
    }
    let width = (right - COLUMN_GAP).max(0.0);

    let top = (0..graph.node_count())
        .map(|node| heights[node] - graph.height(node) / 2.0)
        .fold(f64::INFINITY, f64::min);
    let bottom = (0..graph.node_count())
        .map(|node| heights[node] + graph.height(node) / 2.0)
        .fold(f64::NEG_INFINITY, f64::max);
    let (shift, height) = if top.is_finite() {
        (-top, bottom - top)
    } else {
        (0.0, 0.0)
    };

    let boxes: Vec<JobBox> = box_widths
        .iter()
        .enumerate()
        .map(|(job, &box_width)| {
            let column = graph.layer[job];
            JobBox {
                x: column_lefts[column] + (column_widths[column] - box_width) / 2.0,
                y: heights[job] + shift - BOX_HEIGHT / 2.0,
                width: box_width,
                height: BOX_HEIGHT,
            }
        })
        .collect();
    let routes = dag
        .edges()
        .zip(&graph.waypoints)
        .map(|((from, to), waypoints)| {
            let start = &boxes[from];
            let end = &boxes[to];
            let mut route = Vec::with_capacity(2 * waypoints.len() + 2);
            route.push(Point {
                x: start.x + start.width,
                y: start.center().y,
            });
            for &waypoint in waypoints {
                let column = graph.layer[waypoint];
                let y = heights[waypoint] + shift;
                route.push(Point {
                    x: column_lefts[column],
                    y,
                });
                route.push(Point {
                    x: column_lefts[column] + column_widths[column],
                    y,
                });
            }
            route.push(Point {
                x: end.x,
                y: end.center().y,
            });
            route
        })
        .collect();
    Layout {
        width,
        height,
        boxes,
        routes,
    }
}

/// The graph that is ordered and placed: the jobs (nodes `0..job_count`, in pipeline order) and
/// the waypoints after them, with every edge between adjacent columns except the few drawn
/// straight across once the waypoints run out.
struct Graph {
    job_count: usize,
    /// The column of each node.
    layer: Vec<usize>,
    layer_count: usize,
    predecessors: Vec<Vec<usize>>,
    successors: Vec<Vec<usize>>,
    /// For each edge of the DAG, in the order of [`Dag::edges`], its waypoints from left to right.
    waypoints: Vec<Vec<usize>>,
}

impl Graph {
    fn new(dag: &Dag) -> Self {
        let job_count = dag.len();
        // Dependencies come earlier in the pipeline, so one pass finds the longest chains.
        let mut layer = vec![0; job_count];
        for (job, dependencies) in (0..dag.len()).map(|job| (job, dag.dependencies(job))) {
            layer[job] = dependencies
                .iter()
                .map(|&dependency| layer[dependency] + 1)
                .max()
                .unwrap_or(0);
        }
        let layer_count = layer.iter().max().map_or(0, |last| last + 1);
        let mut graph = Self {
            job_count,
            layer,
            layer_count,
            predecessors: vec![Vec::new(); job_count],
            successors: vec![Vec::new(); job_count],
            waypoints: Vec::new(),
        };

        let edges: Vec<(usize, usize)> = dag.edges().collect();
        graph.waypoints = vec![Vec::new(); edges.len()];
        // Short edges get their waypoints first: they are the many, and the budget only runs out
        // on DAGs too large to read anyway.
        let mut by_span: Vec<usize> = (0..edges.len()).collect();
        by_span.sort_by_key(|&edge| graph.layer[edges[edge].1] - graph.layer[edges[edge].0]);
        let mut budget = MAXIMUM_WAYPOINTS;
        for edge in by_span {
            let (from, to) = edges[edge];
            let needed = graph.layer[to] - graph.layer[from] - 1;
            if needed > budget {
                graph.link(from, to);
                continue;
            }
            budget -= needed;
            let mut previous = from;
            for column in graph.layer[from] + 1..graph.layer[to] {
                let waypoint = graph.add_waypoint(column);
                graph.waypoints[edge].push(waypoint);
                graph.link(previous, waypoint);
                previous = waypoint;
            }
            graph.link(previous, to);
        }
        graph
    }

    fn node_count(&self) -> usize {
        self.layer.len()
    }

    fn is_job(&self, node: usize) -> bool {
        node < self.job_count
    }

    /// The vertical room a node takes in its column: a box, or nothing for a lane.
    fn height(&self, node: usize) -> f64 {
        if self.is_job(node) { BOX_HEIGHT } else { 0.0 }
    }

    /// The least distance between the centers of two nodes next to each other in a column.
    fn separation(&self, upper: usize, lower: usize) -> f64 {
        let gap = if self.is_job(upper) && self.is_job(lower) {
            BOX_GAP
        } else {
            LANE_GAP
        };
        self.height(upper) / 2.0 + self.height(lower) / 2.0 + gap
    }

    fn add_waypoint(&mut self, column: usize) -> usize {
        self.layer.push(column);
        self.predecessors.push(Vec::new());
        self.successors.push(Vec::new());
        self.layer.len() - 1
    }

    fn link(&mut self, from: usize, to: usize) {
        self.successors[from].push(to);
        self.predecessors[to].push(from);
    }

    /// The nodes of each column: jobs in pipeline order, then waypoints in the order they were
    /// made.
    fn layers(&self) -> Vec<Vec<usize>> {
        let mut layers = vec![Vec::new(); self.layer_count];
        for (node, &column) in self.layer.iter().enumerate() {
            layers[column].push(node);
        }
        layers
    }
}

/// Orders each column to reduce crossings, with barycenter sweeps left to right and back.
fn order(graph: &Graph, layers: &mut [Vec<usize>]) {
    let mut position = vec![0; graph.node_count()];
    for layer in layers.iter() {
        for (index, &node) in layer.iter().enumerate() {
            position[node] = index;
        }
    }
    let mut best = layers.to_vec();
    let mut fewest = crossings(graph, layers, &position);
    for sweep in 0..ORDER_SWEEPS {
        if fewest == 0 {
            break;
        }
        if sweep % 2 == 0 {
            for layer in layers.iter_mut().skip(1) {
                reorder(layer, &graph.predecessors, &mut position);
            }
        } else {
            let count = layers.len();
            for layer in layers.iter_mut().take(count.saturating_sub(1)).rev() {
                reorder(layer, &graph.successors, &mut position);
            }
        }
        let count = crossings(graph, layers, &position);
        if count < fewest {
            fewest = count;
            best.clone_from_slice(layers);
        }
    }
    layers.clone_from_slice(&best);
}

/// Sorts one column by the mean position of each node's neighbours in the fixed column; a node
/// without neighbours keeps its place. The sort is stable, so ties keep their order.
fn reorder(layer: &mut [usize], neighbours: &[Vec<usize>], position: &mut [usize]) {
    let mut keyed: Vec<(f64, usize)> = layer
        .iter()
        .map(|&node| {
            let around = &neighbours[node];
            let key = if around.is_empty() {
                float(position[node])
            } else {
                around
                    .iter()
                    .map(|&other| float(position[other]))
                    .sum::<f64>()
                    / float(around.len())
            };
            (key, node)
        })
        .collect();
    keyed.sort_by(|left, right| left.0.total_cmp(&right.0));
    for (index, (slot, (_, node))) in layer.iter_mut().zip(keyed).enumerate() {
        *slot = node;
        position[node] = index;
    }
}

/// The number of pairs of edges that cross between adjacent columns.
fn crossings(graph: &Graph, layers: &[Vec<usize>], position: &[usize]) -> usize {
    let mut total = 0;
    for (column, pair) in layers.windows(2).enumerate() {
        let mut edges: Vec<(usize, usize)> = pair[0]
            .iter()
            .flat_map(|&from| {
                graph.successors[from]
                    .iter()
                    .filter(|&&to| graph.layer[to] == column + 1)
                    .map(move |&to| (position[from], position[to]))
            })
            .collect();
        edges.sort_unstable();
        // Edges sorted by their left end cross exactly where their right ends are out of order.
        let mut seen = CountTree::new(pair[1].len());
        for (earlier, &(_, to)) in edges.iter().enumerate() {
            total += earlier - seen.count_up_to(to);
            seen.add(to);
        }
    }
    total
}

/// A Fenwick tree counting how many positions up to a given one have been seen.
struct CountTree(Vec<usize>);

impl CountTree {
    fn new(size: usize) -> Self {
        Self(vec![0; size + 1])
    }

    fn add(&mut self, position: usize) {
        let mut index = position + 1;
        while index < self.0.len() {
            self.0[index] += 1;
            index += index & index.wrapping_neg();
        }
    }

    fn count_up_to(&self, position: usize) -> usize {
        let mut index = position + 1;
        let mut count = 0;
        while index > 0 {
            count += self.0[index];
            index -= index & index.wrapping_neg();
        }
        count
    }
}

/// The vertical center of every node: stacked in order, then pulled toward the mean height of
/// their neighbours, sweeping left to right and back.
fn place(graph: &Graph, layers: &[Vec<usize>]) -> Vec<f64> {
    let mut heights = vec![0.0; graph.node_count()];
    for layer in layers {
        let mut at = 0.0;
        for (index, &node) in layer.iter().enumerate() {
            if index > 0 {
                at += graph.separation(layer[index - 1], node);
            }
            heights[node] = at;
        }
        for &node in layer {
            heights[node] -= at / 2.0;
        }
    }
    for sweep in 0..POSITION_SWEEPS {
        let (columns, neighbours): (Vec<usize>, _) = if sweep % 2 == 0 {
            ((1..layers.len()).collect(), &graph.predecessors)
        } else {
            (
                (0..layers.len().saturating_sub(1)).rev().collect(),
                &graph.successors,
            )
        };
        for column in columns {
            let layer = &layers[column];
            let desired: Vec<f64> = layer
                .iter()
                .map(|&node| {
                    let around = &neighbours[node];
                    if around.is_empty() {
                        heights[node]
                    } else {
                        around.iter().map(|&other| heights[other]).sum::<f64>()
                            / float(around.len())
                    }
                })
                .collect();
            fit(graph, layer, &desired, &mut heights);
        }
    }
    heights
}

/// Places one column as near the desired heights as its order and gaps allow. Pushing overlaps
/// down gives one valid placement, pushing them up another; their mean is valid too (the gaps
/// are linear constraints) and does not drift in either direction.
fn fit(graph: &Graph, layer: &[usize], desired: &[f64], heights: &mut [f64]) {
    let mut down = desired.to_vec();
    for index in 1..layer.len() {
        let least = down[index - 1] + graph.separation(layer[index - 1], layer[index]);
        down[index] = down[index].max(least);
    }
    let mut up = desired.to_vec();
    for index in (0..layer.len().saturating_sub(1)).rev() {
        let most = up[index + 1] - graph.separation(layer[index], layer[index + 1]);
        up[index] = up[index].min(most);
    }
    for ((&node, low), high) in layer.iter().zip(down).zip(up) {
        heights[node] = f64::midpoint(low, high);
    }
}

#[expect(
    clippy::cast_precision_loss,
    reason = "counts of jobs, positions and characters are far below 2^52"
)]
fn float(count: usize) -> f64 {
    count as f64
}

#[cfg(test)]
mod tests {
    use super::{Graph, lay_out, order};
    use crate::graph::fixtures::{diamond, generated, pipeline};
    use eider_engine::schedule::Dag;

    #[test]
    fn columns_follow_the_longest_chain() {
        let pipeline = pipeline(
            "chains",
            &[
                ("a", &[]),
                ("b", &["a"]),
                ("c", &["b"]),
                ("d", &["a", "c"]),
                ("e", &[]),
            ],
        );
        let graph = Graph::new(&Dag::from_pipeline(&pipeline));
        assert_eq!(graph.layer[..5], [0, 1, 2, 3, 0]);
        // `a -> d` spans three columns, so it passes through columns 1 and 2.
        assert_eq!(graph.waypoints, [vec![], vec![], vec![5, 6], vec![]]);
    }

    #[test]
    fn ordering_removes_the_crossing_of_a_twisted_pair() {
        // `b` is listed first but follows `y`, `a` follows `x`: in pipeline order they cross.
        let pipeline = pipeline(
            "twisted",
            &[("x", &[]), ("y", &[]), ("b", &["y"]), ("a", &["x"])],
        );
        let graph = Graph::new(&Dag::from_pipeline(&pipeline));
        let mut layers = graph.layers();
        order(&graph, &mut layers);
        assert_eq!(layers, [vec![0, 1], vec![3, 2]]);
    }

    #[test]
    fn boxes_never_overlap_and_stay_inside() {
        let pipeline = generated(100);
        let dag = Dag::from_pipeline(&pipeline);
        let layout = lay_out(&dag);
        for (index, first) in layout.boxes.iter().enumerate() {
            for second in &layout.boxes[index + 1..] {
                let apart = first.x + first.width <= second.x
                    || second.x + second.width <= first.x
                    || first.y + first.height <= second.y
                    || second.y + second.height <= first.y;
                assert!(apart, "{first:?} overlaps {second:?}");
            }
        }
        for job in &layout.boxes {
            assert!(job.x >= 0.0 && job.y >= 0.0);
            assert!(job.x + job.width <= layout.width && job.y + job.height <= layout.height);
        }
    }

    #[test]
    fn a_diamond_is_symmetric() {
        let pipeline = diamond();
        let layout = lay_out(&Dag::from_pipeline(&pipeline));
        let [a, b, c, d] = layout.boxes[..] else {
            panic!("four boxes");
        };
        let same = |left: f64, right: f64| (left - right).abs() < 1e-9;
        assert!(same(a.center().y, d.center().y));
        assert!(same(
            a.center().y - b.center().y,
            c.center().y - a.center().y
        ));
        assert!(a.x < b.x && same(b.x, c.x) && c.x < d.x);
    }
}
