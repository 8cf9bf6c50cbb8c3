//! A directory of blobs named by digest, `<root>/blobs/sha256/<hex>`: exactly the blob layout of
//! an OCI image layout, so a layout is a store plus `oci-layout` and `index.json`, and the cache
//! is a store plus its index. Blobs appear under their final name only once complete (written
//! to a temporary name beside them, then renamed), so a name always means the whole content.

use std::io::{self, BufWriter, Write};

use camino::{Utf8Path, Utf8PathBuf};

pub(crate) use crate::temporary::TemporaryFile;
use eider_oci_types::{Digest, HashingWriter};
use eider_regular_file::{open_regular, read_bounded};

/// The most an index, a manifest or a config may hold: what registries accept for a manifest,
/// and far beyond any real one.
pub const MAX_SMALL_BLOB: u64 = 4 * 1024 * 1024;

/// Buffer between a blob writer and its file: large writes of compressed data pass through.
const WRITE_BUFFER: usize = 256 * 1024;

/// A blob store rooted at a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobStore {
    root: Utf8PathBuf,
}

/// Why a blob store operation failed. The I/O causes name their path.
#[derive(Debug, thiserror::Error)]
pub enum BlobStoreError {
    /// A file or directory of the store could not be created, read or written.
    #[error("cannot {action} in the blob store {root}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The store.
        root: Utf8PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The store has no blob with this digest.
    #[error("blob {digest} is not in {root}")]
    Missing {
        /// The blob.
        digest: Digest,
        /// The store.
        root: Utf8PathBuf,
    },
    /// None of the stores searched has the blob.
    #[error("blob {digest} is in none of the blob stores given")]
    MissingEverywhere {
        /// The blob.
        digest: Digest,
    },
    /// A blob's file does not have the size its descriptor states.
    #[error("blob {digest} in {root} has {found} bytes, expected {expected}")]
    Size {
        /// The blob.
        digest: Digest,
        /// The store.
        root: Utf8PathBuf,
        /// The size stated.
        expected: u64,
        /// The size on disk.
        found: u64,
    },
    /// A stored blob's bytes do not hash to its name.
    #[error("blob {digest} at {path} is damaged: its content hashes to {found}")]
    Damaged {
        /// The blob's name.
        digest: Digest,
        /// Its file.
        path: Utf8PathBuf,
        /// What its content hashes to.
        found: Digest,
    },
    /// Bytes written under a digest do not hash to it.
    #[error("content written for {expected} hashes to {found}")]
    Content {
        /// The digest asked for.
        expected: Digest,
        /// The digest of what was written.
        found: Digest,
    },
}

impl BlobStore {
    /// A store at `root`, which need not exist yet (see [`BlobStore::create`]).
    pub fn new(root: impl Into<Utf8PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// A store at `root`, creating its directories when missing.
    pub fn create(root: impl Into<Utf8PathBuf>) -> Result<Self, BlobStoreError> {
        let store = Self::new(root);
        fs_err::create_dir_all(store.blob_directory())
            .map_err(|source| store.io("create the blob directory", source))?;
        Ok(store)
    }

    /// The root directory.
    #[must_use]
    pub fn root(&self) -> &Utf8Path {
        &self.root
    }

    /// `<root>/blobs/sha256`.
    #[must_use]
    pub fn blob_directory(&self) -> Utf8PathBuf {
        self.root.join("blobs").join("sha256")
    }

    /// Where the blob `digest` lives (whether or not it is there).
    #[must_use]
    pub fn blob_path(&self, digest: &Digest) -> Utf8PathBuf {
        self.blob_directory().join(digest.hex())
    }

    /// The size of the blob on disk, `None` when the store does not have it.
    pub fn blob_size(&self, digest: &Digest) -> Result<Option<u64>, BlobStoreError> {
        match fs_err::metadata(self.blob_path(digest)) {
            Ok(metadata) if metadata.is_file() => Ok(Some(metadata.len())),
            Ok(_) => Ok(None),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(self.io("inspect a blob", source)),
        }
    }

    /// Whether the store has the blob with exactly `size` bytes.
    pub fn has_blob(&self, digest: &Digest, size: u64) -> Result<bool, BlobStoreError> {
        Ok(self.blob_size(digest)? == Some(size))
    }

    /// Opens a blob for reading, checking that its size is `size` when given.
    pub fn open(&self, digest: &Digest, size: Option<u64>) -> Result<fs_err::File, BlobStoreError> {
        let path = self.blob_path(digest);
        let file = match open_regular(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Err(BlobStoreError::Missing {
                    digest: digest.clone(),
                    root: self.root.clone(),
                });
            }
            Err(source) => return Err(self.io("open a blob", source)),
        };
        if let Some(expected) = size {
            let found = file
                .metadata()
                .map_err(|source| self.io("inspect a blob", source))?
                .len();
            if found != expected {
                return Err(BlobStoreError::Size {
                    digest: digest.clone(),
                    root: self.root.clone(),
                    expected,
                    found,
                });
            }
        }
        Ok(file)
    }

    /// Reads a small blob (a manifest, a config) whole, checking its size and its digest; one
    /// over [`MAX_SMALL_BLOB`] bytes is refused unread.
    pub fn read(&self, digest: &Digest, size: Option<u64>) -> Result<Vec<u8>, BlobStoreError> {
        let file = self.open(digest, size)?;
        let bytes = read_bounded(file, MAX_SMALL_BLOB, &format!("blob {digest}"))
            .map_err(|source| self.io("read a blob", source))?;
        let found = Digest::of(&bytes);
        if &found != digest {
            return Err(BlobStoreError::Content {
                expected: digest.clone(),
                found,
            });
        }
        Ok(bytes)
    }

    /// Stores `bytes` (a manifest, a config) and returns their digest and size. Nothing is
    /// written when the blob is already there, whole.
    pub fn write(&self, bytes: &[u8]) -> Result<(Digest, u64), BlobStoreError> {
        let digest = Digest::of(bytes);
        let size = bytes.len() as u64;
        if !self.has_intact_blob(&digest, size)? {
            let mut writer = self.writer()?;
            writer
                .write_all(bytes)
                .map_err(|source| self.io("write a blob", source))?;
            writer.commit()?;
        }
        Ok((digest, size))
    }

    /// A writer for a new blob: its name is known, and given, only once it is complete.
    pub fn writer(&self) -> Result<BlobWriter, BlobStoreError> {
        fs_err::create_dir_all(self.blob_directory())
            .map_err(|source| self.io("create the blob directory", source))?;
        let temporary = TemporaryFile::create(&self.root)
            .map_err(|source| self.io("create a temporary file", source))?;
        let file = temporary
            .file
            .try_clone()
            .map_err(|source| self.io("create a temporary file", source))?;
        Ok(BlobWriter {
            store: self.clone(),
            output: HashingWriter::new(BufWriter::with_capacity(WRITE_BUFFER, file)),
            temporary,
            tee: None,
        })
    }

    /// Whether the store has the blob with exactly `size` bytes that hash to `digest`: the whole
    /// file is read. A blob that is there but damaged is removed, so that it is made again.
    pub fn has_intact_blob(&self, digest: &Digest, size: u64) -> Result<bool, BlobStoreError> {
        if !self.has_blob(digest, size)? {
            return Ok(false);
        }
        let mut hashing = HashingWriter::new(io::sink());
        io::copy(&mut self.open(digest, Some(size))?, &mut hashing)
            .map_err(|source| self.io("read a blob", source))?;
        let (_, found, _) = hashing.finish();
        if &found == digest {
            return Ok(true);
        }
        match fs_err::remove_file(self.blob_path(digest)) {
            Ok(()) => Ok(false),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(self.io("remove a damaged blob", source)),
        }
    }

    /// Makes the blob `digest` of `source` available here, as a file of this store's own, from
    /// a source that holds it whole (the layer cache, whose blobs are checked when they are
    /// made and before they are used again): a copy made by the kernel (a reflink where the
    /// file system has them), not hashed again. Stores never share a file: a hard link would
    /// let a change to one layout's blob reach the cache and every other layout. A blob already
    /// here with that size is kept.
    pub fn import(
        &self,
        source: &BlobStore,
        digest: &Digest,
        size: u64,
    ) -> Result<(), BlobStoreError> {
        if self.has_blob(digest, size)? {
            return Ok(());
        }
        let reader = source.open(digest, Some(size))?;
        fs_err::create_dir_all(self.blob_directory())
            .map_err(|source| self.io("create the blob directory", source))?;
        let mut temporary = TemporaryFile::create(&self.root)
            .map_err(|source| self.io("create a temporary file", source))?;
        // Between two `std::fs::File`s, `io::copy` is `copy_file_range`: no bytes pass through
        // this process.
        let copied = io::copy(&mut reader.file(), &mut temporary.file.file())
            .map_err(|source| self.io("copy a blob", source))?;
        if copied != size {
            return Err(BlobStoreError::Size {
                digest: digest.clone(),
                root: source.root.clone(),
                expected: size,
                found: copied,
            });
        }
        temporary
            .persist(&self.blob_path(digest))
            .map_err(|source| self.io("rename a blob into place", source))
    }

    /// [`BlobStore::import`] from a source that may hold anything (a layout from elsewhere): the
    /// copy is hashed as it is made, and a blob whose content is not its name is refused. A blob
    /// already here is kept when it is whole, and replaced when it is damaged.
    pub fn import_checked(
        &self,
        source: &BlobStore,
        digest: &Digest,
        size: u64,
    ) -> Result<(), BlobStoreError> {
        if self.has_intact_blob(digest, size)? {
            return Ok(());
        }
        let mut reader = source.open(digest, Some(size))?;
        let mut writer = self.writer()?;
        io::copy(&mut reader, &mut writer).map_err(|source| self.io("copy a blob", source))?;
        let (found, _) = writer.commit()?;
        if &found != digest {
            // Stored under the name of what it really holds, which no image asked for.
            let _ignored = fs_err::remove_file(self.blob_path(&found));
            return Err(BlobStoreError::Damaged {
                digest: digest.clone(),
                path: source.blob_path(digest),
                found,
            });
        }
        Ok(())
    }

    pub(crate) fn io(&self, action: &'static str, source: io::Error) -> BlobStoreError {
        BlobStoreError::Io {
            action,
            root: self.root.clone(),
            source,
        }
    }
}

/// The first of `stores` that has the blob with that size.
pub fn find_blob<'store>(
    stores: &[&'store BlobStore],
    digest: &Digest,
    size: u64,
) -> Result<&'store BlobStore, BlobStoreError> {
    for store in stores {
        if store.has_blob(digest, size)? {
            return Ok(store);
        }
    }
    Err(BlobStoreError::MissingEverywhere {
        digest: digest.clone(),
    })
}

/// A blob being written. It is hashed as it is written and becomes visible under its digest only
/// on [`BlobWriter::commit`]; dropped without commit, it leaves nothing behind.
pub struct BlobWriter {
    store: BlobStore,
    output: HashingWriter<BufWriter<fs_err::File>>,
    temporary: TemporaryFile,
    /// Also gets every byte written, while it takes them (see [`BlobWriter::with_tee`]).
    tee: Option<Box<dyn Write + Send>>,
}

impl BlobWriter {
    /// Also hands every byte written to `tee` (e.g. an upload that runs while the blob is
    /// made). The blob never depends on it: once `tee` fails, it is dropped and the blob goes
    /// on. It is dropped (and so told the end) when the blob is committed or dropped.
    #[must_use]
    pub fn with_tee(mut self, tee: Box<dyn Write + Send>) -> Self {
        self.tee = Some(tee);
        self
    }

    fn copy_to_tee(&mut self, written: &[u8]) {
        if let Some(tee) = &mut self.tee
            && tee.write_all(written).is_err()
        {
            self.tee = None;
        }
    }

    /// Bytes written so far.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.output.size()
    }

    /// Finishes the blob: flushes it and renames it to its digest. Returns the digest and size.
    pub fn commit(self) -> Result<(Digest, u64), BlobStoreError> {
        let Self {
            store,
            output,
            mut temporary,
            tee,
        } = self;
        drop(tee);
        let (buffered, digest, size) = output.finish();
        buffered
            .into_inner()
            .map_err(|error| store.io("write a blob", error.into_error()))?;
        temporary
            .persist(&store.blob_path(&digest))
            .map_err(|source| store.io("rename a blob into place", source))?;
        Ok((digest, size))
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        let written = self.output.write(buffer)?;
        self.copy_to_tee(&buffer[..written]);
        Ok(written)
    }

    fn write_all(&mut self, buffer: &[u8]) -> io::Result<()> {
        self.output.write_all(buffer)?;
        self.copy_to_tee(buffer);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.output.flush()
    }
}

/// Writes `bytes` to `destination` through a temporary file in the same directory and a rename,
/// so readers see the old content or the new, never a mix.
pub(crate) fn write_atomically(destination: &Utf8Path, bytes: &[u8]) -> io::Result<()> {
    let directory = destination
        .parent()
        .filter(|parent| !parent.as_str().is_empty())
        .unwrap_or(Utf8Path::new("."));
    let mut temporary = TemporaryFile::create(directory)?;
    temporary.file.write_all(bytes)?;
    temporary.persist(destination)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temporary_store() -> (tempfile::TempDir, BlobStore) {
        let directory = tempfile::tempdir().expect("temporary directory");
        let root = Utf8PathBuf::try_from(directory.path().to_path_buf()).expect("UTF-8 path");
        let store = BlobStore::create(root).expect("store");
        (directory, store)
    }

    fn entries(directory: &Utf8Path) -> Vec<String> {
        let mut names: Vec<String> = fs_err::read_dir(directory)
            .expect("list")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    #[test]
    fn write_names_the_blob_by_its_digest_and_leaves_no_temporary_file() {
        let (_directory, store) = temporary_store();
        let (digest, size) = store.write(b"{}").expect("write");
        assert_eq!(digest, Digest::of(b"{}"));
        assert_eq!(size, 2);
        assert_eq!(fs_err::read(store.blob_path(&digest)).expect("read"), b"{}");
        assert_eq!(entries(store.root()), ["blobs"]);
        assert_eq!(store.read(&digest, Some(2)).expect("read back"), b"{}");
    }

    #[test]
    fn a_dropped_writer_leaves_nothing() {
        let (_directory, store) = temporary_store();
        let mut writer = store.writer().expect("writer");
        writer.write_all(b"partial").expect("write");
        drop(writer);
        assert_eq!(entries(store.root()), ["blobs"]);
        assert!(entries(&store.blob_directory()).is_empty());
    }

    #[test]
    fn open_reports_missing_blobs_and_wrong_sizes() {
        let (_directory, store) = temporary_store();
        let (digest, _) = store.write(b"abc").expect("write");
        assert!(matches!(
            store.open(&digest, Some(4)),
            Err(BlobStoreError::Size {
                expected: 4,
                found: 3,
                ..
            })
        ));
        assert!(matches!(
            store.open(&Digest::of(b"other"), None),
            Err(BlobStoreError::Missing { .. })
        ));
    }

    #[test]
    fn read_refuses_a_blob_whose_content_does_not_match_its_name() {
        let (_directory, store) = temporary_store();
        let (digest, _) = store.write(b"abc").expect("write");
        fs_err::write(store.blob_path(&digest), b"xyz").expect("corrupt");
        assert!(matches!(
            store.read(&digest, Some(3)),
            Err(BlobStoreError::Content { .. })
        ));
    }

    #[test]
    fn an_imported_blob_is_a_file_of_its_own_not_a_link_to_the_source() {
        use std::os::unix::fs::MetadataExt as _;
        let (_first_directory, first) = temporary_store();
        let (_second_directory, second) = temporary_store();
        let (digest, size) = first.write(b"layer").expect("write");
        second.import(&first, &digest, size).expect("import");
        let inode = |store: &BlobStore| {
            fs_err::metadata(store.blob_path(&digest))
                .expect("metadata")
                .ino()
        };
        assert_ne!(inode(&first), inode(&second));
        fs_err::write(first.blob_path(&digest), b"LAYER").expect("change the source");
        assert_eq!(second.read(&digest, Some(size)).expect("read"), b"layer");
    }

    #[test]
    fn importing_a_damaged_blob_fails_naming_it_and_stores_nothing() {
        let (_first_directory, first) = temporary_store();
        let (_second_directory, second) = temporary_store();
        let (digest, size) = first.write(b"layer").expect("write");
        fs_err::write(first.blob_path(&digest), b"LAYER").expect("damage");
        let error = second
            .import_checked(&first, &digest, size)
            .expect_err("damaged");
        assert!(
            matches!(&error, BlobStoreError::Damaged { path, .. } if *path == first.blob_path(&digest)),
            "{error}"
        );
        assert!(entries(&second.blob_directory()).is_empty());
    }

    #[test]
    fn a_damaged_blob_already_there_is_replaced_on_a_checked_import_and_removed_by_the_check() {
        let (_first_directory, first) = temporary_store();
        let (_second_directory, second) = temporary_store();
        let (digest, size) = first.write(b"layer").expect("write");
        second.import(&first, &digest, size).expect("import");
        fs_err::write(second.blob_path(&digest), b"LAYER").expect("damage");
        second
            .import_checked(&first, &digest, size)
            .expect("import again");
        assert_eq!(second.read(&digest, Some(size)).expect("read"), b"layer");
        fs_err::write(second.blob_path(&digest), b"LAYER").expect("damage");
        assert!(!second.has_intact_blob(&digest, size).expect("check"));
        assert!(entries(&second.blob_directory()).is_empty());
    }

    #[test]
    fn a_blob_that_is_a_link_to_a_device_is_refused_unread() {
        let (_directory, store) = temporary_store();
        let digest = Digest::of(b"manifest");
        std::os::unix::fs::symlink("/dev/zero", store.blob_path(&digest)).expect("symlink");
        let error = store.read(&digest, None).expect_err("refused");
        assert!(error.to_string().contains("cannot open a blob"), "{error}");
        let chain = eider_error_chain::chain_text(&error);
        assert!(chain.contains("not a regular file"), "{chain}");
    }

    #[test]
    fn import_copies_between_stores() {
        let (_first_directory, first) = temporary_store();
        let (_second_directory, second) = temporary_store();
        let (digest, size) = first.write(b"layer").expect("write");
        second.import(&first, &digest, size).expect("import");
        assert_eq!(second.read(&digest, Some(size)).expect("read"), b"layer");
        // Again: nothing to do.
        second.import(&first, &digest, size).expect("import again");
        assert!(matches!(
            second.import(&first, &Digest::of(b"absent"), 1),
            Err(BlobStoreError::Missing { .. })
        ));
    }

    #[test]
    fn write_atomically_replaces_the_file() {
        let (_directory, store) = temporary_store();
        let path = store.root().join("index.json");
        write_atomically(&path, b"one").expect("write");
        write_atomically(&path, b"two").expect("write");
        assert_eq!(fs_err::read(&path).expect("read"), b"two");
        assert_eq!(entries(store.root()), ["blobs", "index.json"]);
    }
}
