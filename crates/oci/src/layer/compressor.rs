//! The sink the tar stream is written into: it hashes the uncompressed bytes (the diffID), cuts
//! them into chunks of a fixed size by stream offset, and hands the chunks to the compressor,
//! which writes into the blob. Cutting by offset, not by write call, keeps the compressed bytes
//! independent of how the tar writer happened to split its writes.

use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{self, JoinHandle};

use super::gzip::ParallelGzip;
use super::spec::Compression;
use crate::blob_store::BlobWriter;
use crate::digest::{Digest, Hasher};

/// The chunk size (normalization version 1: gzip chunks are compressed independently, so their
/// size is part of the bytes).
pub(crate) const CHUNK_SIZE: usize = 1 << 20;

/// The zstd level (normalization version 1): the library's default, fast and about as small as
/// gzip -9.
const ZSTD_LEVEL: i32 = 3;

/// Chunks queued for the zstd thread.
const ZSTD_QUEUE: usize = 4;

/// Hashes, chunks and compresses a tar stream into a blob.
pub(crate) struct LayerSink {
    diff_id: Hasher,
    chunk: Vec<u8>,
    compressor: Compressor,
}

enum Compressor {
    // Boxed: the gzip state is large, and the sink moves when built.
    Gzip(Box<ParallelGzip>),
    Zstd(ZstdThread),
}

impl LayerSink {
    /// A sink compressing into `output`.
    pub(crate) fn new(compression: Compression, output: BlobWriter) -> io::Result<Self> {
        let compressor = match compression {
            Compression::Gzip => Compressor::Gzip(Box::new(ParallelGzip::new(output)?)),
            Compression::Zstd => Compressor::Zstd(ZstdThread::new(output)?),
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

/// zstd on a thread of its own, fed chunks in order: the tar stream and the compression run on
/// two cores.
struct ZstdThread {
    chunks: Option<SyncSender<Vec<u8>>>,
    recycled: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<io::Result<BlobWriter>>>,
}

impl ZstdThread {
    fn new(output: BlobWriter) -> io::Result<Self> {
        let (chunks, chunk_receiver) = mpsc::sync_channel::<Vec<u8>>(ZSTD_QUEUE);
        let (recycle, recycled) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("eider-zstd".to_owned())
            .spawn(move || {
                let mut encoder = zstd::stream::write::Encoder::new(output, ZSTD_LEVEL)?;
                encoder.include_checksum(true)?;
                for mut chunk in chunk_receiver {
                    encoder.write_all(&chunk)?;
                    chunk.clear();
                    // The sink may be gone already; the buffer is then simply freed.
                    let _unused = recycle.send(chunk);
                }
                encoder.finish()
            })?;
        Ok(Self {
            chunks: Some(chunks),
            recycled,
            thread: Some(thread),
        })
    }

    fn take_buffer(&mut self, capacity: usize) -> Vec<u8> {
        self.recycled
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(capacity))
    }

    fn push(&mut self, chunk: Vec<u8>) -> io::Result<()> {
        let sent = self
            .chunks
            .as_ref()
            .is_some_and(|chunks| chunks.send(chunk).is_ok());
        if sent {
            Ok(())
        } else {
            // The thread stopped on an error: that error is the one to report.
            self.join()
                .and_then(|_| Err(io::Error::other("the zstd thread stopped")))
        }
    }

    fn finish(mut self, chunk: Vec<u8>) -> io::Result<BlobWriter> {
        self.push(chunk)?;
        self.join()
    }

    fn join(&mut self) -> io::Result<BlobWriter> {
        self.chunks = None;
        self.thread
            .take()
            .ok_or_else(|| io::Error::other("the zstd thread stopped"))?
            .join()
            .map_err(|_| io::Error::other("the zstd thread panicked"))?
    }
}
