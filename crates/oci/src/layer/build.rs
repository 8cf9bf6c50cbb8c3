//! One streaming pass from a tree to a stored layer: tar bytes → SHA-256 (the diffID) →
//! compressor → SHA-256 and size (the digest) → a temporary file renamed to its digest. No file
//! or layer is ever held in memory whole.

use std::io;

use super::compressor::LayerSink;
use super::error::LayerError;
use super::select::{Entry, select};
use super::spec::{BuiltLayer, LayerBlob, LayerSpec, Reuse};
use super::tar_header::LARGEST_OCTAL_11;
use super::tar_stream::write_tar;
use crate::blob_store::BlobStore;
use eider_oci_types::{Digest, HashingWriter};

/// Builds the layer `spec` describes into `store` (no cache: always compressed).
pub fn build_layer(spec: &LayerSpec, store: &BlobStore) -> Result<BuiltLayer, LayerError> {
    check_epoch(spec)?;
    let entries = select(spec)?;
    let blob = compress_layer(spec, &entries, store, None)?;
    Ok(BuiltLayer {
        blob,
        reuse: Reuse::Built,
        entries: entries.len(),
    })
}

pub(crate) fn check_epoch(spec: &LayerSpec) -> Result<(), LayerError> {
    if spec.epoch > LARGEST_OCTAL_11 {
        return Err(LayerError::Epoch { epoch: spec.epoch });
    }
    Ok(())
}

/// Writes, hashes and compresses the tar stream of `entries` into a new blob of `store`.
pub(crate) fn compress_layer(
    spec: &LayerSpec,
    entries: &[Entry],
    store: &BlobStore,
    tee: Option<Box<dyn io::Write + Send>>,
) -> Result<LayerBlob, LayerError> {
    let write_error = |source: io::Error| LayerError::Write { source };
    let mut writer = store.writer()?;
    if let Some(tee) = tee {
        writer = writer.with_tee(tee);
    }
    let mut sink = LayerSink::new(spec.compression, writer).map_err(write_error)?;
    write_tar(entries, spec.epoch, &mut sink)?;
    let (diff_id, _, writer) = sink.finish().map_err(write_error)?;
    let (digest, size) = writer.commit()?;
    Ok(LayerBlob {
        diff_id,
        digest,
        size,
        media_type: spec.compression.media_type().to_owned(),
    })
}

/// The diffID of the tar stream of `entries`, without compressing it.
pub(crate) fn hash_layer(spec: &LayerSpec, entries: &[Entry]) -> Result<Digest, LayerError> {
    let mut sink = HashingWriter::new(io::sink());
    write_tar(entries, spec.epoch, &mut sink)?;
    let (_, diff_id, _) = sink.finish();
    Ok(diff_id)
}

/// Stores an existing uncompressed layer (a tar stream, e.g. a layer of an image exported by a
/// container engine) as a compressed blob of `store`, in the same streaming pass as a built
/// layer: its diffID is the digest of the bytes read, unchanged.
pub fn compress_tar(
    tar: &mut dyn io::Read,
    compression: super::spec::Compression,
    store: &BlobStore,
) -> Result<LayerBlob, LayerError> {
    let write_error = |source: io::Error| LayerError::Write { source };
    let mut sink = LayerSink::new(compression, store.writer()?).map_err(write_error)?;
    io::copy(tar, &mut sink).map_err(write_error)?;
    let (diff_id, _, writer) = sink.finish().map_err(write_error)?;
    let (digest, size) = writer.commit()?;
    Ok(LayerBlob {
        diff_id,
        digest,
        size,
        media_type: compression.media_type().to_owned(),
    })
}
