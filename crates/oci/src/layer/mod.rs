//! Layers built from a directory tree: which files go in ([`select`]), the tar stream with
//! hand-built headers ([`tar_header`], [`tar_stream`]), the compressors ([`compressor`] cuts
//! the stream into chunks, [`parallel`] compresses them on worker threads as [`gzip`] or
//! [`zstd`] says), the one streaming pass that hashes and stores the result ([`build`]), and
//! the cache that lets an unchanged tree skip all of it ([`cache`], [`fingerprint`]).

mod build;
mod cache;
mod compressor;
mod error;
pub(crate) mod fingerprint;
mod gzip;
mod parallel;
mod select;
mod spec;
mod tar_header;
mod tar_stream;
mod zstd;

pub use build::{build_layer, compress_tar};
pub use cache::LayerCache;
pub use error::LayerError;
pub use spec::{BuiltLayer, Compression, LayerBlob, LayerSpec, Reuse, Selection};
pub(crate) use tar_header::{HeaderKind, write_header};
