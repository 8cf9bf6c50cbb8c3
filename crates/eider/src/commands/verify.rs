//! `eider verify`: a package checked (by `eider_package::verify`), its findings listed, and with
//! `--run` its job run from it.

use camino::Utf8Path;
use eider_package::verify::{self, Package};

use crate::cli::{ColorChoice, RunOptions, VerifyOptions};
use crate::discover::Located;
use crate::failure::Failure;
use crate::package_reporter::PackageReporter;
use crate::registry_retry::registry_access;
use crate::render::Output;

/// Verifies the package; a finding is exit 1, each one listed. With `--run`, then runs it.
pub fn run(
    options: &VerifyOptions,
    file: Option<&Utf8Path>,
    color: ColorChoice,
    output: Output,
) -> Result<(), Failure> {
    let location = crate::commands::package::location(&options.reference)?;
    let runtime = crate::commands::async_runtime()?;
    let access = registry_access(&options.registry)?;
    let reporter = PackageReporter::new(output);
    let package = runtime.block_on(verify::open(&location, &access, &reporter))?;
    let problems = package.check(options.drakefile.as_deref(), &reporter)?;
    let manifest = package.manifest();
    if problems.is_empty() {
        output.note(&format!("Verified {location} ({manifest})"));
        crate::commands::print_stdout(&format!("{manifest}\n"))?;
        if options.run {
            let drakefile = match &options.drakefile {
                Some(path) => crate::discover::locate(Some(path))?,
                None => crate::discover::locate(file)?,
            };
            return run_package(&package, &drakefile, &runtime, color, output);
        }
        return Ok(());
    }
    let mut failure = Failure::runtime(format!(
        "{location} ({manifest}) failed verification: {} problem(s)",
        problems.len()
    ));
    for problem in problems {
        failure = failure.with_cause(problem.to_string());
    }
    Err(failure)
}

/// Loads the verified package into the local engine and runs its job from it: the primary runs
/// the package (no source mounted), the sidecars as the Drakefile at `located` says.
fn run_package(
    package: &Package,
    located: &Located,
    runtime: &tokio::runtime::Runtime,
    color: ColorChoice,
    output: Output,
) -> Result<(), Failure> {
    let loaded = runtime.block_on(package.load_into_engine())?;
    let mut drakefile = crate::commands::load(located, output)?.drakefile;
    eider_package::use_package(&mut drakefile, &loaded.job, &loaded.image).map_err(|error| {
        Failure::input(format!(
            "{} has no job `{}`, which the package holds",
            located.display, error.job
        ))
        .with_hint("name the Drakefile the package was made from with --drakefile")
    })?;
    let run_options = RunOptions {
        jobs: vec![loaded.job],
        ..RunOptions::default()
    };
    let source_root = crate::commands::run::source_root(&located.path)?;
    crate::commands::run::run_drakefile(&run_options, &drakefile, source_root, color)
}
