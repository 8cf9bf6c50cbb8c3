//! `eider init`: a commented starter Drakefile of the latest DrakeSpec version.

use camino::Utf8PathBuf;

use crate::cli::InitOptions;
use crate::discover::{DRAKEFILE_NAME, current_directory};
use crate::failure::Failure;
use crate::render::Output;

/// The starter Drakefile; a test keeps it valid.
pub const STARTER: &str = include_str!("starter.yaml");

pub fn run(
    options: &InitOptions,
    file: Option<&camino::Utf8Path>,
    output: Output,
) -> Result<(), Failure> {
    let path: Utf8PathBuf = match file {
        Some(path) => path.to_owned(),
        None => current_directory()?.join(DRAKEFILE_NAME),
    };
    if path.exists() && !options.force {
        return Err(Failure::input(format!("{path} already exists"))
            .with_hint("pass `--force` to replace it"));
    }
    fs_err::write(&path, STARTER).map_err(|error| {
        Failure::input(format!("cannot write {path}")).with_cause(error.to_string())
    })?;
    output.note(&format!(
        "wrote {path}; next: `eider validate` and `eider list`"
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_drakefile_is_valid_and_uses_the_latest_version() {
        let parsed =
            drakefile::parse("starter.yaml", STARTER).expect("the starter Drakefile is valid");
        assert_eq!(
            parsed.drakefile.spec_version,
            drakefile::SpecVersion::LATEST
        );
        assert!(parsed.warnings.diagnostics().is_empty());
        assert!(!parsed.drakefile.jobs.is_empty());
        assert!(!parsed.drakefile.pipelines.is_empty());
    }
}
