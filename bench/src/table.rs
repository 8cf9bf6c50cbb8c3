//! Renders the results as a plain-text table on stdout, readable without color.

use std::time::Duration;

use crate::measure::milliseconds;

/// The parse+validate time of the anchored 2,000x10 file must stay under this.
pub const TARGET: Duration = Duration::from_millis(50);

/// The measurements of one style.
#[derive(Debug, Clone)]
pub struct Row {
    /// The style's name.
    pub style: &'static str,
    /// Size of the text in bytes.
    pub bytes: usize,
    /// Median time to iterate the raw YAML events.
    pub baseline: Duration,
    /// Median time to build the located tree.
    pub tree: Duration,
    /// Median time of the full parse.
    pub parse: Duration,
}

const HEADERS: [&str; 6] = [
    "style",
    "size (MB)",
    "baseline (ms)",
    "tree (ms)",
    "parse+validate (ms)",
    "parse/baseline",
];

/// The table, one line per row, columns right-aligned under their headers.
pub fn render(rows: &[Row]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            vec![
                row.style.to_owned(),
                format!("{:.2}", megabytes(row.bytes)),
                format!("{:.1}", milliseconds(row.baseline)),
                format!("{:.1}", milliseconds(row.tree)),
                format!("{:.1}", milliseconds(row.parse)),
                format!(
                    "{:.2}",
                    row.parse.as_secs_f64() / row.baseline.as_secs_f64()
                ),
            ]
        })
        .collect();
    grid(&HEADERS, &cells)
}

/// A plain-text grid: the first column (names) left-aligned, the others (numbers) right-aligned
/// under their headers, two spaces between columns.
pub fn grid(headers: &[&str], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..headers.len())
        .map(|column| {
            rows.iter()
                .filter_map(|line| line.get(column))
                .map(|cell| cell.chars().count())
                .chain([headers[column].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let header_cells: Vec<String> = headers.iter().map(|&header| header.to_owned()).collect();
    let mut lines = vec![format_line(&header_cells, &widths)];
    lines.extend(rows.iter().map(|line| format_line(line, &widths)));
    lines.join("\n")
}

#[expect(clippy::cast_precision_loss, reason = "sizes are far below 2^52 bytes")]
fn megabytes(bytes: usize) -> f64 {
    bytes as f64 / 1_000_000.0
}

fn format_line(cells: &[String], widths: &[usize]) -> String {
    cells
        .iter()
        .zip(widths)
        .enumerate()
        .map(|(column, (cell, width))| {
            // Names read best left-aligned, numbers right-aligned.
            if column == 0 {
                format!("{cell:<width$}")
            } else {
                format!("{cell:>width$}")
            }
        })
        .collect::<Vec<_>>()
        .join("  ")
        .trim_end()
        .to_owned()
}

/// The line that states the target and whether this run met it.
pub fn target_line(anchored_parse: Option<Duration>) -> String {
    let limit = milliseconds(TARGET);
    let verdict = match anchored_parse {
        Some(parse) if parse < TARGET => format!("met ({:.1} ms)", milliseconds(parse)),
        Some(parse) => format!("MISSED ({:.1} ms)", milliseconds(parse)),
        None => "not measured (anchored style not selected)".to_owned(),
    };
    format!("target: parse+validate of the anchored 2,000x10 file under {limit:.0} ms: {verdict}")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Row, render, target_line};

    #[test]
    fn columns_line_up_under_their_headers() {
        let row = Row {
            style: "anchored",
            bytes: 2_500_000,
            baseline: Duration::from_millis(10),
            tree: Duration::from_millis(20),
            parse: Duration::from_millis(30),
        };
        let table = render(&[row]);
        assert_eq!(
            table,
            "style     size (MB)  baseline (ms)  tree (ms)  parse+validate (ms)  parse/baseline\n\
             anchored       2.50           10.0       20.0                 30.0            3.00"
        );
    }

    #[test]
    fn the_target_line_says_whether_it_was_met() {
        assert!(target_line(Some(Duration::from_millis(49))).ends_with("met (49.0 ms)"));
        assert!(target_line(Some(Duration::from_millis(51))).ends_with("MISSED (51.0 ms)"));
    }
}
