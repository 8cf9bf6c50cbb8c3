//! What a layer is made of (the inputs) and what building it gives (the outputs).

use std::fmt;

use camino::{Utf8Path, Utf8PathBuf};

use crate::media_type;
use eider_oci_types::Digest;

/// How a layer's tar stream is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Compression {
    /// gzip at a fixed level: what every engine and registry accepts.
    #[default]
    Gzip,
    /// zstd at a fixed level: smaller and faster, but Docker 20.10 cannot pull it.
    Zstd,
}

impl Compression {
    /// The OCI media type of a layer compressed this way.
    #[must_use]
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Gzip => media_type::OCI_LAYER_GZIP,
            Self::Zstd => media_type::OCI_LAYER_ZSTD,
        }
    }

    /// The lowercase name (`gzip`, `zstd`), as on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Zstd => "zstd",
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// Which part of the source tree goes into a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Everything under the source root.
    WholeTree,
    /// These paths, relative to the source root (files or directories, taken whole), with the
    /// directories that lead to them: e.g. lockfiles and vendor directories for a dependency
    /// layer that comes before the source layer.
    Paths(Vec<Utf8PathBuf>),
}

/// Everything that decides a layer's bytes.
///
/// Whatever the selection, `.git` (file or directory, at any depth), every file named
/// `Drakesecrets.yaml` and the secrets file are never included.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LayerSpec {
    /// The directory whose content is packaged.
    pub source_root: Utf8PathBuf,
    /// What part of it.
    pub selection: Selection,
    /// Where the source root appears in the image: an absolute path such as `/src` (`/` for the
    /// image's root).
    pub destination: Utf8PathBuf,
    /// Seconds since 1970 given to every entry as its modification time (`SOURCE_DATE_EPOCH`, or
    /// the commit time).
    pub epoch: u64,
    /// How the layer is compressed.
    pub compression: Compression,
    /// Secrets files to leave out, wherever they are in the tree and under whatever name (each
    /// is recognized by identity too, so a hard link to it is left out as well). A relative path
    /// is relative to the source root.
    pub secrets_files: Vec<Utf8PathBuf>,
    /// More paths never packaged, with their content: e.g. an output directory inside the
    /// tree. A relative path is relative to the source root.
    pub excluded_paths: Vec<Utf8PathBuf>,
    /// Whether `.gitignore`, `.dockerignore` and `.drakeignore` files in the tree leave entries
    /// out. On by default for [`Selection::WholeTree`]; off by default for
    /// [`Selection::Paths`], whose paths are named on purpose (a vendor directory is often in
    /// `.gitignore`).
    pub honor_ignore_files: bool,
}

impl LayerSpec {
    /// The whole tree at `source_root`, placed at `destination`, gzip, epoch 0.
    pub fn whole_tree(
        source_root: impl Into<Utf8PathBuf>,
        destination: impl Into<Utf8PathBuf>,
    ) -> Self {
        Self {
            source_root: source_root.into(),
            selection: Selection::WholeTree,
            destination: destination.into(),
            epoch: 0,
            compression: Compression::Gzip,
            secrets_files: Vec::new(),
            excluded_paths: Vec::new(),
            honor_ignore_files: true,
        }
    }

    /// Only `paths` (relative to `source_root`), placed at `destination`, gzip, epoch 0.
    pub fn paths(
        source_root: impl Into<Utf8PathBuf>,
        paths: Vec<Utf8PathBuf>,
        destination: impl Into<Utf8PathBuf>,
    ) -> Self {
        Self {
            selection: Selection::Paths(paths),
            honor_ignore_files: false,
            ..Self::whole_tree(source_root, destination)
        }
    }

    /// Sets the epoch.
    #[must_use]
    pub fn with_epoch(mut self, epoch: u64) -> Self {
        self.epoch = epoch;
        self
    }

    /// Sets the compression.
    #[must_use]
    pub fn with_compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// Adds a secrets file to leave out.
    #[must_use]
    pub fn with_secrets_file(mut self, secrets_file: impl Into<Utf8PathBuf>) -> Self {
        self.secrets_files.push(secrets_file.into());
        self
    }

    /// Adds a path never to package (with its content, for a directory).
    #[must_use]
    pub fn excluding(mut self, path: impl Into<Utf8PathBuf>) -> Self {
        self.excluded_paths.push(path.into());
        self
    }

    /// Sets whether ignore files are honored.
    #[must_use]
    pub fn with_ignore_files(mut self, honor: bool) -> Self {
        self.honor_ignore_files = honor;
        self
    }

    /// The source root.
    #[must_use]
    pub fn source_root(&self) -> &Utf8Path {
        &self.source_root
    }
}

/// A compressed layer in a blob store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LayerBlob {
    /// The digest of the uncompressed tar stream (what `rootfs.diff_ids` lists).
    pub diff_id: Digest,
    /// The digest of the compressed blob (its name in the store, what the manifest lists).
    pub digest: Digest,
    /// The size of the compressed blob in bytes.
    pub size: u64,
    /// The OCI media type of the compressed blob.
    pub media_type: String,
}

/// How much work building a layer took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// The tar stream was written and compressed.
    Built,
    /// The tar stream was hashed and matched a layer compressed before: its blob is reused, not
    /// compressed again.
    SameContent,
    /// Every selected file has the same size, times, inode and mode as when a layer was built
    /// before: that layer is reused without reading any file.
    SameFiles,
}

/// The result of building a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltLayer {
    /// The blob.
    pub blob: LayerBlob,
    /// What was reused.
    pub reuse: Reuse,
    /// Entries in the tar stream (directories, files and links), the destination's parents
    /// included.
    pub entries: usize,
}
