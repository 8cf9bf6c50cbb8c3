//! What a push reports while it runs, for the CLI to draw progress from; the library prints
//! nothing itself.

use std::sync::Arc;
use std::time::Duration;

use eider_oci_types::Digest;

/// Something that happened during a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushEvent {
    /// The registry already has the blob: nothing is sent.
    BlobPresent {
        /// The blob.
        digest: Digest,
        /// Its size.
        size: u64,
    },
    /// The registry linked the blob from another repository: nothing is sent.
    BlobMounted {
        /// The blob.
        digest: Digest,
        /// Its size.
        size: u64,
        /// The repository it was mounted from.
        from: String,
    },
    /// Sending the blob starts (again, after a retry).
    BlobStarted {
        /// The blob.
        digest: Digest,
        /// Its size.
        size: u64,
    },
    /// Bytes of the blob handed to the connection so far, in this try.
    BlobProgress {
        /// The blob.
        digest: Digest,
        /// Bytes sent so far.
        sent: u64,
        /// Its size.
        size: u64,
    },
    /// The registry confirmed the blob.
    BlobUploaded {
        /// The blob.
        digest: Digest,
        /// Its size.
        size: u64,
    },
    /// Sending the blob failed in a way that may pass; it is tried again after `delay`.
    BlobRetrying {
        /// The blob.
        digest: Digest,
        /// The failed try (1 for the first).
        attempt: u32,
        /// The wait before the next try.
        delay: Duration,
        /// What failed, as one line.
        reason: String,
    },
    /// The manifest was stored under `target` (a tag, or its digest when there is no tag).
    ManifestPushed {
        /// The manifest's digest.
        digest: Digest,
        /// The tag or digest it was pushed to.
        target: String,
    },
}

/// Receives push events; called from the pushing task, so it should be quick.
pub type PushProgress = Arc<dyn Fn(&PushEvent) + Send + Sync>;

/// A progress receiver that ignores everything.
#[must_use]
pub fn no_progress() -> PushProgress {
    Arc::new(|_event: &PushEvent| {})
}
