//! `eider lock`: every image of the Drakefile resolved to a digest, in Drakefile.lock; with
//! `--check`, whether the lock still says what resolving again would.
//!
//! Images are resolved a few at a time: each is one round trip to the engine or a registry, and
//! a Drakefile names few enough that a small bound keeps registries from seeing a burst.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use camino::Utf8Path;
use eider_registry::RegistryClient;
use eider_runtime_docker::DockerRuntime;
use futures_util::StreamExt as _;

use crate::cli::{BaseFrom, LockOptions};
use crate::discover::Located;
use crate::failure::Failure;
use crate::image_resolve::{self, ImageSource};
use crate::lockfile::{ImageUse, LockFile, LockedImage, images_of};
use crate::render::Output;

/// Images resolved at once.
const CONCURRENT_RESOLUTIONS: usize = 8;

/// Writes (or with `--check`, checks) the Drakefile's lock file.
pub fn run(options: &LockOptions, located: &Located, output: Output) -> Result<(), Failure> {
    let parsed = super::load(located, output)?;
    let images = images_of(&parsed.drakefile);
    let lock_path = LockFile::path_for(&located.path);
    let runtime = crate::commands::async_runtime()?;
    if options.check {
        let lock = LockFile::load(&lock_path)?;
        let differences = runtime.block_on(check(options, &images, &lock, output))?;
        return report_check(&lock_path, &differences, images.len(), output);
    }
    let drakefile_bytes = fs_err::read(&located.path).map_err(|error| {
        Failure::input(format!("cannot read {}", located.display)).with_cause(error.to_string())
    })?;
    let requests = images
        .keys()
        .map(|image| (image.clone(), options.base_from))
        .collect();
    let locked = runtime.block_on(resolve_all(options, requests, output))?;
    let lock = LockFile::new(eider_registry::sha256_digest(&drakefile_bytes), locked);
    lock.write(&lock_path)?;
    for (image, entry) in &lock.images {
        output.note(&format!(
            "Locked {image} -> {} ({})",
            entry.digest, entry.source
        ));
    }
    Ok(())
}

/// Resolves each image with its own `BaseFrom`; every failure is shown, the first returned.
async fn resolve_all(
    options: &LockOptions,
    requests: Vec<(String, BaseFrom)>,
    output: Output,
) -> Result<BTreeMap<String, LockedImage>, Failure> {
    let needs_daemon = requests
        .iter()
        .any(|(_, base_from)| *base_from != BaseFrom::Registry);
    let daemon = if needs_daemon {
        // Under `auto` an engine that does not answer only means asking the registries.
        let strictest = if requests
            .iter()
            .any(|(_, base_from)| *base_from == BaseFrom::Daemon)
        {
            BaseFrom::Daemon
        } else {
            BaseFrom::Auto
        };
        image_resolve::connect_daemon(strictest).await?
    } else {
        None
    };
    // A lock writes to no registry: credentials must name their host.
    let registry =
        image_resolve::registry_client(&options.registry, std::iter::empty::<&str>(), output)?;
    let answers: Vec<(String, Result<LockedImage, Failure>)> = futures_util::stream::iter(requests)
        .map(|(image, base_from)| resolve_one(image, base_from, daemon.as_ref(), &registry))
        .buffer_unordered(CONCURRENT_RESOLUTIONS)
        .collect()
        .await;
    let mut locked = BTreeMap::new();
    let mut failures = BTreeMap::new();
    for (image, answer) in answers {
        match answer {
            Ok(entry) => {
                locked.insert(image, entry);
            }
            Err(failure) => {
                failures.insert(image, failure);
            }
        }
    }
    // In image order, so that the output does not depend on which answer came first; the last
    // is returned, to be shown after the others.
    let mut failures: Vec<Failure> = failures.into_values().collect();
    match failures.pop() {
        None => Ok(locked),
        Some(last) => {
            for failure in &failures {
                output.failure(failure);
            }
            Err(last)
        }
    }
}

async fn resolve_one(
    image: String,
    base_from: BaseFrom,
    daemon: Option<&DockerRuntime>,
    registry: &RegistryClient,
) -> (String, Result<LockedImage, Failure>) {
    let answer = image_resolve::resolve(&image, base_from, daemon, registry)
        .await
        .map(|resolved| LockedImage::from_resolved(&resolved));
    (image, answer)
}

/// One way the lock differs from the Drakefile or from what its images resolve to now.
#[derive(Debug, PartialEq, Eq)]
enum Difference {
    /// The Drakefile names an image the lock does not cover.
    Missing { image: String, used: ImageUse },
    /// The lock covers an image the Drakefile no longer names.
    Stale { image: String },
    /// The image resolves to another digest than the lock's: its tag moved, or the local image
    /// was rebuilt.
    Moved {
        image: String,
        locked: LockedImage,
        now: LockedImage,
    },
}

impl std::fmt::Display for Difference {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing { image, used } => write!(
                formatter,
                "missing: image `{image}` (job `{}`, container `{}`) is not in the lock",
                used.job, used.container
            ),
            Self::Stale { image } => write!(
                formatter,
                "stale: image `{image}` is in the lock but no longer in the Drakefile"
            ),
            Self::Moved { image, locked, now } => write!(
                formatter,
                "moved: image `{image}` is locked at {} ({}) but now resolves to {} ({})",
                locked.digest, locked.source, now.digest, now.source
            ),
        }
    }
}

/// Every difference between the lock and the Drakefile's images as they resolve now.
///
/// An image is resolved again where the lock found it (unless `--base-from` says otherwise):
/// an image locked from its registry and pulled since is still the registry's, and must not
/// read as changed because the engine now has a copy with an id of its own. The Drakefile's
/// own digest is not compared: only images decide what runs, and editing a job's command must
/// not make a lock stale.
async fn check(
    options: &LockOptions,
    images: &BTreeMap<String, ImageUse>,
    lock: &LockFile,
    output: Output,
) -> Result<Vec<Difference>, Failure> {
    let mut differences = Vec::new();
    let mut requests = Vec::new();
    for (image, used) in images {
        match lock.images.get(image) {
            None => differences.push(Difference::Missing {
                image: image.clone(),
                used: used.clone(),
            }),
            Some(locked) => {
                let base_from = match (options.base_from, locked.source) {
                    (BaseFrom::Auto, ImageSource::Daemon) => BaseFrom::Daemon,
                    (BaseFrom::Auto, ImageSource::Registry) => BaseFrom::Registry,
                    (forced, _) => forced,
                };
                requests.push((image.clone(), base_from));
            }
        }
    }
    for image in lock.images.keys() {
        if !images.contains_key(image) {
            differences.push(Difference::Stale {
                image: image.clone(),
            });
        }
    }
    let now = resolve_all(options, requests, output).await?;
    for (image, now) in now {
        if let Some(locked) = lock.images.get(&image)
            && *locked != now
        {
            differences.push(Difference::Moved {
                image,
                locked: locked.clone(),
                now,
            });
        }
    }
    Ok(differences)
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
