//! What identifies a file's content without reading it, for caches that remember what a file's
//! content was found to be: the kernel sets a file's change time on every write, and no program
//! can set it back, so a file with the same identity, size and times has not been written to
//! since.

use std::fs::Metadata;
use std::time::{SystemTime, UNIX_EPOCH};

use camino::Utf8Path;
use serde::{Deserialize, Serialize};

/// A regular file's device, inode, size and modification and change times (seconds and
/// nanoseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FileStamp {
    pub(crate) device: u64,
    pub(crate) inode: u64,
    pub(crate) size: u64,
    pub(crate) modified: (i64, i64),
    pub(crate) changed: (i64, i64),
}

impl FileStamp {
    /// The stamp of the regular file at `path`; `None` when there is none.
    pub(crate) fn of(path: &Utf8Path) -> Option<Self> {
        let metadata = std::fs::symlink_metadata(path).ok()?;
        Self::of_metadata(&metadata)
    }

    /// The stamp of an open file: the one that is read, whatever its path names by then.
    pub(crate) fn of_file(file: &std::fs::File) -> Option<Self> {
        Self::of_metadata(&file.metadata().ok()?)
    }

    fn of_metadata(metadata: &Metadata) -> Option<Self> {
        use std::os::unix::fs::MetadataExt as _;
        metadata.is_file().then(|| Self {
            device: metadata.dev(),
            inode: metadata.ino(),
            size: metadata.size(),
            modified: (metadata.mtime(), metadata.mtime_nsec()),
            changed: (metadata.ctime(), metadata.ctime_nsec()),
        })
    }

    /// Whether the file was last written at least `settle` before `moment`. A file written again
    /// within one tick of the file system's clock can keep its times and size while its
    /// content changes, so only a stamp settled before its content was read stands for it.
    pub(crate) fn settled_before(&self, moment: SystemTime, settle: std::time::Duration) -> bool {
        let Some(limit) = moment
            .checked_sub(settle)
            .and_then(|limit| limit.duration_since(UNIX_EPOCH).ok())
        else {
            return false;
        };
        let limit = i128::try_from(limit.as_nanos()).unwrap_or(i128::MAX);
        let nanoseconds = |(seconds, nanoseconds): (i64, i64)| {
            i128::from(seconds) * 1_000_000_000 + i128::from(nanoseconds)
        };
        nanoseconds(self.modified) < limit && nanoseconds(self.changed) < limit
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_write_of_the_same_size_changes_the_stamp() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let path = Utf8Path::from_path(directory.path())
            .expect("UTF-8")
            .join("blob");
        fs_err::write(&path, b"first").expect("write");
        let before = FileStamp::of(&path).expect("a file");
        // Past the coarsest tick of the file system's clock.
        std::thread::sleep(Duration::from_millis(20));
        fs_err::write(&path, b"other").expect("write");
        let after = FileStamp::of(&path).expect("a file");
        assert_eq!(before.size, after.size);
        assert_ne!(before, after);
        assert_eq!(
            FileStamp::of_file(&std::fs::File::open(&path).expect("open")),
            Some(after)
        );
    }

    #[test]
    fn a_stamp_is_settled_only_long_enough_after_the_write() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let path = Utf8Path::from_path(directory.path())
            .expect("UTF-8")
            .join("blob");
        fs_err::write(&path, b"content").expect("write");
        let stamp = FileStamp::of(&path).expect("a file");
        let settle = Duration::from_secs(2);
        assert!(!stamp.settled_before(SystemTime::now(), settle));
        assert!(stamp.settled_before(SystemTime::now() + Duration::from_secs(3), settle));
        let absent = Utf8Path::from_path(directory.path())
            .expect("UTF-8")
            .join("absent");
        assert_eq!(FileStamp::of(&absent), None);
    }
}
