//! The layer cache: a blob store plus a small index (`layers.json`) so that packaging an
//! unchanged tree again costs a directory listing, not a compression.
//!
//! The index maps:
//! - (diffID, compression) → the compressed blob: a layer whose content was compressed once is
//!   never compressed again;
//! - a files fingerprint → the layer: an unchanged tree is not even read;
//! - a shape fingerprint → the diffID last built for it: hashing the content first (cheap) is
//!   tried only when the tree looks like one already built, so a changed tree is read once.
//!
//! The index is rewritten whole through a temporary file and a rename. Two builds finishing at
//! once may lose one's new entries, which costs a later build some work and nothing else. A
//! missing, unreadable or older index is treated as empty: the cache only ever saves work.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use super::build::{check_epoch, compress_layer, hash_layer};
use super::error::LayerError;
use super::fingerprint::{files_fingerprint, is_settled, shape_fingerprint};
use super::select::select;
use super::spec::{BuiltLayer, Compression, LayerBlob, LayerSpec, Reuse};
use crate::blob_store::{BlobStore, BlobStoreError, write_atomically};
use crate::file_stamp::FileStamp;
use eider_oci_types::Digest;

/// The index file in the cache directory.
const INDEX_FILE: &str = "layers.json";

/// The index format; another version is ignored (and replaced).
const INDEX_VERSION: u32 = 1;

/// Entries kept per map, the most recently used first: enough for many trees and layers, small
/// enough that reading the index stays instant.
const MOST_ENTRIES: usize = 1000;

/// A layer cache in a directory.
#[derive(Debug, Clone)]
pub struct LayerCache {
    store: BlobStore,
    index_path: Utf8PathBuf,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Index {
    version: u32,
    /// Keyed by `<diffID> <compression>`.
    compressed: BTreeMap<String, CompressedBlob>,
    /// Keyed by the files fingerprint's hex digits.
    files: BTreeMap<String, CachedLayer>,
    /// Keyed by the shape fingerprint's hex digits.
    shapes: BTreeMap<String, CachedShape>,
    /// Blobs found whole, keyed by their digest's hex digits. Absent from older indexes.
    #[serde(default)]
    checked: BTreeMap<String, Checked>,
}

/// A blob's file as it was when its content was last found to hash to its name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Checked {
    file: FileStamp,
    used: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompressedBlob {
    digest: Digest,
    size: u64,
    /// Seconds since 1970 when last used.
    used: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CachedLayer {
    diff_id: Digest,
    digest: Digest,
    size: u64,
    used: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CachedShape {
    diff_id: Digest,
    used: u64,
}

/// What a build adds to the index.
struct Record {
    blob: LayerBlob,
    compression: Compression,
    files: Option<String>,
    shape: String,
}

impl LayerCache {
    /// The cache in `directory` (created when missing): blobs under `blobs/sha256`, the index
    /// in `layers.json`.
    pub fn open(directory: impl Into<Utf8PathBuf>) -> Result<Self, LayerError> {
        let store = BlobStore::create(directory)?;
        let index_path = store.root().join(INDEX_FILE);
        Ok(Self { store, index_path })
    }

    /// `$XDG_CACHE_HOME/eider`, else `$HOME/.cache/eider`; `None` when neither variable is set
    /// (or is not UTF-8).
    #[must_use]
    pub fn default_directory() -> Option<Utf8PathBuf> {
        let from = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.is_empty())
                .map(Utf8PathBuf::from)
        };
        from("XDG_CACHE_HOME")
            .or_else(|| from("HOME").map(|home| home.join(".cache")))
            .map(|directory| directory.join("eider"))
    }

    /// The blob store the cache's layers live in.
    #[must_use]
    pub fn store(&self) -> &BlobStore {
        &self.store
    }

    /// The cache directory.
    #[must_use]
    pub fn directory(&self) -> &Utf8Path {
        self.store.root()
    }

    /// Whether the store has the blob with exactly `size` bytes that hash to `digest`. Its
    /// content is hashed unless its file has not been written to since it was last found whole;
    /// a damaged blob is removed, so that it is made again.
    pub fn has_whole_blob(&self, digest: &Digest, size: u64) -> Result<bool, BlobStoreError> {
        self.blob_is_whole(&self.load(), digest, size)
    }

    /// [`LayerCache::has_whole_blob`] with the index already read.
    fn blob_is_whole(
        &self,
        index: &Index,
        digest: &Digest,
        size: u64,
    ) -> Result<bool, BlobStoreError> {
        let path = self.store.blob_path(digest);
        let Some(stamp) = FileStamp::of(&path) else {
            return Ok(false);
        };
        let unchanged = stamp.size == size
            && index
                .checked
                .get(&digest.hex())
                .is_some_and(|checked| checked.file == stamp);
        if unchanged {
            return Ok(true);
        }
        if !self.store.has_intact_blob(digest, size)? {
            return Ok(false);
        }
        let mut index = self.load();
        record_checked_at(&mut index, &path, digest);
        self.write_index(index);
        Ok(true)
    }

    /// Builds the layer `spec` describes into the cache's store, reusing what it can: see
    /// [`Reuse`] for what the result says was done.
    pub fn build_layer(&self, spec: &LayerSpec) -> Result<BuiltLayer, LayerError> {
        self.build_layer_teeing(spec, None)
    }

    /// [`LayerCache::build_layer`], handing the compressed bytes to `tee` as they are written
    /// when the layer is compressed (not when it is reused: `tee` then gets nothing).
    pub fn build_layer_teeing(
        &self,
        spec: &LayerSpec,
        tee: Option<Box<dyn std::io::Write + Send>>,
    ) -> Result<BuiltLayer, LayerError> {
        check_epoch(spec)?;
        let listing_started = SystemTime::now();
        let entries = select(spec)?;
        let files = files_fingerprint(spec, &entries).hex();
        let index = self.load();

        // A cached blob is checked before it is handed out again: the cache's files are its own,
        // but a damaged one (an older eider shared them with layouts) must be made again, never
        // built upon.
        if let Some(layer) = index.files.get(&files)
            && self.blob_is_whole(&index, &layer.digest, layer.size)?
        {
            let blob = LayerBlob {
                diff_id: layer.diff_id.clone(),
                digest: layer.digest.clone(),
                size: layer.size,
                media_type: spec.compression.media_type().to_owned(),
            };
            self.save_touched(&blob, spec.compression, Some(&files));
            return Ok(BuiltLayer {
                blob,
                reuse: Reuse::SameFiles,
                entries: entries.len(),
            });
        }

        let shape = shape_fingerprint(spec, &entries).hex();
        let mut reused = None;
        let worth_hashing = index.shapes.get(&shape).is_some_and(|known| {
            index
                .compressed
                .contains_key(&compressed_key(&known.diff_id, spec.compression))
        });
        if worth_hashing {
            let diff_id = hash_layer(spec, &entries)?;
            if let Some(blob) = index
                .compressed
                .get(&compressed_key(&diff_id, spec.compression))
                && self.blob_is_whole(&index, &blob.digest, blob.size)?
            {
                reused = Some(LayerBlob {
                    diff_id,
                    digest: blob.digest.clone(),
                    size: blob.size,
                    media_type: spec.compression.media_type().to_owned(),
                });
            }
        }
        let (blob, reuse) = match reused {
            Some(blob) => (blob, Reuse::SameContent),
            None => (
                compress_layer(spec, &entries, &self.store, tee)?,
                Reuse::Built,
            ),
        };
        let settled = is_settled(&entries, listing_started);
        self.save(&Record {
            blob: blob.clone(),
            compression: spec.compression,
            files: settled.then_some(files),
            shape,
        });
        Ok(BuiltLayer {
            blob,
            reuse,
            entries: entries.len(),
        })
    }

    fn load(&self) -> Index {
        fs_err::read(&self.index_path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Index>(&bytes).ok())
            .filter(|index| index.version == INDEX_VERSION)
            .unwrap_or_default()
    }

    fn save_touched(&self, blob: &LayerBlob, compression: Compression, files: Option<&str>) {
        let mut index = self.load();
        let now = now();
        if let Some(layer) = files.and_then(|files| index.files.get_mut(files)) {
            layer.used = now;
        }
        if let Some(compressed) = index
            .compressed
            .get_mut(&compressed_key(&blob.diff_id, compression))
        {
            compressed.used = now;
        }
        self.write_index(index);
    }

    /// Adds a build's entries to the index as it is on disk now (another build may have added
    /// its own since this one started). The blob was hashed as it was written, or found whole
    /// just before.
    fn save(&self, record: &Record) {
        let mut index = self.load();
        let now = now();
        let blob = &record.blob;
        record_checked_at(
            &mut index,
            &self.store.blob_path(&blob.digest),
            &blob.digest,
        );
        index.compressed.insert(
            compressed_key(&blob.diff_id, record.compression),
            CompressedBlob {
                digest: blob.digest.clone(),
                size: blob.size,
                used: now,
            },
        );
        index.shapes.insert(
            record.shape.clone(),
            CachedShape {
                diff_id: blob.diff_id.clone(),
                used: now,
            },
        );
        if let Some(files) = &record.files {
            index.files.insert(
                files.clone(),
                CachedLayer {
                    diff_id: blob.diff_id.clone(),
                    digest: blob.digest.clone(),
                    size: blob.size,
                    used: now,
                },
            );
        }
        self.write_index(index);
    }

    fn write_index(&self, mut index: Index) {
        index.version = INDEX_VERSION;
        keep_recent(&mut index.compressed, |entry| entry.used);
        keep_recent(&mut index.files, |entry| entry.used);
        keep_recent(&mut index.shapes, |entry| entry.used);
        keep_recent(&mut index.checked, |entry| entry.used);
        // The cache only saves work: failing to record an entry must not fail the build.
        if let Ok(bytes) = serde_json::to_vec(&index) {
            let _ignored = write_atomically(&self.index_path, &bytes);
        }
    }

    /// Removes the index (not the blobs): the next builds start from nothing.
    pub fn clear_index(&self) -> Result<(), BlobStoreError> {
        match fs_err::remove_file(&self.index_path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(self.store.io("remove the cache index", source)),
        }
    }
}

/// Records that the blob `digest`, whose file is at `path`, was just found whole.
fn record_checked_at(index: &mut Index, path: &Utf8Path, digest: &Digest) {
    if let Some(file) = FileStamp::of(path) {
        index
            .checked
            .insert(digest.hex(), Checked { file, used: now() });
    }
}

fn compressed_key(diff_id: &Digest, compression: Compression) -> String {
    format!("{diff_id} {compression}")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

fn keep_recent<T>(map: &mut BTreeMap<String, T>, used: impl Fn(&T) -> u64) {
    if map.len() <= MOST_ENTRIES {
        return;
    }
    let mut ages: Vec<u64> = map.values().map(&used).collect();
    ages.sort_unstable_by(|left, right| right.cmp(left));
    let oldest_kept = ages[MOST_ENTRIES - 1];
    map.retain(|_, entry| used(entry) >= oldest_kept);
}
