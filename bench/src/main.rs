//! `eider-bench`: how fast eider reads a large Drakefile.
//!
//! Generates a 2,000-job Drakefile (10 containers per job, 50 pipelines) in two styles, anchored
//! and expanded, and times three stages on each: iterating the raw YAML events (the floor),
//! building the located tree, and the full parse with validation and normalization. Prints the
//! medians as a table on stdout; progress goes to stderr.

mod generate;
mod measure;
mod stages;
mod table;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser as _;

use crate::generate::{Shape, Style};
use crate::measure::median_time;
use crate::stages::CheckError;
use crate::table::Row;

/// Diagnostics shown when a generated Drakefile is invalid; the rest are counted.
const SHOWN_DIAGNOSTICS: usize = 10;

/// Times parsing, validation and normalization of large generated Drakefiles.
#[derive(Debug, clap::Parser)]
#[command(name = "eider-bench", version)]
struct Options {
    /// Times each stage this many times and reports the median.
    #[arg(
        long,
        default_value_t = 15,
        value_parser = clap::value_parser!(u16).range(1..),
        env = "EIDER_BENCH_RUNS"
    )]
    runs: u16,

    /// Measures only this style (repeat for both, the default).
    #[arg(long = "style", value_name = "STYLE", value_parser = parse_style)]
    styles: Vec<Style>,

    /// Also writes the generated Drakefiles into this directory, to inspect or profile them.
    #[arg(long, value_name = "DIRECTORY", env = "EIDER_BENCH_DUMP")]
    dump: Option<PathBuf>,
}

fn parse_style(value: &str) -> Result<Style, String> {
    Style::ALL
        .into_iter()
        .find(|style| style.name() == value)
        .ok_or_else(|| format!("expected `anchored` or `expanded`, found `{value}`"))
}

/// Why the benchmark could not produce its table.
#[derive(Debug, thiserror::Error)]
enum BenchError {
    #[error(transparent)]
    Check(#[from] CheckError),
    #[error("cannot write the generated Drakefile")]
    Dump(#[source] std::io::Error),
}

fn main() -> ExitCode {
    let options = Options::parse();
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            render_error(&error);
            ExitCode::FAILURE
        }
    }
}

fn run(options: &Options) -> Result<(), BenchError> {
    let styles = if options.styles.is_empty() {
        Style::ALL.to_vec()
    } else {
        options.styles.clone()
    };
    let shape = Shape::TARGET;
    let runs = usize::from(options.runs);
    let mut rows = Vec::with_capacity(styles.len());
    for style in styles {
        eprintln!("{}: generating", style.name());
        let text = generate::text(style, &shape);
        if let Some(directory) = &options.dump {
            let path = directory.join(format!("{}.Drakefile.yaml", style.name()));
            fs_err::create_dir_all(directory).map_err(BenchError::Dump)?;
            fs_err::write(&path, &text).map_err(BenchError::Dump)?;
            eprintln!("{}: wrote {}", style.name(), path.display());
        }
        eprintln!("{}: checking that every stage accepts it", style.name());
        let warnings = stages::check(style, &text)?;
        if warnings > 0 {
            eprintln!(
                "{}: the full parse reports {warnings} warnings",
                style.name()
            );
        }
        eprintln!("{}: timing {runs} runs of each stage", style.name());
        rows.push(Row {
            style: style.name(),
            bytes: text.len(),
            baseline: median_time(runs, || stages::events(&text)),
            tree: median_time(runs, || stages::tree(&text)),
            parse: median_time(runs, || stages::parse(&text)),
        });
    }
    println!(
        "{} jobs x {} containers, {} pipelines x {} jobs; median of {runs} runs",
        shape.jobs, shape.containers_per_job, shape.pipelines, shape.jobs_per_pipeline
    );
    println!("{}", table::render(&rows));
    let anchored = rows
        .iter()
        .find(|row| row.style == Style::Anchored.name())
        .map(|row| row.parse);
    println!("{}", table::target_line(anchored));
    Ok(())
}

/// Prints `error:` and its causes; for an invalid Drakefile, its first diagnostics.
fn render_error(error: &BenchError) {
    eprintln!("error: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        eprintln!("Caused by: {cause}");
        source = cause.source();
    }
    if let BenchError::Check(CheckError::Invalid { report, .. }) = error {
        let records = report.records();
        for record in records.iter().take(SHOWN_DIAGNOSTICS) {
            eprintln!(
                "  {}:{}:{}: {}: {}",
                record.file, record.line, record.column, record.field, record.message
            );
        }
        if records.len() > SHOWN_DIAGNOSTICS {
            eprintln!("  … and {} more", records.len() - SHOWN_DIAGNOSTICS);
        }
        eprintln!("hint: run with --dump DIRECTORY to inspect the generated file");
    }
}
