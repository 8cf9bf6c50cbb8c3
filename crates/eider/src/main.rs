//! `eider`: runs DrakeSpec jobs and pipelines and packages jobs. This crate is the command line:
//! it parses arguments, calls the libraries and renders their results; it holds no logic of its
//! own beyond that.

mod backend;
mod cli;
#[cfg(test)]
mod cli_docs;
mod commands;
mod config;
mod discover;
mod duration;
mod environment;
mod exit_code;
mod failure;
mod git_event;
mod graph;
mod live_status;
mod log_limit;
mod package_failures;
mod package_reporter;
mod registry_retry;
mod render;
mod report;
mod reporter;
mod whole_file;
mod wrap;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::render::Output;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let output = Output::new(cli.global.color);
    match run(&cli, output) {
        Ok(()) => ExitCode::from(exit_code::SUCCESS),
        Err(failure) => {
            output.failure(&failure);
            ExitCode::from(failure.exit_code())
        }
    }
}

fn run(cli: &Cli, output: Output) -> Result<(), failure::Failure> {
    let file = cli.global.file.as_deref();
    match &cli.command {
        Command::Validate(options) => {
            commands::validate::run(options, &discover::locate(file)?, output)
        }
        Command::List(options) => commands::list::run(options, &discover::locate(file)?, output),
        Command::Init(options) => commands::init::run(options, file, output),
        Command::Schema(options) => commands::schema::run(options),
        Command::Upgrade(options) => {
            commands::upgrade::run(options, &discover::locate(file)?, output)
        }
        Command::Run(options) => match commands::run::package_reference(options) {
            // A package carries its job: no Drakefile is looked for.
            Some(reference) => {
                commands::run::run_reference(options, reference, cli.global.color, output)
            }
            None => commands::run::run(options, &discover::locate(file)?, cli.global.color, output),
        },
        Command::Clean(options) => commands::clean::run(options, output),
        Command::Graph(options) => commands::graph::run(options, &discover::locate(file)?, output),
        Command::Lock(options) => commands::lock::run(options, &discover::locate(file)?, output),
        Command::Package(options) => {
            commands::package::run(options, &discover::locate(file)?, output)
        }
        Command::Verify(options) => commands::verify::run(options, cli.global.color, output),
        Command::Manifests(options) => {
            commands::manifests::run(options, &discover::locate(file)?, output)
        }
        Command::Completions(options) => commands::completions::run(options),
    }
}
