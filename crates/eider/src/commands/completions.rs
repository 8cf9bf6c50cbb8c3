//! `eider completions SHELL`: the shell's completion script, generated from the clap
//! definitions. The scripts checked in under `docs/completions/` are this function's output
//! (`cli_docs` fails when they are stale).

use clap::CommandFactory;
use clap_complete::Shell;

use super::print_stdout;
use crate::cli::{Cli, CompletionsOptions};
use crate::failure::Failure;

pub fn run(options: &CompletionsOptions) -> Result<(), Failure> {
    print_stdout(&script(options.shell))
}

/// The completion script of `shell` for the `eider` command.
pub fn script(shell: Shell) -> String {
    let mut command = Cli::command();
    let name = command.get_name().to_owned();
    let mut bytes = Vec::new();
    // Writing into memory cannot fail, and every part of the script is UTF-8 text of the
    // definitions.
    clap_complete::generate(shell, &mut command, name, &mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}
