//! Gathers the environment sources besides the Drakefile from the command line: the secrets
//! file, `--env-file` files and `-e` arguments, in that order of precedence (later wins).

use camino::Utf8Path;
use eider_engine::environment::{
    EnvironmentError, Variables, load_env_file, load_secrets_file, parse_env_argument,
};
use eider_package::SECRETS_FILE_NAME;

use crate::cli::EnvironmentOptions;
use crate::failure::Failure;

/// What the sources gave.
#[derive(Debug, Default)]
pub struct External {
    /// Every variable, in precedence order.
    pub variables: Variables,
    /// The secrets among them, to mask in all output.
    pub secrets: Variables,
    /// Things to tell the user.
    pub warnings: Vec<String>,
}

/// Reads the sources named on the command line (and the default secrets file when present).
pub fn collect(options: &EnvironmentOptions, source_root: &Utf8Path) -> Result<External, Failure> {
    let lookup = |name: &str| std::env::var(name).ok();
    let mut external = External::default();
    let secrets_path = if let Some(path) = &options.secrets {
        Some(path.clone())
    } else {
        let default = source_root.join(SECRETS_FILE_NAME);
        default.is_file().then_some(default)
    };
    if let Some(path) = secrets_path {
        let secrets = load_secrets_file(&path, &lookup).map_err(|error| invalid(&error))?;
        external.warnings.extend(secrets.warnings);
        external.secrets.clone_from(&secrets.variables);
        external.variables.extend(secrets.variables);
    }
    for path in &options.env_file {
        external
            .variables
            .extend(load_env_file(path, &lookup).map_err(|error| invalid(&error))?);
    }
    for argument in &options.env {
        match parse_env_argument(argument, &lookup).map_err(|error| invalid(&error))? {
            Some(variable) => external.variables.push(variable),
            None => external.warnings.push(format!(
                "-e {argument}: {argument} is not set in eider's environment; containers do not \
                 get it"
            )),
        }
    }
    Ok(external)
}

fn invalid(error: &EnvironmentError) -> Failure {
    Failure::input(error.to_string()).with_sources_of(error)
}
