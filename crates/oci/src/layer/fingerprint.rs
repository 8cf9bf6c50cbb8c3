//! Fingerprints of a selection, computed from `lstat` alone (no file is read).
//!
//! - The *files* fingerprint covers, for every entry, its path, size, modification and status
//!   change times (nanoseconds), device, inode, link count, mode and link target, plus the rules
//!   version, destination, epoch and compression. When it matches a layer built before, that
//!   layer is reused without reading anything: the same check git makes for its index.
//! - The *shape* fingerprint leaves out times and inodes: a fresh checkout of the same tree has
//!   the same shape. It only says that hashing the content is worth a try before compressing.
//!
//! A files fingerprint is trusted only once every entry's modification time is older than the
//! moment the listing started by [`SETTLE_TIME`]: a file written again within one tick of the
//! file system clock can keep its time and size while its content changes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::select::{Entry, EntryKind};
use super::spec::LayerSpec;
use crate::normalization::NORMALIZATION_VERSION;
use eider_oci_types::{Digest, Hasher};

/// How much older than the listing every entry must be for its fingerprint to be recorded.
pub(crate) const SETTLE_TIME: Duration = Duration::from_secs(2);

/// The files fingerprint of `entries`.
pub(crate) fn files_fingerprint(spec: &LayerSpec, entries: &[Entry]) -> Digest {
    let mut hasher = start(b"files", spec);
    for entry in entries {
        push_entry(&mut hasher, entry);
        if let Some(status) = &entry.status {
            for number in [
                status.device,
                status.inode,
                status.links,
                status.size,
                u64::from(status.mode),
            ] {
                hasher.update(&number.to_le_bytes());
            }
            hasher.update(&status.modified.to_le_bytes());
            hasher.update(&status.changed.to_le_bytes());
        }
    }
    Digest::from_hash(*hasher.finish().0.hash())
}

/// The shape fingerprint of `entries`: names, kinds, sizes, normalized modes and link targets.
pub(crate) fn shape_fingerprint(spec: &LayerSpec, entries: &[Entry]) -> Digest {
    let mut hasher = start(b"shape", spec);
    for entry in entries {
        push_entry(&mut hasher, entry);
    }
    Digest::from_hash(*hasher.finish().0.hash())
}

/// Whether every entry was last modified at least [`SETTLE_TIME`] before `listing_started`.
pub(crate) fn is_settled(entries: &[Entry], listing_started: SystemTime) -> bool {
    let Some(limit) = listing_started
        .checked_sub(SETTLE_TIME)
        .and_then(|limit| limit.duration_since(UNIX_EPOCH).ok())
    else {
        return false;
    };
    let limit = i128::try_from(limit.as_nanos()).unwrap_or(i128::MAX);
    entries
        .iter()
        .filter_map(|entry| entry.status.as_ref())
        .all(|status| status.modified < limit)
}

fn start(kind: &[u8], spec: &LayerSpec) -> Hasher {
    let mut hasher = Hasher::new();
    push_text(&mut hasher, "eider layer fingerprint");
    hasher.update(kind);
    hasher.update(&NORMALIZATION_VERSION.to_le_bytes());
    push_text(&mut hasher, spec.destination.as_str());
    hasher.update(&spec.epoch.to_le_bytes());
    push_text(&mut hasher, spec.compression.name());
    hasher
}

/// Every variable-length field is preceded by its length, so no two lists hash alike.
fn push_text(hasher: &mut Hasher, text: &str) {
    hasher.update(&(text.len() as u64).to_le_bytes());
    hasher.update(text.as_bytes());
}

fn push_entry(hasher: &mut Hasher, entry: &Entry) {
    push_text(hasher, &entry.name);
    match &entry.kind {
        EntryKind::Directory => hasher.update(b"d"),
        EntryKind::File { size, mode, .. } => {
            hasher.update(b"f");
            hasher.update(&size.to_le_bytes());
            hasher.update(&mode.to_le_bytes());
        }
        EntryKind::Symlink { target } => {
            hasher.update(b"s");
            push_text(hasher, target);
        }
        EntryKind::HardLink { target, mode } => {
            hasher.update(b"h");
            push_text(hasher, target);
            hasher.update(&mode.to_le_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use camino::Utf8PathBuf;

    use super::*;
    use crate::layer::select::Status;

    fn file(name: &str, modified_seconds: i128) -> Entry {
        Entry {
            name: name.to_owned(),
            kind: EntryKind::File {
                size: 3,
                mode: 0o644,
                path: Utf8PathBuf::from(name),
            },
            status: Some(Status {
                device: 1,
                inode: 2,
                mode: 0o100_644,
                size: 3,
                links: 1,
                modified: modified_seconds * 1_000_000_000,
                changed: modified_seconds * 1_000_000_000,
            }),
        }
    }

    #[test]
    fn times_change_the_files_fingerprint_but_not_the_shape() {
        let spec = LayerSpec::whole_tree("/tree", "/src");
        let before = [file("src/a", 100)];
        let after = [file("src/a", 200)];
        assert_ne!(
            files_fingerprint(&spec, &before),
            files_fingerprint(&spec, &after)
        );
        assert_eq!(
            shape_fingerprint(&spec, &before),
            shape_fingerprint(&spec, &after)
        );
    }

    #[test]
    fn the_spec_is_part_of_both_fingerprints() {
        let entries = [file("src/a", 100)];
        let gzip = LayerSpec::whole_tree("/tree", "/src");
        for other in [
            gzip.clone().with_epoch(1),
            gzip.clone()
                .with_compression(crate::layer::Compression::Zstd),
            LayerSpec::whole_tree("/tree", "/app"),
        ] {
            assert_ne!(
                files_fingerprint(&gzip, &entries),
                files_fingerprint(&other, &entries)
            );
            assert_ne!(
                shape_fingerprint(&gzip, &entries),
                shape_fingerprint(&other, &entries)
            );
        }
    }

    #[test]
    fn recently_modified_entries_are_not_settled() {
        let now = UNIX_EPOCH + Duration::from_secs(1000);
        assert!(is_settled(&[file("a", 997)], now));
        assert!(!is_settled(&[file("a", 997), file("b", 999)], now));
        assert!(
            !is_settled(&[file("a", 998)], now),
            "exactly 2 s is too recent"
        );
    }
}
