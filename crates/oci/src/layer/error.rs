//! Why a layer cannot be built.

use std::io;
use std::path::PathBuf;

use camino::Utf8PathBuf;

use crate::blob_store::BlobStoreError;

/// Why a layer cannot be built. Paths are as found on disk; I/O causes name their path.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    /// The destination is not an absolute, normalized path.
    #[error(
        "destination `{destination}` must be an absolute path without `.`, `..` or empty components"
    )]
    Destination {
        /// The destination given.
        destination: Utf8PathBuf,
    },
    /// The source root is not a directory.
    #[error("the source root {root} is not a directory")]
    SourceRoot {
        /// The root given.
        root: Utf8PathBuf,
    },
    /// A selected path is absolute or leaves the source root.
    #[error("`{path}` must be a relative path inside the source root, without `.` or `..`")]
    SelectedPath {
        /// The path given.
        path: Utf8PathBuf,
    },
    /// A selected path does not exist.
    #[error("`{path}` does not exist in {root}")]
    MissingPath {
        /// The path given.
        path: Utf8PathBuf,
        /// The source root.
        root: Utf8PathBuf,
    },
    /// The epoch does not fit in a tar header.
    #[error("epoch {epoch} is past the year 2242, the last time a tar header can hold")]
    Epoch {
        /// The epoch given.
        epoch: u64,
    },
    /// A name in the tree is not UTF-8.
    #[error("cannot package {}: its name is not UTF-8", path.display())]
    NotUtf8 {
        /// The path, as found.
        path: PathBuf,
    },
    /// A fifo, socket or device is in the tree.
    #[error(
        "cannot package {path}: it is {kind}; only files, directories and symbolic links can go into a layer"
    )]
    SpecialFile {
        /// The path.
        path: Utf8PathBuf,
        /// What it is.
        kind: &'static str,
    },
    /// A symbolic link's target is not UTF-8.
    #[error("cannot package the symbolic link {path}: its target is not UTF-8")]
    LinkTargetNotUtf8 {
        /// The link.
        path: Utf8PathBuf,
    },
    /// A file's size changed between listing and reading it.
    #[error("{path} changed while it was being packaged: it had {expected} bytes when listed")]
    FileChanged {
        /// The file.
        path: Utf8PathBuf,
        /// Its size when listed.
        expected: u64,
    },
    /// The tree or an ignore file could not be read.
    #[error("cannot list the source tree {root}")]
    Walk {
        /// The source root.
        root: Utf8PathBuf,
        /// Why.
        #[source]
        source: ignore::Error,
    },
    /// A file of the tree could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The compressed layer could not be written.
    #[error("cannot write the layer")]
    Write {
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The blob store failed.
    #[error(transparent)]
    Store(#[from] BlobStoreError),
}
