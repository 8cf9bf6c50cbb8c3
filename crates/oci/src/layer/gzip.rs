//! Deterministic parallel gzip. The tar stream is cut into chunks of a fixed size by stream
//! offset; each chunk is compressed on its own (no dictionary from the one before) as raw
//! deflate at level 1, ending with a sync flush (an empty stored block, so the next chunk starts
//! on a byte boundary), the last one with the final block instead. The chunks are written in
//! order, and their CRC-32s combined. The bytes depend only on the input and the chunk size,
//! never on the number of threads or their timing.
//!
//! `miniz_oxide` is used directly, not through flate2, whose backend can be switched (by Cargo
//! feature unification) to one that splits blocks differently. The header has no name, mtime 0,
//! XFL 0 and OS 255 (unknown), so it says nothing about the machine.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use miniz_oxide::deflate::core::{
    CompressorOxide, TDEFLFlush, TDEFLStatus, compress, create_comp_flags_from_zip_params,
};

use crate::blob_store::BlobWriter;

/// The deflate level (normalization version 1).
const LEVEL: i32 = 1;

/// Raw deflate (no zlib wrapper) with the largest window.
const RAW_WINDOW_BITS: i32 = -15;

/// The gzip member header: magic, deflate, no flags, mtime 0, XFL 0, OS 255.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// A chunk being compressed, or compressed.
struct Job {
    index: u64,
    input: Vec<u8>,
    output: Vec<u8>,
    last: bool,
    crc: crc32fast::Hasher,
}

/// The gzip compressor: worker threads compress chunks, the caller's thread writes them out in
/// order.
pub(crate) struct ParallelGzip {
    jobs: Option<Sender<Job>>,
    results: Receiver<io::Result<Job>>,
    workers: Vec<JoinHandle<()>>,
    /// Compressed chunks that arrived before the ones ahead of them.
    waiting: BTreeMap<u64, Job>,
    next_index: u64,
    next_to_write: u64,
    in_flight: usize,
    most_in_flight: usize,
    crc: crc32fast::Hasher,
    input_size: u64,
    spare_inputs: Vec<Vec<u8>>,
    spare_outputs: Vec<Vec<u8>>,
    output: BlobWriter,
}

impl ParallelGzip {
    /// Starts the workers (as many as the machine has cores) and writes the gzip header.
    pub(crate) fn new(output: BlobWriter) -> io::Result<Self> {
        Self::with_threads(
            output,
            thread::available_parallelism().map_or(1, usize::from),
        )
    }

    /// Starts `threads` workers (at least one) and writes the gzip header.
    pub(crate) fn with_threads(mut output: BlobWriter, threads: usize) -> io::Result<Self> {
        output.write_all(&HEADER)?;
        let threads = threads.max(1);
        let (jobs, job_receiver) = mpsc::channel::<Job>();
        let (result_sender, results) = mpsc::channel();
        let job_receiver = Arc::new(Mutex::new(job_receiver));
        let mut workers = Vec::with_capacity(threads);
        for _ in 0..threads {
            let job_receiver = Arc::clone(&job_receiver);
            let result_sender = result_sender.clone();
            let worker = thread::Builder::new()
                .name("eider-gzip".to_owned())
                .spawn(move || work(&job_receiver, &result_sender))?;
            workers.push(worker);
        }
        Ok(Self {
            jobs: Some(jobs),
            results,
            workers,
            waiting: BTreeMap::new(),
            next_index: 0,
            next_to_write: 0,
            in_flight: 0,
            // Enough to keep every worker busy while finished chunks wait to be written, few
            // enough to bound memory whatever the layer's size.
            most_in_flight: threads * 2 + 1,
            crc: crc32fast::Hasher::new(),
            input_size: 0,
            spare_inputs: Vec::new(),
            spare_outputs: Vec::new(),
            output,
        })
    }

    /// A buffer for the next chunk, reused from a finished one when possible.
    pub(crate) fn take_buffer(&mut self, capacity: usize) -> Vec<u8> {
        self.spare_inputs
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(capacity))
    }

    /// Queues a chunk (not the last one).
    pub(crate) fn push(&mut self, chunk: Vec<u8>) -> io::Result<()> {
        self.send(chunk, false)
    }

    /// Queues the last chunk (possibly empty), writes everything and the gzip trailer, and
    /// returns the blob writer.
    pub(crate) fn finish(mut self, chunk: Vec<u8>) -> io::Result<BlobWriter> {
        self.send(chunk, true)?;
        while self.in_flight > 0 {
            self.receive_one()?;
        }
        self.jobs = None;
        for worker in self.workers.drain(..) {
            worker
                .join()
                .map_err(|_| io::Error::other("a gzip worker panicked"))?;
        }
        let crc = std::mem::take(&mut self.crc).finalize();
        self.output.write_all(&crc.to_le_bytes())?;
        // ISIZE is the input size modulo 2^32, as the format says.
        self.output
            .write_all(&(self.input_size as u32).to_le_bytes())?;
        Ok(self.output)
    }

    fn send(&mut self, input: Vec<u8>, last: bool) -> io::Result<()> {
        while self.in_flight >= self.most_in_flight {
            self.receive_one()?;
        }
        self.input_size += input.len() as u64;
        let output = self.spare_outputs.pop().unwrap_or_default();
        let job = Job {
            index: self.next_index,
            input,
            output,
            last,
            crc: crc32fast::Hasher::new(),
        };
        self.next_index += 1;
        self.jobs
            .as_ref()
            .ok_or_else(|| io::Error::other("the gzip compressor is finished"))?
            .send(job)
            .map_err(|_| io::Error::other("the gzip workers stopped"))?;
        self.in_flight += 1;
        Ok(())
    }

    /// Waits for one compressed chunk, then writes every chunk that is next in order.
    fn receive_one(&mut self) -> io::Result<()> {
        let job = self
            .results
            .recv()
            .map_err(|_| io::Error::other("the gzip workers stopped"))??;
        self.in_flight -= 1;
        self.waiting.insert(job.index, job);
        while let Some(job) = self.waiting.remove(&self.next_to_write) {
            self.output.write_all(&job.output)?;
            self.crc.combine(&job.crc);
            self.next_to_write += 1;
            let Job {
                mut input,
                mut output,
                ..
            } = job;
            input.clear();
            output.clear();
            self.spare_inputs.push(input);
            self.spare_outputs.push(output);
        }
        Ok(())
    }
}

fn work(jobs: &Mutex<Receiver<Job>>, results: &Sender<io::Result<Job>>) {
    let mut compressor = Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(
        LEVEL,
        RAW_WINDOW_BITS,
        0,
    )));
    loop {
        // The lock is held only while taking a job, never while compressing.
        let job = match jobs.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(mut job) = job else { return };
        job.crc.update(&job.input);
        // A panic must come back as an error: the caller waits for every chunk it sent.
        let compressed = panic::catch_unwind(AssertUnwindSafe(|| {
            deflate_chunk(&mut compressor, &job.input, &mut job.output, job.last)
        }));
        let result = match compressed {
            Ok(Ok(())) => Ok(job),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(io::Error::other("deflate panicked")),
        };
        if results.send(result).is_err() {
            return;
        }
    }
}

/// Compresses one chunk from a fresh compressor state into `output`, in a single call with room
/// for the worst case, so the output never depends on buffer sizes (a full output buffer would
/// add flush markers).
pub(crate) fn deflate_chunk(
    compressor: &mut CompressorOxide,
    input: &[u8],
    output: &mut Vec<u8>,
    last: bool,
) -> io::Result<()> {
    compressor.reset();
    // Stored blocks cost 5 bytes per 64 KiB; the margin covers that and the flush markers.
    let room = input.len() + input.len() / 16 + 1024;
    output.clear();
    output.resize(room, 0);
    let flush = if last {
        TDEFLFlush::Finish
    } else {
        TDEFLFlush::Sync
    };
    let (status, consumed, produced) = compress(compressor, input, output, flush);
    let expected = if last {
        TDEFLStatus::Done
    } else {
        TDEFLStatus::Okay
    };
    if status != expected || consumed != input.len() || produced >= room {
        return Err(io::Error::other(format!(
            "deflate stopped early ({status:?}, {consumed} of {} bytes in)",
            input.len()
        )));
    }
    output.truncate(produced);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn raw_deflate(chunks: &[&[u8]]) -> Vec<u8> {
        let mut compressor = Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(
            LEVEL,
            RAW_WINDOW_BITS,
            0,
        )));
        let mut stream = Vec::new();
        for (index, chunk) in chunks.iter().enumerate() {
            let mut output = Vec::new();
            deflate_chunk(
                &mut compressor,
                chunk,
                &mut output,
                index + 1 == chunks.len(),
            )
            .expect("deflate");
            stream.extend_from_slice(&output);
        }
        stream
    }

    #[test]
    fn chunks_ending_in_sync_flushes_concatenate_into_one_stream() {
        let text: Vec<u8> = (0..200_000_u32)
            .flat_map(|number| format!("{number} ").into_bytes())
            .collect();
        let (first, second) = text.split_at(300_000);
        let stream = raw_deflate(&[first, second, b""]);
        let mut decoded = Vec::new();
        flate2::read::DeflateDecoder::new(&stream[..])
            .read_to_end(&mut decoded)
            .expect("decodes");
        assert_eq!(decoded, text);
    }

    #[test]
    fn incompressible_chunks_fit_the_room_given() {
        let mut state = 0x1234_5678_u32;
        let random: Vec<u8> = (0..1 << 20)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state.to_le_bytes()[0]
            })
            .collect();
        let stream = raw_deflate(&[&random, &random[..1000]]);
        assert!(stream.len() < random.len() + 1000 + 1024);
    }

    fn gzip_with_threads(input: &[u8], threads: usize) -> Vec<u8> {
        let directory = tempfile::tempdir().expect("temporary directory");
        let root = camino::Utf8PathBuf::try_from(directory.path().to_path_buf()).expect("UTF-8");
        let store = crate::BlobStore::create(root).expect("store");
        let mut gzip =
            ParallelGzip::with_threads(store.writer().expect("writer"), threads).expect("starts");
        let mut chunks = input.chunks(100_000).peekable();
        while let Some(chunk) = chunks.next() {
            if chunks.peek().is_some() {
                gzip.push(chunk.to_vec()).expect("push");
            } else {
                let (digest, _) = gzip
                    .finish(chunk.to_vec())
                    .expect("finish")
                    .commit()
                    .expect("commit");
                return fs_err::read(store.blob_path(&digest)).expect("read");
            }
        }
        unreachable!("the input is not empty")
    }

    #[test]
    fn the_output_does_not_depend_on_the_number_of_threads() {
        let input: Vec<u8> = (0..3_000_000_u32)
            .map(|number| (number % 251) as u8 ^ (number / 7919) as u8)
            .collect();
        let one = gzip_with_threads(&input, 1);
        assert_eq!(one, gzip_with_threads(&input, 3));
        assert_eq!(one, gzip_with_threads(&input, 8));
        assert_eq!(&one[..10], &HEADER);
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&one[..])
            .read_to_end(&mut decoded)
            .expect("a valid gzip member");
        assert_eq!(
            decoded, input,
            "the CRC and size in the trailer are checked too"
        );
    }

    #[test]
    fn an_empty_last_chunk_is_a_valid_end() {
        let stream = raw_deflate(&[b""]);
        let mut decoded = Vec::new();
        flate2::read::DeflateDecoder::new(&stream[..])
            .read_to_end(&mut decoded)
            .expect("decodes");
        assert!(decoded.is_empty());
    }
}
