//! What packaging processes that no longer run left behind (a `kill -9`, a crash): their
//! temporary files, in the cache and beside the files packages are written to. A sweep never
//! fails an operation: a leftover only costs disk space.

use camino::Utf8Path;
use eider_oci::{LayerCache, temporary};

use crate::location::ImageLocation;

/// Sweeps the cache and the directories `destinations` write into.
pub(crate) fn sweep_abandoned(cache: &Utf8Path, destinations: &[ImageLocation]) {
    sweep(cache);
    for destination in destinations {
        match destination {
            ImageLocation::OciLayout { directory, .. } => {
                sweep(directory);
            }
            ImageLocation::DockerArchive { file } => {
                if let Some(directory) = file.parent() {
                    sweep(if directory.as_str().is_empty() {
                        Utf8Path::new(".")
                    } else {
                        directory
                    });
                }
            }
            ImageLocation::DockerDaemon { .. } | ImageLocation::Registry { .. } => {}
        }
    }
}

/// Sweeps the cache (for `eider clean`); returns how many files and directories were removed.
#[must_use]
pub fn sweep_cache() -> usize {
    LayerCache::default_directory().map_or(0, |directory| sweep(&directory))
}

/// Removes what packaging processes that no longer run left in `directory`; returns how many.
fn sweep(directory: &Utf8Path) -> usize {
    temporary::sweep_abandoned(directory).map_or(0, |removed| removed.len())
}
