//! Locking: every image of a Drakefile resolved to a digest, and a lock compared with what its
//! images resolve to now.
//!
//! Images are resolved a few at a time: each is one round trip to the engine or a registry, and
//! a Drakefile names few enough that a small bound keeps registries from seeing a burst.

use std::collections::BTreeMap;

use camino::Utf8Path;
use eider_registry::RegistryClient;
use eider_runtime_docker::DockerRuntime;
use futures_util::StreamExt as _;

use super::file::{ImageUse, LockFile, LockedImage};
use crate::progress::Observer;
use crate::resolve::{
    AccessError, ImageSource, RegistryAccess, ResolveError, ResolveFrom, connect_daemon, resolve,
};

/// Images resolved at once.
const CONCURRENT_RESOLUTIONS: usize = 8;

/// Images that could not be locked or checked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// The Drakefile's bytes, whose digest the lock records, cannot be read.
    #[error("cannot read {display}")]
    ReadDrakefile {
        /// The Drakefile, as messages show it.
        display: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The local engine, which was to be asked, does not answer.
    #[error(transparent)]
    Connect(ResolveError),
    /// No registry client could be made.
    #[error(transparent)]
    Access(AccessError),
    /// Images that did not resolve, in the order of their names (never empty).
    #[error("{} image(s) could not be resolved", .0.len())]
    Unresolved(Vec<ResolveError>),
}

/// One way the lock differs from the Drakefile or from what its images resolve to now.
#[derive(Debug, PartialEq, Eq)]
pub enum Difference {
    /// The Drakefile names an image the lock does not cover.
    Missing {
        /// The image.
        image: String,
        /// Where the Drakefile uses it first.
        used: ImageUse,
    },
    /// The lock covers an image the Drakefile no longer names.
    Stale {
        /// The image.
        image: String,
    },
    /// The image resolves to another digest than the lock's: its tag moved, or the local image
    /// was rebuilt.
    Moved {
        /// The image.
        image: String,
        /// What the lock says.
        locked: LockedImage,
        /// What it resolves to now.
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

/// The lock of the Drakefile at `path` (shown as `display`), whose images are `images`: each
/// resolved as `from` says.
pub async fn lock(
    images: &BTreeMap<String, ImageUse>,
    path: &Utf8Path,
    display: &str,
    from: ResolveFrom,
    access: &RegistryAccess,
    observer: &dyn Observer,
) -> Result<LockFile, LockError> {
    let drakefile_bytes = fs_err::read(path).map_err(|source| LockError::ReadDrakefile {
        display: display.to_owned(),
        source,
    })?;
    let requests = images.keys().map(|image| (image.clone(), from)).collect();
    let locked = resolve_all(requests, access, observer).await?;
    Ok(LockFile::new(
        &eider_oci::Digest::of(&drakefile_bytes),
        locked,
    ))
}

/// Every difference between `lock` and the Drakefile's `images` as they resolve now.
///
/// An image is resolved again where the lock found it (unless `from` says otherwise): an image
/// locked from its registry and pulled since is still the registry's, and must not read as
/// changed because the engine now has a copy with an id of its own. The Drakefile's own digest
/// is not compared: only images decide what runs, and editing a job's command must not make a
/// lock stale.
pub async fn check(
    images: &BTreeMap<String, ImageUse>,
    lock: &LockFile,
    from: ResolveFrom,
    access: &RegistryAccess,
    observer: &dyn Observer,
) -> Result<Vec<Difference>, LockError> {
    let mut differences = Vec::new();
    let mut requests = Vec::new();
    for (image, used) in images {
        match lock.images.get(image) {
            None => differences.push(Difference::Missing {
                image: image.clone(),
                used: used.clone(),
            }),
            Some(locked) => {
                let from = match (from, locked.source) {
                    (ResolveFrom::Auto, ImageSource::Daemon) => ResolveFrom::Daemon,
                    (ResolveFrom::Auto, ImageSource::Registry) => ResolveFrom::Registry,
                    (forced, _) => forced,
                };
                requests.push((image.clone(), from));
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
    let now = resolve_all(requests, access, observer).await?;
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

/// Resolves each image as its own `ResolveFrom` says; fails with every failure when any.
async fn resolve_all(
    requests: Vec<(String, ResolveFrom)>,
    access: &RegistryAccess,
    observer: &dyn Observer,
) -> Result<BTreeMap<String, LockedImage>, LockError> {
    let needs_daemon = requests
        .iter()
        .any(|(_, from)| *from != ResolveFrom::Registry);
    let daemon = if needs_daemon {
        // Under `Auto` an engine that does not answer only means asking the registries.
        let strictest = if requests
            .iter()
            .any(|(_, from)| *from == ResolveFrom::Daemon)
        {
            ResolveFrom::Daemon
        } else {
            ResolveFrom::Auto
        };
        connect_daemon(strictest)
            .await
            .map_err(LockError::Connect)?
    } else {
        None
    };
    // A lock writes to no registry: credentials must name their host.
    let registry = access
        .client(std::iter::empty::<&str>(), observer)
        .map_err(LockError::Access)?;
    let answers: Vec<(String, Result<LockedImage, ResolveError>)> =
        futures_util::stream::iter(requests)
            .map(|(image, from)| resolve_one(image, from, daemon.as_ref(), &registry))
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
            Err(error) => {
                failures.insert(image, error);
            }
        }
    }
    // In image order, so that what is reported does not depend on which answer came first.
    if failures.is_empty() {
        Ok(locked)
    } else {
        Err(LockError::Unresolved(failures.into_values().collect()))
    }
}

async fn resolve_one(
    image: String,
    from: ResolveFrom,
    daemon: Option<&DockerRuntime>,
    registry: &RegistryClient,
) -> (String, Result<LockedImage, ResolveError>) {
    let answer = resolve(&image, from, daemon, registry)
        .await
        .map(|resolved| LockedImage::from_resolved(&resolved));
    (image, answer)
}
