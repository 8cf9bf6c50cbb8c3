//! The sink the tar stream is written into: it hashes the uncompressed bytes (the diffID), cuts
//! them into chunks of a fixed size by stream offset, and hands the chunks to the compressor,
//! which writes into the blob. Cutting by offset, not by write call, keeps the compressed bytes
//! independent of how the tar writer happened to split its writes.

use std::io::{self, Write};

use super::gzip::Gzip;
use super::parallel::ParallelCompressor;
use super::spec::Compression;
use super::zstd::Zstd;
use crate::blob_store::BlobWriter;
use eider_oci_types::{Digest, Hasher};

/// The chunk size (normalization version 1: chunks are compressed independently, gzip's into
/// deflate blocks, zstd's into frames, so their size is part of the bytes). At 1 MiB, zstd
/// frames come out 0.6% larger than one frame for the whole stream, and cost less CPU (zstd
/// sizes its tables to the input); gzip's level 1 finds no more in larger chunks.
pub(crate) const CHUNK_SIZE: usize = 1 << 20;

/// Hashes, chunks and compresses a tar stream into a blob.
pub(crate) struct LayerSink {
    diff_id: Hasher,
    chunk: Vec<u8>,
    compressor: Compressor,
}

enum Compressor {
    Gzip(ParallelCompressor<Gzip>),
    Zstd(ParallelCompressor<Zstd>),
}

impl LayerSink {
    /// A sink compressing into `output`.
    pub(crate) fn new(compression: Compression, output: BlobWriter) -> io::Result<Self> {
        let compressor = match compression {
            Compression::Gzip => Compressor::Gzip(ParallelCompressor::new(output)?),
            Compression::Zstd => Compressor::Zstd(ParallelCompressor::new(output)?),
        };
        Ok(Self {
            diff_id: Hasher::new(),
            chunk: Vec::with_capacity(CHUNK_SIZE),
            compressor,
        })
    }

    /// Compresses what is left and returns the diffID, the size of the tar stream and the blob
    /// writer (complete, not committed).
    pub(crate) fn finish(self) -> io::Result<(Digest, u64, BlobWriter)> {
        let (diff_id, size) = self.diff_id.finish();
        let output = match self.compressor {
            Compressor::Gzip(gzip) => gzip.finish(self.chunk)?,
            Compressor::Zstd(zstd) => zstd.finish(self.chunk)?,
        };
        Ok((diff_id, size, output))
    }

    fn push_full_chunk(&mut self) -> io::Result<()> {
        let fresh = match &mut self.compressor {
            Compressor::Gzip(gzip) => gzip.take_buffer(CHUNK_SIZE),
            Compressor::Zstd(zstd) => zstd.take_buffer(CHUNK_SIZE),
        };
        let full = std::mem::replace(&mut self.chunk, fresh);
        match &mut self.compressor {
            Compressor::Gzip(gzip) => gzip.push(full),
            Compressor::Zstd(zstd) => zstd.push(full),
        }
    }
}

impl Write for LayerSink {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        self.diff_id.update(buffer);
        let mut rest = buffer;
        while !rest.is_empty() {
            // A full chunk is sent only once more data comes: the last chunk is compressed
            // differently (final block), and is known to be last only at the end.
            if self.chunk.len() == CHUNK_SIZE {
                self.push_full_chunk()?;
            }
            let taken = rest.len().min(CHUNK_SIZE - self.chunk.len());
            self.chunk.extend_from_slice(&rest[..taken]);
            rest = &rest[taken..];
        }
        Ok(buffer.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
