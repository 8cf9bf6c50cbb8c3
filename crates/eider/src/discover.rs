//! Finding the Drakefile: `--file`, else `Drakefile.yaml` in the current directory or the nearest
//! parent that has one (as git and just do). Its directory is the project's source root.

use camino::{Utf8Path, Utf8PathBuf};

use crate::failure::Failure;

/// The file name eider looks for.
pub const DRAKEFILE_NAME: &str = "Drakefile.yaml";

/// A Drakefile found on disk.
#[derive(Debug, Clone)]
pub struct Located {
    /// The path to open.
    pub path: Utf8PathBuf,
    /// How to show it in messages (relative to the current directory when possible).
    pub display: String,
}

/// Finds the Drakefile to use.
pub fn locate(explicit: Option<&Utf8Path>) -> Result<Located, Failure> {
    if let Some(path) = explicit {
        return Ok(Located {
            path: path.to_owned(),
            display: path.to_string(),
        });
    }
    let current = current_directory()?;
    for directory in current.ancestors() {
        let candidate = directory.join(DRAKEFILE_NAME);
        if candidate.is_file() {
            let display = match candidate.strip_prefix(&current) {
                Ok(relative) => relative.to_string(),
                Err(_) => candidate.to_string(),
            };
            return Ok(Located {
                path: candidate,
                display,
            });
        }
    }
    Err(Failure::input(format!(
        "no {DRAKEFILE_NAME} in {current} or any parent directory"
    ))
    .with_hint("run `eider init` to write one here, or pass `--file PATH`"))
}

/// The current directory, as UTF-8.
pub fn current_directory() -> Result<Utf8PathBuf, Failure> {
    let directory = std::env::current_dir().map_err(|error| {
        Failure::input("cannot read the current directory").with_cause(error.to_string())
    })?;
    Utf8PathBuf::from_path_buf(directory).map_err(|path| {
        Failure::input(format!(
            "the current directory {} is not valid UTF-8",
            path.display()
        ))
    })
}
