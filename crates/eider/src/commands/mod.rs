//! One module per command.

pub mod clean;
pub mod completions;
pub mod graph;
pub mod init;
pub mod list;
pub mod lock;
pub mod manifests;
pub mod package;
pub mod refusals;
pub mod run;
pub mod schema;
pub mod upgrade;
pub mod validate;
pub mod verify;

use std::io::Write;

use crate::discover::Located;
use crate::failure::Failure;
use crate::render::Output;

/// Reads and validates the Drakefile, showing its warnings; an invalid file is a failure.
pub fn load(located: &Located, output: Output) -> Result<drakefile::Parsed, Failure> {
    let text = drakefile::read_source(&located.path)?;
    let parsed = drakefile::parse(&located.display, &text).map_err(Failure::Invalid)?;
    if !parsed.warnings.diagnostics().is_empty() {
        output.report(&parsed.warnings);
    }
    Ok(parsed)
}

/// The async runtime a command's I/O runs on: one thread, the command's own. The engine's and
/// the registries' conversations are I/O-bound; work that needs a core (compression, hashing)
/// goes to blocking threads.
pub fn async_runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            Failure::runtime("cannot start the async runtime").with_cause(error.to_string())
        })
}

/// Writes data to stdout. A closed pipe (`eider list | head -1`) ends the output quietly.
pub fn print_stdout(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => {
            Err(Failure::input("cannot write to standard output").with_cause(error.to_string()))
        }
    }
}

/// JSON text with a trailing newline.
pub fn json_text(value: &impl serde::Serialize) -> Result<String, Failure> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|error| Failure::input("cannot encode JSON").with_cause(error.to_string()))?;
    text.push('\n');
    Ok(text)
}
