//! Blobs already verified, remembered by the identity of their files: a package run again is
//! not hashed again while its files are untouched.
//!
//! Each entry says that the file of a device and inode, with that size and those modification
//! and change times (nanoseconds), held content that hashes to a digest (and, for a layer,
//! decompresses to a diffID). Any write to the file changes its change time, which no program
//! can set back, so an entry whose stamp no longer matches is of no use: the blob is hashed
//! again. Only stamps older than the read by [`SETTLE_TIME`] are recorded (a write within one
//! tick of the file system's clock can keep the times).
//!
//! The file is rewritten whole through a temporary file and a rename; a missing, unreadable or
//! older one is treated as empty. Two runs finishing at once may lose one's new entries, which
//! costs a later run a hash and nothing else.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::blob_store::write_atomically;
use crate::file_stamp::FileStamp;
use crate::layer::fingerprint::SETTLE_TIME;
use eider_oci_types::Digest;

/// The file's name in a cache directory.
pub const VERIFIED_BLOBS_FILE: &str = "verified-blobs.json";

/// The format; another version is ignored (and replaced).
const VERSION: u32 = 1;

/// Entries kept, the most recently used first: many packages' layers, and still read at once.
const MOST_ENTRIES: usize = 1000;

/// An entry's last use is written again once it is this old (seconds): a run that only finds
/// what it needs writes nothing, yet entries in use are not the first to go.
const REFRESH_AFTER: u64 = 24 * 60 * 60;

/// The blobs verified before, from a file of a cache directory, and those verified since.
#[derive(Debug, Default)]
pub struct VerifiedBlobs {
    path: Option<Utf8PathBuf>,
    known: BTreeMap<String, Verified>,
    updates: BTreeMap<String, Verified>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Index {
    version: u32,
    /// Keyed by `<device>:<inode>`.
    blobs: BTreeMap<String, Verified>,
}

/// A blob's file as it was when its content was found whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Verified {
    file: FileStamp,
    digest: Digest,
    /// The digest of the decompressed layer, when that was checked too.
    diff_id: Option<Digest>,
    /// Seconds since 1970 when last used.
    used: u64,
}

impl VerifiedBlobs {
    /// The blobs recorded in `directory` (nothing when it has no readable record); what is
    /// verified from now on is added there by [`VerifiedBlobs::save`].
    #[must_use]
    pub fn in_directory(directory: &Utf8Path) -> Self {
        let path = directory.join(VERIFIED_BLOBS_FILE);
        Self {
            known: load(&path).blobs,
            path: Some(path),
            updates: BTreeMap::new(),
        }
    }

    /// Whether the open file, as `stamp` describes it, was found to hold `digest` (and, when
    /// `diff_id` is given, to decompress to it).
    pub(crate) fn holds(
        &self,
        stamp: &FileStamp,
        digest: &Digest,
        diff_id: Option<&Digest>,
    ) -> bool {
        let key = key(stamp);
        self.updates
            .get(&key)
            .or_else(|| self.known.get(&key))
            .is_some_and(|entry| {
                &entry.file == stamp
                    && &entry.digest == digest
                    && diff_id.is_none_or(|expected| entry.diff_id.as_ref() == Some(expected))
            })
    }

    /// Records that the file of `stamp` holds `digest` (decompressing to `diff_id`, when that
    /// was checked): its content was read from `read_started` on, and its stamp was the same
    /// after. A stamp too recent to stand for the content is not recorded.
    pub(crate) fn record(
        &mut self,
        stamp: FileStamp,
        digest: &Digest,
        diff_id: Option<&Digest>,
        read_started: SystemTime,
    ) {
        if !stamp.settled_before(read_started, SETTLE_TIME) {
            return;
        }
        self.updates.insert(
            key(&stamp),
            Verified {
                file: stamp,
                digest: digest.clone(),
                diff_id: diff_id.cloned(),
                used: now(),
            },
        );
    }

    /// Marks the entry of `stamp` as used now; it is written only when that is long overdue.
    pub(crate) fn touch(&mut self, stamp: &FileStamp) {
        let key = key(stamp);
        let now = now();
        if let Some(entry) = self.known.get(&key)
            && now.saturating_sub(entry.used) >= REFRESH_AFTER
            && !self.updates.contains_key(&key)
        {
            let mut entry = entry.clone();
            entry.used = now;
            self.updates.insert(key, entry);
        }
    }

    /// Adds what was verified since it was read to the file as it is on disk now (another run
    /// may have added its own). Nothing is written when nothing was added. A failure to write
    /// is ignored: the record only ever saves work.
    pub fn save(&mut self) {
        let Some(path) = &self.path else {
            return;
        };
        if self.updates.is_empty() {
            return;
        }
        let mut index = load(path);
        index.version = VERSION;
        index.blobs.append(&mut self.updates);
        keep_recent(&mut index.blobs);
        if let (Some(directory), Ok(bytes)) = (path.parent(), serde_json::to_vec(&index))
            && fs_err::create_dir_all(directory).is_ok()
        {
            let _ignored = write_atomically(path, &bytes);
        }
        self.known = index.blobs;
    }
}

fn load(path: &Utf8Path) -> Index {
    fs_err::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Index>(&bytes).ok())
        .filter(|index| index.version == VERSION)
        .unwrap_or_default()
}

fn key(stamp: &FileStamp) -> String {
    format!("{}:{}", stamp.device, stamp.inode)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

fn keep_recent(blobs: &mut BTreeMap<String, Verified>) {
    if blobs.len() <= MOST_ENTRIES {
        return;
    }
    let mut ages: Vec<u64> = blobs.values().map(|entry| entry.used).collect();
    ages.sort_unstable_by(|left, right| right.cmp(left));
    let oldest_kept = ages[MOST_ENTRIES - 1];
    blobs.retain(|_, entry| entry.used >= oldest_kept);
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn file(directory: &Utf8Path, content: &[u8]) -> FileStamp {
        let path = directory.join("blob");
        fs_err::write(&path, content).expect("write");
        FileStamp::of(&path).expect("a file")
    }

    fn directory() -> (tempfile::TempDir, Utf8PathBuf) {
        let directory = tempfile::tempdir().expect("temporary directory");
        let path = Utf8PathBuf::try_from(directory.path().to_path_buf()).expect("UTF-8 path");
        (directory, path)
    }

    #[test]
    fn a_recorded_blob_is_held_until_its_file_or_what_is_asked_differs() {
        let (_directory, path) = directory();
        let stamp = file(&path, b"layer");
        let digest = Digest::of(b"layer");
        let diff_id = Digest::of(b"tar");
        let later = SystemTime::now() + SETTLE_TIME + Duration::from_secs(1);
        let mut verified = VerifiedBlobs::in_directory(&path);
        verified.record(stamp.clone(), &digest, Some(&diff_id), later);
        verified.save();

        let verified = VerifiedBlobs::in_directory(&path);
        assert!(verified.holds(&stamp, &digest, Some(&diff_id)));
        assert!(verified.holds(&stamp, &digest, None));
        assert!(!verified.holds(&stamp, &Digest::of(b"other"), None));
        assert!(!verified.holds(&stamp, &digest, Some(&Digest::of(b"other tar"))));
        let mut changed = stamp.clone();
        changed.changed.1 += 1;
        assert!(!verified.holds(&changed, &digest, None));
    }

    #[test]
    fn a_stamp_too_recent_or_an_unchecked_diff_id_is_not_trusted() {
        let (_directory, path) = directory();
        let stamp = file(&path, b"layer");
        let digest = Digest::of(b"layer");
        let mut verified = VerifiedBlobs::in_directory(&path);
        verified.record(stamp.clone(), &digest, None, SystemTime::now());
        assert!(!verified.holds(&stamp, &digest, None));
        verified.save();
        assert!(!path.join(VERIFIED_BLOBS_FILE).exists(), "nothing to write");

        let later = SystemTime::now() + SETTLE_TIME + Duration::from_secs(1);
        verified.record(stamp.clone(), &digest, None, later);
        assert!(verified.holds(&stamp, &digest, None));
        assert!(!verified.holds(&stamp, &digest, Some(&Digest::of(b"tar"))));
    }

    #[test]
    fn an_unreadable_record_is_empty_and_replaced() {
        let (_directory, path) = directory();
        fs_err::write(path.join(VERIFIED_BLOBS_FILE), b"{not json").expect("write");
        let stamp = file(&path, b"layer");
        let digest = Digest::of(b"layer");
        let mut verified = VerifiedBlobs::in_directory(&path);
        assert!(!verified.holds(&stamp, &digest, None));
        let later = SystemTime::now() + SETTLE_TIME + Duration::from_secs(1);
        verified.record(stamp.clone(), &digest, None, later);
        verified.save();
        assert!(VerifiedBlobs::in_directory(&path).holds(&stamp, &digest, None));
    }
}
