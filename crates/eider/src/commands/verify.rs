//! `eider verify`: a package checked (by `eider_package::verify`), its findings listed, and with
//! `--run` the job it records run from it, as `eider run PACKAGE` does.

use camino::Utf8Path;
use eider_package::verify::{self, Package, Verification};

use crate::cli::{ColorChoice, RegistryOptions, RunOptions, VerifyOptions};
use crate::failure::Failure;
use crate::package_reporter::PackageReporter;
use crate::registry_retry::registry_access;
use crate::render::Output;

/// Verifies the package; a finding is exit 1, each one listed. With `--run`, then runs it.
pub fn run(options: &VerifyOptions, color: ColorChoice, output: Output) -> Result<(), Failure> {
    let run_options = RunOptions {
        backend: options.backend.clone(),
        cluster_source: options.cluster_source.clone(),
        registry: options.registry.clone(),
        ..RunOptions::default()
    };
    // Where the job would run is checked before anything is fetched.
    let target = if options.run {
        Some(crate::commands::run::PackageTarget::of(&run_options)?)
    } else {
        None
    };
    let runtime = crate::commands::async_runtime()?;
    // What `eider verify` is asked for is the check itself: every blob is read.
    let package = open_verified(
        &options.reference,
        &options.registry,
        options.drakefile.as_deref(),
        Verification::Full,
        &runtime,
        output,
    )?;
    crate::commands::print_stdout(&format!("{}\n", package.manifest()))?;
    let Some(target) = target else {
        return Ok(());
    };
    // The Drakefile's tree, when one was named, is the source of sidecars that mount it.
    let source_tree = options
        .drakefile
        .as_deref()
        .map(crate::commands::run::source_root)
        .transpose()?;
    crate::commands::run::run_verified(
        &run_options,
        &package,
        &target,
        source_tree,
        &runtime,
        color,
    )
}

/// Opens the package at `reference` and checks it as `verification` says (against the
/// Drakefile at `drakefile`, when given); a package with problems is a failure that lists them.
pub(crate) fn open_verified(
    reference: &str,
    registry: &RegistryOptions,
    drakefile: Option<&Utf8Path>,
    verification: Verification,
    runtime: &tokio::runtime::Runtime,
    output: Output,
) -> Result<Package, Failure> {
    let location = crate::commands::package::location(reference)?;
    let access = registry_access(registry)?;
    let reporter = PackageReporter::new(output);
    let package = runtime.block_on(verify::open(&location, &access, &reporter))?;
    let problems = package.check(drakefile, verification, &reporter)?;
    let manifest = package.manifest();
    if problems.is_empty() {
        output.note(&format!("Verified {location} ({manifest})"));
        return Ok(package);
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
