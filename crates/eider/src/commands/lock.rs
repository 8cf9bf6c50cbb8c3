//! `eider lock`: every image of the Drakefile resolved to a digest (by `eider_package::lock`),
//! in Drakefile.lock; with `--check`, whether the lock still says what resolving again would.

use std::fmt::Write as _;

use camino::Utf8Path;
use eider_package::LockFile;
use eider_package::lock::{self, Difference};

use crate::cli::LockOptions;
use crate::discover::Located;
use crate::failure::Failure;
use crate::package_failures::lock_failure;
use crate::package_reporter::PackageReporter;
use crate::registry_retry::registry_access;
use crate::render::Output;

/// Writes (or with `--check`, checks) the Drakefile's lock file.
pub fn run(options: &LockOptions, located: &Located, output: Output) -> Result<(), Failure> {
    let parsed = super::load(located, output)?;
    let images = lock::images_of(&parsed.drakefile);
    let lock_path = LockFile::path_for(&located.path);
    let runtime = crate::commands::async_runtime()?;
    let access = registry_access(&options.registry)?;
    let from = options.base_from.into();
    let reporter = PackageReporter::new(output);
    if options.check {
        let lock = LockFile::load(&lock_path)?;
        let differences = runtime
            .block_on(lock::check(&images, &lock, from, &access, &reporter))
            .map_err(|error| lock_failure(error, output))?;
        return report_check(&lock_path, &differences, images.len(), output);
    }
    let lock = runtime
        .block_on(lock::lock(
            &images,
            &located.path,
            &located.display,
            from,
            &access,
            &reporter,
        ))
        .map_err(|error| lock_failure(error, output))?;
    lock.write(&lock_path)?;
    for (image, entry) in &lock.images {
        output.note(&format!(
            "Locked {image} -> {} ({})",
            entry.digest, entry.source
        ));
    }
    Ok(())
}

/// Prints the differences; a lock with any is a failure (exit 1).
fn report_check(
    lock_path: &Utf8Path,
    differences: &[Difference],
    image_count: usize,
    output: Output,
) -> Result<(), Failure> {
    let name = lock_path.file_name().unwrap_or(lock_path.as_str());
    if differences.is_empty() {
        output.note(&format!(
            "{name} is up to date ({image_count} image{})",
            if image_count == 1 { "" } else { "s" }
        ));
        return Ok(());
    }
    let mut text = String::new();
    for difference in differences {
        let _ = writeln!(text, "  {difference}");
    }
    output.note(text.trim_end_matches('\n'));
    Err(Failure::runtime(format!(
        "{name} is out of date: {} difference{}",
        differences.len(),
        if differences.len() == 1 { "" } else { "s" }
    ))
    .with_hint("run `eider lock` to update it"))
}
